"""``cxloop personal-data export|erase|retention``: one contact's data, and the retention rules.

The module's name has a hyphen, which is fine: Django loads a command with
``importlib.import_module``, never an import statement.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cxloop.privacy import services


class Command(BaseCommand):
    help = (
        "export: write everything held about one contact as JSON and CSV files; erase: remove "
        "or anonymise it everywhere (database, fact store, caches), keeping anonymous scores; "
        "retention: apply the CXLOOP_RETENTION_* and CXLOOP_AUDIT_RETENTION_DAYS rules now."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase", "retention"])
        parser.add_argument("--contact", type=int, help="the contact's id (export, erase)")
        parser.add_argument(
            "--out", type=Path, help="the folder to write the export to (default: contact-ID)"
        )
        parser.add_argument("--yes", action="store_true", help="erase without asking (scripts)")

    def handle(self, *args, action, contact, out, yes, **options):
        if action == "retention":
            self.stdout.write(json.dumps(services.apply_retention().to_dict()))
            return
        if contact is None:
            raise CommandError(f"{action} needs --contact ID")
        try:
            if action == "export":
                folder = out or Path(f"contact-{contact}")
                for path in services.export_to_directory(contact, folder):
                    self.stdout.write(str(path))
                return
            if not yes and options.get("interactive", True):
                answer = input(f"Erase contact {contact} everywhere? This cannot be undone. [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    raise CommandError("nothing erased")
            erased = services.erase_contact(contact)
        except services.ContactNotFound as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(erased.to_dict()))
        if erased.traces:
            raise CommandError("still found in " + ", ".join(erased.traces))
