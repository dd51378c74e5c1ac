from django.contrib import admin

from cxloop.people.models import Employee, Idea, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "team", "role", "is_champion"]
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
