"""Score bands: which answers of each scale count as low, middle and high — defined once.

NPS keeps its own names (Reichheld, 2003): 0–6 detractors, 7–8 passives, 9–10 promoters. The
1–5 scales (CSAT, a touchpoint rating) read 1–2 low, 3 middle, 4–5 high, so that "high" is
the top-two box that CSAT counts as satisfied. Customer effort is asked "how easy was it",
1 = very difficult … 7 = very easy: its good end is the HIGH one (5–7 easy, 4 neither,
1–3 difficult), like every other scale here, so a "low" band is always the bad end.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxloop.lib.scales import NPS_DETRACTORS, NPS_PASSIVES, NPS_PROMOTERS, SCORE_RANGES

BANDS: dict[str, dict[str, tuple[int, int]]] = {
    "nps": {"detractor": NPS_DETRACTORS, "passive": NPS_PASSIVES, "promoter": NPS_PROMOTERS},
    "csat": {"low": (1, 2), "mid": (3, 3), "high": (4, 5)},
    "ces": {"low": (1, 3), "mid": (4, 4), "high": (5, 7)},
    "rating": {"low": (1, 2), "mid": (3, 3), "high": (4, 5)},
}

BAND_LABELS = {
    "detractor": _("detractors (0–6)"),
    "passive": _("passives (7–8)"),
    "promoter": _("promoters (9–10)"),
    "low": pgettext_lazy("score band", "low: 1–2 of 5, 1–3 of 7 (the bad end)"),
    "mid": pgettext_lazy("score band", "middle: 3 of 5, 4 of 7"),
    "high": pgettext_lazy("score band", "high: 4–5 of 5, 5–7 of 7 (the good end)"),
}

KIND_LABELS = {
    "nps": _("NPS"),
    "csat": _("CSAT"),
    "ces": _("Effort (CES)"),
    "rating": _("Rating"),
}

# What the two ends of each scale mean, as a respondent saw them: (lowest, highest).
SCALE_ENDS = {
    "nps": (_("not at all likely to recommend"), _("extremely likely to recommend")),
    "csat": (_("very dissatisfied"), _("very satisfied")),
    "ces": (_("very difficult"), _("very easy")),
    "rating": (_("very poor"), _("excellent")),
}


def band_range(kind: str, band: str) -> tuple[int, int]:
    """The inclusive score range of ``band`` on the scale ``kind``; KeyError when the scale
    has no such band."""
    return BANDS[kind][band]


def band_of(kind: str, score: int) -> str | None:
    """The band ``score`` falls in on the scale ``kind``, or None for a kind without bands."""
    for band, (low, high) in BANDS.get(kind, {}).items():
        if low <= score <= high:
            return band
    return None


def scale_range(kind: str) -> tuple[int, int]:
    return SCORE_RANGES[kind]
