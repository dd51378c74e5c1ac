from django.contrib import admin

from cxloop.surveys.models import Answer, Invitation, Question, Response, Survey


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    autocomplete_fields = ["touchpoint"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "kind", "is_anonymous", "is_active"]
    list_filter = ["kind", "is_active", "is_anonymous"]
    search_fields = ["name_ru", "name_en"]
    autocomplete_fields = ["touchpoints"]
    inlines = [QuestionInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "contact", "channel", "sent_at", "completed_at", "expires_at"]
    list_filter = ["survey", "channel"]
    list_select_related = ["survey", "contact"]
    readonly_fields = ["token_hash"]
    raw_id_fields = ["contact"]
    autocomplete_fields = ["touchpoint"]
    show_full_result_count = False


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "kind", "touchpoint", "score", "text"]
    readonly_fields = fields
    can_delete = False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "channel", "language", "state", "submitted_at"]
    # A filter by period rather than a date hierarchy: the hierarchy's list of years is a
    # DISTINCT over every response (0.26 s on the demo's 55,000).
    list_filter = ["survey", "channel", "state", "language", "submitted_at"]
    list_select_related = ["survey", "customer"]
    raw_id_fields = ["invitation", "contact", "customer"]
    autocomplete_fields = ["touchpoint"]
    show_full_result_count = False
    inlines = [AnswerInline]
