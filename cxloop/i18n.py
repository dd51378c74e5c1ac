"""Records that carry their own text in Russian and English (``name_ru``/``name_en``)."""

from django.conf import settings
from django.utils.translation import get_language


def localized(obj: object, field: str) -> str:
    """``obj.<field>_<language>`` in the active language, falling back to the other one."""
    active = (get_language() or settings.LANGUAGE_CODE)[:2]
    codes = [active] + [code for code, _ in settings.LANGUAGES if code != active]
    for code in codes:
        text = getattr(obj, f"{field}_{code}", "")
        if text:
            return text
    return ""
