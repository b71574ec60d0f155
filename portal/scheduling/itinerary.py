"""What a class's itinerary shows: day by day its stops, meals and travel, who to call, its map.

Read for the itinerary PDF (``calendar_views.itinerary_pdf``). Every stop of the class's live
bookings is there, a declined one too (marked 已婉拒, so that a day never silently goes
blank); the meals and travel of the route templates booked; between two stops of one day
at different sites, the way there with the portal's travel estimate (unless the template
already lists the travel); the hosting members' contacts; and the route map.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.maps import services as maps
from portal.maps.drawing import MapSpec
from portal.members.models import Member
from portal.scheduling.calendars import ItineraryDay, ItineraryRow
from portal.scheduling.fitting import travel_minutes
from portal.scheduling.models import (
    RESERVATION_STATUSES,
    STOP_KINDS,
    Booking,
    Reservation,
    RouteStop,
)
from portal.scheduling.settings import all_settings
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ

# The class's reservations as plain columns (no ORM objects; the statements built once).
RESERVATIONS = (
    select(
        Reservation.id,
        Reservation.booking_id,
        Reservation.site_id,
        Reservation.course_id,
        Reservation.starts_at,
        Reservation.ends_at,
        Reservation.squad,
        Reservation.status,
        TeachingSite.name.label("site_name"),
        TeachingSite.address.label("site_address"),
        TeachingSite.latitude,
        TeachingSite.longitude,
        Member.id.label("member_id"),
        Member.short_name.label("member_name"),
        Member.contact_person,
        Member.phone,
        Course.name.label("course_name"),
        Teacher.name.label("teacher_name"),
    )
    .join(Booking, Booking.id == Reservation.booking_id)
    .join(TeachingSite, TeachingSite.id == Reservation.site_id)
    .join(Member, Member.id == TeachingSite.member_id)
    .outerjoin(Course, Course.id == Reservation.course_id)
    .outerjoin(Teacher, Teacher.id == Reservation.teacher_id)
    .where(
        Booking.class_id == bindparam("class_id"),
        Booking.status != "cancelled",
        Reservation.status != "cancelled",
        # A declined stop the organizer replaced is shown by its replacement.
        Reservation.replaced_by_id.is_(None),
    )
    .order_by(Reservation.starts_at, Reservation.id)
)
# The meals and travel of the route templates booked (stops without a site).
TEMPLATE_STOPS = (
    select(
        Booking.start_date,
        RouteStop.day,
        RouteStop.starts,
        RouteStop.minutes,
        RouteStop.title,
        RouteStop.kind,
    )
    .join(RouteStop, RouteStop.template_id == Booking.template_id)
    .where(
        Booking.class_id == bindparam("class_id"),
        Booking.status != "cancelled",
        RouteStop.site_id.is_(None),
    )
    .order_by(Booking.id, RouteStop.day, RouteStop.starts, RouteStop.id)
)


@dataclass(frozen=True)
class Contact:
    member: str
    sites: str
    person: str
    phone: str


@dataclass
class Itinerary:
    days: list[ItineraryDay]
    contacts: list[Contact]
    map: MapSpec | None
    declined: int = 0
    legs: int = 0

    def key(self) -> list[Any]:
        """Everything it shows, for the PDF cache's fingerprint."""
        return [repr(self.days), repr(self.contacts), repr(self.map)]


def _weekday(day: date) -> str:
    return str(WEEKDAY_LABELS[day.isoweekday()])


def _span(starts: datetime, ends: datetime) -> str:
    return f"{starts:%H:%M}–{ends:%H:%M}"


