"""The filter bar's select (front/includes/filter_select.html), shared by the case list and the
response list: what it renders from choices, records and a leading option, and that both pages
draw their select filters with it."""

from django.template.loader import render_to_string
from django.test import SimpleTestCase
from django.urls import reverse

from tests.front.test_case_pages import CasePagesTestCase

INCLUDE = "front/includes/filter_select.html"


class Record:
    def __init__(self, pk, name):
        self.pk, self.name = pk, name

    def __str__(self):
        return self.name


class FilterSelectTests(SimpleTestCase):
    def render(self, **context):
        return render_to_string(INCLUDE, {"name": "owner", "label": "Owner", **context})

    def test_it_renders_records_by_pk_and_marks_the_chosen_one(self):
        html = self.render(
            chosen="2", empty="anyone", records=[Record(1, "Ann"), Record(2, "<Bo>")]
        )
        self.assertHTMLEqual(
            html,
            '<div><label class="form-label" for="id_owner">Owner</label>'
            '<select class="form-select" id="id_owner" name="owner">'
            '<option value="">anyone</option><option value="1">Ann</option>'
            '<option value="2" selected>&lt;Bo&gt;</option></select></div>',
        )

    def test_it_renders_choices_a_leading_option_and_the_wrappers_class(self):
        html = self.render(
            chosen="",
            lead_value="open",
            lead_label="open",
            empty="any",
            choices=[("new", "New"), ("closed", "Closed")],
            **{"class": "col-12"},
        )
        self.assertHTMLEqual(
            html,
            '<div class="col-12"><label class="form-label" for="id_owner">Owner</label>'
            '<select class="form-select" id="id_owner" name="owner">'
            '<option value="open">open</option><option value="" selected>any</option>'
            '<option value="new">New</option><option value="closed">Closed</option>'
            "</select></div>",
        )
        self.assertInHTML(
            '<option value="open" selected>open</option>',
            self.render(chosen="open", lead_value="open", lead_label="open", empty="any"),
        )


class FilterBarPagesTests(CasePagesTestCase):
    def get(self, url):
        self.client.force_login(self.lead)
        return self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    def includes(self, response) -> int:
        return sum(1 for t in response.templates if t.name == INCLUDE)

    def test_both_lists_draw_their_select_filters_with_it(self):
        self.assertEqual(self.includes(self.get(reverse("case_list"))), 5)
        self.assertEqual(self.includes(self.get(reverse("response_list"))), 6)

    def test_the_case_list_marks_what_was_chosen(self):
        page = self.get(
            f"{reverse('case_list')}?tab=all&state=&owner={self.outsider.employee.pk}"
            f"&root_cause={self.invoice_error.pk}"
        )
        self.assertInHTML('<option value="" selected>any</option>', page.content.decode())
        self.assertInHTML(
            f'<option value="{self.outsider.employee.pk}" selected>Outsider</option>',
            page.content.decode(),
        )
        self.assertInHTML(
            f'<option value="{self.invoice_error.pk}" selected>Billing accuracy: Invoice error'
            "</option>",
            page.content.decode(),
        )
        default = self.get(reverse("case_list"))
        self.assertInHTML(
            '<option value="open" selected>all open</option>', default.content.decode()
        )

    def test_the_response_list_marks_what_was_chosen(self):
        page = self.get(f"{reverse('response_list')}?team={self.team_b.pk}&channel=email")
        self.assertInHTML(
            f'<option value="{self.team_b.pk}" selected>{self.team_b}</option>',
            page.content.decode(),
        )
        self.assertInHTML('<option value="email" selected>e-mail</option>', page.content.decode())
