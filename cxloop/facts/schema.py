"""The fact store's tables as Arrow schemas: the one definition that the writer, the tests and
docs/facts.md follow, and that the queries over the store are written against.

Each field carries its meaning as metadata (``b"doc"``), so the Parquet files describe
themselves. Changing a column is a change of :data:`SCHEMA_VERSION`, agreed with the queries.
"""

import pyarrow as pa

SCHEMA_VERSION = 6  # 2: customers.owner_id (the weigh-in ranks people by their customers)
# 3: comments and themes (issue #14)
# 4: answer_counts and answer_sample, derived from the answers (cxloop/facts/derived.py)
# 5: a month is made of parts, which the manifest names (docs/decisions/021): a cxloop of
# schema 4 reading such a store would read part 0 only, so it refuses it instead.
# 6: answer_moments and answer_totals (derived.py): a cxloop of 5 appending to such a store would
# leave a month's without its new responses, so it refuses it.
READABLE_SCHEMAS = (4, 5, 6)  # a manifest of 4 names no parts: part 0 of every table
# Tables a month written by an older schema may lack: the month has no part of them until it
# is written whole again (OPTIONAL_BEFORE[name]: the schema that brought it).
OPTIONAL_BEFORE = {"answer_moments": 6, "answer_totals": 6}

# Kinds of answer that hold a score (surveys.models.SCORED_KINDS, kept here as data so that the
# schema module stays free of Django).
SCORED_KINDS = ("nps", "csat", "ces", "rating")

# Channels of face-to-face records: they are responses like any other and are in the store.
FACE_TO_FACE_CHANNELS = ("interview", "visit", "debrief", "research")

# Employee pulse surveys stay out: their answers are anonymous (docs/decisions/002).
EXCLUDED_SURVEY_KINDS = ("pulse",)

UTC_MICROSECONDS = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, doc: str, *, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={b"doc": doc.encode()})


RESPONSES = pa.schema(
    [
        _field("response_id", pa.int64(), "the response's id in the database"),
        _field("submitted_at", UTC_MICROSECONDS, "when it was completed"),
        _field("survey_id", pa.int32(), "the survey answered"),
        _field(
            "survey_kind",
            pa.string(),
            "relationship, transactional or interview (face-to-face guides)",
        ),
        _field(
            "channel",
            pa.string(),
            "email, sms, web, qr, interview, visit, debrief, research, import or api",
        ),
        _field("customer_id", pa.int64(), "the customer it is about", nullable=True),
        _field(
            "team_id",
            pa.int32(),
            "the team of the customer's relationship owner, when the month was written",
            nullable=True,
        ),
        _field(
            "touchpoint_id",
            pa.int32(),
            "the event a transactional survey asked about",
            nullable=True,
        ),
        _field("language", pa.string(), "ru or en"),
        _field(
            "nps",
            pa.int8(),
            "the response's NPS answer, 0–10 (the first NPS question if several)",
            nullable=True,
        ),
    ]
)

ANSWERS = pa.schema(
    [
        _field("response_id", pa.int64(), "the response the answer belongs to"),
        _field("submitted_at", UTC_MICROSECONDS, "the response's submitted_at"),
        _field("survey_id", pa.int32(), "the response's survey"),
        _field("channel", pa.string(), "the response's channel"),
        _field("customer_id", pa.int64(), "the response's customer", nullable=True),
        _field("team_id", pa.int32(), "the response's team_id", nullable=True),
        _field(
            "touchpoint_id",
            pa.int32(),
            "the touchpoint the answer rates: its question's, else the response's",
            nullable=True,
        ),
        _field("kind", pa.string(), "nps (0–10), csat (1–5), ces (1–7) or rating (1–5)"),
        _field("score", pa.int8(), "the score given"),
    ]
)

ANSWER_COUNTS = pa.schema(
    [
        _field("segment_id", pa.int32(), "a segment; empty: every answer", nullable=True),
        _field("team_id", pa.int32(), "the answers' team_id", nullable=True),
        _field("touchpoint_id", pa.int32(), "the answers' touchpoint_id", nullable=True),
        _field("kind", pa.string(), "the answers' kind"),
        _field("score", pa.int8(), "the score given"),
        _field("n", pa.int64(), "how many answers of the month have these values"),
    ]
)

ANSWER_TOTALS = pa.schema(
    [
        _field("segment_id", pa.int32(), "a segment; empty: every answer", nullable=True),
        _field("touchpoint_id", pa.int32(), "the answers' touchpoint_id", nullable=True),
        _field("kind", pa.string(), "the answers' kind"),
        _field("score", pa.int8(), "the score given"),
        _field("n", pa.int64(), "how many answers of the month have these values, in any team"),
    ]
)

