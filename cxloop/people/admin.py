from django.contrib import admin

from cxloop.people.models import BusinessCalendar, CalendarDay, Employee, Idea, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "parent", "calendar", "ranks_people"]
    list_filter = ["ranks_people"]
    list_select_related = ["parent"]
    search_fields = ["name", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "team", "role", "language", "is_champion"]
    list_filter = ["role", "is_champion", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "title", "title_en"]
    autocomplete_fields = ["user", "team"]


@admin.register(Idea)
class IdeaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "team", "status", "created_on"]
    list_filter = ["status", "team"]
    list_select_related = ["author__user", "team"]
    list_editable = ["status"]
    search_fields = ["text"]
    readonly_fields = ["author", "team", "created_on"]


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "work_days", "day_start", "day_end", "is_default"]
    inlines = [CalendarDayInline]
