from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactsConfig(AppConfig):
    name = "cxloop.facts"
    verbose_name = _("Fact store")

    def ready(self) -> None:
        from cxloop.comments.signals import comments_enriched
        from cxloop.facts.tasks import on_comments_enriched, on_responses_recorded
        from cxloop.surveys.signals import responses_recorded

        responses_recorded.connect(on_responses_recorded, dispatch_uid="cxloop.facts.refresh")
        comments_enriched.connect(on_comments_enriched, dispatch_uid="cxloop.facts.comments")
