"""A declined stop is not a dead end: the organizer replaces just that stop.

The replacement (another time, or another site) is checked by the same rules and under the
same locks as a new booking (``fitting.check_plan`` first without locks, then again inside
``locks.begin_locked``); it also may not overlap another live stop of the class. The declined
reservations stay in the history, marked ``replaced_by_id``, and no longer count for the
booking's status (``history.refresh_booking_status``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _

from portal.catalog.models import TeachingSite
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import ActorRef, stops_of
from portal.scheduling.classes import class_window, require_class_owner
from portal.scheduling.fitting import (
    BookingRefused,
    PlannedStop,
    Problem,
    bookable_sites_query,
    check_plan,
    date_problems,
    load_context,
)
from portal.scheduling.history import (
    booking_changed,
    notify_hosts,
    record_event,
    refresh_booking_status,
)
from portal.scheduling.locks import begin_locked
from portal.scheduling.models import HOLDING, Booking, Reservation
from portal.timeutil import LOCAL_TZ, utcnow


@dataclass(frozen=True)
class DeclinedStop:
    """A declined stop of a booking (all its squads), as the replace form offers it."""

    reservations: list[Reservation]

    @property
    def first(self) -> Reservation:
        return self.reservations[0]

    @property
    def minutes(self) -> int:
        r = self.first
        return int((r.ends_at - r.starts_at).total_seconds() // 60)


def declined_stops(booking: Booking) -> list[DeclinedStop]:
    """The booking's declined stops not replaced yet (a split class's squads together)."""
    waiting = [
        r for r in booking.reservations if r.status == "declined" and r.replaced_by_id is None
    ]
    return [DeclinedStop(group) for group in stops_of(waiting)]


def find_declined_stop(booking: Booking, reservation_id: int) -> DeclinedStop:
    for stop in declined_stops(booking):
        if any(r.id == reservation_id for r in stop.reservations):
            return stop
    raise ServiceError(_("该站点不是待替换的被婉拒站点（可能已替换）。"))


def _overlaps_own_stops(booking: Booking, plan: PlannedStop) -> Reservation | None:
    """Another live stop of the class at the same time: a class is in one place at once."""
    for other in booking.training_class.bookings:
        if other.status == "cancelled":
            continue
        for r in other.reservations:
            if r.status in HOLDING and r.starts_at < plan.ends_at and plan.starts_at < r.ends_at:
                return r
    return None


def replace_declined(
    booking: Booking,
    reservation_id: int,
    actor: Any,
    *,
    day: date,
    starts: time,
    site: TeachingSite | None = None,
) -> list[Reservation]:
    """Replace the declined stop holding ``reservation_id`` by the same visit at another
    time, or at another site (``site``). Commits; raises BookingRefused with every problem.
    """
    require_class_owner(booking.training_class, actor)
    if booking.status == "cancelled":
        raise ServiceError(_("该预约已取消。"))
    old = find_declined_stop(booking, reservation_id)
    first = old.first
    new_site = site or first.site
    same_site = new_site.id == first.site_id
    if not isinstance(day, date) or not isinstance(starts, time):
        raise ValidationFailed({"day": _("请填写日期和开始时间。")})
    starts_at = datetime.combine(day, starts, tzinfo=LOCAL_TZ)
    if not same_site and new_site.status != "active":
        raise ValidationFailed({"site": _("请选择可预约的教学点。")})
    plan = PlannedStop(
        index=0,
        kind="course" if first.course and same_site else "visit",
        starts_at=starts_at,
        minutes=old.minutes,
        site=new_site,
        course=first.course if same_site else None,
        teacher=first.teacher if same_site else None,
        squads=len(old.reservations),
        guide_requested=first.guide_requested,
    )
    if same_site and starts_at.astimezone(LOCAL_TZ) == first.starts_at.astimezone(LOCAL_TZ):
        raise ValidationFailed({"starts": _("新的时间与被婉拒的时间相同，请换一个时间或教学点。")})
    training_class = booking.training_class
    size, class_name = training_class.size, training_class.name
    within = class_window(training_class)
    if off_days := date_problems([plan], within):
        raise BookingRefused(off_days)
    if (clash := _overlaps_own_stops(booking, plan)) is not None:
        raise BookingRefused(
            [
                Problem(
                    0,
                    "class_busy",
                    _(
                        "该班 %(time)s 已安排在“%(site)s”，同一时间不能去两处。",
                        time=clash.starts_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"),
                        site=clash.site.name,
                    ),
                )
            ]
        )
    context = load_context([plan], plan.starts_at, plan.ends_at, None)
    if problems := check_plan([plan], size, context=context, class_name=class_name):
        raise BookingRefused(problems)
    who = ActorRef(actor.id, getattr(actor, "display_name", "") or _("系统"))
    booking_id, old_ids = booking.id, [r.id for r in old.reservations]
    site_id, course_id = new_site.id, plan.course.id if plan.course else None
    teacher_id = plan.teacher.id if plan.teacher else None
    begin_locked([site_id], [teacher_id] if teacher_id else [])
    try:
        booking = db.session.get(Booking, booking_id)
        olds = [db.session.get(Reservation, i) for i in old_ids]
        if any(r.status != "declined" or r.replaced_by_id is not None for r in olds):
            raise ServiceError(_("该站点不是待替换的被婉拒站点（可能已替换）。"))
        new_site = db.session.get(TeachingSite, site_id)
        plan.site = new_site
        context = load_context([plan], plan.starts_at, plan.ends_at, None, reuse=context)
        if problems := check_plan([plan], size, context=context, class_name=class_name):
            raise BookingRefused(problems)
        status = "confirmed" if new_site.auto_confirm else "pending"
        now = utcnow()
        made = [
            Reservation(
                booking=booking,
                site=new_site,
                course_id=course_id,
                teacher_id=teacher_id,
                starts_at=squad_start,
                ends_at=squad_end,
                group_size=math.ceil(size / plan.squads) if plan.squads > 1 else size,
                squad=number,
                guide_requested=new_site.needs_guide or plan.guide_requested,
                status=status,
                decided_at=now if status == "confirmed" else None,
            )
            for number, (squad_start, squad_end) in enumerate(plan.squad_windows(), start=1)
        ]
        db.session.add_all(made)
        db.session.flush()
        was = f"{olds[0].site.name} {olds[0].starts_at.astimezone(LOCAL_TZ):%m-%d %H:%M}"
        for r in olds:
            r.replaced_by_id = made[0].id
        for r in made:
            record_event(
                booking, "replace", who, r, "declined", r.status, _("替换：%(was)s", was=was)
            )
        before = booking.status
        refresh_booking_status(booking, who)
        if status == "pending":
            notify_hosts(booking, _("新的预约待确认：%(name)s", name=class_name), made)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, before)
    return made


def replacement_day_choices(booking: Booking) -> list[date]:
    """The class's days, offered for the replacement."""
    first, last = class_window(booking.training_class)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def replaceable_sites() -> list[TeachingSite]:
    return list(db.session.scalars(bookable_sites_query()))
