import json
from unittest import mock

from django.urls import reverse

from cxloop.facts import store
from cxloop.insights import journey
from cxloop.journeys.models import Stage, Touchpoint
from tests.front.insight_data import InsightPageTestCase


class JourneyMapTests(InsightPageTestCase):
    url = reverse("journey_map")

    def cards(self, response) -> dict[str, object]:
        return {
            entry["touchpoint"].code: entry["card"]
            for column in response.context["columns"]
            for entry in column["cards"]
        }

    def test_it_shows_a_manager_the_customers_of_their_teams(self):
        response = self.get(self.url, as_user=self.owner, segment="all")
        self.assertEqual(response.status_code, 200)
        cards = self.cards(response)
        self.assertEqual(cards["kickoff"].n, 40)
        # Ratings 1..5 in turn: a mean of exactly 3.
        self.assertAlmostEqual(cards["kickoff"].score.value, 3.0)
        self.assertContains(response, "Kick-off meeting")

    def test_it_shows_an_outsider_only_their_own_teams_customers(self):
        response = self.get(self.url, as_user=self.outsider, segment="all")
        card = self.cards(response)["kickoff"]
        self.assertEqual((card.n, card.low_n), (10, True))
        self.assertContains(response, "Few answers")

    def test_it_starts_with_the_target_segment(self):
        response = self.get(self.url, as_user=self.owner)
        form = response.context["filters"]
        self.assertEqual(form["segment"].value(), str(self.target.pk))
        self.assertEqual(form.fields["segment"].choices[1], (str(self.target.pk), "Key clients"))
        self.assertEqual(response.context["result"].scope.segment_id, self.target.pk)

    def test_it_names_the_target_segment_in_the_pages_language(self):
        type(self.target).objects.filter(pk=self.target.pk).update(
            name="Ключевые клиенты", name_en="Key clients"
        )
        page = self.get(self.url, as_user=self.owner, segment="all").content.decode()
        self.assertIn("Key clients", page)
        self.assertNotIn("Ключевые клиенты", page)
        russian = self.get(self.url, as_user=self.owner, language="ru").content.decode()
        self.assertIn("Ключевые клиенты", russian)

    def test_it_ranks_the_touchpoint_that_drives_nps(self):
        # NPS follows the kick-off rating; billing is noise.
        response = self.get(self.url, as_user=self.owner, segment="all")
        cards = self.cards(response)
        self.assertGreater(cards["kickoff"].importance, 5 * cards["billing"].importance)
        self.assertContains(response, "Where improving matters most")

    def test_it_speaks_russian(self):
        response = self.get(self.url, as_user=self.owner, language="ru", segment="all")
        self.assertContains(response, "Карта пути клиента")

    def test_it_says_when_the_period_ends_before_it_starts(self):
        response = self.get(self.url, as_user=self.owner, until="2025-01-01")
        self.assertContains(response, "The period ends before it starts.")

    def test_it_asks_a_visitor_to_sign_in(self):
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}")

    def test_it_draws_stages_whose_names_repeat_or_are_empty(self):
        # Equal names would merge into one point of the emotion curve: each gets its number;
        # a stage just added, with no touchpoint yet, is a column but no point.
        billing = Touchpoint.objects.get(code="billing")
        billing.stage = Stage.objects.create(
            journey=billing.stage.journey, order=2, name_ru="Работа", name_en="Work"
        )
        billing.save()
        empty = Stage.objects.create(journey=billing.stage.journey, order=3, name_ru="", name_en="")
        Touchpoint.objects.create(stage=empty, order=1, code="later", channel="meeting")
        Stage.objects.create(journey=empty.journey, order=4, name_ru="Новый", name_en="New")
        response = self.get(self.url, as_user=self.owner, segment="all")
        self.assertEqual(response.status_code, 200)
        curve = response.context["curve"]["data"]["values"]
        self.assertEqual([point["stage"] for point in curve], ["Work (1)", "Work (2)", "(3)"])


class JourneyMapStartTests(InsightPageTestCase):
    def test_a_target_segment_opportunity_starts_an_initiative_in_that_segment(self):
        # The first touchpoint ranked "matters more to the target segment" (too few answers
        # here to say so of any), so that both kinds of opportunity are on the map.
        reasons, worded = iter([{"reason": "target_below", "explanation": ""}]), journey._reason
        with mock.patch(
            "cxloop.insights.journey._reason",
            side_effect=lambda *args: next(reasons, None) or worded(*args),
        ):
            response = self.get(reverse("journey_map"), as_user=self.owner)
        entries = response.context["top_opportunities"]
        targeted = [e for e in entries if e["item"].reason.startswith("target_")]
        self.assertTrue(targeted, [e["item"].reason for e in entries])
        for entry in entries:
            start = (
                f"{reverse('initiative_new')}?from=opportunities&amp;"
                f"touchpoint={entry['touchpoint'].pk}"
            )
            with_segment = f'{start}&amp;segment={self.target.pk}"'
            if entry in targeted:
                self.assertContains(response, with_segment)
            else:
                self.assertContains(response, f'{start}"')


class UnreadableStoreTests(InsightPageTestCase):
    def test_it_answers_503_while_the_store_waits_for_its_rebuild(self):
        manifest = store.root() / "manifest.json"
        old = json.loads(manifest.read_text())
        old["schema"] = 3  # written by a version before an upgrade
        manifest.write_text(json.dumps(old))
        url = reverse("journey_map")
        for language, words in (("en", "being prepared"), ("ru", "готовятся")):
            with self.assertLogs("cxloop.timeouts", "ERROR"):
                response = self.get(url, as_user=self.owner, language=language)
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response["Retry-After"], "30")
            self.assertContains(response, words, status_code=503)
