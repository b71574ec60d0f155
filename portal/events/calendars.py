"""The events calendar, its iCalendar feed and the yearly figures of events held."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.events.access import is_office
from portal.events.events import local_dt
from portal.events.models import CATEGORIES, EventSession, JointEvent
from portal.extensions import db
from portal.ical import calendar_uid
from portal.timeutil import LOCAL_TZ


@dataclass(frozen=True)
class CalendarEntry:
    """One session of a joint event as the calendar and the .ics feed show it."""

    event_id: int
    number: int
    event_title: str
    title: str
    kind: str
    status: str
    starts: datetime  # local (Asia/Shanghai)
    ends: datetime
    location: str
    address: str
    teacher: str

    @property
    def day(self) -> date:
        return self.starts.date()


def calendar_entries(
    user: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    event_id: int | None = None,
) -> list[CalendarEntry]:
    """Sessions of the events ``user`` may see, overlapping [start, end)."""
    query = (
        select(EventSession)
        .join(EventSession.event)
        .options(
            selectinload(EventSession.event).selectinload(JointEvent.event_type),
            selectinload(EventSession.site),
            selectinload(EventSession.teacher),
        )
        .order_by(EventSession.starts_at, EventSession.event_id, EventSession.number)
    )
    if not is_office(user):
        query = query.where(JointEvent.published_at.is_not(None), JointEvent.status != "draft")
    if start is not None:
        query = query.where(EventSession.ends_at > start)
    if end is not None:
        query = query.where(EventSession.starts_at < end)
    if event_id is not None:
        query = query.where(EventSession.event_id == event_id)
    return [
        CalendarEntry(
            event_id=s.event_id,
            number=s.number,
            event_title=s.event.title,
            title=s.title,
            kind=s.event.event_type.name,
            status=s.event.status,
            starts=s.starts_at.astimezone(LOCAL_TZ),
            ends=s.ends_at.astimezone(LOCAL_TZ),
            location=s.location,
            address=s.site.address if s.site is not None else "",
            teacher=s.teacher.name if s.teacher is not None else "",
        )
        for s in db.session.scalars(query)
    ]


def by_day(entries: Iterable[CalendarEntry]) -> dict[date, list[CalendarEntry]]:
    days: dict[date, list[CalendarEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.starts, e.event_id, e.number)):
        days[entry.day].append(entry)
    return days


ICS_STATUS = {"published": "CONFIRMED", "cancelled": "CANCELLED", "draft": "TENTATIVE"}


def build_ics(entries: Iterable[CalendarEntry], *, name: str, now: datetime | None = None) -> bytes:
    """An iCalendar feed of sessions; UIDs ``event-<id>-session-<n>`` (with the configured
    domain, portal/ical.py) never change, whatever host the feed is fetched from."""
    import icalendar

    from portal.scheduling import calendars

    now = (now or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ring Route Portal//Joint events//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(timedelta(hours=1)))
    for entry in entries:
        item = icalendar.Event()
        item.add("uid", calendar_uid(f"event-{entry.event_id}-session-{entry.number}"))
        item.add("dtstamp", now)
        item.add("dtstart", entry.starts)
        item.add("dtend", entry.ends)
        item.add("summary", f"{entry.event_title}：{entry.title}")
        location = entry.location + (f"（{entry.address}）" if entry.address else "")
        if location:
            item.add("location", location)
        lines = [_("活动类型：%(kind)s", kind=entry.kind)]
        if entry.teacher:
            lines.append(_("主讲：%(teacher)s", teacher=entry.teacher))
        item.add("description", "\n".join(lines))
        item.add("status", ICS_STATUS.get(entry.status, "TENTATIVE"))
        item.add("transp", "OPAQUE")
        cal.add_component(item)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    else:  # icalendar < 6.1
        cal.add_component(calendars._shanghai_vtimezone(icalendar))
    return cal.to_ical()


def events_held(first: date, last: date) -> dict[str, int]:
    """Joint events held in [first, last] (by the local day of their first session).

    Published, not cancelled; counted by category and in ``total`` — for the yearly figures.
    """
    start = local_dt(first, time(0)).astimezone(UTC)
    end = local_dt(last + timedelta(days=1), time(0)).astimezone(UTC)
    first_session = (
        select(EventSession.event_id, func.min(EventSession.starts_at).label("starts"))
        .group_by(EventSession.event_id)
        .subquery()
    )
    rows = db.session.execute(
        select(JointEvent.category, func.count())
        .join(first_session, first_session.c.event_id == JointEvent.id)
        .where(
            JointEvent.status == "published",
            first_session.c.starts >= start,
            first_session.c.starts < end,
        )
        .group_by(JointEvent.category)
    ).all()
    counts = {category: 0 for category in CATEGORIES}
    counts.update({category: number for category, number in rows})
    counts["total"] = sum(number for _c, number in rows)
    return counts
