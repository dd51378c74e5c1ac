from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cxloop.cases"
    verbose_name = _("Closed loop")

    def ready(self):
        from cxloop.cases.evaluate import on_responses_pending
        from cxloop.surveys.signals import responses_pending

        # The alert rules follow every response recorded through the one way in.
        responses_pending.connect(on_responses_pending, dispatch_uid="cases.alert_rules")
