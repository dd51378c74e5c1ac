from django.contrib import admin

from cxloop.customers.models import Contact, Customer, Segment


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "email", "phone", "job_title", "language", "consent", "opted_out_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "external_id",
        "tier",
        "industry",
        "lifecycle_stage",
        "annual_value",
        "currency",
        "owner",
    ]
    list_filter = ["tier", "lifecycle_stage", "industry"]
    list_select_related = ["owner__user"]
    search_fields = ["name", "external_id"]
    autocomplete_fields = ["owner"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "email", "language", "consent", "opted_out_at"]
    list_filter = ["language", "consent"]
    list_select_related = ["customer"]
    search_fields = ["name", "email", "customer__name"]
    autocomplete_fields = ["customer"]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "kind", "is_target"]
    list_filter = ["kind", "is_target"]
    search_fields = ["name", "name_en"]
    autocomplete_fields = ["members"]
