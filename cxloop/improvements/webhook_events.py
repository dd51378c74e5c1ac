"""The improvement cycle's webhook events, emitted in the transaction of the change
(docs/webhooks.md): an initiative finished, a roll-back alert raised."""

import datetime as dt

from cxloop.webhooks.choices import EventKind
from cxloop.webhooks.payloads import iso
from cxloop.webhooks.services import emit


def initiative_finished(initiative, standards, touchpoints, *, now: dt.datetime) -> None:
    emit(
        EventKind.INITIATIVE_FINISHED,
        subject=f"initiative:{initiative.pk}",
        data={
            "initiative": initiative.pk,
            "team": initiative.team_id,
            "effective_from": iso(initiative.effective_from),
            "touchpoints": [t.pk for t in touchpoints],
            "standards": [
                {"id": s.pk, "touchpoint": t.pk, "version": s.version}
                for s, t in zip(standards, touchpoints, strict=True)
            ],
            "finished_at": iso(now),
        },
        now=now,
    )


def rollback_alert_raised(alert, *, now: dt.datetime) -> None:
    emit(
        EventKind.ROLLBACK_ALERT_RAISED,
        subject=f"touchpoint:{alert.touchpoint_id}",
        data={
            "alert": alert.pk,
            "touchpoint": alert.touchpoint_id,
            "initiative": alert.initiative_id,
            "grain": alert.grain,
            "period_start": iso(alert.period_start),
            "period_end": iso(alert.period_end),
            "baseline_level": alert.center,
            "level": alert.level,
            "answers": alert.answers,
            "detected_at": iso(alert.detected_at),
        },
        now=now,
    )
