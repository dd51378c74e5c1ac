"""Spreadsheet text in and out: which encoding a CSV file is in, and cells that a spreadsheet
must never run as formulas.

Reading: :func:`guess_encoding` tells the encoding of CSV bytes. A byte-order mark decides;
then strict UTF-8; then charset-normalizer, limited to the encodings files of a Russian or
Western European business come in (:data:`GUESSED`). Alone it read "Всё хорошо" in
Windows-1251 as Shift-JIS and "Café" in Latin-1 as Windows-1250, so its candidates are ranked
again by how much of the text would be words mixing Latin and Cyrillic letters ("Cafй") or
turning to capitals inside a word ("лБЖЕ", KOI8-R read as Windows-1251): both are rare in real
text and common in a wrong guess.

Writing: :func:`safe_cell` neutralises text that a spreadsheet would read as a formula (CSV
injection, OWASP): every CSV or XLSX export passes each cell through it.
"""

import codecs
import re
from collections.abc import Iterable

# Encodings charset-normalizer chooses among, in the order that breaks a tie: a Russian
# company's Windows files first, then Western European ones, then the older Cyrillic ones.
GUESSED = ("cp1251", "cp1252", "koi8_r", "cp866", "mac_cyrillic")
SAMPLE_BYTES = 256 * 1024  # enough text to tell; the whole file is then decoded strictly
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its mark begins the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CAPITAL_INSIDE = re.compile(r"[a-zа-яё\u00df-\u00ff][A-ZА-ЯЁ\u00c0-\u00de]")


def text_encoding(name: str) -> str:
    """The canonical name of the text encoding called ``name`` ("latin-1" → "iso8859-1");
    raises LookupError when Python knows no text encoding by that name."""
    info = codecs.lookup(name)
    if not getattr(info, "_is_text_encoding", True):  # "base64", "zlib": bytes to bytes
        raise LookupError(name)
    return info.name


def first_bad_byte(data: bytes, encoding: str) -> int | None:
    """The 0-based position of the first byte ``data`` cannot be decoded at in ``encoding``,
    or None when it all decodes."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        return error.start
    return None


def guess_encoding(data: bytes) -> str | None:
    """The encoding ``data`` (CSV text) is most likely in, by its canonical name: "utf-8-sig",
    "utf-16" or "utf-32" when it begins with a byte-order mark, "utf-8" when it decodes as
    such, otherwise the best of :data:`GUESSED` (or UTF-16 without a mark); None when no
    encoding reads it as plausible text (a binary file, or UTF-8 damaged in a few places)."""
    for mark, encoding in BOMS:
        if data.startswith(mark):
            return encoding
    sample = data[:SAMPLE_BYTES]
    if b"\x00" in sample:  # never in text of a one-byte encoding or UTF-8, but valid there
        return _utf16_without_mark(data)
    if first_bad_byte(data, "utf-8") is None:
        return "utf-8"
    if _damaged_utf8(data):
        return None  # mostly UTF-8: reading it as anything else would change every letter
    from charset_normalizer import from_bytes  # only files that are not UTF-8 pay for it

    found = from_bytes(sample, cp_isolation=list(GUESSED), explain=False)
    ranked = sorted(
        found,
        key=lambda match: (
            round(match.chaos + _implausible(str(match)), 3),
            GUESSED.index(match.encoding) if match.encoding in GUESSED else len(GUESSED),
        ),
    )
    for match in ranked:
        if first_bad_byte(data, match.encoding) is None:  # the sample may not show every byte
            return text_encoding(match.encoding)
    return None


def _damaged_utf8(data: bytes) -> bool:
    """Whether ``data`` holds more well-formed multibyte UTF-8 characters than bad bytes: a
    UTF-8 file cut or damaged in a few places, not text in a one-byte encoding (whose letters
    seldom happen to form UTF-8 sequences)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for char in text if char > "\x7f") - bad
    return multibyte > bad


def _utf16_without_mark(data: bytes) -> str | None:
    """UTF-16 when NUL bytes fill at least a quarter of every other position, as the ASCII
    letters, digits and delimiters of a CSV file in UTF-16 do, and few of the others."""
    sample = data[: SAMPLE_BYTES & ~1]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    enough = len(sample) // 8
    encoding = None
    if odd >= enough and odd > 3 * even:
        encoding = "utf-16-le"
    elif even >= enough and even > 3 * odd:
        encoding = "utf-16-be"
    if encoding is None or first_bad_byte(data[: len(data) & ~1], encoding) is not None:
        return None
    text = sample.decode(encoding, errors="replace")
    return None if _CONTROL.search(text) else encoding  # binary data that happens to decode


def _implausible(text: str) -> float:
    """The share of words that mix Latin and Cyrillic letters or have a capital inside."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    odd = sum(
        1
        for word in words
        if (_LATIN.search(word) and _CYRILLIC.search(word)) or _CAPITAL_INSIDE.search(word)
    )
    return odd / len(words)


# Writing ------------------------------------------------------------------------------------

# A spreadsheet reads a cell that begins with one of these as a formula (OWASP, CSV
# injection); the full-width forms are converted by some Excel input locales.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet export must write it: text that a spreadsheet would run as a
    formula gets a leading apostrophe, which makes it text (``"=HYPERLINK(…)"`` →
    ``"'=HYPERLINK(…)"``); numbers, dates and text that is a plain number (``"-3"``) are
    returned unchanged.

    Every CSV and XLSX export must pass each cell through this function: imported text is
    stored as given, so a customer's name may be ``=cmd|' /C calc'!A0``.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    if not isinstance(value, str) or not value:
        return value
    if value.lstrip(" ").startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """Each of ``values`` through :func:`safe_cell`, for ``csv.writer.writerow`` or
    ``Worksheet.append``."""
    return [safe_cell(value) for value in values]
