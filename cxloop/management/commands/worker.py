from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker on the database queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", action="store_true", help="run the tasks waiting now, then exit"
        )

    def handle(self, *args, batch, **options):
        call_command("db_worker", batch=batch, reload=False)
