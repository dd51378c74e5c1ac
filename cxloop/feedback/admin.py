from django.contrib import admin

from cxloop.feedback.models import FaceToFaceRecord, FollowUp


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    autocomplete_fields = ["owner"]


@admin.register(FaceToFaceRecord)
class FaceToFaceRecordAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "customer", "employee", "met_on"]
    list_filter = ["kind", "language"]
    list_select_related = ["customer", "employee__user"]
    search_fields = ["customer__name", "notes"]
    autocomplete_fields = ["customer", "employee", "colleagues"]
    raw_id_fields = ["contacts", "response"]
    date_hierarchy = "met_on"
    inlines = [FollowUpInline]
