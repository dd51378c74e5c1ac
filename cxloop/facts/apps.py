from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactsConfig(AppConfig):
    name = "cxloop.facts"
    verbose_name = _("Fact store")

    def ready(self) -> None:
        from cxloop.facts.tasks import on_responses_recorded
        from cxloop.surveys.signals import responses_recorded

        responses_recorded.connect(on_responses_recorded, dispatch_uid="cxloop.facts.refresh")
