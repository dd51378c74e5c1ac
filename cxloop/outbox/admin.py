from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cxloop.outbox import services
from cxloop.outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "kind"]
    search_fields = ["recipient", "message_id", "key"]
    actions = ["retry"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # messages are queued by the product, through services.enqueue_email

    @admin.action(
        description=_("Retry the selected dead or refused e-mails"), permissions=["change"]
    )
    def retry(self, request, queryset):
        count = services.retry(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued again.", "%(count)d e-mails queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
