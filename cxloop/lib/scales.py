"""The answer scales cxloop knows, with their inclusive ranges."""

SCORE_RANGES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),  # likelihood to recommend
    "csat": (1, 5),  # satisfaction; 4 and 5 count as satisfied
    "ces": (1, 7),  # customer effort; 7 = very easy
    "rating": (1, 5),  # a touchpoint rating
}


def check_score(kind: str, score: int) -> None:
    """Raise ValueError naming the scale when ``score`` is off it."""
    low, high = SCORE_RANGES[kind]
    if not low <= score <= high:
        raise ValueError(f"{kind} score must be between {low} and {high}, got {score}")
