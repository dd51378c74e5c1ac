from django.contrib import admin

from cxloop.people.models import Employee, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "team", "role", "is_champion"]
    list_filter = ["role", "is_champion", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "title"]
    autocomplete_fields = ["user", "team"]
