from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactsConfig(AppConfig):
    name = "cxloop.facts"
    verbose_name = _("Fact store")

    def ready(self) -> None:
        from cxloop.facts.tasks import on_responses_written
        from cxloop.surveys.signals import responses_written

        responses_written.connect(on_responses_written, dispatch_uid="cxloop.facts.refresh")
