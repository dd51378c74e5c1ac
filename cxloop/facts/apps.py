from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        # migrate signals each app with models; the store has none, and is written from the
        # surveys' tables.
        surveys = self.apps.get_app_config("surveys")
        post_migrate.connect(on_migrated, sender=surveys, dispatch_uid="cxloop.facts.migrated")


def on_migrated(sender, **kwargs) -> None:
    """After ``cxloop migrate``: a fact store this version cannot read (written with another
    schema: an upgrade), or written by an older schema, is rebuilt by the next worker round,
    so the pages that read it come back by themselves (they answer 503 until then where the
    store cannot be read) and gain what the new schema derives."""
    from cxloop.facts.tasks import rebuild_outdated_store

    rebuild_outdated_store()
