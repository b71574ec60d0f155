"""Booking a plan without overbooking, moving and cancelling it, the hosting member's decisions.

Booking is done inside one transaction that first locks what it is about to fill
(``portal.scheduling.locks.begin_locked``, see docs/scheduling.md): BEGIN IMMEDIATE on
SQLite, ``SELECT … FOR UPDATE`` on the sites and teachers involved on PostgreSQL.

Whether a plan fits is decided by ``portal.scheduling.fitting.check_plan``, under the lock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import TeachingSite
from portal.catalog.services import Page, paginate
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.reports.review import confirm_blocked, exempted
from portal.scheduling.classes import (
    active_bookings,
    class_window,
    needs_ring_route,
    require_class_owner,
    ring_route_message,
)
from portal.scheduling.fitting import (
    BookingRefused,
    PlannedStop,
    Problem,
    check_plan,
    date_problems,
    load_context,
    window_label,
)
from portal.scheduling.history import (
    booking_changed,
    notify_hosts,
    notify_organizer,
    record_event,
    refresh_booking_status,
)
from portal.scheduling.locks import begin_locked
from portal.scheduling.models import HOLDING, Booking, Reservation, RouteTemplate, TrainingClass
from portal.scheduling.settings import setting
from portal.scheduling.waitlist import offer_freed_places
from portal.timeutil import LOCAL_TZ, utcnow, within_range

# ---------------------------------------------------------------- the booking transaction


@dataclass(frozen=True)
class ActorRef:
    """Who acts, as the history records them: read before the lock expires the user object."""

    id: int
    display_name: str


def _blocking(problems: list[Problem], waitlist_full: bool) -> tuple[list[Problem], set[int]]:
    """The problems that refuse the booking, and the stops that join a waiting list instead."""
    waiting = (
        {p.index for p in problems if p.suggestion.get("waitlist")} if waitlist_full else set()
    )
    blocking = [p for p in problems if p.index not in waiting or not p.suggestion.get("waitlist")]
    return blocking, waiting


def book(
    training_class: TrainingClass,
    plan: Sequence[PlannedStop],
    actor: Any,
    *,
    template: RouteTemplate | None = None,
    name: str = "",
    idempotency_key: str | None = None,
    waitlist_full: bool = False,
) -> Booking:
    """Book a plan for a class, or raise BookingRefused with every problem. Commits.

    With ``waitlist_full``, stops whose only problem is a full session (or no free guide)
    join that session's waiting list instead of refusing the booking.

    The plan is checked twice. First without locks, so that a plan that does not fit (a full
    session) is refused at once instead of waiting behind the bookings that hold its sites;
    such a refusal is true of the data committed when it was read. Then, if it fits, again
    under the locks (begin_locked), where what the locks protect is read again: the
    reservations held in the window and the teachers' unavailable days.
    """
    require_class_owner(training_class, actor)
    if training_class.cancelled:
        raise ServiceError(_("该培训班已取消。"))
    if idempotency_key:
        done = db.session.scalar(select(Booking).where(Booking.idempotency_key == idempotency_key))
        if done is not None:
            return same_submission(done, training_class, actor)
    if template is not None and training_class.kind not in template.kinds:
        raise ServiceError(
            _("“%(route)s”不向%(kind)s开放。", route=template.name, kind=training_class.kind_label)
        )
    # Read now what the writes need: the lock's rollback expires every loaded object.
    size, class_name, class_id = training_class.size, training_class.name, training_class.id
    # Plan review on and the plan not approved: even automatic sites wait (confirm_blocked).
    auto_allowed = not (
        any(p.site is not None and p.site.auto_confirm for p in plan)
        and confirm_blocked(training_class)
    )
    within = class_window(training_class)
    who = ActorRef(actor.id, getattr(actor, "display_name", "") or _("系统"))
    route_name = template.name if template is not None else _("定制线路")
    template_id = template.id if template is not None else None
    stops = sorted((p for p in plan if p.site is not None), key=lambda p: p.starts_at)
    ids = [
        (p.site.id, p.course.id if p.course else None, p.teacher.id if p.teacher else None)
        for p in stops
    ]
    if not plan:
        raise BookingRefused(check_plan(plan, size))
    if off_days := date_problems(plan, within):
        raise BookingRefused(off_days)  # before any read: nothing else matters on such days
    start, end = min(p.starts_at for p in plan), max(p.ends_at for p in plan)
    context = load_context(plan, start, end, None)
    problems = check_plan(plan, size, context=context, class_name=class_name, within=within)
    blocking, _waiting = _blocking(problems, waitlist_full)
    if blocking:
        if idempotency_key:
            done = db.session.scalar(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            )
            if done is not None:  # the same form, submitted a moment ago, took the places
                return same_submission(done, training_class, actor)
        raise BookingRefused(blocking)
    begin_locked([site_id for site_id, _c, _t in ids], [t for _s, _c, t in ids if t])
    try:
        if idempotency_key:
            done = db.session.scalar(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            )
            if done is not None:
                db.session.rollback()
                return same_submission(done, training_class, actor)
        # The plan's sites and teachers are the objects begin_locked has just read again.
        context = load_context(plan, start, end, None, reuse=context)
        problems = check_plan(plan, size, context=context, class_name=class_name)
        blocking, waiting = _blocking(problems, waitlist_full)
        if blocking:
            raise BookingRefused(blocking)
        now = utcnow()
        reservations = []
        for stop, (_site_id, course_id, teacher_id) in zip(stops, ids, strict=True):
            site = stop.site
            per_squad = math.ceil(size / stop.squads)
            status = (
                "waitlisted"
                if stop.index in waiting
                else ("confirmed" if site.auto_confirm and auto_allowed else "pending")
            )
            for number, (squad_start, squad_end) in enumerate(stop.squad_windows(), start=1):
                reservations.append(
                    Reservation(
                        site=site,
                        course_id=course_id,
                        teacher_id=teacher_id,
                        starts_at=squad_start,
                        ends_at=squad_end,
                        group_size=per_squad if stop.squads > 1 else size,
                        squad=number,
                        guide_requested=site.needs_guide or stop.guide_requested,
                        status=status,
                        waitlisted_at=now if status == "waitlisted" else None,
                        decided_at=now if status == "confirmed" else None,
                    )
                )
        # Built whole in memory, inserted at the commit: one statement per table.
        booking = Booking(
            class_id=class_id,
            template_id=template_id,
            name=name or route_name,
            start_date=min(p.starts_at for p in plan).date(),
            created_by_id=who.id,
            idempotency_key=idempotency_key,
            status="pending",
            reservations=reservations,
        )
        db.session.add(booking)
        record_event(booking, "create", who, new="pending")
        for reservation in reservations:
            record_event(booking, reservation.status, who, reservation, "", reservation.status)
        refresh_booking_status(booking, who)
        waiting_hosts = [r for r in reservations if r.status == "pending"]
        if waiting_hosts:
            booking.training_class = training_class  # what the notice describes
            notify_hosts(booking, _("新的预约待确认：%(name)s", name=class_name), waiting_hosts)
        new_status = booking.status
        owners = {stop.site.member.plugin for stop in stops}
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, "", new_status=new_status, owners=owners)
    return booking


def same_submission(done: Booking, training_class: TrainingClass, actor: Any) -> Booking:
    """The booking a repeated form made, if it is the same class's and the same person's."""
    if done.class_id != training_class.id or done.created_by_id != actor.id:
        raise ServiceError(_("表单已失效，请刷新页面后重新提交。"))
    return done


# ---------------------------------------------------------------- decisions by the hosting member


INBOX_PER_PAGE = 50


def member_inbox(
    actor: Any,
    status: str = "pending",
    *,
    member_id: int | None = None,
    earlier: bool = False,
    page: int = 1,
    per_page: int = INBOX_PER_PAGE,
    now: datetime | None = None,
) -> Page:
    """One page of reservations of the actor's member's sites (all members' for the office).

    By default those from today on, soonest first; ``earlier`` gives the ones before today,
    latest first. The index on (status, starts_at) serves both orders.
    """
    today = (now or utcnow()).astimezone(LOCAL_TZ).date()
    cutoff = datetime.combine(today, time(0), tzinfo=LOCAL_TZ)
    query = (
        select(Reservation)
        .join(Reservation.site)
        .where(Reservation.status == status)
        .options(
            selectinload(Reservation.booking).selectinload(Booking.training_class),
            selectinload(Reservation.site).selectinload(TeachingSite.member),
            selectinload(Reservation.course),
            selectinload(Reservation.teacher),
        )
    )
    if earlier:
        query = query.where(Reservation.starts_at < cutoff).order_by(
            Reservation.starts_at.desc(), Reservation.id.desc()
        )
    else:
        query = query.where(Reservation.starts_at >= cutoff).order_by(
            Reservation.starts_at, Reservation.id
        )
    if not actor.is_office:
        if not actor.is_member_user:
            raise PermissionDenied(_("只有成员单位工作人员可以处理预约。"))
        query = query.where(TeachingSite.member_id == actor.member_id)
    elif member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    return paginate(query, page, per_page)


def get_reservation_for_member(reservation_id: int, actor: Any) -> Reservation:
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None or not (
        actor.is_office or (actor.is_member_user and reservation.site.member_id == actor.member_id)
    ):
        raise NotFound(_("没有找到该预约。"))
    return reservation


def decide(reservation: Reservation, actor: Any, confirm: bool, reason: str = "") -> None:
    """The hosting member confirms (re-checking every rule) or declines a reservation. Commits."""
    get_reservation_for_member(reservation.id, actor)
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise ValidationFailed({"reason": _("婉拒时请说明原因。")})
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    reservation_id = reservation.id
    begin_locked([reservation.site_id], [reservation.teacher_id] if reservation.teacher_id else [])
    try:
        reservation = db.session.get(Reservation, reservation_id)
        if reservation.status != "pending":
            raise ServiceError(_("该预约已处理（%(status)s）。", status=reservation.status_label))
        booking = reservation.booking
        if confirm and confirm_blocked(booking.training_class):
            raise ServiceError(
                _(
                    "“%(name)s”的培训计划尚未经环线办审核通过，暂不能确认预约。",
                    name=booking.training_class.name,
                )
            )
        if confirm:
            stop = PlannedStop(
                index=0,
                kind="course" if reservation.course else "visit",
                starts_at=reservation.starts_at.astimezone(LOCAL_TZ),
                minutes=int((reservation.ends_at - reservation.starts_at).total_seconds() // 60),
                site=reservation.site,
                course=reservation.course,
                teacher=reservation.teacher,
                guide_requested=reservation.guide_requested,
            )
            problems = [
                p
                for p in check_plan(
                    [stop],
                    reservation.group_size,
                    exclude_booking=booking.id,
                    requested_at=reservation.starts_at - timedelta(seconds=1),
                )
                if p.code not in ("member_rule", "past")
            ]
            if problems:
                raise BookingRefused(problems)
        old = reservation.status
        booking_before = booking.status
        reservation.status = "confirmed" if confirm else "declined"
        reservation.decided_by_id = actor.id
        reservation.decided_at = utcnow()
        reservation.decline_reason = reason if not confirm else ""
        record_event(
            booking,
            "confirm" if confirm else "decline",
            actor,
            reservation,
            old,
            reservation.status,
            reason,
        )
        refresh_booking_status(booking, actor)
        if confirm:
            subject = _(
                "“%(site)s”已确认接待%(name)s",
                site=reservation.site.name,
                name=booking.training_class.name,
            )
        else:
            subject = _(
                "“%(site)s”婉拒了%(name)s：%(reason)s",
                site=reservation.site.name,
                name=booking.training_class.name,
                reason=reason,
            )
        notify_organizer(booking, subject)
        if not confirm:
            offer_freed_places([reservation], actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, booking_before)


# ---------------------------------------------------------------- cancelling and moving


def change_deadline(booking: Booking) -> date:
    return booking.start_date - timedelta(days=setting("change_deadline_days"))


def cancel_booking(booking: Booking, actor: Any, reason: str) -> None:
    """Cancel a whole booking; freed places go to the waiting list at once. Commits."""
    require_class_owner(booking.training_class, actor)
    if booking.status == "cancelled":
        raise ServiceError(_("该预约已取消。"))
    today = datetime.now(LOCAL_TZ).date()
    if not actor.is_office and today > change_deadline(booking):
        raise ServiceError(
            _(
                "已过取消截止日期（%(day)s），请联系环线办办理。",
                day=change_deadline(booking).isoformat(),
            )
        )
    training_class = booking.training_class
    others = [b for b in active_bookings(training_class) if b.id != booking.id]
    if (
        needs_ring_route(training_class)
        and not others
        and not actor.is_office
        and not exempted(training_class)
    ):
        raise ServiceError(
            ring_route_message(training_class) + _("如确需取消，请先预约其他线路或联系环线办。")
        )
    reason = (reason or "").strip()
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    booking_id = booking.id
    site_ids = [r.site_id for r in booking.reservations]
    begin_locked(site_ids, [])
    try:
        booking = db.session.get(Booking, booking_id)
        freed = []
        for r in booking.reservations:
            if r.status in ("pending", "confirmed", "offered", "waitlisted"):
                if r.status != "waitlisted":
                    freed.append(r)
                record_event(booking, "cancel", actor, r, r.status, "cancelled", reason)
                r.status = "cancelled"
        booking_before = booking.status
        record_event(booking, "status", actor, old=booking.status, new="cancelled", reason=reason)
        booking.status = "cancelled"
        booking.cancelled_at = utcnow()
        booking.cancel_reason = reason
        if freed:
            notify_hosts(
                booking, _("预约已取消：%(name)s", name=booking.training_class.name), freed
            )
        offer_freed_places(freed, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, booking_before)


@dataclass(frozen=True)
class FreedWindow:
    """Seats a moved stop left behind, for the waiting list."""

    site_id: int
    starts_at: datetime
    ends_at: datetime


def move_booking(booking: Booking, new_start: date, actor: Any) -> None:
    """Move a whole booking to start on ``new_start``, keeping its days and hours. Commits.

    Every stop is checked again at its new time (its own old places not counted) under the
    same locks as a new booking; the moved stops wait for the members' confirmation again
    (unless their sites confirm automatically), and the places left go to those waiting.
    """
    require_class_owner(booking.training_class, actor)
    if booking.status == "cancelled":
        raise ServiceError(_("该预约已取消。"))
    today = datetime.now(LOCAL_TZ).date()
    if not actor.is_office and today > change_deadline(booking):
        raise ServiceError(
            _(
                "已过改期截止日期（%(day)s），请联系环线办办理。",
                day=change_deadline(booking).isoformat(),
            )
        )
    if not isinstance(new_start, date) or new_start <= today:
        raise ValidationFailed({"start_date": _("新的开始日期须在今天之后。")})
    if not within_range(new_start):
        raise ValidationFailed({"start_date": _("日期须在 2000 年至 2100 年之间。")})
    within = class_window(booking.training_class)
    if not within[0] <= new_start <= within[1]:
        raise ValidationFailed(
            {
                "start_date": _(
                    "新的开始日期须在培训班日期（%(dates)s）内；如培训班改了日期，请先修改培训班。",
                    dates=window_label(within),
                )
            }
        )
    days = (new_start - booking.start_date).days
    if days == 0:
        raise ValidationFailed({"start_date": _("新的开始日期与原日期相同。")})
    live = [r for r in booking.reservations if r.status in HOLDING]
    if not live:
        raise ServiceError(_("该预约没有可以改期的站点。"))
    booking_id = booking.id
    begin_locked([r.site_id for r in live], [r.teacher_id for r in live if r.teacher_id])
    try:
        booking = db.session.get(Booking, booking_id)
        live = [r for r in booking.reservations if r.status in HOLDING]
        shift = timedelta(days=days)
        plan = [
            PlannedStop(
                index=i,
                kind="course" if first.course else "visit",
                starts_at=(first.starts_at + shift).astimezone(LOCAL_TZ),
                minutes=int((first.ends_at - first.starts_at).total_seconds() // 60),
                site=first.site,
                course=first.course,
                teacher=first.teacher,
                squads=len(squads),
                guide_requested=first.guide_requested,
            )
            for i, squads in enumerate(stops_of(live))
            for first in squads[:1]
        ]
        problems = check_plan(
            plan,
            booking.training_class.size,
            exclude_booking=booking.id,
            class_name=booking.training_class.name,
            within=within,
        )
        if problems:
            raise BookingRefused(problems)
        freed = [FreedWindow(r.site_id, r.starts_at, r.ends_at) for r in live]
        before = booking.status
        auto_allowed = not confirm_blocked(booking.training_class)
        for r in live:
            old = r.status
            r.starts_at, r.ends_at = r.starts_at + shift, r.ends_at + shift
            r.status = "confirmed" if r.site.auto_confirm and auto_allowed else "pending"
            r.decided_by_id = r.decided_at = None
            if r.guide_id is not None:
                # A roster guide was free at the old time only: named again after the move.
                r.guide_id, r.guide_name = None, ""
            record_event(booking, "move", actor, r, old, r.status)
        booking.start_date = booking.start_date + shift
        refresh_booking_status(booking, actor)
        notify_hosts(
            booking,
            _(
                "预约改期：%(name)s 改为 %(day)s 开始",
                name=booking.training_class.name,
                day=booking.start_date.isoformat(),
            ),
            [r for r in live if r.status == "pending"],
        )
        offer_freed_places(freed, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, before)


def stops_of(reservations: Sequence[Reservation]) -> list[list[Reservation]]:
    """Reservations grouped by stop: the squads of a split class visit one after another."""
    stops: list[list[Reservation]] = []
    for r in sorted(reservations, key=lambda r: (r.starts_at, r.id)):
        last = stops[-1][-1] if stops else None
        if (
            last is not None
            and r.squad > 1
            and r.squad == last.squad + 1
            and (r.site_id, r.course_id, r.teacher_id)
            == (last.site_id, last.course_id, last.teacher_id)
            and r.starts_at == last.ends_at
        ):
            stops[-1].append(r)
        else:
            stops.append([r])
    return stops


def get_booking(booking_id: int, actor: Any) -> Booking:
    stops = selectinload(Booking.reservations)
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.training_class),
            stops.selectinload(Reservation.site).selectinload(TeachingSite.member),
            stops.selectinload(Reservation.course),
            stops.selectinload(Reservation.teacher),
        )
    )
    if booking is None:
        raise NotFound(_("没有找到该预约。"))
    require_class_owner(booking.training_class, actor)
    return booking
