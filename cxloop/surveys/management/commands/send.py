import signal
import time

from django.core.management.base import BaseCommand

from cxloop.surveys.tasks import send_reminders


class Command(BaseCommand):
    help = "Send the survey reminders that are due (once, or every --every minutes with --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running until stopped")
        parser.add_argument("--every", type=int, default=15, help="minutes between passes")

    def handle(self, *args, loop, every, **options):
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        while True:
            outcomes = send_reminders.call()
            self.stdout.write(
                ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) or "none due"
            )
            if not loop:
                return
            for _ in range(every * 60):  # wake each second to notice SIGTERM
                if stopping:
                    return
                time.sleep(1)
