from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "cxloop.surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from cxloop.surveys.distribution import register_kinds

        register_kinds()  # how the outbox builds invitation and reminder e-mails
