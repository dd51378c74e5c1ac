"""Starting the next cycle (/cycle/next/): the initiatives it proposes read the same whoever
starts it — the title in Russian and in English, the problem and hypothesis in the firm's
language with its dates and decimal mark — so that an English lead's click does not write
English into the Russian record."""

from cxloop.improvements.models import Initiative
from cxloop.people.models import Role
from tests.front.insight_data import InsightPageTestCase

URL = "/cycle/next/?since=2026-01-01&until=2026-03-31"


class CycleNextTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        for touchpoint, name in ((cls.kickoff, "Установочная встреча"), (cls.billing, "Счета")):
            touchpoint.name_ru = name
            touchpoint.save(update_fields=["name_ru"])

    def test_it_writes_the_proposals_in_the_firms_language_whoever_clicks(self):
        self.client.force_login(self.lead)
        form = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        chosen = [str(e["item"].touchpoint_id) for e in form.context["opportunities"]]
        self.assertIn(str(self.billing.pk), chosen)
        page = self.client.post(
            URL, {"touchpoint": [str(self.billing.pk)]}, HTTP_ACCEPT_LANGUAGE="en"
        )
        created = Initiative.objects.get(started_from="cycle_review")
        self.assertEqual(created.title, "Улучшить «Счета»")
        self.assertEqual(created.title_en, "Improve “Billing”")
        self.assertTrue(
            created.problem.startswith("Обзор цикла с 01.01.2026 по 31.03.2026 ставит «Счета»"),
            created.problem,
        )
        self.assertRegex(created.problem, r"оценка \d,\d\d при цели \d,\d\d\.$")
        self.assertNotIn("To be worked out", created.hypothesis)
        # The English page names what it proposed in English.
        self.assertContains(page, "Improve “Billing”")

    def test_the_review_s_opportunities_start_initiatives_for_its_target_segment(self):
        self.client.force_login(self.lead)
        context = self.client.get(URL.replace("/cycle/next/", "/cycle/")).context
        target = context["review"].target_segment
        self.assertIsNotNone(target)
        entries = context["opportunities"]
        self.assertTrue(entries)
        for entry in entries:
            self.assertIn(f"segment={target.pk}", entry["start_href"])
        self.client.post(URL, {"touchpoint": [str(e["item"].touchpoint_id) for e in entries]})
        created = Initiative.objects.filter(started_from="cycle_review")
        self.assertEqual(created.count(), len(entries))
        for initiative in created:
            self.assertEqual((initiative.scope, initiative.segment_id), ("segment", target.pk))
