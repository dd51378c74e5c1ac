from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "cxloop.comments"
    verbose_name = _("Comments")

    def ready(self) -> None:
        from cxloop.comments.tasks import on_responses_recorded
        from cxloop.surveys.signals import responses_recorded

        # Every comment recorded through the one way in is enriched once its response is
        # announced.
        responses_recorded.connect(on_responses_recorded, dispatch_uid="cxloop.comments.enrich")
