"""Dashboards on login: each role's figures and to-dos, as plain data (no request).

The office: this week's stops, pending confirmations, declines to act on, overdue meeting
decisions, and the year so far against the same days of last year. A member: its sites'
week, its inbox count, its overdue decisions and its figures. An organizer: its classes
that have not ended and what each needs next. Trainees have their own page (我的).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.catalog.models import TeachingSite
from portal.errors import PermissionDenied
from portal.extensions import db
from portal.meetings.decisions import overdue_decisions
from portal.reports.figures import FIGURES, compute
from portal.reports.period import Period, Scope
from portal.reports.plan import progress
from portal.reports.review import plans_of
from portal.scheduling.classes import needs_ring_route
from portal.scheduling.models import Booking, Reservation, TrainingClass
from portal.scheduling.settings import all_settings
from portal.timeutil import LOCAL_TZ
from portal.trainees.models import RosterEntry

# The figures the dashboards compare, year so far against the same days of last year.
HEADLINE = ("classes", "trainees", "ring_classes", "visit_groups", "visit_people")
WEEK_LIMIT = 30


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


@dataclass
class Comparison:
    key: str
    label: str
    unit: str
    this_year: int
    last_year: int

    @property
    def change(self) -> int:
        return self.this_year - self.last_year


def same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_so_far(scope: Scope, today: date) -> list[Comparison]:
    now = Period(date(today.year, 1, 1), today, "")
    before = Period(date(today.year - 1, 1, 1), same_day_last_year(today), "")
    this, last = compute(now, scope), compute(before, scope)
    return [
        Comparison(k, str(FIGURES[k].label), str(FIGURES[k].unit), this[k], last[k])
        for k in HEADLINE
    ]


def week_stops(member_id: int | None, today: date) -> tuple[list[Reservation], int]:
    """This week's stops that hold a place (pending or confirmed), soonest first."""
    monday, sunday = week_of(today)
    starts = datetime.combine(monday, time(0), LOCAL_TZ)
    ends = datetime.combine(sunday + timedelta(days=1), time(0), LOCAL_TZ)
    query = (
        select(Reservation)
        .join(Reservation.site)
        .where(
            Reservation.status.in_(("pending", "confirmed")),
            Reservation.starts_at >= starts,
            Reservation.starts_at < ends,
        )
    )
    if member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(
            selectinload(Reservation.site),
            selectinload(Reservation.booking).selectinload(Booking.training_class),
        )
        .order_by(Reservation.starts_at, Reservation.id)
        .limit(WEEK_LIMIT)
    )
    return list(rows), total


def pending_count(member_id: int | None, today: date) -> int:
    cutoff = datetime.combine(today, time(0), LOCAL_TZ)
    query = (
        select(func.count(Reservation.id))
        .join(Reservation.site)
        .where(Reservation.status == "pending", Reservation.starts_at >= cutoff)
    )
    if member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    return db.session.scalar(query) or 0


def declined_bookings(today: date) -> list[Booking]:
    """Bookings with a declined stop, of classes not cancelled and not over: to act on."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Booking.training_class)
            .where(
                Booking.status == "declined",
                TrainingClass.cancelled.is_(False),
                TrainingClass.ends_on >= today,
            )
            .options(selectinload(Booking.training_class))
            .order_by(Booking.start_date, Booking.id)
        )
    )


@dataclass
class ClassTodo:
    training_class: TrainingClass
    next_step: str  # a key: book_ring, book, declined, plan, pending, roster, ready
    booking: Booking | None = None


def next_step(
    c: TrainingClass, rules: dict[str, Any], roster_size: int, plan_status: str | None = None
) -> ClassTodo:
    """What a class needs next; with plan review on, an unapproved plan (``plan_status``
    None, submitted or returned) comes before waiting for the members' confirmations."""
    active = [b for b in c.bookings if b.status != "cancelled"]
    declined = next((b for b in active if b.status == "declined"), None)
    pending = next((b for b in active if b.status == "pending"), None)
    if not active:
        return ClassTodo(c, "book_ring" if needs_ring_route(c, rules) else "book")
    if declined is not None:
        return ClassTodo(c, "declined", declined)
    if rules.get("plan_review_required") and plan_status != "approved":
        return ClassTodo(c, "plan")
    if pending is not None:
        return ClassTodo(c, "pending", pending)
    if roster_size == 0 and not c.is_study_visit:
        return ClassTodo(c, "roster")
    return ClassTodo(c, "ready")


def organizer_classes(user: Any, today: date) -> list[ClassTodo]:
    classes = list(
        db.session.scalars(
            select(TrainingClass)
            .where(
                TrainingClass.organizer_id == user.id,
                TrainingClass.cancelled.is_(False),
                TrainingClass.ends_on >= today,
            )
            .options(selectinload(TrainingClass.bookings))
            .order_by(TrainingClass.starts_on, TrainingClass.id)
        )
    )
    counts = dict(
        db.session.execute(
            select(RosterEntry.class_id, func.count(RosterEntry.id))
            .where(RosterEntry.class_id.in_([c.id for c in classes]))
            .group_by(RosterEntry.class_id)
        ).all()
    )
    rules = all_settings()
    plans = plans_of([c.id for c in classes]) if rules.get("plan_review_required") else {}
    return [
        next_step(
            c,
            rules,
            counts.get(c.id, 0),
            plans[c.id].status if c.id in plans else None,
        )
        for c in classes
    ]


@dataclass
class Dashboard:
    role: str
    today: date
    title: str
    week: list[Reservation] = field(default_factory=list)
    week_total: int = 0
    pending: int = 0
    declined: list[Booking] = field(default_factory=list)
    overdue: list[Any] = field(default_factory=list)
    figures: list[Comparison] = field(default_factory=list)
    classes: list[ClassTodo] = field(default_factory=list)
    plan: list[Any] = field(default_factory=list)


def dashboard_for(user: Any, today: date | None = None) -> Dashboard:
    """The dashboard of the office, a member's staff or an organizer; trainees have 我的."""
    today = today or today_local()
    if user.is_office:
        week, total = week_stops(None, today)
        return Dashboard(
            "office",
            today,
            _("环线办工作台"),
            week=week,
            week_total=total,
            pending=pending_count(None, today),
            declined=declined_bookings(today),
            overdue=overdue_decisions(user, today),
            figures=year_so_far(Scope(None), today),
            plan=progress(today.year, today),
        )
    if user.is_member_user and user.member is not None:
        week, total = week_stops(user.member_id, today)
        return Dashboard(
            "member",
            today,
            _("%(member)s工作台", member=user.member.short_name),
            week=week,
            week_total=total,
            pending=pending_count(user.member_id, today),
            overdue=overdue_decisions(user, today),
            figures=year_so_far(Scope(user.member), today),
        )
    if user.role == "organizer":
        return Dashboard(
            "organizer", today, _("我的培训班"), classes=organizer_classes(user, today)
        )
    raise PermissionDenied(_("工作台只为环线办、成员单位和培训班联系人提供。"))