def build(training_class: Any) -> Itinerary:
    """The itinerary of ``training_class`` as the PDF prints it."""
    reservations = db.session.execute(RESERVATIONS, {"class_id": training_class.id}).all()
    stops = db.session.execute(TEMPLATE_STOPS, {"class_id": training_class.id}).all()
    settings = all_settings()
    squads = Counter(
        (r.booking_id, r.site_id, r.course_id, r.starts_at.date())
        for r in reservations
        if r.status != "declined"
    )
    many_squads = any(r.squad > 1 for r in reservations)
    # (local start, order within the same minute, row); order: template stops, legs, stops.
    rows: list[tuple[datetime, int, int, ItineraryRow]] = []
    declined = 0
    for r in reservations:
        starts, ends = r.starts_at.astimezone(LOCAL_TZ), r.ends_at.astimezone(LOCAL_TZ)
        arrangement = r.course_name if r.course_id is not None else _("现场参观")
        if squads[(r.booking_id, r.site_id, r.course_id, r.starts_at.date())] > 1:
            arrangement += _("（第 %(squad)s 组）", squad=r.squad)
        if r.status == "declined":
            declined += 1
            arrangement += _("（该站已被婉拒，请另行安排）")
        place = r.site_name + (f"\n{r.site_address}" if r.site_address else "")
        rows.append(
            (
                starts,
                2,
                r.id,
                ItineraryRow(
                    _span(starts, ends),
                    arrangement,
                    place,
                    r.teacher_name if r.teacher_name is not None else "—",
                    str(RESERVATION_STATUSES.get(r.status, r.status)),
                    muted=r.status == "declined",
                ),
            )
        )
    template_travel: list[tuple[datetime, datetime]] = []
    for stop in stops:
        day = stop.start_date + timedelta(days=stop.day - 1)
        starts = datetime.combine(day, stop.starts, tzinfo=LOCAL_TZ)
        ends = starts + timedelta(minutes=stop.minutes)
        if stop.kind == "travel":
            template_travel.append((starts, ends))
        rows.append(
            (
                starts,
                0,
                0,
                ItineraryRow(
                    _span(starts, ends),
                    stop.title or str(STOP_KINDS.get(stop.kind, stop.kind)),
                    "—",
                    "—",
                    str(STOP_KINDS.get(stop.kind, stop.kind)),
                ),
            )
        )
    # The way between two stops of one day at different sites, squad by squad.
    legs = 0
    previous: dict[int, Any] = {}
    for r in reservations:
        if r.status == "declined":
            continue
        before = previous.get(r.squad)
        previous[r.squad] = r
        if before is None or before.site_id == r.site_id:
            continue
        left = before.ends_at.astimezone(LOCAL_TZ)
        arrives = r.starts_at.astimezone(LOCAL_TZ)
        if left.date() != arrives.date():
            continue
        if any(left <= t_start and t_end <= arrives for t_start, t_end in template_travel):
            continue  # the template lists this travel itself
        minutes = travel_minutes(
            SimpleNamespace(
                id=before.site_id, latitude=before.latitude, longitude=before.longitude
            ),
            SimpleNamespace(id=r.site_id, latitude=r.latitude, longitude=r.longitude),
            settings,
        )
        what = _("车程约 %(minutes)s 分钟", minutes=minutes)
        if many_squads:
            what += _("（第 %(squad)s 组）", squad=r.squad)
        legs += 1
        rows.append(
            (
                left,
                1,
                r.id,
                ItineraryRow(
                    _span(left, left + timedelta(minutes=minutes)),
                    what,
                    _("%(start)s → %(end)s", start=before.site_name, end=r.site_name),
                    "—",
                    str(STOP_KINDS["travel"]),
                ),
            )
        )
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    by_day: dict[date, list[ItineraryRow]] = {}
    for starts, _order, _id, row in rows:
        by_day.setdefault(starts.date(), []).append(row)
    days = [
        ItineraryDay(
            _("%(day)s（%(weekday)s）", day=day.isoformat(), weekday=_weekday(day)), day_rows
        )
        for day, day_rows in by_day.items()
    ]
    return Itinerary(
        days=days,
        contacts=contacts_of(reservations),
        map=maps.class_map(training_class),
        declined=declined,
        legs=legs,
    )


def contacts_of(reservations: list[Any]) -> list[Contact]:
    """Each hosting member once (short name), its sites in the itinerary, its contact."""
    members: dict[int, dict[str, Any]] = {}
    for r in reservations:
        if r.status == "declined":
            continue
        entry = members.setdefault(
            r.member_id,
            {"name": r.member_name, "sites": [], "person": r.contact_person, "phone": r.phone},
        )
        if r.site_name not in entry["sites"]:
            entry["sites"].append(r.site_name)
    return [
        Contact(
            m["name"],
            # TRANSLATORS: separator between the names of a member's sites.
            _("、").join(m["sites"]),
            m["person"] or "—",
            m["phone"] or "—",
        )
        for m in members.values()
    ]
