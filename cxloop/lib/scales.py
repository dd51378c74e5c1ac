"""The answer scales cxloop knows, with their inclusive ranges, and the NPS's categories."""

SCORE_RANGES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),  # likelihood to recommend
    "csat": (1, 5),  # satisfaction; 4 and 5 count as satisfied
    "ces": (1, 7),  # customer effort; 7 = very easy
    "rating": (1, 5),  # a touchpoint rating
}

# The NPS's categories on its 0–10 scale (Reichheld, 2003), inclusive: defined here once for the
# bands people filter by, the estimators, and every query that counts promoters or detractors.
NPS_DETRACTORS = (0, 6)
NPS_PASSIVES = (7, 8)
NPS_PROMOTERS = (9, 10)


def nps_category(score: int) -> str:
    """``"detractor"``, ``"passive"`` or ``"promoter"`` for a 0–10 answer."""
    if score >= NPS_PROMOTERS[0]:
        return "promoter"
    return "passive" if score >= NPS_PASSIVES[0] else "detractor"


def check_score(kind: str, score: int) -> None:
    """Raise ValueError naming the scale when ``score`` is off it."""
    low, high = SCORE_RANGES[kind]
    if not low <= score <= high:
        raise ValueError(f"{kind} score must be between {low} and {high}, got {score}")
