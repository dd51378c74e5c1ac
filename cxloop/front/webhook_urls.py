"""The webhook subscriptions' pages, under /settings/webhooks/; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import webhook_views

urlpatterns = [
    path("", webhook_views.webhook_list, name="webhook_list"),
    path("new/", webhook_views.webhook_new, name="webhook_new"),
    path("<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("<int:pk>/secret/", webhook_views.webhook_secret, name="webhook_secret"),
    path("<int:pk>/active/", webhook_views.webhook_toggle, name="webhook_toggle"),
    path(
        "<int:pk>/deliveries/<int:delivery>/replay/",
        webhook_views.webhook_replay,
        name="webhook_replay",
    ),
]
