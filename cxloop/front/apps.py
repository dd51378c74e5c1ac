from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrontConfig(AppConfig):
    name = "cxloop.front"
    verbose_name = _("Pages")

    def ready(self) -> None:
        # The improvements app (L4) cannot import the fact store's reader (L5, insights), so
        # the source of its baselines is handed to it here (decision 014).
        from cxloop.improvements.services import set_baseline_source
        from cxloop.insights.initiatives import baseline_source

        set_baseline_source(baseline_source)
