from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "cxloop.surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from cxloop.surveys.distribution import register_kinds

        register_kinds()  # how the outbox builds invitation and reminder e-mails

        from cxloop.surveys.signals import responses_recorded
        from cxloop.surveys.webhook_events import on_responses_recorded

        # dispatch_uid: connected once however often ready() runs.
        responses_recorded.connect(on_responses_recorded, dispatch_uid="webhooks-responses")
