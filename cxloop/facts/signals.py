"""Signals of the fact store, so that higher layers follow its refreshes without being imported."""

from django.dispatch import Signal

# Sent by :func:`cxloop.facts.tasks.refresh_fact_months` once a refresh has been written (its
# manifest committed: readers now see the new version), with ``written``: the
# :class:`cxloop.facts.sync.Written` it returned. Receivers (the roll-back watch of
# cxloop.insights) run in the task's process after the store changed, must be idempotent
# (a refresh may be repeated) and must not raise: a receiver's failure is logged by the task
# and does not undo the refresh.
facts_refreshed = Signal()
