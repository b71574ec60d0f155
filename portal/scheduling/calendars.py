"""Calendars: month and week grids, iCalendar feeds and the class itinerary PDF.

Pure functions only: nothing here queries the database or reads the request. The views
(``calendar_views``) decide what a viewer may see and hand over ready-made entries.

Times are stored in UTC and shown in Asia/Shanghai; a calendar week starts on Monday.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.ical import calendar_uid
from portal.pdf import FontChoice, PdfSection, build_pdf
from portal.timeutil import LOCAL_TZ

VIEWS = ("month", "week")
# Dates outside these years are refused (400): far dates would overflow date arithmetic.
MIN_YEAR, MAX_YEAR = 1970, 2100
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# ---------------------------------------------------------------- windows and grids


@dataclass(frozen=True)
class Window:
    """The days a calendar page shows, and where its prev/next links go."""

    view: str
    anchor: date
    first: date  # first day shown
    last: date  # last day shown (inclusive)
    prev: date
    next: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def weeks(self) -> list[list[date]]:
        days = self.days
        return [days[i : i + 7] for i in range(0, len(days), 7)]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """From local midnight of the first day to local midnight after the last, in UTC."""
        return day_bounds(self.first, self.last)


def parse_view(value: str | None) -> str:
    """``month`` (the default) or ``week``; anything else raises ValueError."""
    if value is None or value == "":
        return "month"
    if value not in VIEWS:
        raise ValueError(value)
    return value


def parse_day(value: str | None, today: date) -> date:
    """A YYYY-MM-DD date (``today`` when absent); ValueError for any other text or a bad day."""
    if value is None or value == "":
        return today
    if not _ISO_DAY.fullmatch(value):
        raise ValueError(value)
    day = date.fromisoformat(value)  # ValueError for 2026-02-30
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(value)
    return day


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def make_window(view: str, anchor: date) -> Window:
    """Month: whole weeks (Monday to Sunday) around the month. Week: Monday to Sunday."""
    if view == "week":
        first = week_start(anchor)
        return Window(
            view,
            anchor,
            first,
            first + timedelta(days=6),
            first - timedelta(days=7),
            first + timedelta(days=7),
        )
    month_first = anchor.replace(day=1)
    month_last = month_first.replace(day=_calendar.monthrange(anchor.year, anchor.month)[1])
    return Window(
        "month",
        anchor,
        week_start(month_first),
        week_start(month_last) + timedelta(days=6),
        add_months(month_first, -1),
        add_months(month_first, 1),
    )


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


# ---------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One reservation as a calendar shows it; ``detailed`` False hides the class."""

    id: int
    starts: datetime  # local (Asia/Shanghai)
    ends: datetime
    status: str
    status_label: str
    site_name: str
    site_address: str
    detailed: bool
    class_name: str = ""
    sending_unit: str = ""
    course_name: str = ""
    teacher_name: str = ""
    squad: int = 1
    # Who comes and how many (detailed only): the squad's size, the whole class's size and the
    # class's contact (its organizer's person on the ground), for a printed week at the site.
    group_size: int = 0
    class_size: int = 0
    contact_name: str = ""
    contact_phone: str = ""

    @property
    def day(self) -> date:
        return self.starts.date()

    @property
    def split(self) -> bool:
        """The class comes in squads (this entry is one of them)."""
        return 0 < self.group_size < self.class_size

    def label(self, kind: str = "") -> str:
        """The line of a month cell after the time: "班级名 / 站点名", or "站点名 已预约".

        A class's own calendar names the course instead of the (always same) class.
        """
        if not self.detailed:
            return _("%(site)s 已预约", site=self.site_name)
        if kind == "class":
            return f"{self.course_name or _('现场参观')} / {self.site_name}"
        return f"{self.class_name} / {self.site_name}"


