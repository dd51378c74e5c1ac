from django.contrib import admin

from cxloop.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with ``cxloop api_token create`` (which shows the token once); here they
    can be looked over and revoked."""

    list_display = ["name", "employee", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["employee__user"]
    search_fields = ["name", "employee__user__username"]
    readonly_fields = ["employee", "token_hash", "created_at", "last_used_at"]
    fields = ["name", "employee", "token_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        return False
