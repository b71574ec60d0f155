"""Exports of meetings: the record as PDF (agenda, attendance, minutes, decisions) and the
consortium's meeting calendar as iCalendar. Pure functions: no database, no request.

The PDF is built by ``portal.pdf`` (as the class itinerary is). Texts arrive translated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.pdf import FontUnavailable, PdfSection, build_pdf
from portal.scheduling.calendars import _shanghai_vtimezone
from portal.timeutil import LOCAL_TZ

__all__ = ["FontUnavailable", "IcsEntry", "PdfSection", "build_ics", "build_pdf"]


# ---------------------------------------------------------------- iCalendar


@dataclass(frozen=True)
class IcsEntry:
    """One meeting as a calendar event; times are aware datetimes (any zone)."""

    uid: str
    starts: datetime
    ends: datetime
    summary: str
    location: str
    description: str
    status: str  # CONFIRMED or CANCELLED
    sequence: int
    modified: datetime | None = None
    url: str = ""


def build_ics(entries: Iterable[IcsEntry], *, name: str, now: datetime | None = None) -> bytes:
    """An iCalendar feed that calendar apps subscribe to (refreshed hourly).

    Times carry TZID=Asia/Shanghai with its VTIMEZONE; UIDs come from the meeting ids, so
    every fetch gives the same UIDs, and SEQUENCE grows when a meeting moves or is cancelled.
    """
    import icalendar

    now = (now or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ring Route Portal//Meetings//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(timedelta(hours=1)))
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("dtstart", entry.starts.astimezone(LOCAL_TZ))
        event.add("dtend", entry.ends.astimezone(LOCAL_TZ))
        event.add("summary", entry.summary)
        if entry.location:
            event.add("location", entry.location)
        event.add("description", entry.description)
        event.add("status", entry.status)
        event.add("sequence", entry.sequence)
        if entry.modified is not None:
            event.add("last-modified", entry.modified.astimezone(UTC))
        if entry.url:
            event.add("url", entry.url)
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    else:  # icalendar < 6.1
        cal.add_component(_shanghai_vtimezone(icalendar))
    return cal.to_ical()
