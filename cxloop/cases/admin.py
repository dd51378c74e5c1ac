"""The closed loop in Django's admin. What a person tunes (SLA policies, root causes, inquiry
topics, rules' names, notification choices) is editable; what has a history is shown only:
a case changes through :mod:`cxloop.cases.services`, which records every change, and a rule's
version, a case's event and an inquiry are never rewritten."""

from django.contrib import admin

from cxloop.cases.models import (
    AlertRule,
    AlertRuleVersion,
    Case,
    CaseEvent,
    CaseTrigger,
    Inquiry,
    InquiryTopic,
    Notification,
    NotificationPreference,
    RootCause,
    SlaPolicy,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "first_contact_hours", "resolution_hours"]


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "touchpoint", "is_active"]
    list_filter = ["is_active", "touchpoint"]
    list_select_related = ["touchpoint"]
    search_fields = ["name_ru", "name_en"]


@admin.register(InquiryTopic)
class InquiryTopicAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "team", "sla_policy", "order", "is_active"]
    list_editable = ["order", "is_active"]
    list_select_related = ["team", "sla_policy"]
    autocomplete_fields = ["team"]


class VersionInline(admin.TabularInline):
    model = AlertRuleVersion
    fields = ["version", "condition", "owner_kind", "team", "priority", "sla_policy", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Names and the on/off switch only: a condition changes by saving a new version on the
    rules page."""

    list_display = ["name_ru", "name_en", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["name_ru", "name_en", "is_active", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    inlines = [VersionInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AlertRuleVersion)
class AlertRuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "owner_kind", "team", "priority", "sla_policy", "created_at"]
    list_select_related = ["rule", "team", "sla_policy"]


class EventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["at", "by", "kind", "text", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "state", "priority", "owner", "team", "opened_at"]
    list_filter = ["state", "origin", "priority"]
    list_select_related = ["owner__user", "team"]
    search_fields = ["title"]
    inlines = [EventInline]


@admin.register(CaseTrigger)
class CaseTriggerAdmin(ReadOnlyAdmin):
    list_display = ["case", "response", "rule_version", "created_at"]
    list_select_related = ["case", "rule_version__rule"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    fields = ["case", "at", "by", "kind", "text", "data"]  # the case first, not the base's fields
    list_display = ["case", "at", "by", "kind"]
    list_filter = ["kind"]
    list_select_related = ["case", "by__user"]


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ["case", "topic", "name", "email", "language", "created_at"]
    list_filter = ["topic", "language"]
    list_select_related = ["case", "topic"]
    search_fields = ["name", "email", "company"]
    exclude = ["token_hash", "fingerprint"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["employee", "kind", "delivery"]
    list_filter = ["kind", "delivery"]
    list_select_related = ["employee__user"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "kind", "case", "delivery", "deliver_after", "sent_at"]
    list_filter = ["kind", "delivery"]
    list_select_related = ["recipient__user", "case"]
