"""Registrations for joint events, with a waiting list that never overfills.

Registrations are made with the event row locked (``lock_event``: BEGIN IMMEDIATE on
SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so concurrent registrations never fill more
places than the capacity, and a cancellation promotes the first in line at once. Functions
that take that lock commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.events.access import (
    acting_member,
    event_link,
    get_event,
    is_member_user,
    is_office,
    today,
)
from portal.events.models import EventRegistration, JointEvent
from portal.events.validation import _clean_text, is_id
from portal.extensions import SQLITE_IMMEDIATE, db
from portal.notifications.services import member_staff, notify
from portal.timeutil import utcnow

# ---------------------------------------------------------------- registrations and the waiting list


def locks_enabled() -> bool:
    """Always on; a test switches it off (EVENT_LOCKS) to show the race it prevents."""
    return not has_app_context() or current_app.config.get("EVENT_LOCKS", True)


def lock_event(event_id: int) -> JointEvent:
    """Start a transaction holding the event's lock and return the event, freshly loaded.

    The same pattern as ``portal.scheduling.booking.begin_locked``: SQLite starts the
    transaction with BEGIN IMMEDIATE (one writer at a time, from its first read), PostgreSQL
    locks the event's row with SELECT … FOR UPDATE. Whatever the session held before is rolled
    back.
    """
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_IMMEDIATE: locks_enabled()})
    query = select(JointEvent).where(JointEvent.id == event_id)
    if locks_enabled():
        query = query.with_for_update()
    event = db.session.scalar(query)
    if event is None:
        db.session.rollback()
        raise NotFound(_("没有找到该活动。"))
    return event


def places_taken(event_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(EventRegistration)
        .where(EventRegistration.event_id == event_id, EventRegistration.status == "registered")
    )


def waiting_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(EventRegistration)
        .where(EventRegistration.event_id == event_id, EventRegistration.status == "waitlisted")
    )


def registration_problem(event: JointEvent) -> str:
    """Why members cannot register for ``event`` now ("" when they can)."""
    if event.category != "training":
        return _("该活动不接受人员报名。")
    if event.status == "draft":
        return _("该活动尚未发布。")
    if event.status == "cancelled":
        return _("该活动已取消。")
    if event.registration_deadline is not None and today() > event.registration_deadline:
        return _("报名已于 %(day)s 截止。", day=event.registration_deadline.isoformat())
    ends = event.ends_at
    if ends is not None and ends < utcnow():
        return _("该活动已结束。")
    return ""


def validate_registration(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    errors: dict[str, str] = {}
    _clean_text(errors, values, "participant_name", _("姓名"), True, 64)
    _clean_text(errors, values, "participant_title", _("职务"), False, 64)
    _clean_text(errors, values, "phone", _("联系电话"), False, 32)
    if errors:
        raise ValidationFailed(errors)
    return values


def register(
    event_id: int, actor: Any, values: dict[str, Any], member_id: Any = None
) -> EventRegistration:
    """Register a named participant for a member; when the event is full, on the waiting list.

    Runs with the event locked, so places are never given twice. Commits.
    """
    values = validate_registration(values)
    event = get_event(event_id, actor)
    problem = registration_problem(event)
    if problem:
        raise ServiceError(problem)
    owner = acting_member(actor, event, member_id)
    actor_id = actor.id
    event = lock_event(event.id)
    try:
        problem = registration_problem(event)
        if problem:
            raise ServiceError(problem)
        duplicate = db.session.scalar(
            select(EventRegistration.id).where(
                EventRegistration.event_id == event.id,
                EventRegistration.member_id == owner,
                EventRegistration.participant_name == values["participant_name"],
                EventRegistration.status != "cancelled",
            )
        )
        if duplicate is not None:
            raise ValidationFailed({"participant_name": _("本单位已为此人报名。")})
        full = event.capacity is not None and places_taken(event.id) >= event.capacity
        now = utcnow()
        registration = EventRegistration(
            event_id=event.id,
            member_id=owner,
            participant_name=values["participant_name"],
            participant_title=values.get("participant_title") or "",
            phone=values.get("phone") or "",
            status="waitlisted" if full else "registered",
            waitlisted_at=now if full else None,
            created_by_id=actor_id,
            created_at=now,
        )
        db.session.add(registration)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return registration


def promote_waiting(event: JointEvent) -> list[EventRegistration]:
    """Move the first in line to registered while places are free (the lock is held)."""
    if event.category != "training" or event.status != "published":
        return []
    taken = places_taken(event.id)
    waiting = db.session.scalars(
        select(EventRegistration)
        .where(EventRegistration.event_id == event.id, EventRegistration.status == "waitlisted")
        .order_by(EventRegistration.waitlisted_at, EventRegistration.id)
    ).all()
    promoted = []
    for registration in waiting:
        if event.capacity is not None and taken >= event.capacity:
            break
        registration.status = "registered"
        registration.promoted_at = utcnow()
        taken += 1
        promoted.append(registration)
    db.session.flush()
    return promoted


def notify_promoted(event: JointEvent, promoted: Iterable[EventRegistration]) -> None:
    for registration in promoted:
        notify(
            member_staff([registration.member_id]),
            _(
                "候补转正：%(name)s 已获得“%(title)s”的名额",
                name=registration.participant_name,
                title=event.title,
            ),
            _("有人取消报名，候补人员已自动转为正式报名。"),
            event_link(event),
        )


def can_manage_registration(user: Any, registration: EventRegistration) -> bool:
    return is_office(user) or (is_member_user(user) and user.member_id == registration.member_id)


def cancel_registration(registration_id: Any, actor: Any) -> list[EventRegistration]:
    """Cancel a registration; a freed place goes to the first in line. Commits.

    Returns the registrations promoted from the waiting list.
    """
    registration = (
        db.session.get(EventRegistration, registration_id) if is_id(registration_id) else None
    )
    if registration is None or not can_manage_registration(actor, registration):
        raise NotFound(_("没有找到该报名。"))
    event = lock_event(registration.event_id)
    try:
        registration = db.session.get(EventRegistration, registration_id)
        if registration.status == "cancelled":
            raise ServiceError(_("该报名已取消。"))
        was = registration.status
        registration.status = "cancelled"
        registration.cancelled_at = utcnow()
        db.session.flush()
        promoted = promote_waiting(event) if was == "registered" else []
        notify_promoted(event, promoted)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return promoted


def registrations_for(event: JointEvent, user: Any) -> list[EventRegistration]:
    """The registrations ``user`` may see: all for the office, the member's own for staff."""
    query = (
        select(EventRegistration)
        .where(EventRegistration.event_id == event.id)
        .options(selectinload(EventRegistration.member))
        .order_by(
            EventRegistration.status == "cancelled",
            EventRegistration.status == "waitlisted",
            EventRegistration.waitlisted_at,
            EventRegistration.id,
        )
    )
    if is_office(user):
        return list(db.session.scalars(query))
    if is_member_user(user):
        return list(db.session.scalars(query.where(EventRegistration.member_id == user.member_id)))
    return []


def waiting_position(registration: EventRegistration) -> int | None:
    """The place in line of a waiting registration (1 is next)."""
    if registration.status != "waitlisted":
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(EventRegistration)
        .where(
            EventRegistration.event_id == registration.event_id,
            EventRegistration.status == "waitlisted",
            (EventRegistration.waitlisted_at < registration.waitlisted_at)
            | (
                (EventRegistration.waitlisted_at == registration.waitlisted_at)
                & (EventRegistration.id < registration.id)
            ),
        )
    )
    return ahead + 1
