import datetime as dt
import json

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from cxloop.demo.build import build_demo
from cxloop.demo.initiatives import complete_with_facts
from cxloop.demo.rewards import lock_finished_quarters
from cxloop.demo.simulate import PASSWORD, SIZES
from cxloop.demo.truth import planted_truth
from cxloop.exports.demo import plant_schedules
from cxloop.facts.store import FactStoreError, read_manifest
from cxloop.management.commands.serve import address_for, serve
from cxloop.people.models import Team
from cxloop.surveys.models import Survey
from cxloop.surveys.services import open_link_signature

DEMO_LOGINS = (
    ("cx.lead", "CX lead, administrator"),
    ("ceo", "executive"),
    ("manager", "manager (partner, Moscow tax)"),
    ("employee", "employee (Moscow tax)"),
    ("viewer", "viewer"),
)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--end-date: expected YYYY-MM-DD, got {value!r}") from error


class Command(BaseCommand):
    help = (
        "Migrate, build the demo organisation if the database is empty, then serve it. "
        "--truth prints the planted truths the demo is generated from."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="build, but do not serve")
        parser.add_argument("--size", choices=sorted(SIZES), default="full")
        parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
        parser.add_argument(
            "--end-date", type=_date, default=None, help="last day of the demo data (default today)"
        )
        parser.add_argument("--truth", action="store_true", help="print the planted truths as JSON")
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, no_serve, size, seed, end_date, truth, bind, workers, **options):
        planted = planted_truth(seed=seed, end=end_date or dt.date.today())
        if truth:
            self.stdout.write(json.dumps(planted.to_dict(), ensure_ascii=False, indent=2))
            return
        base_url = address_for(bind)
        call_command("migrate", interactive=False, verbosity=0)
        built = not Team.objects.exists()
        if built:
            build_demo(planted, size=size, progress=options["verbosity"] > 0)
            self.stdout.write(
                self.style.SUCCESS(f"Demo organisation built (size {size}, seed {seed}).")
            )
        else:
            self.stdout.write(
                "The database already holds an organisation; the demo was not rebuilt."
            )
        if built or not self._has_facts():
            # The pages read the fact store, so the demo's data must be there when it starts.
            call_command("facts", "rebuild", verbosity=options["verbosity"], stdout=self.stdout)
        if built:
            # Baselines and the top opportunity read the fact store: once it is written.
            complete_with_facts(planted)
            # The finished quarters' payouts are computed from the figures: once they are there.
            lock_finished_quarters(planted)
            # Reports on a schedule, due from now on: the demo's worker sends them.
            plant_schedules(timezone.now())
        self._print_logins(base_url)
        if not no_serve:
            # Invitations, reminders and fact-store refreshes are tasks: the demo runs them.
            serve(bind, workers, with_task_worker=True)

    @staticmethod
    def _has_facts() -> bool:
        try:
            return read_manifest() is not None
        except FactStoreError:
            return False

    def _print_logins(self, base_url: str) -> None:
        self.stdout.write(f"Data: {settings.DATABASES['default']['NAME']}")
        self.stdout.write(f"Address: {base_url}/")
        survey = Survey.objects.filter(accepts_open_link=True, is_active=True).first()
        if survey is not None:
            path = reverse("respond_open", args=[survey.pk, open_link_signature(survey.pk)])
            self.stdout.write(f"A survey as a client sees it: {base_url}{path}")
        self.stdout.write(f"Demo logins (password {PASSWORD}):")
        for username, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:10} {role}")