def make_entry(reservation: Any, detailed: bool) -> Entry:
    """An entry from a Reservation (its site, and when detailed its booking's class, loaded)."""
    site = reservation.site
    entry = {
        "id": reservation.id,
        "starts": reservation.starts_at.astimezone(LOCAL_TZ),
        "ends": reservation.ends_at.astimezone(LOCAL_TZ),
        "status": reservation.status,
        "status_label": reservation.status_label,
        "site_name": site.name,
        "site_address": site.address or "",
        "detailed": detailed,
    }
    if detailed:
        training_class = reservation.booking.training_class
        entry.update(
            class_name=training_class.name,
            sending_unit=training_class.sending_unit,
            course_name=reservation.course.name if reservation.course is not None else "",
            teacher_name=reservation.teacher.name if reservation.teacher is not None else "",
            squad=reservation.squad,
            group_size=reservation.group_size,
            class_size=training_class.size,
            contact_name=training_class.contact_name,
            contact_phone=training_class.contact_phone,
        )
    return Entry(**entry)


def by_day(entries: Iterable[Entry]) -> dict[date, list[Entry]]:
    days: dict[date, list[Entry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.starts, e.id)):
        days[entry.day].append(entry)
    return days


def month_body(
    window: Window, days: dict[date, list[Entry]], today: date, kind: str, today_label: str
) -> Markup:
    """The month table's rows (what goes inside ``<tbody>``), written in one pass.

    The same HTML the template's loops over weeks, days and entries wrote (whitespace
    included), without a template call, ``_()`` or attribute lookup per cell: a month is
    35–42 cells, and a busy one a hundred entries. ``today_label`` is 今天 in the page's
    language; an entry's line after its time is ``Entry.label``, worked out once per
    distinct line.
    """
    month = window.anchor.month
    today_mark = f'<span class="visually-hidden">{escape(today_label)} </span>'
    labels: dict[tuple[bool, str, str, str], str] = {}
    out: list[str] = []
    add = out.append
    weeks = window.weeks
    for week in weeks:
        add("\n    <tr>\n    ")
        for day in week:
            classes = "align-top"
            if day.month != month:
                classes += " text-muted bg-light"
            is_today = day == today
            if is_today:
                classes += " table-warning"
            add(
                f'\n      <td class="{classes}" data-day="{day.isoformat()}">\n'
                f'        <div class="small fw-semibold">{today_mark if is_today else ""}'
                f"{day.day}</div>\n        "
            )
            for e in days.get(day, ()):
                key = (e.detailed, e.site_name, e.class_name, e.course_name)
                label = labels.get(key)
                if label is None:
                    label = labels[key] = str(escape(e.label(kind)))
                border = "border-success" if e.status == "confirmed" else "border-warning"
                add(
                    '\n        <div class="small border-start border-3 ps-1 mb-1 '
                    f'text-wrap-anywhere {border}" data-reservation="{e.id}">\n'
                    f'          <time class="text-nowrap" datetime="{e.starts.isoformat()}">'
                    f"{e.starts:%H:%M}</time> {label}\n        </div>\n        "
                )
            add("\n      </td>\n    ")
        add("\n    </tr>\n  ")
    return Markup("".join(out))


# ---------------------------------------------------------------- iCalendar

ICS_STATUS = {"confirmed": "CONFIRMED", "pending": "TENTATIVE", "offered": "TENTATIVE"}


def ics_summary(entry: Entry) -> str:
    if not entry.detailed:
        return _("%(site)s 已预约", site=entry.site_name)
    what = entry.course_name or _("现场参观：%(site)s", site=entry.site_name)
    return _("%(name)s：%(what)s", name=entry.class_name, what=what)


def ics_description(entry: Entry) -> str:
    if not entry.detailed:
        return _("已预约")
    lines = [
        _("班级：%(name)s", name=entry.class_name),
        _("选派单位：%(unit)s", unit=entry.sending_unit),
        _("课程：%(course)s", course=entry.course_name or _("现场参观")),
        _("教师：%(teacher)s", teacher=entry.teacher_name or "—"),
        _("状态：%(status)s", status=entry.status_label),
    ]
    if entry.squad > 1:
        lines.append(_("第 %(squad)s 组", squad=entry.squad))
    return "\n".join(lines)


