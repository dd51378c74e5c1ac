from django.contrib import admin

from cxloop.webhooks.models import Delivery, Event, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "failures", "retry_at", "last_success_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    # Made and changed on the product's page (/settings/webhooks/), which checks the URL,
    # shows the secret once and records the change in the audit log.
    exclude = ["secret"]
    readonly_fields = [f.name for f in Subscription._meta.fields if f.name != "secret"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "subscription", "subject", "state", "attempts", "status_code"]
    list_filter = ["state", "subscription"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "subject", "created_at"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
