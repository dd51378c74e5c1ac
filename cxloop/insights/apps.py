from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "cxloop.insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from cxloop.facts.signals import facts_refreshed
        from cxloop.insights.rollback import on_facts_refreshed

        # The roll-back watch follows every refresh of the fact store (facts does not import
        # insights, a layer above it).
        facts_refreshed.connect(on_facts_refreshed, dispatch_uid="cxloop.insights.rollback")
