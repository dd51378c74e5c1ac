"""The ``cxloop`` command: Django's management commands, run with cxloop's settings.

``cxloop demo``, ``cxloop serve`` and ``cxloop worker`` are cxloop's own commands; every other
word is handed to Django (``cxloop migrate``, ``cxloop createsuperuser``, …).
"""

import os
import sys

from cxloop.lib.env import SettingError


def main(argv: list[str] | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cxloop.settings"
    try:
        import cxloop.settings  # noqa: F401  (parse every CXLOOP_* variable before anything runs)
    except SettingError as error:
        print(f"cxloop: {error}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cxloop", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
