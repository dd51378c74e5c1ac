"""Shared test fixtures: three users in code, as in healthchecks' BaseTestCase.

- ``owner``: manager of team A (and so of its sub-team A1);
- ``teammate``: an employee of team A;
- ``outsider``: an employee of team B, who must not see team A's data.
"""

from django.contrib.auth.models import User
from django.test import TestCase

from cxloop.people.models import Employee, Role, Team

PASSWORD = "correct horse battery staple"


class BaseTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.firm = Team.objects.create(name="Firm")
        cls.team_a = Team.objects.create(name="Team A", parent=cls.firm)
        cls.team_a1 = Team.objects.create(name="Team A1", parent=cls.team_a)
        cls.team_b = Team.objects.create(name="Team B", parent=cls.firm)
        cls.owner = cls._user("owner", cls.team_a, Role.MANAGER)
        cls.teammate = cls._user("teammate", cls.team_a, Role.EMPLOYEE)
        cls.outsider = cls._user("outsider", cls.team_b, Role.EMPLOYEE)

    @staticmethod
    def _user(username: str, team: Team, role: str) -> User:
        user = User.objects.create_user(
            username, f"{username}@example.org", PASSWORD, first_name=username.title()
        )
        Employee.objects.create(user=user, team=team, role=role)
        return user
