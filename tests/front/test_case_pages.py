"""The case pages: the list's tabs, filters and order, the case page's context and timeline,
each action with its bad input named, bulk assignment, opening a case by hand from a response,
a customer or a meeting, and the root-cause taxonomy."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from cxloop.cases import services
from cxloop.cases.choices import CaseState, EventKind, Origin, Priority
from cxloop.cases.models import Case, CaseEvent, Inquiry, InquiryTopic, RootCause, SlaPolicy
from cxloop.feedback.services import ingest
from cxloop.people.models import Role
from tests.front.evidence_data import MAY, EvidenceTestCase


class CasePagesTestCase(EvidenceTestCase):
    """The evidence data (Acme and Bolt in team A, Zeta in team B) with an SLA policy, root
    causes, a viewer, a CX lead and two cases: Acme's (the teammate's) and Zeta's (the
    outsider's)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.manager_b = cls._user("manager_b", cls.team_b, Role.MANAGER)
        cls.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        cls.invoice_error = RootCause.objects.create(
            touchpoint=cls.billing, name_ru="Ошибка в счёте", name_en="Invoice error"
        )
        cls.general = RootCause.objects.create(name_ru="Сроки", name_en="Delays")
        now = timezone.now()
        cls.acme_case = services.open_case(
            origin=Origin.MANUAL,
            title="Acme detractor",
            now=now - dt.timedelta(hours=6),
            customer=cls.acme,
            contact=cls.ann,
            owner=cls.teammate.employee,
            sla_policy=cls.policy,
            touchpoints=[cls.billing],
            responses=[cls.r_detractor],
        )
        cls.zeta_case = services.open_case(
            origin=Origin.MANUAL,
            title="Zeta secret",
            now=now,
            customer=cls.zeta,
            owner=cls.outsider.employee,
            sla_policy=cls.policy,
        )
        # Deadlines set outright: the clocks run on business calendars, whose working hours
        # would make them depend on the moment the tests run.
        hours = dt.timedelta(hours=1)
        Case.objects.filter(pk=cls.acme_case.pk).update(
            first_contact_due=now - 2 * hours - 5 * dt.timedelta(minutes=1),
            resolution_due=now + 10 * hours,
        )
        Case.objects.filter(pk=cls.zeta_case.pk).update(
            first_contact_due=now + 3 * hours + 30 * dt.timedelta(minutes=1),
            resolution_due=now + 12 * hours,
        )
        cls.acme_case.refresh_from_db()
        cls.zeta_case.refresh_from_db()

    def act(self, user, action, data, case=None):
        self.client.force_login(user)
        url = reverse("case_action", args=[(case or self.acme_case).pk, action])
        return self.client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")

    def events(self, case=None):
        return CaseEvent.objects.filter(case=case or self.acme_case).count()


