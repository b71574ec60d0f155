"""Form fields every area uses: parse errors in the portal's words, dates it can hold."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, TimeField
from wtforms.validators import ValidationError

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


class DayField(DateField):
    """A date input: empty is None (the service names it), a bad date in the portal's words.

    Dates outside 2000–2100 are refused here, before any service adds days or hours to
    them: ``9999-12-31`` plus a day, or ``0001-01-01`` in Shanghai time, overflows.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("请填写有效的日期。")) from error
        if self.data is not None and not within_range(self.data):
            self.data = None
            raise ValueError(_l("日期须在 2000 年至 2100 年之间。"))


class ClockField(TimeField):
    """A time input: empty is None, a bad time in the portal's words."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("请填写有效的时间，如 09:00。")) from error