ANSWER_SAMPLE = pa.schema(
    [
        _field("draw", pa.float64(), "the response's random number in [0, 1): a hash of its id"),
        _field("response_id", pa.int64(), "the response the answer belongs to"),
        _field("submitted_at", UTC_MICROSECONDS, "the response's submitted_at"),
        _field("customer_id", pa.int64(), "the response's customer", nullable=True),
        _field("team_id", pa.int32(), "the response's team_id", nullable=True),
        _field("touchpoint_id", pa.int32(), "the answer's touchpoint_id", nullable=True),
        _field("kind", pa.string(), "nps or rating"),
        _field("score", pa.int8(), "the score given"),
    ]
)

ANSWER_MOMENTS = pa.schema(
    [
        _field("segment_id", pa.int32(), "a segment; empty: every response", nullable=True),
        _field(
            "a",
            pa.int32(),
            "a column: a touchpoint's rating (its id), -1 the NPS answer, -2 a 1 for each response",
        ),
        _field("b", pa.int32(), "another column, coded as a"),
        _field("n", pa.int64(), "responses that rate a touchpoint and have both a and b"),
        _field("x", pa.float64(), "the sum of a over those responses"),
        _field("x2", pa.float64(), "the sum of a squared over them"),
        _field("xx", pa.float64(), "the sum of a times b over them"),
    ]
)

CUSTOMERS = pa.schema(
    [
        _field("customer_id", pa.int64(), "the customer's id in the database"),
        _field("team_id", pa.int32(), "the team of the relationship owner", nullable=True),
        _field("owner_id", pa.int32(), "the relationship owner (an employee)", nullable=True),
        _field("annual_value", pa.float64(), "annual value in its currency", nullable=True),
        _field("currency", pa.string(), "ISO 4217 code of annual_value"),
        _field("tier", pa.string(), "strategic, key, standard or small"),
        _field(
            "lifecycle_stage",
            pa.string(),
            "prospect, onboarding, active, renewal or churned",
        ),
    ]
)

SEGMENTS = pa.schema(
    [
        _field("customer_id", pa.int64(), "a customer in the segment now"),
        _field("segment_id", pa.int32(), "the segment"),
    ]
)

COMMENTS = pa.schema(
    [
        _field("answer_id", pa.int64(), "the comment (a text answer) in the database"),
        _field("response_id", pa.int64(), "the response the comment belongs to"),
        _field("submitted_at", UTC_MICROSECONDS, "the response's submitted_at"),
        _field("survey_id", pa.int32(), "the response's survey"),
        _field("survey_kind", pa.string(), "the response's survey kind"),
        _field("channel", pa.string(), "the response's channel"),
        _field("customer_id", pa.int64(), "the response's customer", nullable=True),
        _field("team_id", pa.int32(), "the response's team_id", nullable=True),
        _field(
            "touchpoint_id",
            pa.int32(),
            "the touchpoint the comment is about: its question's, else the response's",
            nullable=True,
        ),
        _field("nps", pa.int8(), "the response's NPS answer, 0–10", nullable=True),
        _field("language", pa.string(), "ru, en or other (detected)"),
        _field("sentiment", pa.string(), "negative, neutral or positive"),
        _field("score", pa.float32(), "sentiment score, from −1 (negative) to 1 (positive)"),
        _field(
            "themes",
            pa.list_(pa.int32()),
            "ids of the themes found in it (table themes), in the taxonomy's order",
        ),
    ]
)

THEMES = pa.schema(
    [
        _field("theme_id", pa.int32(), "the theme's id in the database"),
        _field("code", pa.string(), "the theme's code"),
        _field("name_ru", pa.string(), "its name in Russian"),
        _field("name_en", pa.string(), "its name in English"),
        _field("is_active", pa.bool_(), "whether comments are matched against it now"),
    ]
)

# Tables partitioned by month ("YYYY-MM" of submitted_at in UTC, the partition key, not stored
# in the files) and whole tables, by their name in the store.
MONTHLY = {
    "responses": RESPONSES,
    "answers": ANSWERS,
    "comments": COMMENTS,
    "answer_counts": ANSWER_COUNTS,
    "answer_sample": ANSWER_SAMPLE,
    "answer_moments": ANSWER_MOMENTS,
    "answer_totals": ANSWER_TOTALS,
}
WHOLE = {"customers": CUSTOMERS, "segments": SEGMENTS, "themes": THEMES}


def doc(field: pa.Field) -> str:
    """The meaning of a column, as stored in its metadata."""
    return field.metadata[b"doc"].decode()
