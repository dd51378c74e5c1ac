from django.contrib import admin

from cxloop.journeys.models import Journey, Stage, Standard, Touchpoint


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


class TouchpointInline(admin.TabularInline):
    model = Touchpoint
    extra = 0
    fields = ["order", "code", "name_ru", "name_en", "channel", "team", "is_moment_of_truth"]


class StandardInline(admin.StackedInline):
    model = Standard
    extra = 0


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "is_active"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "journey", "order"]
    list_filter = ["journey"]
    inlines = [TouchpointInline]


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "code", "stage", "channel", "team", "is_moment_of_truth"]
    list_filter = ["stage__journey", "stage", "channel", "is_moment_of_truth"]
    list_select_related = ["stage", "team"]
    search_fields = ["name_ru", "name_en", "code"]
    inlines = [StandardInline]


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ["touchpoint", "version", "effective_from"]
    list_select_related = ["touchpoint"]
    autocomplete_fields = ["touchpoint"]
