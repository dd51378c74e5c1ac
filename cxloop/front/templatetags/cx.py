"""cxloop's template tags for the design system (``{% load cx %}``): money in the reader's locale
and form fields in Bootstrap's markup with their errors next to them
(docs/decisions/011-design-system.md)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms, template
from django.template.defaultfilters import floatformat
from django.utils import formats, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cxloop import i18n
from cxloop.people.choices import Role
from cxloop.people.queries import employee_of, role_of

register = template.Library()

CURRENCY = "₽"
NBSP = "\xa0"


@register.filter
def month_since(day) -> str:
    """``{{ day|month_since }}``: a month as it reads after "since" (see cxloop.i18n)."""
    return i18n.month_since(day)


@register.filter
def money(value, currency: str = CURRENCY) -> str:
    """An amount with the locale's thousands separator and decimal mark and its currency sign:
    «1 250 000 ₽» in Russian (sign after, non-breaking spaces), "₽1,250,000" in English. Whole
    amounts show no decimals, others two; a value that is no number is shown as "—"."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    if not amount.is_finite():
        return "—"
    places = 0 if amount == amount.to_integral_value() else 2
    number = formats.number_format(abs(amount), places, use_l10n=True, force_grouping=True)
    sign = "−" if amount < 0 else ""
    if (translation.get_language() or "ru").startswith("ru"):
        return f"{sign}{number}{NBSP}{currency}"
    return f"{sign}{currency}{number}"


@register.filter
def signed(value, decimals=2) -> str:
    """``{{ change|signed }}``: a change with two decimals (``|signed:0``: whole numbers) in the
    locale's decimal mark and its sign, «+0,20» / "−0.20" (the minus sign the charts draw, not
    a hyphen); "—" for no value."""
    if value is None or value == "":
        return "—"
    text = floatformat(abs(value), f"{decimals}g")
    if text == floatformat(0, f"{decimals}g"):
        return text
    return ("+" if value > 0 else "−") + text


def _add_class(attrs: dict, css: str) -> None:
    attrs["class"] = f"{attrs.get('class', '')} {css}".strip()


@register.simple_tag
def cx_field(field: forms.BoundField) -> SafeString:
    """One form field in Bootstrap's markup: its label, the widget with form-control/form-select
    (or form-check for choices), its help text, and its errors in an invalid-feedback that the
    widget names in aria-describedby."""
    widget = field.field.widget
    auto_id = field.auto_id or field.html_name
    error_id, help_id = f"{auto_id}-error", f"{auto_id}-help"
    parts = ((help_id, field.help_text), (error_id, field.errors))
    described = [part_id for part_id, present in parts if present]
    attrs: dict = {"class": widget.attrs.get("class", "")}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    help_html = (
        format_html('<div class="form-text" id="{}">{}</div>', help_id, field.help_text)
        if field.help_text
        else ""
    )
    errors_html = (
        format_html(
            '<div class="invalid-feedback d-block" id="{}">{}</div>',
            error_id,
            " ".join(str(e) for e in field.errors),
        )
        if field.errors
        else ""
    )

    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        options = []
        check_class = "form-check-input" + (" is-invalid" if field.errors else "")
        for option in field.subwidgets:
            option.data["attrs"] = dict(option.data["attrs"])
            _add_class(option.data["attrs"], check_class)
            options.append(
                format_html(
                    '<div class="form-check form-check-inline">{}<label class="form-check-label" '
                    'for="{}">{}</label></div>',
                    option.tag(wrap_label=False),
                    option.id_for_label,
                    option.choice_label,
                )
            )
        fieldset_attrs = (
            format_html(' aria-describedby="{}"', attrs["aria-describedby"]) if described else ""
        )
        return format_html(
            '<fieldset class="mb-3"{}><legend class="form-label">{}</legend>'
            "<div>{}</div>{}{}</fieldset>",
            fieldset_attrs,
            field.label,
            mark_safe("".join(options)),
            help_html,
            errors_html,
        )

    if isinstance(widget, forms.CheckboxInput):
        _add_class(attrs, "form-check-input" + (" is-invalid" if field.errors else ""))
        return format_html(
            '<div class="mb-3 form-check">{}'
            '<label class="form-check-label" for="{}">{}</label>{}{}</div>',
            field.as_widget(attrs=attrs),
            field.id_for_label,
            field.label,
            help_html,
            errors_html,
        )

    if isinstance(widget, (forms.Select, forms.SelectMultiple)):
        _add_class(attrs, "form-select")
    elif "form-control" not in attrs["class"]:
        _add_class(attrs, "form-control")
    if field.errors:
        _add_class(attrs, "is-invalid")
    return format_html(
        '<div class="mb-3"><label class="form-label" for="{}">{}</label>{}{}{}</div>',
        field.id_for_label,
        field.label,
        field.as_widget(attrs=attrs),
        help_html,
        errors_html,
    )


@register.simple_tag
def cx_errors(errors, error_id: str = "") -> SafeString:
    """A list of errors as an invalid-feedback block (for fields laid out by hand)."""
    if not errors:
        return mark_safe("")
    items = format_html_join(" ", "{}", ((str(e),) for e in errors))
    if error_id:
        html = '<div class="invalid-feedback d-block" id="{}">{}</div>'
        return format_html(html, error_id, items)
    return format_html('<div class="invalid-feedback d-block">{}</div>', items)


@dataclass(frozen=True)
class Who:
    """The signed-in person as the navigation shows them."""

    name: str
    role: str
    role_label: str
    is_admin: bool


@register.simple_tag
def cx_who(user) -> Who:
    """The name, role and whether ``user`` administers cxloop (the navigation shows by role)."""
    employee = employee_of(user)
    role = role_of(user)
    return Who(
        name=user.get_full_name() or user.get_username(),
        role=role,
        role_label=employee.get_role_display() if employee else Role(role).label,
        is_admin=role == Role.ADMIN,
    )


@register.simple_tag
def cx_widget(field: forms.BoundField, size: str = "", errors: bool = True) -> SafeString:
    """Only the widget of a field laid out by hand (a table of fields), with Bootstrap's class,
    followed by its errors, which the widget names in aria-describedby. ``size``: "sm" or "lg";
    ``errors=False`` when the page shows them elsewhere, in an element of id "<auto_id>-error"."""
    widget = field.field.widget
    error_id = f"{field.auto_id or field.html_name}-error"
    attrs: dict = {"class": widget.attrs.get("class", "")}
    css = (
        "form-select"
        if isinstance(widget, (forms.Select, forms.SelectMultiple))
        else "form-control"
    )
    _add_class(attrs, css + (f" {css}-{size}" if size else ""))
    if field.errors:
        _add_class(attrs, "is-invalid")
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = error_id
    shown = cx_errors(field.errors, error_id) if errors else ""
    return format_html("{}{}", field.as_widget(attrs=attrs), shown)
