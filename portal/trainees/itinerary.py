"""A class's itinerary as its trainees see it: their own elective choices, today and next.

Squads of one stop are shown as one line (a trainee goes with the class); the stops of an
elective show only the option the trainee takes (or "待选择" until they choose), while the
organizer sees every option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import CourseMaterial, TeachingSite
from portal.extensions import db
from portal.maps.geo import navigation_links
from portal.scheduling.itinerary import TEMPLATE_STOPS
from portal.scheduling.models import HOLDING, STOP_KINDS, Booking, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ
from portal.trainees.models import Elective, ElectiveChoice, ElectiveOption, RosterEntry


@dataclass
class Stop:
    """One line of the itinerary (local times)."""

    starts: datetime
    ends: datetime
    title: str
    site_name: str = ""
    address: str = ""
    nav_url: str = ""
    contact: str = ""
    teacher: str = ""
    status: str = ""
    course_id: int | None = None
    elective: str = ""
    pending_choice: bool = False
    reservation_ids: list[int] = field(default_factory=list)

    @property
    def day(self) -> date:
        return self.starts.date()


def nav_url(site: TeachingSite) -> str:
    """A navigation link (高德地图, GCJ-02) to the site, from its coordinates or its address."""
    if site.latitude is not None and site.longitude is not None:
        return navigation_links(site.latitude, site.longitude, site.name, site.address or "")[0].url
    if site.address:
        return f"https://uri.amap.com/search?keyword={quote(site.address)}&callnative=1"
    return ""


def elective_bookings(class_id: int) -> dict[int, tuple[Elective, ElectiveOption]]:
    """Booking id → (elective, option) for the class's elective options."""
    found = db.session.execute(
        select(ElectiveOption, Elective)
        .join(Elective, Elective.id == ElectiveOption.elective_id)
        .where(Elective.class_id == class_id, ElectiveOption.booking_id.is_not(None))
    ).all()
    return {option.booking_id: (elective, option) for option, elective in found}


def chosen_options(entry: RosterEntry) -> dict[int, int]:
    """Elective id → option id the trainee takes."""
    return dict(
        db.session.execute(
            select(ElectiveChoice.elective_id, ElectiveChoice.option_id).where(
                ElectiveChoice.entry_id == entry.id
            )
        ).all()
    )


def live_reservations(class_id: int) -> list[Reservation]:
    return list(
        db.session.scalars(
            select(Reservation)
            .join(Booking, Booking.id == Reservation.booking_id)
            .where(
                Booking.class_id == class_id,
                Booking.status != "cancelled",
                Reservation.status.in_(HOLDING),
            )
            .order_by(Reservation.starts_at, Reservation.id)
            .options(
                selectinload(Reservation.site).selectinload(TeachingSite.member),
                selectinload(Reservation.course),
                selectinload(Reservation.teacher),
            )
        )
    )


def visible_reservations(
    training_class: TrainingClass, entry: RosterEntry | None
) -> list[Reservation]:
    """The reservations this trainee goes to (all of them for the organizer: ``entry`` None)."""
    options = elective_bookings(training_class.id)
    chosen = chosen_options(entry) if entry is not None else {}
    shown = []
    for r in live_reservations(training_class.id):
        if r.booking_id in options and entry is not None:
            elective, option = options[r.booking_id]
            if chosen.get(elective.id) != option.id:
                continue
        shown.append(r)
    return shown


def class_stops(training_class: TrainingClass, entry: RosterEntry | None = None) -> list[Stop]:
    """The class's itinerary for a trainee (or, ``entry`` None, for its organizer)."""
    options = elective_bookings(training_class.id)
    chosen = chosen_options(entry) if entry is not None else {}
    merged: dict[tuple, Stop] = {}
    for r in visible_reservations(training_class, entry):
        starts, ends = r.starts_at.astimezone(LOCAL_TZ), r.ends_at.astimezone(LOCAL_TZ)
        key = (r.booking_id, r.site_id, r.course_id, starts.date())
        if key in merged:
            stop = merged[key]
            stop.starts, stop.ends = min(stop.starts, starts), max(stop.ends, ends)
            stop.reservation_ids.append(r.id)
            continue
        site = r.site
        member = site.member
        elective = options.get(r.booking_id)
        merged[key] = Stop(
            starts=starts,
            ends=ends,
            title=r.course.name
            if r.course is not None
            else _("现场参观：%(site)s", site=site.name),
            site_name=site.name,
            address=site.address or "",
            nav_url=nav_url(site),
            contact=" ".join(x for x in (member.contact_person, member.phone) if x),
            teacher=r.teacher.name if r.teacher is not None else "",
            status=r.status_label,
            course_id=r.course_id,
            elective=elective[0].title if elective else "",
            reservation_ids=[r.id],
        )
    stops = list(merged.values())
    if entry is not None:
        for elective in db.session.scalars(
            select(Elective).where(Elective.class_id == training_class.id)
        ):
            if elective.id not in chosen:
                stops.append(
                    Stop(
                        starts=elective.starts_at.astimezone(LOCAL_TZ),
                        ends=elective.ends_at.astimezone(LOCAL_TZ),
                        title=_("选学：%(title)s（待选择）", title=elective.title),
                        elective=elective.title,
                        pending_choice=True,
                    )
                )
    for row in db.session.execute(TEMPLATE_STOPS, {"class_id": training_class.id}):
        day = row.start_date + timedelta(days=row.day - 1)
        starts = datetime.combine(day, row.starts, tzinfo=LOCAL_TZ)
        stops.append(
            Stop(
                starts=starts,
                ends=starts + timedelta(minutes=row.minutes),
                title=row.title or str(STOP_KINDS.get(row.kind, row.kind)),
            )
        )
    stops.sort(key=lambda s: (s.starts, s.title))
    return stops


def by_day(stops: list[Stop]) -> dict[date, list[Stop]]:
    days: dict[date, list[Stop]] = {}
    for stop in stops:
        days.setdefault(stop.day, []).append(stop)
    return days


@dataclass
class Now:
    """What matters this moment: the stop under way, today's stops and the next one."""

    current: Stop | None
    today: list[Stop]
    next: Stop | None


def now_and_next(stops: list[Stop], now: datetime | None = None) -> Now:
    now = now or datetime.now(LOCAL_TZ)
    at_sites = [s for s in stops if s.site_name or s.pending_choice]
    current = next((s for s in at_sites if s.starts <= now < s.ends), None)
    upcoming = next((s for s in at_sites if s.starts > now), None)
    return Now(current, [s for s in stops if s.day == now.date()], upcoming)


def materials_for(stops: list[Stop]) -> list[CourseMaterial]:
    """The teaching materials and cases the members attached to the itinerary's courses."""
    course_ids = sorted({s.course_id for s in stops if s.course_id is not None})
    if not course_ids:
        return []
    return list(
        db.session.scalars(
            select(CourseMaterial)
            .where(CourseMaterial.course_id.in_(course_ids))
            .order_by(CourseMaterial.course_id, CourseMaterial.id)
            .options(selectinload(CourseMaterial.course))
        )
    )
