"""The period and scope a report covers, parsed and checked before any figure is counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _

from portal.errors import ValidationFailed
from portal.formfields import clean_day_text
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ, within_range

# The longest period a report covers (ten years): beyond it nobody reads the figures.
MAX_DAYS = 3660
QUARTERS = {1: (1, 3), 2: (4, 6), 3: (7, 9), 4: (10, 12)}


@dataclass(frozen=True)
class Period:
    """Local (Asia/Shanghai) days from ``start`` to ``end``, both included."""

    start: date
    end: date
    label: str

    @property
    def starts_at(self) -> datetime:
        """The period's first instant, in UTC (for timestamps such as ``created_at``)."""
        return datetime.combine(self.start, time(0), LOCAL_TZ).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_TZ).astimezone(UTC)

    def months(self) -> list[tuple[int, int]]:
        """The (year, month) pairs the period touches, in order."""
        out: list[tuple[int, int]] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def query_args(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Scope:
    """The consortium (``member`` None) or one member."""

    member: Member | None = None

    @property
    def label(self) -> str:
        return self.member.name if self.member is not None else _("全联盟")

    @property
    def key(self) -> str:
        return self.member.key if self.member is not None else ""


def year_period(year: int) -> Period:
    if not within_range(date(year, 1, 1)) or not within_range(date(year, 12, 31)):
        raise ValidationFailed({"year": _("年份须在 2000 至 2100 之间。")})
    return Period(date(year, 1, 1), date(year, 12, 31), _("%(year)s年", year=year))


def quarter_period(year: int, quarter: int) -> Period:
    if quarter not in QUARTERS:
        raise ValidationFailed({"quarter": _("季度须为 1 至 4。")})
    year_period(year)
    first, last = QUARTERS[quarter]
    end = (date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)) - timedelta(days=1)
    return Period(
        date(year, first, 1), end, _("%(year)s年第%(quarter)s季度", year=year, quarter=quarter)
    )


def range_period(start: date, end: date) -> Period:
    errors: dict[str, str] = {}
    if not within_range(start):
        errors["start"] = _("开始日期须在 2000-01-01 至 2100-12-31 之间。")
    if not within_range(end):
        errors["end"] = _("结束日期须在 2000-01-01 至 2100-12-31 之间。")
    if not errors and end < start:
        errors["end"] = _("结束日期不能早于开始日期。")
    if not errors and (end - start).days >= MAX_DAYS:
        errors["end"] = _("统计区间最长十年。")
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end, _("%(start)s至%(end)s", start=start.isoformat(), end=end.isoformat()))


def parse_period(args) -> Period:
    """The period named by query arguments: ``year`` (+ ``quarter``), or ``start`` and ``end``.

    Raises ValidationFailed with messages per field; a missing period is the current year.
    """
    start_text, end_text = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    if start_text or end_text:
        errors: dict[str, str] = {}
        parsed: dict[str, date] = {}
        for name, text in (("start", start_text), ("end", end_text)):
            try:
                parsed[name] = date.fromisoformat(clean_day_text(text))
            except ValueError:
                errors[name] = _("请按 2026-01-31 的格式填写日期。")
        if errors:
            raise ValidationFailed(errors)
        period = range_period(parsed["start"], parsed["end"])
        # A range that is exactly a year or a quarter keeps its short name.
        for candidate in _named(period.start.year):
            if (candidate.start, candidate.end) == (period.start, period.end):
                return candidate
        return period
    year_text = (args.get("year") or "").strip()
    quarter_text = (args.get("quarter") or "").strip()
    if not year_text:
        year_text = str(datetime.now(LOCAL_TZ).year)
    if not year_text.isdigit() or len(year_text) != 4:
        raise ValidationFailed({"year": _("年份须在 2000 至 2100 之间。")})
    year = int(year_text)
    if quarter_text:
        if not quarter_text.isdigit() or len(quarter_text) > 1:
            raise ValidationFailed({"quarter": _("季度须为 1 至 4。")})
        return quarter_period(year, int(quarter_text))
    return year_period(year)


def _named(year: int) -> list[Period]:
    if not within_range(date(year, 1, 1)):
        return []
    return [year_period(year), *(quarter_period(year, q) for q in QUARTERS)]
