import pytest
from django.core.exceptions import ValidationError

from cxloop.customers.models import Customer, Segment, SegmentKind
from cxloop.customers.queries import segment_customers
from cxloop.customers.rules import RuleError, parse_rule
from cxloop.test import BaseTestCase


class SegmentTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.big = Customer.objects.create(
            external_id="1",
            name="Big",
            tier="strategic",
            annual_value=50_000_000,
            industry="energy",
            attributes={"region": "Казань"},
        )
        cls.mid = Customer.objects.create(
            external_id="2", name="Mid", tier="key", annual_value=9_000_000, industry="retail"
        )
        cls.small = Customer.objects.create(
            external_id="3", name="Small", tier="small", annual_value=400_000, industry="energy"
        )

    def _members(self, rule):
        return set(segment_customers(Segment(name="s", rule=rule)))

    def test_it_selects_by_every_condition(self):
        rule = [
            {"field": "tier", "op": "in", "value": ["strategic", "key"]},
            {"field": "annual_value", "op": "gte", "value": "10000000"},
        ]
        self.assertEqual(self._members(rule), {self.big})

    def test_it_negates_and_reads_custom_attributes(self):
        self.assertEqual(
            self._members([{"field": "industry", "op": "ne", "value": "energy"}]), {self.mid}
        )
        self.assertEqual(
            self._members([{"field": "attributes.region", "op": "eq", "value": "Казань"}]),
            {self.big},
        )

    def test_it_uses_hand_picked_members(self):
        segment = Segment.objects.create(name="Picked", kind=SegmentKind.MANUAL)
        segment.members.set([self.small])
        self.assertEqual(set(segment_customers(segment)), {self.small})

    def test_it_refuses_a_bad_rule_on_clean_naming_the_condition(self):
        segment = Segment(name="Bad", rule=[{"field": "tier", "op": "like", "value": "x"}])
        with self.assertRaisesMessage(ValidationError, "condition 1: unknown op 'like'"):
            segment.full_clean()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"field": "tier"}, "a rule is a list of conditions"),
        ([{"field": "tier", "op": "eq"}], "condition 1: expected an object"),
        ([{"field": "colour", "op": "eq", "value": 1}], "condition 1: unknown field 'colour'"),
        ([{"field": "tier", "op": "in", "value": "key"}], "op 'in' needs a list"),
        ([{"field": "annual_value", "op": "gte", "value": "lots"}], "annual_value needs a number"),
    ],
)
def test_it_explains_what_is_wrong_with_a_rule(rule, message):
    with pytest.raises(RuleError, match=message):
        parse_rule(rule)