class CaseListTests(CasePagesTestCase):
    def get(self, user, query=""):
        self.client.force_login(user)
        return self.client.get(reverse("case_list") + query, HTTP_ACCEPT_LANGUAGE="en")

    def refs(self, page):
        return [row["case"].pk for row in page.context["rows"]]

    def test_it_gives_each_role_its_tabs_and_scope(self):
        self.assertEqual([t[0] for t in self.get(self.teammate).context["tabs"]], ["mine"])
        self.assertEqual([t[0] for t in self.get(self.owner).context["tabs"]], ["mine", "team"])
        self.assertEqual([t[0] for t in self.get(self.viewer).context["tabs"]], ["all"])
        self.assertEqual(self.refs(self.get(self.owner, "?tab=team")), [self.acme_case.pk])
        self.assertEqual(self.refs(self.get(self.outsider)), [self.zeta_case.pk])
        self.assertEqual(len(self.refs(self.get(self.lead, "?tab=all"))), 2)

    def test_a_summary_cxloop_wrote_reads_in_the_pages_language(self):
        Case.objects.filter(pk=self.acme_case.pk).update(
            title="NPS 2 · Счёт · Акме", title_en="NPS 2 · Invoice · Акме"
        )
        self.assertContains(self.get(self.lead, "?tab=all"), "NPS 2 · Invoice · Акме")
        self.assertContains(self.get(self.lead, "?tab=all&q=Invoice"), "NPS 2 · Invoice")
        self.client.force_login(self.lead)
        russian = self.client.get(reverse("case_list") + "?tab=all", HTTP_ACCEPT_LANGUAGE="ru")
        self.assertContains(russian, "NPS 2 · Счёт · Акме")
        detail = self.client.get(
            reverse("case_detail", args=[self.acme_case.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertContains(detail, "NPS 2 · Invoice · Акме")

    def test_it_puts_the_overdue_first_with_the_clock_in_words(self):
        page = self.get(self.lead, "?tab=all")
        self.assertEqual(self.refs(page), [self.acme_case.pk, self.zeta_case.pk])
        self.assertContains(page, "overdue by 2")
        self.assertContains(page, "due in 3")
        overdue = self.get(self.lead, "?tab=all&overdue=1")
        self.assertEqual(self.refs(overdue), [self.acme_case.pk])

    def test_it_filters_by_state_priority_touchpoint_cause_customer_owner_and_text(self):
        lead = self.lead.employee
        services.set_root_causes(self.acme_case, [self.invoice_error], by=lead, now=timezone.now())
        services.set_priority(self.zeta_case, Priority.URGENT, by=lead, now=timezone.now())
        expectations = {
            f"?tab=all&touchpoint={self.billing.pk}": [self.acme_case.pk],
            f"?tab=all&root_cause={self.invoice_error.pk}": [self.acme_case.pk],
            f"?tab=all&customer={self.zeta.pk}": [self.zeta_case.pk],
            f"?tab=all&owner={self.outsider.employee.pk}": [self.zeta_case.pk],
            "?tab=all&priority=urgent": [self.zeta_case.pk],
            "?tab=all&q=DETRACT": [self.acme_case.pk],
            "?tab=all&state=resolved": [],
        }
        for query, expected in expectations.items():
            with self.subTest(query):
                self.assertEqual(self.refs(self.get(self.lead, query)), expected)

    def test_it_names_a_bad_filter_and_leaves_it_out(self):
        page = self.get(self.lead, "?tab=all&state=lost&owner=abc&priority=meh")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(len(self.refs(page)), 2)
        for text in (
            "State “lost”: no such state",
            "Owner “abc”: expected the number",
            "Priority “meh”: no such",
        ):
            self.assertContains(page, text)

    def test_it_answers_htmx_with_the_results_alone(self):
        self.client.force_login(self.lead)
        page = self.client.get(reverse("case_list") + "?tab=all", HTTP_HX_REQUEST="true")
        self.assertContains(page, 'id="case-results"')
        self.assertNotContains(page, "<html")


class CaseListPeriodTests(CasePagesTestCase):
    """``since`` and ``until`` on the day a case was opened, in the site's time zone (Moscow,
    UTC+3): four cases either side of two midnights."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.by_moment = {
            moment: services.open_case(
                origin=Origin.MANUAL,
                title=f"Opened {moment:%d %H:%M}",
                now=moment,
                customer=cls.acme,
                owner=cls.teammate.employee,
                sla_policy=cls.policy,
            )
            for moment in (
                dt.datetime(2026, 3, 25, 20, 59, 59, tzinfo=dt.UTC),  # 25 March, 23:59:59
                dt.datetime(2026, 3, 25, 21, 0, tzinfo=dt.UTC),  # 26 March, 00:00
                dt.datetime(2026, 3, 27, 20, 59, 59, tzinfo=dt.UTC),  # 27 March, 23:59:59
                dt.datetime(2026, 3, 27, 21, 0, tzinfo=dt.UTC),  # 28 March, 00:00
            )
        }
        cls.day_25, cls.day_26, cls.day_27, cls.day_28 = (c.pk for c in cls.by_moment.values())

    def get(self, user, query=""):
        self.client.force_login(user)
        return self.client.get(reverse("case_list") + query, HTTP_ACCEPT_LANGUAGE="en")

    def refs(self, page):
        return sorted(row["case"].pk for row in page.context["rows"])

    def test_it_lists_the_cases_opened_on_the_days_of_the_period_in_the_sites_time_zone(self):
        expectations = {
            "since=2026-03-26&until=2026-03-27": [self.day_26, self.day_27],
            "since=2026-03-26&until=2026-03-26": [self.day_26],
            "until=2026-03-25": [self.day_25],
            "since=2026-03-28": [self.day_28, self.acme_case.pk, self.zeta_case.pk],
            "since=2026-03-27&until=2026-03-28": [self.day_27, self.day_28],
        }
        for query, expected in expectations.items():
            with self.subTest(query):
                page = self.get(self.lead, f"?tab=all&state=&{query}")
                self.assertEqual(self.refs(page), sorted(expected))
                self.assertEqual(page.context["page"].paginator.count, len(expected))

    def test_it_keeps_the_period_in_the_form_the_tabs_and_the_other_filters(self):
        page = self.get(self.owner, "?tab=team&since=2026-03-26&until=2026-03-27")
        self.assertEqual(page.context["filters"]["since"], "2026-03-26")
        self.assertContains(page, 'name="since" value="2026-03-26"')
        self.assertContains(page, 'name="until" value="2026-03-27"')
        tabs = dict((tab, query) for tab, _label, query in page.context["tabs"])
        self.assertIn("since=2026-03-26&until=2026-03-27", tabs["mine"])
        self.assertEqual(self.refs(page), [self.day_26, self.day_27])

    def test_it_names_a_bad_day_with_its_value_and_leaves_it_out(self):
        page = self.get(self.lead, "?tab=all&state=&since=2026-02-30&until=2026-03-26")
        self.assertEqual(page.status_code, 200)
        message = (
            "Opened from: “2026-02-30” is not a day: expected a date YYYY-MM-DD between "
            "1900-01-01 and 2200-12-31 — this filter is left out."
        )
        self.assertContains(page, message)
        self.assertContains(page, 'aria-invalid="true" aria-describedby="id_since-error"')
        self.assertNotIn("since", page.context["filters"])
        self.assertEqual(self.refs(page), [self.day_25, self.day_26])

    def test_it_refuses_an_end_before_the_start(self):
        page = self.get(self.lead, "?tab=all&state=&since=2026-03-27&until=2026-03-26")
        self.assertEqual(page.status_code, 200)
        self.assertContains(
            page, "Opened to: 2026-03-26 is before the start, 2026-03-27 — this filter is left out."
        )
        self.assertContains(page, 'id="id_until-error"')
        self.assertEqual(
            self.refs(page),
            sorted([self.day_27, self.day_28, self.acme_case.pk, self.zeta_case.pk]),
        )

    def test_it_answers_nonsense_days_without_a_server_error(self):
        for value in ("1000-01-01", "9999-12-31", "2026-3-1", "x" * 300, "\x00", "２０２６-03-01"):
            with self.subTest(value=value):
                self.client.force_login(self.lead)
                page = self.client.get(
                    reverse("case_list"), {"tab": "all", "until": value}, HTTP_ACCEPT_LANGUAGE="en"
                )
                self.assertEqual(page.status_code, 200)
                self.assertContains(page, "Opened to: “")
                self.assertEqual(len(self.refs(page)), 6)
        self.client.force_login(self.lead)
        page = self.client.get(reverse("case_list"), {"since": "<b>2026</b>"})
        self.assertContains(page, "«&lt;b&gt;2026&lt;/b&gt;» — не дата")  # Russian by default
        self.assertNotContains(page, "<b>2026</b>")

    def test_it_answers_htmx_with_the_messages_of_a_bad_day(self):
        self.client.force_login(self.lead)
        page = self.client.get(
            reverse("case_list") + "?tab=all&since=2026-13-01",
            HTTP_HX_REQUEST="true",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertContains(page, "Opened from: “2026-13-01” is not a day")
        self.assertNotContains(page, "<html")

    def test_it_narrows_to_a_team_with_the_teams_under_it(self):
        expectations = {
            self.firm.pk: 6,
            self.team_a.pk: 5,
            self.team_b.pk: 1,
            self.team_a1.pk: 0,
        }
        for team, count in expectations.items():
            with self.subTest(team=team):
                page = self.get(self.lead, f"?tab=all&state=&team={team}")
                self.assertEqual(len(self.refs(page)), count)
                self.assertContains(page, f'<input type="hidden" name="team" value="{team}">')

    def test_it_refuses_a_team_the_user_does_not_see(self):
        page = self.get(self.outsider, f"?state=&team={self.team_a.pk}")
        self.assertContains(page, "Team: no such team among those you see")
        self.assertEqual(self.refs(page), [self.zeta_case.pk])
        self.assertNotIn("team", page.context["filters"])

    def test_an_empty_narrow_tab_points_to_the_wider_one_with_its_count(self):
        page = self.get(self.lead)  # the CX lead owns none of the open cases
        self.assertEqual(page.context["filters"]["tab"], "mine")
        self.assertContains(page, "None of yours match these filters.")
        open_cases = Case.objects.exclude(state__in=["resolved", "closed"]).count()
        self.assertContains(page, f'<a href="?tab=all&amp;state=open">All: {open_cases} cases</a>')
        narrowed = self.get(self.lead, "?priority=urgent")
        self.assertNotContains(narrowed, "None of yours")
        self.assertContains(narrowed, "No cases match these filters.")


class BulkAssignTests(CasePagesTestCase):
    def post(self, user, data):
        self.client.force_login(user)
        return self.client.post(reverse("case_bulk_assign"), data, HTTP_ACCEPT_LANGUAGE="en")

    def test_it_assigns_the_ticked_cases_it_may_act_on(self):
        lead = self.lead.employee
        response = self.post(
            self.lead, {"cases": [self.acme_case.pk, self.zeta_case.pk], "owner": lead.pk}
        )
        self.assertRedirects(response, reverse("case_list"))
        self.assertEqual(Case.objects.filter(owner=lead).count(), 2)

    def test_it_refuses_cases_out_of_scope_unknown_owners_and_malformed_ids(self):
        teammate = self.teammate.employee
        for data, message in (
            ({"cases": [self.zeta_case.pk], "owner": teammate.pk}, "No such case"),
            ({"cases": [self.acme_case.pk], "owner": 999999}, "No such colleague"),
            (
                {"cases": [self.acme_case.pk], "owner": self.outsider.employee.pk},
                "No such colleague",
            ),
            ({"cases": ["x1"], "owner": teammate.pk}, "is not the number of a case"),
            ({"owner": teammate.pk}, "Tick the cases"),
        ):
            with self.subTest(data):
                response = self.post(self.owner, data)
                self.assertContains(response, message, status_code=400)
        self.assertEqual(Case.objects.get(pk=self.zeta_case.pk).owner, self.outsider.employee)
        self.assertEqual(Case.objects.get(pk=self.acme_case.pk).owner, teammate)

    def test_it_returns_to_the_tab_and_filters_it_was_sent_from(self):
        lead = self.lead.employee
        back = "tab=all&state=open&priority=normal&q=Acme"
        response = self.post(
            self.lead, {"cases": [self.acme_case.pk], "owner": lead.pk, "back": back}
        )
        self.assertRedirects(response, reverse("case_list") + "?" + back)
        self.assertContains(
            self.get_list(), '<input type="hidden" name="back" value="tab=mine&amp;state=open"'
        )

    def test_it_names_the_owner_without_declining_and_counts_with_plurals(self):
        lead = self.lead.employee
        self.client.force_login(self.lead)
        response = self.client.post(
            reverse("case_bulk_assign"),
            {"cases": [self.acme_case.pk], "owner": lead.pk},
            HTTP_ACCEPT_LANGUAGE="en",
            follow=True,
        )
        self.assertContains(response, f"1 case assigned. Its owner now: {lead}.")

    def test_a_refusal_draws_the_list_with_the_tab_and_filters_it_was_sent_from(self):
        back = "tab=all&state=open&priority=normal"
        response = self.post(self.lead, {"owner": self.lead.employee.pk, "back": back})
        self.assertContains(response, "Tick the cases", status_code=400)
        self.assertEqual(response.context["filters"]["tab"], "all")
        self.assertEqual(response.context["filters"]["priority"], "normal")

    def test_a_back_query_cannot_lead_off_the_list(self):
        for back in ("//evil.example/x", "https://evil.example/", "\\\\evil.example"):
            with self.subTest(back):
                response = self.post(
                    self.lead,
                    {"cases": [self.acme_case.pk], "owner": self.lead.employee.pk, "back": back},
                )
                self.assertTrue(response["Location"].startswith(reverse("case_list") + "?"))
                self.assertNotIn("//", response["Location"])

    def get_list(self):
        self.client.force_login(self.lead)
        return self.client.get(reverse("case_list"), HTTP_ACCEPT_LANGUAGE="en")

    def test_a_viewer_may_not_assign(self):
        response = self.post(self.viewer, {"cases": [self.acme_case.pk], "owner": 1})
        self.assertEqual(response.status_code, 403)


class CaseDetailTests(CasePagesTestCase):
    def test_it_shows_clocks_context_triggers_and_timeline(self):
        self.client.force_login(self.teammate)
        page = self.client.get(
            reverse("case_detail", args=[self.acme_case.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        for text in (
            self.acme_case.reference,
            "Acme detractor",
            "overdue by 2",
            "Invoices were wrong again",  # the customer's recent comment
            "Ann Reader",
            "Strategic",
            "linked by hand",
            "opened by hand",
            "Billing accuracy",
        ):
            self.assertContains(page, text)
        self.assertContains(page, reverse("response_detail", args=[self.r_detractor.pk]))
        kinds = [line.kind for line in page.context["timeline"]]
        self.assertEqual(kinds, [EventKind.OPENED, EventKind.ASSIGNED])
        self.assertContains(page, reverse("case_action", args=[self.acme_case.pk, "note"]))
        # The causes offered: the billing touchpoint's and the general ones.
        offered = set(page.context["forms"]["root_causes"].fields["causes"].queryset)
        self.assertEqual(offered, {self.invoice_error, self.general})

    def test_it_says_when_a_resolved_case_was_resolved(self):
        resolved_at = timezone.now() - dt.timedelta(hours=1)
        Case.objects.filter(pk=self.acme_case.pk).update(
            state=CaseState.RESOLVED, resolved_at=resolved_at, resolution_due=None
        )
        self.client.force_login(self.teammate)
        page = self.client.get(
            reverse("case_detail", args=[self.acme_case.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        when = date_format(timezone.localtime(resolved_at), "DATETIME_FORMAT")
        self.assertContains(page, f'<span class="small" id="case-resolved">resolved {when}</span>')

    def test_each_checkbox_card_has_one_title_and_the_labels_are_capitalised(self):
        self.client.force_login(self.teammate)
        url = reverse("case_detail", args=[self.acme_case.pk])
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        for action, title in (("root_causes", "Root causes"), ("touchpoints", "Touchpoints")):
            card = page.split(f'id="action-{action}"')[1].split("</section>")[0]
            self.assertEqual(card.count(title), 1, card)
            self.assertIn(f'<legend class="form-label">{title}</legend>', card)
        self.assertIn('<span class="badge text-wrap text-start', page)
        ru = self.client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        self.assertIn("Политика SLA", ru)
        self.assertNotIn("политика SLA", ru)
        new_case = self.client.get(
            reverse("case_new") + f"?customer={self.acme.pk}", HTTP_ACCEPT_LANGUAGE="ru"
        ).content.decode()
        self.assertIn("Политика SLA", new_case)

    def test_it_works_the_case_through_to_the_closed_loop(self):
        steps = (
            ("contact", {"channel": "call", "text": "Called Ann"}, CaseState.IN_PROGRESS),
            ("note", {"text": "Credit note promised"}, CaseState.IN_PROGRESS),
            ("state", {"state": "resolved", "text": "Credit note sent"}, CaseState.RESOLVED),
            ("loop", {"channel": "call", "reaction": "satisfied"}, CaseState.RESOLVED),
            ("root_causes", {"causes": [self.invoice_error.pk]}, CaseState.RESOLVED),
            ("state", {"state": "closed"}, CaseState.CLOSED),
        )
        for action, data, state in steps:
            response = self.act(self.teammate, action, data)
            self.assertRedirects(response, reverse("case_detail", args=[self.acme_case.pk]))
            self.assertEqual(Case.objects.get(pk=self.acme_case.pk).state, state)
        case = Case.objects.get(pk=self.acme_case.pk)
        self.assertEqual(case.customer_reaction, "satisfied")
        self.assertEqual(case.resolution, "Credit note sent")
        self.assertIsNotNone(case.first_contacted_at)
        self.assertEqual(list(case.root_causes.all()), [self.invoice_error])
        page = self.client.get(reverse("case_detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
        for text in ("Called Ann", "Credit note promised", "resolved → closed", "Invoice error"):
            self.assertContains(page, text)

    def test_it_names_bad_input_next_to_the_form_and_changes_nothing(self):
        before = self.events()
        for action, data, message in (
            ("note", {"text": "   "}, "This field is required"),
            ("state", {"state": "resolved"}, "Say how the case was resolved"),
            ("state", {"state": "new"}, "Select a valid choice"),
            ("assign", {"owner": "999999"}, "No such colleague"),
            ("assign", {"owner": "abc"}, "No such colleague"),
            ("priority", {"priority": "sky-high"}, "Select a valid choice"),
            ("loop", {"channel": "pigeon", "reaction": "satisfied"}, "Select a valid choice"),
            ("root_causes", {"causes": ["x"]}, "is not a valid value"),
            ("note", {"text": "nul\x00"}, "NUL"),
        ):
            with self.subTest(action=action, data=data):
                response = self.act(self.teammate, action, data)
                self.assertContains(response, message, status_code=400)
        self.assertEqual(self.events(), before)
        self.assertEqual(Case.objects.get(pk=self.acme_case.pk).state, CaseState.NEW)

    def test_an_inquiry_case_shows_its_thread_and_others_do_not(self):
        topic = InquiryTopic.objects.create(
            name_ru="Счета", name_en="Invoices", team=self.team_a, sla_policy=self.policy
        )
        Inquiry.objects.create(
            case=self.acme_case,
            topic=topic,
            name="Ann Reader",
            email="ann@acme.example",
            text="Why is my invoice wrong?",
            token_hash="t" * 64,
            fingerprint="f" * 64,
            created_at=timezone.now(),
        )
        self.client.force_login(self.teammate)
        page = self.client.get(reverse("case_detail", args=[self.acme_case.pk]))
        self.assertContains(page, "Why is my invoice wrong?")
        self.assertContains(page, reverse("case_answer", args=[self.acme_case.pk]))
        self.client.force_login(self.outsider)
        page = self.client.get(reverse("case_detail", args=[self.zeta_case.pk]))
        self.assertNotContains(page, 'id="inquiry"')

    def test_an_unknown_action_or_case_is_not_found(self):
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.post(f"/cases/{self.acme_case.pk}/explode/").status_code, 404)
        self.assertEqual(self.client.get("/cases/99999999/").status_code, 404)
        self.assertEqual(self.client.get("/cases/abc/").status_code, 404)
        # A GET of an action (a reload, a stale link) goes to the case, if the user sees it.
        action = reverse("case_action", args=[self.acme_case.pk, "note"])
        self.assertRedirects(self.client.get(action), f"/cases/{self.acme_case.pk}/")
        self.assertEqual(
            self.client.get(reverse("case_action", args=[99999999, "note"])).status_code, 404
        )
        self.assertRedirects(self.client.get(reverse("case_bulk_assign")), reverse("case_list"))


class CaseNewTests(CasePagesTestCase):
    def open(self, user, query, data=None):
        self.client.force_login(user)
        url = reverse("case_new") + query
        if data is None:
            return self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        return self.client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")

    def test_it_opens_a_case_from_a_response_with_its_low_rated_touchpoints(self):
        page = self.open(self.teammate, f"?response={self.r_detractor.pk}")
        self.assertContains(page, "Billing accuracy")
        self.assertEqual(page.context["form"].initial["owner"], self.teammate.employee)
        data = {"title": "Invoices", "owner": self.teammate.employee.pk, "priority": "high"}
        response = self.open(self.teammate, f"?response={self.r_detractor.pk}", data)
        case = Case.objects.get(title="Invoices")
        self.assertRedirects(response, reverse("case_detail", args=[case.pk]))
        self.assertEqual(case.origin, Origin.MANUAL)
        self.assertEqual((case.customer, case.contact), (self.acme, self.ann))
        self.assertEqual(list(case.touchpoints.all()), [self.billing])
        trigger = case.triggers.get()
        self.assertEqual((trigger.response, trigger.rule), (self.r_detractor, None))

    def test_it_opens_a_case_from_a_customer_and_from_a_meeting(self):
        data = {"title": "Check in", "owner": self.teammate.employee.pk, "priority": "normal"}
        self.open(self.owner, f"?customer={self.bolt.pk}", data)
        self.assertEqual(Case.objects.get(title="Check in").customer, self.bolt)
        data["title"] = "After the visit"
        self.open(self.teammate, f"?meeting={self.meeting.pk}", data)
        case = Case.objects.get(title="After the visit")
        self.assertEqual((case.customer, case.contact), (self.acme, self.ann))
        self.assertEqual(case.triggers.get().response, self.meeting.response)

    def test_it_refuses_what_the_user_may_not_see_or_do(self):
        self.assertEqual(self.open(self.teammate, f"?response={self.r_hidden.pk}").status_code, 404)
        self.assertEqual(self.open(self.teammate, f"?customer={self.zeta.pk}").status_code, 404)
        self.assertEqual(self.open(self.teammate, "?customer=1e9").status_code, 404)
        self.assertContains(self.open(self.teammate, ""), "is opened from what raised it")
        self.assertEqual(self.open(self.viewer, f"?customer={self.acme.pk}").status_code, 403)
        before = Case.objects.count()
        data = {"title": "", "owner": self.outsider.employee.pk, "priority": "normal"}
        page = self.open(self.teammate, f"?customer={self.acme.pk}", data)
        self.assertContains(page, "This field is required", status_code=400)
        self.assertContains(page, "No such colleague", status_code=400)
        self.assertEqual(Case.objects.count(), before)

    def test_a_response_page_tells_its_own_cases_from_the_customers_others(self):
        self.client.force_login(self.teammate)
        own = self.client.get(
            reverse("response_detail", args=[self.r_detractor.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertEqual(own.context["response_cases"], [self.acme_case])
        self.assertEqual(list(own.context["cases"]), [])
        other = self.client.get(
            reverse("response_detail", args=[self.r_promoter.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertEqual(other.context["response_cases"], [])
        self.assertEqual(list(other.context["cases"]), [self.acme_case])
        html = other.content.decode()
        mine, others = html.split("The customer's other cases")
        self.assertIn("None: this response opened no case.", mine.split("This response's cases")[1])
        self.assertIn(self.acme_case.reference, others)

    def test_an_anonymous_responses_page_shows_its_case(self):
        anonymous = ingest(
            survey=self.survey, answers={1: 2, 2: 1, 4: 1}, channel="web", submitted_at=MAY
        ).response
        case = services.open_case(
            origin=Origin.MANUAL, title="NPS 2", now=MAY, responses=[anonymous]
        )
        self.client.force_login(self.lead)
        page = self.client.get(
            reverse("response_detail", args=[anonymous.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertEqual(page.context["response_cases"], [case])
        self.assertContains(page, case.reference)
        self.assertNotContains(page, "The customer's other cases")

    def test_the_response_customer_and_meeting_pages_offer_it(self):
        self.client.force_login(self.teammate)
        for url, link in (
            (
                reverse("response_detail", args=[self.r_detractor.pk]),
                f"?response={self.r_detractor.pk}",
            ),
            (reverse("customer_detail", args=[self.acme.pk]), f"?customer={self.acme.pk}"),
            (reverse("customer_detail", args=[self.acme.pk]), f"?meeting={self.meeting.pk}"),
            (reverse("face_to_face_list"), f"?meeting={self.meeting.pk}"),
        ):
            with self.subTest(url):
                page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
                self.assertContains(page, reverse("case_new") + link)
        page = self.client.get(reverse("customer_detail", args=[self.acme.pk]))
        self.assertContains(page, self.acme_case.reference)
        self.client.force_login(self.viewer)
        page = self.client.get(reverse("customer_detail", args=[self.acme.pk]))
        self.assertNotContains(page, reverse("case_new"))


class RootCauseTaxonomyTests(CasePagesTestCase):
    def test_the_cx_lead_adds_renames_and_retires_causes(self):
        self.client.force_login(self.lead)
        url = reverse("root_cause_list")
        data = {"touchpoint": self.kickoff.pk, "name_ru": "Опоздали", "name_en": "Late start"}
        self.assertRedirects(self.client.post(url, data), url)
        cause = RootCause.objects.get(name_en="Late start")
        self.assertEqual(cause.touchpoint, self.kickoff)
        duplicate = self.client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(duplicate, "already a root cause", status_code=400)
        edit = reverse("root_cause_edit", args=[cause.pk])
        prefix = f"c{cause.pk}"
        self.client.post(edit, {f"{prefix}-name_ru": "Поздно", f"{prefix}-name_en": "Late"})
        self.client.post(edit, {"active": "0"})
        cause.refresh_from_db()
        self.assertEqual((cause.name_ru, cause.name_en, cause.is_active), ("Поздно", "Late", False))
        refused = self.client.post(edit, {f"{prefix}-name_ru": "", f"{prefix}-name_en": "x"})
        self.assertEqual(refused.status_code, 400)
        cause.refresh_from_db()
        self.assertEqual(cause.name_ru, "Поздно")

    def test_a_get_of_an_edit_goes_to_the_taxonomy(self):
        self.client.force_login(self.lead)
        edit = reverse("root_cause_edit", args=[self.general.pk])
        self.assertRedirects(self.client.get(edit), reverse("root_cause_list"))
        unknown = reverse("root_cause_edit", args=[999999])
        self.assertEqual(self.client.get(unknown).status_code, 404)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(edit).status_code, 403)

    def test_nobody_else_may_touch_it(self):
        for user in (self.owner, self.teammate, self.viewer):
            with self.subTest(user.username):
                self.client.force_login(user)
                self.assertEqual(self.client.get(reverse("root_cause_list")).status_code, 403)
                edit = reverse("root_cause_edit", args=[self.general.pk])
                self.assertEqual(self.client.post(edit, {"active": "0"}).status_code, 403)
        self.assertTrue(RootCause.objects.get(pk=self.general.pk).is_active)
