"""Times of meetings: today's local date, local datetimes, labels, overlaps.

Times are stored in UTC and shown in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import gettext as _

from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def local_dt(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ)


def weekday_label(day: date) -> str:
    return str(WEEKDAY_LABELS[day.isoweekday()])


def when_label(starts_at: datetime | None, ends_at: datetime | None = None) -> str:
    """ "2026-11-25（周三）09:00–11:00" in Asia/Shanghai; "待定" without a time."""
    if starts_at is None:
        return _("时间待定")
    starts = starts_at.astimezone(LOCAL_TZ)
    text = f"{starts:%Y-%m-%d}（{weekday_label(starts.date())}）{starts:%H:%M}"
    if ends_at is not None:
        ends = ends_at.astimezone(LOCAL_TZ)
        text += f"–{ends:%H:%M}" if ends.date() == starts.date() else f" – {ends:%Y-%m-%d %H:%M}"
    return text


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
