"""The initiative pages per role: the CX lead sees all, creates and approves; a manager sees and
changes their part of the hierarchy but does not approve, and a manager of another team sees
nothing (404); an employee sees the initiatives they own or have an action item in and ticks
their own items; a viewer reads; an outsider gets 404. POST-only actions answer a GET with the
initiative's page; bad input is named by field and nothing is half-written."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from cxloop.cases.models import RootCause
from cxloop.customers.models import Segment
from cxloop.improvements import services
from cxloop.improvements.models import ActionItem, Initiative, InitiativeEvent
from cxloop.journeys.models import Standard
from tests.improvements.data import NOW, ImprovementTestCase, propose

SEE = ("lead", "viewer", "owner", "teammate")
BLIND = ("outsider", "manager_b")


class InitiativePageTests(ImprovementTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.initiative = propose(cls.owner.employee, [cls.kickoff])
        cls.item = services.add_action_item(
            cls.initiative,
            text="Шаблон повестки",
            owner=cls.teammate.employee,
            due_on=dt.date(2026, 3, 10),
            by=cls.owner.employee,
            now=NOW,
        )
        cls.owners_item = services.add_action_item(
            cls.initiative,
            text="Согласовать с юристами",
            owner=cls.owner.employee,
            due_on=dt.date(2099, 1, 1),
            by=cls.owner.employee,
            now=NOW,
        )
        cls.cause = RootCause.objects.create(
            touchpoint=cls.billing, name_ru="Ошибки в счетах", name_en="Invoice errors"
        )

    def as_(self, role):
        self.client.force_login(getattr(self, role))

    def url(self, name, *args):
        return reverse(name, args=[self.initiative.pk, *args])

    def state(self):
        return Initiative.objects.get(pk=self.initiative.pk).state

    # -- reading -------------------------------------------------------------------------

    def test_the_list_shows_each_role_its_initiatives_and_flags_overdue_items(self):
        for role in (*SEE, *BLIND):
            with self.subTest(role=role):
                self.as_(role)
                page = self.client.get(reverse("initiative_list"))
                self.assertEqual(page.status_code, 200)
                shown = self.initiative.reference in page.content.decode()
                self.assertEqual(shown, role in SEE)
        self.as_("lead")
        page = self.client.get(reverse("initiative_list") + "?overdue=1", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, '<span class="badge cx-badge-down">1 overdue</span>')
        self.assertContains(page, self.initiative.reference)
        empty = self.client.get(reverse("initiative_list") + f"?touchpoint={self.billing.pk}")
        self.assertNotContains(empty, self.initiative.reference)

    def test_the_list_refuses_a_bad_filter_by_name(self):
        self.as_("lead")
        page = self.client.get(reverse("initiative_list") + "?state=nope&owner=x", follow=True)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, self.initiative.reference)
        messages = [str(m) for m in page.context["messages"]]
        self.assertTrue(any(m.startswith("Состояние") for m in messages), messages)

    def test_the_page_is_seen_by_those_in_scope_and_404_for_others(self):
        for role in (*SEE, *BLIND):
            with self.subTest(role=role):
                self.as_(role)
                status = self.client.get(self.url("initiative_detail")).status_code
                self.assertEqual(status, 200 if role in SEE else 404)
        self.client.logout()
        self.assertEqual(self.client.get(self.url("initiative_detail")).status_code, 302)

    def test_the_page_shows_the_fields_items_history_and_the_effect_block_in_english(self):
        self.as_("lead")
        page = self.client.get(self.url("initiative_detail"), HTTP_ACCEPT_LANGUAGE="en")
        body = page.content.decode()
        self.assertIn("Agenda sent ahead", body)
        self.assertIn("Kick-off meeting", body)
        self.assertIn("overdue", body)  # the teammate's item, due 10 March
        self.assertIn('id="initiative-history"', body)
        # The marked place of the measured effect (issue #12, point 3), empty for now.
        templates = [t.name for t in page.templates]
        self.assertIn("front/initiatives/includes/effect.html", templates)
        self.assertEqual(page.context["moves"], ["approved", "abandoned"])
        self.assertIn('name="state" value="approved"', body)
        self.assertIn('name="state" value="abandoned"', body)
        self.assertNotIn('value="in_progress"', body)

    def test_a_linked_case_is_a_link_only_for_those_who_see_the_case(self):
        from cxloop.cases.services import open_case

        case = open_case(origin="manual", title="Счёт", now=NOW, owner=self.outsider.employee)
        self.initiative.cases.add(case)
        self.as_("lead")
        self.assertContains(self.client.get(self.url("initiative_detail")), f"/cases/{case.pk}/")
        self.as_("owner")
        page = self.client.get(self.url("initiative_detail"))
        self.assertContains(page, case.reference)
        self.assertNotContains(page, f"/cases/{case.pk}/")

    # -- proposing -----------------------------------------------------------------------

    def test_only_leads_and_managers_may_propose(self):
        for role, status in (
            ("lead", 200),
            ("owner", 200),
            ("teammate", 403),
            ("viewer", 403),
        ):
            with self.subTest(role=role):
                self.as_(role)
                self.assertEqual(self.client.get(reverse("initiative_new")).status_code, status)

    def test_the_new_page_is_prefilled_from_where_it_was_started_and_shows_the_baseline(self):
        wired = services.set_baseline_source(
            lambda ids, metric, until, scope: services.Baseline(
                3.41, 212, dt.date(2025, 12, 1), until
            )
        )
        self.addCleanup(services.set_baseline_source, wired)
        self.as_("lead")
        query = f"?from=root_cause&root_cause={self.cause.pk}&metric=csat"
        page = self.client.get(reverse("initiative_new") + query, HTTP_ACCEPT_LANGUAGE="en")
        form = page.context["form"]
        self.assertEqual(form.initial["touchpoints"], [self.billing])
        self.assertEqual(form.initial["root_causes"], [self.cause])
        self.assertEqual(form.initial["metric"], "csat")
        self.assertEqual(form.initial["started_from"], "root_cause")
        self.assertEqual(page.context["baseline"].value, 3.41)
        self.assertContains(page, "3.41")
        self.assertContains(page, "212 answers")
        self.assertContains(page, "Started from: root cause of the closed loop")

    def test_a_root_cause_prefills_the_russian_title_and_the_english_one_on_any_page(self):
        self.as_("lead")
        query = f"?from=root_cause&root_cause={self.cause.pk}"
        page = self.client.get(reverse("initiative_new") + query, HTTP_ACCEPT_LANGUAGE="en")
        form = page.context["form"]
        self.assertEqual(form.initial["title"], "Ошибки в счетах")
        self.assertEqual(form.initial["title_en"], "Invoice errors")
        # Labelled as the product's other two-language fields, so English goes where it belongs.
        self.assertContains(page, "Title (Russian)")
        self.assertContains(page, "Title (English)")

    def wire_baseline(self, metric="rating"):
        """A baseline source that knows ``metric`` only, and records what it was asked."""
        asked = []

        def source(ids, wanted, until, scope):
            asked.append((ids, wanted, scope))
            return (
                services.Baseline(4.12, 3456, dt.date(2025, 12, 1), until)
                if wanted == metric
                else None
            )

        self.addCleanup(services.set_baseline_source, services.set_baseline_source(source))
        return asked

    def test_a_touchpoints_start_targets_its_rating_and_a_segments_start_its_segment(self):
        asked = self.wire_baseline()
        segment = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
        self.as_("lead")
        query = f"?from=opportunities&touchpoint={self.billing.pk}&segment={segment.pk}"
        page = self.client.get(reverse("initiative_new") + query, HTTP_ACCEPT_LANGUAGE="en")
        form = page.context["form"]
        self.assertEqual(form.initial["metric"], "rating")
        self.assertEqual((form.initial["scope"], form.initial["segment"]), ("segment", segment))
        self.assertContains(page, "3,456 answers")
        self.assertEqual(asked, [([self.billing.pk], "rating", services.BaselineScope(segment.pk))])
        # A metric the link names is kept.
        page = self.client.get(reverse("initiative_new") + query + "&metric=csat")
        self.assertEqual(page.context["form"].initial["metric"], "csat")

    def test_the_baseline_preview_follows_the_metric_and_touchpoints_chosen(self):
        self.wire_baseline()
        self.as_("lead")
        page = self.client.get(reverse("initiative_new"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, 'hx-trigger="change from:#initiative-form"')
        url = reverse("initiative_new")
        for metric, shown in (("rating", "3,456 answers"), ("nps", "not measured")):
            with self.subTest(metric=metric):
                part = self.client.get(
                    url,
                    {"touchpoints": [self.billing.pk], "metric": metric, "scope": "all"},
                    HTTP_ACCEPT_LANGUAGE="en",
                    HTTP_HX_REQUEST="true",
                )
                self.assertContains(part, shown)
                self.assertNotContains(part, "<html")
        self.as_("viewer")
        refused = self.client.get(url, {"metric": "rating"}, HTTP_HX_REQUEST="true")
        self.assertEqual(refused.status_code, 403)

    def test_a_bad_prefill_is_named_and_left_out(self):
        self.as_("lead")
        page = self.client.get(reverse("initiative_new") + "?touchpoint=99999&metric=x")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("touchpoints", page.context["form"].initial)
        messages = [str(m) for m in page.context["messages"]]
        self.assertEqual(len(messages), 2, messages)

    def form(self, **fields):
        return {
            "title": "Счёт без ошибок",
            "touchpoints": [self.billing.pk],
            "problem": "Ошибки в счетах",
            "hypothesis": "Сверка перед отправкой",
            "root_causes": [self.cause.pk],
            "metric": "rating",
            "target_value": "4.2",
            "target_date": "2026-09-30",
            "owner": self.teammate.employee.pk,
            "scope": "all",
            "started_from": "touchpoint",
            **fields,
        }

    def test_proposing_saves_the_initiative_with_where_it_came_from(self):
        self.as_("owner")
        response = self.client.post(reverse("initiative_new"), self.form())
        created = Initiative.objects.latest("pk")
        self.assertRedirects(response, reverse("initiative_detail", args=[created.pk]))
        self.assertEqual(created.started_from, "touchpoint")
        self.assertEqual(created.team, self.team_a)
        self.assertEqual(list(created.root_causes.all()), [self.cause])
        self.assertEqual(created.created_by, self.owner.employee)

    def test_bad_input_is_named_by_field_and_nothing_is_written(self):
        self.as_("lead")
        before = Initiative.objects.count(), InitiativeEvent.objects.count()
        for fields, field in (
            ({"touchpoints": []}, "touchpoints"),
            ({"scope": "segment"}, "segment"),
            ({"cases": "C-000001 banana"}, "cases"),
            ({"target_date": "2026-02-30"}, "target_date"),
            ({"scope": "teams", "scope_teams": ["9" * 30]}, "scope_teams"),
        ):
            with self.subTest(field=field):
                page = self.client.post(reverse("initiative_new"), self.form(**fields))
                self.assertEqual(page.status_code, 400)
                self.assertIn(field, page.context["form"].errors)
                self.assertContains(page, f'id="id_{field}', status_code=400)
        self.assertEqual((Initiative.objects.count(), InitiativeEvent.objects.count()), before)

    def test_a_target_off_the_metrics_scale_is_refused_on_its_field_naming_the_range(self):
        self.as_("lead")
        before = Initiative.objects.count()
        page = self.client.post(
            reverse("initiative_new"), self.form(target_value="37"), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertEqual(page.status_code, 400)
        self.assertIn("from 1 to 5", " ".join(page.context["form"].errors["target_value"]))
        self.assertEqual(Initiative.objects.count(), before)

    def test_the_target_is_read_with_the_pages_decimal_mark(self):
        self.as_("lead")
        page = self.client.get(reverse("initiative_new"), HTTP_ACCEPT_LANGUAGE="ru")
        # Not a browser number field, which would read the browser's decimal mark.
        self.assertContains(page, 'inputmode="decimal"')
        self.assertNotContains(page, 'type="number"')
        response = self.client.post(
            reverse("initiative_new"), self.form(target_value="3,7"), HTTP_ACCEPT_LANGUAGE="ru"
        )
        created = Initiative.objects.latest("pk")
        self.assertRedirects(response, reverse("initiative_detail", args=[created.pk]))
        self.assertEqual(created.target_value, Decimal("3.70"))
        edit = self.client.get(
            reverse("initiative_edit", args=[created.pk]), HTTP_ACCEPT_LANGUAGE="ru"
        )
        self.assertContains(edit, 'value="3,70"')

    def test_a_manager_cannot_give_an_initiative_to_another_teams_person(self):
        self.as_("owner")
        page = self.client.post(
            reverse("initiative_new"), self.form(owner=self.outsider.employee.pk)
        )
        self.assertEqual(page.status_code, 400)
        self.assertIn("owner", page.context["form"].errors)

    # -- changing ------------------------------------------------------------------------

    def test_edit_is_for_leads_and_the_managers_of_its_part(self):
        expected = {
            "lead": 200,
            "owner": 200,
            "teammate": 403,
            "viewer": 403,
            "outsider": 404,
            "manager_b": 404,
        }
        for role, status in expected.items():
            with self.subTest(role=role):
                self.as_(role)
                self.assertEqual(self.client.get(self.url("initiative_edit")).status_code, status)
                before = Initiative.objects.get(pk=self.initiative.pk).title
                self.client.post(self.url("initiative_edit"), self.form(title="Изменено"))
                changed = Initiative.objects.get(pk=self.initiative.pk).title != before
                self.assertEqual(changed, status == 200)
                if changed:
                    Initiative.objects.filter(pk=self.initiative.pk).update(title=before)

    def test_only_the_lead_approves_and_a_manager_may_abandon(self):
        self.as_("owner")
        page = self.client.post(self.url("initiative_state"), {"state": "approved"})
        self.assertEqual(page.status_code, 400)
        self.assertIn("state", page.context["forms"]["state"].errors)
        self.assertEqual(self.state(), "proposed")
        for role in ("teammate", "viewer"):
            self.as_(role)
            response = self.client.post(self.url("initiative_state"), {"state": "approved"})
            self.assertEqual(response.status_code, 403)
        self.as_("manager_b")
        response = self.client.post(self.url("initiative_state"), {"state": "approved"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.state(), "proposed")
        self.as_("lead")
        response = self.client.post(self.url("initiative_state"), {"state": "approved"})
        self.assertRedirects(response, self.url("initiative_detail"))
        self.assertEqual(self.state(), "approved")
        self.as_("owner")
        self.client.post(self.url("initiative_state"), {"state": "in_progress"})
        self.assertEqual(self.state(), "in_progress")

    def test_the_page_offers_only_the_allowed_moves(self):
        self.as_("owner")
        self.assertEqual(
            self.client.get(self.url("initiative_detail")).context["moves"], ["abandoned"]
        )
        self.as_("teammate")
        page = self.client.get(self.url("initiative_detail"))
        self.assertEqual(page.context["moves"], [])
        self.assertNotContains(page, self.url("initiative_state"))

    def test_finishing_on_the_page_writes_the_standard_or_names_the_missing_field(self):
        by = self.lead.employee
        services.change_state(self.initiative, "approved", by=by, now=NOW)
        services.change_state(self.initiative, "in_progress", by=by, now=NOW)
        self.as_("owner")
        finish = {
            "change_ru": "Повестка за два дня",
            "change_en": "The agenda two days ahead",
            "effective_from": "2026-04-01",
            "training": "agenda-101",
        }
        page = self.client.post(self.url("initiative_finish"), {**finish, "change_ru": ""})
        self.assertEqual(page.status_code, 400)
        self.assertIn("change_ru", page.context["forms"]["finish"].errors)
        self.assertFalse(Standard.objects.exists())
        self.assertEqual(self.state(), "in_progress")
        self.as_("viewer")
        self.assertEqual(self.client.post(self.url("initiative_finish"), finish).status_code, 403)
        self.as_("owner")
        response = self.client.post(self.url("initiative_finish"), finish)
        self.assertRedirects(response, self.url("initiative_detail"))
        standard = Standard.objects.get(touchpoint=self.kickoff)
        self.assertEqual((standard.version, standard.text_ru), (1, "Повестка за два дня"))
        page = self.client.get(self.url("initiative_detail"))
        self.assertContains(page, "agenda-101")
        self.assertEqual(page.context["moves"], [])
        # The history names the touchpoint and its version, and the standard, in each language.
        english = self.client.get(self.url("initiative_detail"), HTTP_ACCEPT_LANGUAGE="en")
        standard_event = next(e for e in english.context["history"] if e["kind"] == "standard")
        self.assertEqual(
            (standard_event["detail"], standard_event["text"]),
            (f"{self.kickoff.name_en}, version 1", "The agenda two days ahead"),
        )
        russian = self.client.get(self.url("initiative_detail"), HTTP_ACCEPT_LANGUAGE="ru")
        standard_event = next(e for e in russian.context["history"] if e["kind"] == "standard")
        self.assertEqual(
            (standard_event["detail"], standard_event["text"]),
            (f"{self.kickoff.name_ru}, версия 1", "Повестка за два дня"),
        )

    # -- action items --------------------------------------------------------------------

    def test_an_employee_ticks_their_own_item_only(self):
        self.as_("teammate")
        done = self.url("action_item_done", self.item.pk)
        self.assertRedirects(
            self.client.post(done, {"done": "1"}),
            self.url("initiative_detail") + "#action-items",
            fetch_redirect_response=False,
        )
        self.assertIsNotNone(ActionItem.objects.get(pk=self.item.pk).done_at)
        other = self.url("action_item_done", self.owners_item.pk)
        self.assertEqual(self.client.post(other, {"done": "1"}).status_code, 403)
        self.assertIsNone(ActionItem.objects.get(pk=self.owners_item.pk).done_at)
        for role, status in (("viewer", 403), ("outsider", 404), ("manager_b", 404)):
            with self.subTest(role=role):
                self.as_(role)
                self.assertEqual(self.client.post(done, {"done": "0"}).status_code, status)
                self.assertIsNotNone(ActionItem.objects.get(pk=self.item.pk).done_at)

    def test_adding_an_item_is_for_those_who_change_the_initiative(self):
        item = {"text": "Обучить менеджеров", "owner": self.teammate.employee.pk}
        item["due_on"] = "2026-04-15"
        for role, status in (("teammate", 403), ("viewer", 403), ("outsider", 404)):
            with self.subTest(role=role):
                self.as_(role)
                response = self.client.post(self.url("action_item_add"), item)
                self.assertEqual(response.status_code, status)
        self.assertEqual(self.initiative.action_items.count(), 2)
        self.as_("owner")
        page = self.client.post(self.url("action_item_add"), {**item, "due_on": ""})
        self.assertEqual(page.status_code, 400)
        self.assertIn("due_on", page.context["forms"]["item"].errors)
        self.assertEqual(self.initiative.action_items.count(), 2)
        self.client.post(self.url("action_item_add"), item)
        self.assertEqual(self.initiative.action_items.count(), 3)

    def test_a_get_of_an_action_goes_to_the_page_and_is_404_for_outsiders(self):
        actions = [
            self.url("initiative_state"),
            self.url("initiative_finish"),
            self.url("action_item_add"),
            self.url("action_item_done", self.item.pk),
        ]
        for path in actions:
            with self.subTest(path=path):
                self.as_("viewer")
                self.assertRedirects(self.client.get(path), self.url("initiative_detail"))
                self.as_("outsider")
                self.assertEqual(self.client.get(path).status_code, 404)
        self.as_("lead")
        missing = reverse("action_item_done", args=[self.initiative.pk, 999999])
        self.assertEqual(self.client.get(missing).status_code, 404)

    def test_editing_keeps_the_linked_cases_the_editor_does_not_see(self):
        from cxloop.cases.services import open_case

        hidden = open_case(origin="manual", title="Счёт", now=NOW, owner=self.outsider.employee)
        shown = open_case(origin="manual", title="Сроки", now=NOW, owner=self.teammate.employee)
        self.initiative.cases.add(hidden, shown)
        self.as_("owner")
        page = self.client.get(self.url("initiative_edit"))
        self.assertEqual(page.context["form"].initial["cases"], shown.reference)
        form = {
            **page.context["form"].initial,
            "touchpoints": [self.kickoff.pk],
            "owner": self.owner.employee.pk,
            "team": "",
            "segment": "",
            "target_date": "2026-06-30",
            "title": "Новое название",
        }
        form = {k: v for k, v in form.items() if k not in ("root_causes", "scope_teams")}
        self.assertEqual(self.client.post(self.url("initiative_edit"), form).status_code, 302)
        initiative = Initiative.objects.get(pk=self.initiative.pk)
        self.assertEqual(initiative.title, "Новое название")
        self.assertEqual(set(initiative.cases.all()), {hidden, shown})
