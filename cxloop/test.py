"""Shared test fixtures: three users in code, as in healthchecks' BaseTestCase.

- ``owner``: manager of team A (and so of its sub-team A1);
- ``teammate``: an employee of team A;
- ``outsider``: an employee of team B, who must not see team A's data.
"""

import shutil
import tempfile

from django.contrib.auth.models import User
from django.test import TestCase, override_settings

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


class OwnFactStore:
    """Mixin for a TestCase whose class writes and reads a fact store in a folder of its own
    (``cls.facts_dir``), removed afterwards."""

    @classmethod
    def setUpClass(cls):
        cls.facts_dir = tempfile.mkdtemp(prefix="cxloop-facts-")
        cls._facts_setting = override_settings(FACTS_DIR=cls.facts_dir)
        cls._facts_setting.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._facts_setting.disable()
        shutil.rmtree(cls.facts_dir, ignore_errors=True)
