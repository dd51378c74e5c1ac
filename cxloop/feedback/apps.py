from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "cxloop.feedback"
    verbose_name = _("Face-to-face feedback")
