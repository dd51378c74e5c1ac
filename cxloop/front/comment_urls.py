"""What customers say (issue #14): the comment explorer, the themes' impact and the theme
editor; cxloop.front.urls includes them under comments/."""

from django.urls import path

from cxloop.front import comment_views, theme_impact_views, theme_views

urlpatterns: list = [
    path("", comment_views.comment_list, name="comment_list"),
    path("impact/", theme_impact_views.theme_impact, name="theme_impact"),
    path("themes/", theme_views.theme_list, name="theme_list"),
    path("themes/new/", theme_views.theme_edit, name="theme_new"),
    path("themes/suggested/", theme_views.theme_suggestions, name="theme_suggestions"),
    path("themes/<int:pk>/", theme_views.theme_edit, name="theme_edit"),
    path("themes/<int:pk>/check/", theme_views.theme_check, name="theme_check"),
]
