"""cxloop.lib.params: every value either parses within its limits or raises ParamError naming
the field — never another exception, never a value out of range."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cxloop.lib import params
from cxloop.lib.params import ParamError


def _parses_or_names(parse, raw, field="f"):
    try:
        return parse(raw)
    except ParamError as error:
        assert error.field == field
        assert str(error).startswith(f"{field}: ")
        return None


@given(st.text(max_size=60))
def test_it_parses_any_text_as_an_integer_or_names_the_field(raw):
    value = _parses_or_names(lambda r: params.parse_integer("f", r), raw)
    assert value is None or params.INT64_MIN <= value <= params.INT64_MAX


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_it_keeps_row_ids_within_64_bits(number):
    value = _parses_or_names(lambda r: params.parse_row_id("f", r), str(number))
    assert (value == number) == (1 <= number < 2**63)


def test_it_refuses_an_id_of_twenty_digits():
    try:
        params.parse_row_id("survey", "99999999999999999999")
    except ParamError as error:
        assert error.field == "survey"
        assert "1 to 9223372036854775807" in error.reason
    else:
        raise AssertionError("accepted")


@given(st.dates())
def test_it_keeps_dates_within_1900_and_2200(day):
    value = _parses_or_names(lambda r: params.parse_date("f", r), day.isoformat())
    assert (value == day) == (dt.date(1900, 1, 1) <= day <= dt.date(2200, 12, 31))


@given(st.text(max_size=30))
def test_it_parses_any_text_as_a_date_or_names_the_field(raw):
    _parses_or_names(lambda r: params.parse_date("f", r), raw)


@given(st.text(alphabet=st.characters(exclude_categories=(), max_codepoint=0xE000), max_size=30))
def test_it_refuses_nul_and_lone_surrogates_and_cleans_them(text):
    problem = params.text_problem(text)
    storable = "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (problem is None) == storable
    cleaned = params.clean_text(text)
    assert params.text_problem(cleaned) is None
    cleaned.encode("utf-8")  # what the database stores
    if storable:
        assert cleaned == text


@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(max_size=30),
        st.sampled_from(
            [
                "1e26",
                "1E+26",
                "-0",
                "0.001",
                "9999999999.99",
                "1e-30",
                "1e999999",
                "1E+999999999",
                "1E-999999999",
                "0E+5",
            ]
        ),
    )
)
def test_it_parses_money_within_its_column_or_names_the_field(raw):
    value = _parses_or_names(
        lambda r: params.parse_money("f", r, max_digits=12, decimal_places=2), raw
    )
    if value is not None:
        assert value.is_finite() and value >= 0
        assert value == round(value, 2)
        assert abs(value) < Decimal(10) ** 10


def test_it_names_row_field_and_value_for_an_amount_of_1e26():
    try:
        params.parse_money("annual_value", "1e26", max_digits=14, decimal_places=2)
    except ParamError as error:
        assert error.field == "annual_value"
        assert error.value == "1e26"
        assert "12 digits before the decimal point" in error.reason
    else:
        raise AssertionError("accepted")
