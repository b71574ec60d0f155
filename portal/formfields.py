"""Form fields every area uses: parse errors in the portal's words, dates it can hold."""

from __future__ import annotations

import re
from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, TimeField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from portal.timeutil import within_range


def no_nul(form: Any, field: Any) -> None:
    """Refuse NUL bytes (PostgreSQL cannot store them) with a message, never a 500."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(_l("包含无效字符。"))


class WholeNumberField(IntegerField):
    """An integer input whose parse error is in the portal's words."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError as error:
            self.data = None
            raise ValueError(_l("请填写整数。")) from error


# Dates and times are typed as text, so that every browser shows them the same way
# (2026-12-14, 14:00): a type="date" or type="time" input is drawn in the browser's own
# locale (12/14/2026, 2:00 PM in an English Chromium, whatever the page's lang says).
# What people type is read generously: 2026/12/14, 2026.12.14, 2026年12月14日, 20261214;
# 14:00, 14：00, 14.00, 1400, 9:30.
# No punctuation inside [...]: browsers compile pattern="" with the "v" flag, which refuses it.
DAY_PATTERN = r"\s*(\d{4}\s*(-|/|\.|年)\s*\d{1,2}\s*(-|/|\.|月)\s*\d{1,2}\s*日?|\d{8})\s*"
CLOCK_PATTERN = r"\s*(\d{1,2}\s*(:|：|\.)\s*\d{2}(:\d{2})?|\d{3,4})\s*"
_DAY = re.compile(DAY_PATTERN)
_CLOCK = re.compile(CLOCK_PATTERN)


def clean_day_text(text: str) -> str:
    """``text`` as YYYY-MM-DD when it is a day written one of the usual ways, else as it is."""
    if not _DAY.fullmatch(text):
        return text
    digits = re.findall(r"\d+", text)
    if len(digits) == 1:
        value = digits[0]
        digits = [value[:4], value[4:6], value[6:]]
    year, month, day = digits
    return f"{year}-{int(month):02d}-{int(day):02d}"


def clean_clock_text(text: str) -> str:
    """``text`` as HH:MM (or HH:MM:SS) when it is a time written one of the usual ways."""
    if not _CLOCK.fullmatch(text):
        return text
    digits = re.findall(r"\d+", text)
    if len(digits) == 1:
        value = digits[0]
        digits = [value[:-2], value[-2:]]
    return ":".join([f"{int(digits[0]):02d}", *digits[1:]])


class DayInput(TextInput):
    """A day typed as text: shown as 2026-12-14 in every browser and language."""

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("inputmode", "numeric")
        kwargs.setdefault("pattern", DAY_PATTERN)
        kwargs.setdefault("placeholder", "2026-12-14")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("maxlength", "16")
        kwargs.setdefault("data-input", "day")
        return super().__call__(field, **kwargs)


class ClockInput(TextInput):
    """A time typed as text: shown as 14:00 (24-hour) in every browser and language."""

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("inputmode", "numeric")
        kwargs.setdefault("pattern", CLOCK_PATTERN)
        kwargs.setdefault("placeholder", "14:00")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("maxlength", "8")
        kwargs.setdefault("data-input", "clock")
        return super().__call__(field, **kwargs)


class DayField(DateField):
    """A date input: empty is None (the service names it), a bad date in the portal's words.

    Dates outside 2000–2100 are refused here, before any service adds days or hours to
    them: ``9999-12-31`` plus a day, or ``0001-01-01`` in Shanghai time, overflows.
    """

    widget = DayInput()

    def _value(self) -> str:
        # A day that was read is shown as the portal writes it (2026/12/14 → 2026-12-14);
        # anything else as it was typed, so that nothing typed is lost.
        if self.data is not None:
            return self.data.isoformat()
        return super()._value()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        valuelist = [clean_day_text(str(valuelist[0]))]
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("请填写有效的日期。")) from error
        if self.data is not None and not within_range(self.data):
            self.data = None
            raise ValueError(_l("日期须在 2000 年至 2100 年之间。"))


class ClockField(TimeField):
    """A time input: empty is None, a bad time in the portal's words."""

    widget = ClockInput()

    def _value(self) -> str:
        if self.data is not None:
            return self.data.strftime("%H:%M")
        return super()._value()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        valuelist = [clean_clock_text(str(valuelist[0]))]
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("请填写有效的时间，如 09:00。")) from error


def show_errors(form: Any, error: Any) -> None:
    """Put a service's messages (``portal.errors.ServiceError``) beside the form fields they
    concern, else on top of the page; what was typed stays in the form. Error keys may name
    a field of a list of sub-forms (``criteria-0-name``)."""
    from portal.errors import ValidationFailed

    errors = (
        error.errors if isinstance(error, ValidationFailed) else {error.field or "": error.message}
    )
    for name, message in errors.items():
        field = find_field(form, name) if name and form is not None else None
        if field is not None:
            if message not in field.errors:
                field.errors = [*field.errors, message]
        else:
            flash(message, "danger")


def find_field(form: Any, name: str) -> Any:
    """The field ``name`` of ``form``, or of one of its lists of sub-forms; None if none."""
    field = getattr(form, name, None)
    if field is not None and hasattr(field, "errors"):
        return field
    for candidate in form:
        if candidate.type == "FieldList":
            for row in candidate:
                for sub in row.form:
                    if sub.name == name:
                        return sub
    return None


def form_errors_text(form: Any) -> str:
    """A form's validation errors in one line (for a flashed message)."""
    return "；".join(str(e) for errors in form.errors.values() for e in errors)
