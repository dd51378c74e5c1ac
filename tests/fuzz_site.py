"""The site both fuzzers attack: the API fixture's survey, customers, contacts and a stored
response, with a CX lead who is also staff, and names on the journey as its builder requires."""

from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Role
from tests.api.base import ApiTestCase


class FuzzSiteTestCase(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.lead.is_staff = cls.lead.is_superuser = True
        cls.lead.save()
        # The shared fixture leaves names empty.
        Journey.objects.update(name_ru="Путь", name_en="Journey")
        Stage.objects.update(name_ru="Начало", name_en="Start")
        Touchpoint.objects.update(name_ru="Точка", name_en="Touchpoint")
        cls.stored_response = cls.stored(cls, customer=cls.acme)
