"""The import pages as the CX lead uses them, with uploads kept in a folder of the test's own."""

import shutil
import tempfile
from pathlib import Path

from django.test import override_settings
from django.utils import translation

from cxloop.people.models import Employee, Role
from cxloop.test import BaseTestCase


class ImportPagesTestCase(BaseTestCase):
    """Signed in as ``owner``, made the CX lead; pages and messages in English."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Employee.objects.filter(user=cls.owner).update(role=Role.ADMIN)

    def setUp(self):
        media = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, media)
        self.enterContext(override_settings(MEDIA_ROOT=media))
        self.enterContext(translation.override("en"))
        self.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the pages' language, not the test's
        self.client.force_login(self.owner)
