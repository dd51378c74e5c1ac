from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cxloop.api.models import ApiToken
from cxloop.api.services import issue_token, revoke_token
from cxloop.people.queries import employee_of


class Command(BaseCommand):
    help = "Make (create), revoke or list the tokens API clients authenticate with."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="make a token acting as an employee and print it (once)"
        )
        create.add_argument("--username", required=True, help="the employee's login")
        create.add_argument("--name", required=True, help="what the token is for")
        revoke = actions.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("id", type=int)
        actions.add_parser("list", help="list tokens (never the tokens themselves)")

    def handle(self, *args, action, **options):
        if action == "create":
            self._create(options["username"], options["name"])
        elif action == "revoke":
            self._revoke(options["id"])
        else:
            self._list()

    def _create(self, username: str, name: str) -> None:
        user = get_user_model().objects.filter(username=username).first()
        employee = employee_of(user) if user is not None else None
        if employee is None:
            raise CommandError(f"No employee has the login {username!r}.")
        if not name.strip():
            raise CommandError("Give the token a name: what it is for.")
        api_token, token = issue_token(employee, name.strip()[:100])
        self.stdout.write(
            f"Token {api_token.pk} ({api_token.name}) acts as {username} "
            f"({employee.get_role_display()}). It is shown this once; keep it secret:"
        )
        self.stdout.write(token)

    def _revoke(self, pk: int) -> None:
        if not revoke_token(pk, now=timezone.now()):
            raise CommandError(f"No unrevoked token has the id {pk}.")
        self.stdout.write(f"Token {pk} is revoked.")

    def _list(self) -> None:
        tokens = ApiToken.objects.select_related("employee__user").order_by("pk")
        if not tokens:
            self.stdout.write("No tokens.")
        for t in tokens:
            state = f"revoked {_local(t.revoked_at)}" if t.revoked_at else "active"
            used = _local(t.last_used_at) if t.last_used_at else "never"
            self.stdout.write(
                f"{t.pk}\t{t.name}\t{t.employee.user.get_username()}\t{state}\tlast used {used}"
            )


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
