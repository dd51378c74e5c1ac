from django.contrib import admin

from cxloop.comments.models import Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name_ru", "name_en", "code", "is_active", "order")
    list_editable = ("is_active", "order")
    search_fields = ("name_ru", "name_en", "code", "phrases_ru", "phrases_en")
