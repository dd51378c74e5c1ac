from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "cxloop.exports"
    label = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from cxloop.exports.schedules import register_kinds

        register_kinds()  # how the outbox builds a scheduled report's e-mail with its file
