"""Read side of customers: the only road other apps take to customer records."""

from django.db.models import QuerySet

from cxloop.customers.models import Customer, Segment, SegmentKind
from cxloop.customers.rules import rule_q


def segment_customers(segment: Segment) -> QuerySet[Customer]:
    """The customers in ``segment`` now: its rule applied, or its hand-picked members."""
    if segment.kind == SegmentKind.MANUAL:
        return segment.members.all()
    return Customer.objects.filter(rule_q(segment.rule))


def target_segments() -> QuerySet[Segment]:
    return Segment.objects.filter(is_target=True)