def build_ics(entries: Iterable[Entry], *, name: str, now: datetime | None = None) -> bytes:
    """An iCalendar file that calendar apps can subscribe to (refreshed hourly).

    UIDs are derived from the reservation id and the configured domain (portal/ical.py),
    never from the host asked, so every fetch gives the same UIDs and subscribers never see
    duplicates.
    """
    import icalendar

    now = (now or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ring Route Portal//Calendars//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(timedelta(hours=1)))
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", calendar_uid(f"reservation-{entry.id}"))
        event.add("dtstamp", now)
        event.add("dtstart", entry.starts.astimezone(LOCAL_TZ))
        event.add("dtend", entry.ends.astimezone(LOCAL_TZ))
        event.add("summary", ics_summary(entry))
        location = entry.site_name + (f"（{entry.site_address}）" if entry.site_address else "")
        event.add("location", location)
        event.add("description", ics_description(entry))
        event.add("status", ICS_STATUS.get(entry.status, "TENTATIVE"))
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    else:  # icalendar < 6.1: China has kept +08:00 without daylight saving since 1991.
        cal.add_component(_shanghai_vtimezone(icalendar))
    return cal.to_ical()


def _shanghai_vtimezone(icalendar: Any) -> Any:
    tz = icalendar.Timezone()
    tz.add("tzid", "Asia/Shanghai")
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzname", "CST")
    standard.add("tzoffsetfrom", timedelta(hours=8))
    standard.add("tzoffsetto", timedelta(hours=8))
    tz.add_component(standard)
    return tz


# ---------------------------------------------------------------- PDF itinerary

# Column widths (ratios of the page's width): the time column holds "09:00–12:00" whole.
ITINERARY_WIDTHS = (27, 47, 56, 26, 18)
CONTACT_WIDTHS = (32, 70, 36, 36)
MAP_WIDTH_MM = 150


@dataclass(frozen=True)
class ItineraryRow:
    time: str
    arrangement: str
    place: str
    teacher: str
    status: str
    muted: bool = False  # a declined stop: printed in grey


@dataclass(frozen=True)
class ItineraryDay:
    heading: str
    rows: list[ItineraryRow]


def build_itinerary_pdf(
    *,
    title: str,
    facts: Sequence[tuple[str, str]],
    columns: Sequence[str],
    days: Sequence[ItineraryDay],
    footer: str,
    page_label: str,
    empty: str,
    font: FontChoice,
    contacts_heading: str = "",
    contact_columns: Sequence[str] = (),
    contacts: Sequence[Sequence[str]] = (),
    map_heading: str = "",
    route_map: Any = None,
) -> bytes:
    """The class itinerary as an A4 PDF: the class's facts, its route map, a table for each
    day (stops, meals, travel), then the hosting members' contacts."""
    sections: list[PdfSection] = []
    if route_map is not None:
        sections.append(
            PdfSection(heading=map_heading, figure=route_map, figure_width=MAP_WIDTH_MM)
        )
    sections += [
        PdfSection(
            heading=day.heading,
            table=[list(columns)]
            + [[r.time, r.arrangement, r.place, r.teacher, r.status] for r in day.rows],
            widths=ITINERARY_WIDTHS,
            muted_rows=tuple(i + 1 for i, r in enumerate(day.rows) if r.muted),
        )
        for day in days
    ] or [PdfSection(heading="", empty=empty)]
    if contacts:
        sections.append(
            PdfSection(
                heading=contacts_heading,
                table=[list(contact_columns)] + [list(row) for row in contacts],
                widths=CONTACT_WIDTHS,
            )
        )
    return build_pdf(
        title=title, facts=facts, sections=sections, footer=footer, page_label=page_label, font=font
    )
