"""Pages of the improvement cycle's initiatives; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import initiative_views

urlpatterns = [
    path("", initiative_views.initiative_list, name="initiative_list"),
    path("new/", initiative_views.initiative_new, name="initiative_new"),
    path("<int:pk>/", initiative_views.initiative_detail, name="initiative_detail"),
    path("<int:pk>/edit/", initiative_views.initiative_edit, name="initiative_edit"),
    path("<int:pk>/state/", initiative_views.initiative_state, name="initiative_state"),
    path("<int:pk>/finish/", initiative_views.initiative_finish, name="initiative_finish"),
    path("<int:pk>/actions/", initiative_views.action_item_add, name="action_item_add"),
    path(
        "<int:pk>/actions/<int:item>/done/",
        initiative_views.action_item_done,
        name="action_item_done",
    ),
]
