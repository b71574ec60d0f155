"""Joint events: who may do what, the programme, registrations with a waiting list, contests.

Rules in one place, shared by the pages and tests:

* only the office (环线办) creates, edits, publishes and cancels events, sets criteria,
  appoints judges, publishes results and names winners;
* everyone sees published events (drafts: the office only); members' staff take part
  (register participants, enter guides or courses) in events open to all members or to
  which their member is invited;
* a judge scores only the contests they are appointed to, and never an entry of their
  own member (回避); results are hidden from everyone but the office until published;
* registrations are made with the event row locked (``lock_event``: BEGIN IMMEDIATE on
  SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so concurrent registrations never fill
  more places than the capacity, and a cancellation promotes the first in line at once.

Functions that take that lock commit; the others leave the commit to the caller.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import plugins
from portal.auth.models import MEMBER_ROLES, User
from portal.catalog import services as catalog_services
from portal.catalog.models import Course, EventType, Teacher, TeacherUnavailability, TeachingSite
from portal.catalog.services import require_office
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.events.fields import EventFieldSpec, check_specs, clean_values
from portal.events.models import (
    CATEGORIES,
    DEFAULT_CATEGORY_BY_KIND,
    ContestCriterion,
    ContestEntry,
    ContestJudge,
    ContestScore,
    EventRegistration,
    EventSession,
    JointEvent,
)
from portal.extensions import SQLITE_IMMEDIATE, db
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import HOLDING, Reservation
from portal.timeutil import LOCAL_TZ, utcnow

MAX_TEXT = 5000
MAX_CAPACITY = 10000
MAX_CRITERIA = 10
TWO_PLACES = Decimal("0.01")
ONE_PLACE = Decimal("0.1")


def event_link(event: JointEvent | int) -> str:
    """The event page's path (services may run outside a request: no url_for)."""
    return f"/events/{event if isinstance(event, int) else event.id}"


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


# ---------------------------------------------------------------- who may do what


def is_office(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_office)


def is_member_user(user: Any) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and user.is_member_user
    )


def visible(event: JointEvent, user: Any) -> bool:
    """Published events (also once cancelled) for everyone; drafts for the office only."""
    return is_office(user) or (event.published_at is not None and event.status != "draft")


def get_event(event_id: Any, user: Any) -> JointEvent:
    """The event if ``user`` may see it; NotFound (404) otherwise, leaking nothing."""
    event = db.session.get(JointEvent, event_id) if is_id(event_id) else None
    if event is None or not visible(event, user):
        raise NotFound(_("没有找到该活动。"))
    return event


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def open_to(event: JointEvent, member_id: int | None) -> bool:
    """Whether members' staff of ``member_id`` may take part (register, enter)."""
    if member_id is None:
        return False
    return event.open_to_all or any(m.id == member_id for m in event.invited_members)


def can_take_part(user: Any, event: JointEvent) -> bool:
    return is_member_user(user) and open_to(event, user.member_id)


def acting_member(user: Any, event: JointEvent, member_id: Any = None) -> int:
    """The member a registration or entry is for: staff act for their own, the office chooses."""
    if is_member_user(user):
        if not open_to(event, user.member_id):
            raise PermissionDenied(_("本单位不在该活动的邀请范围内。"))
        return user.member_id
    if not is_office(user):
        raise PermissionDenied(_("只有成员单位工作人员或环线办可以办理。"))
    member = db.session.get(Member, member_id) if is_id(member_id) else None
    if member is None:
        raise ValidationFailed({"member_id": _("请选择成员单位。")})
    if not open_to(event, member.id):
        raise ValidationFailed({"member_id": _("该成员单位不在活动的邀请范围内。")})
    return member.id


def list_events(user: Any, *, category: str = "", year: int | None = None) -> list[JointEvent]:
    """Events ``user`` may see, the next (or latest) first; filtered by category and year."""
    query = select(JointEvent).options(
        selectinload(JointEvent.sessions),
        selectinload(JointEvent.event_type).selectinload(EventType.member),
        selectinload(JointEvent.invited_members),
    )
    if not is_office(user):
        query = query.where(JointEvent.published_at.is_not(None), JointEvent.status != "draft")
    if category in CATEGORIES:
        query = query.where(JointEvent.category == category)
    events = list(db.session.scalars(query))
    if year is not None:
        events = [
            e for e in events if e.starts_at and e.starts_at.astimezone(LOCAL_TZ).year == year
        ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(events, key=lambda e: (e.starts_at or far, e.id), reverse=True)


# ---------------------------------------------------------------- kinds and plugin fields


def event_types() -> list[EventType]:
    """The kinds of joint event an event can be of (not retired), by member."""
    return list(
        db.session.scalars(
            select(EventType)
            .where(EventType.status != "retired")
            .options(selectinload(EventType.member))
            .order_by(EventType.member_id, EventType.name, EventType.id)
        )
    )


def default_category(event_type: EventType) -> str:
    return DEFAULT_CATEGORY_BY_KIND.get(event_type.key or "", "training")


def field_specs(event_type: EventType) -> list[EventFieldSpec]:
    """Fields the plugin that contributed ``event_type`` adds to its events.

    Asked only of that plugin (and only while it is enabled); a plugin that raises or
    answers something unusable is recorded on the plugins page and adds no fields.
    """
    if not event_type.plugin or not event_type.key:
        return []
    answers = plugins.call_each(
        "portal_event_fields",
        plugins={event_type.plugin},
        check=check_specs,
        event_type_key=event_type.key,
    )
    return [spec for _name, specs in answers for spec in specs]


# ---------------------------------------------------------------- events: create, edit, publish


def _clean_text(errors: dict, values: dict, name: str, label: str, required: bool, limit: int):
    catalog_services.clean_text(errors, values, name, label, required=required, limit=limit)


def validate_event(
    values: dict[str, Any], specs: Sequence[EventFieldSpec], old_extra: dict | None = None
) -> dict[str, Any]:
    """Checked, normalised event values; ValidationFailed names every bad field."""
    values = dict(values)
    errors: dict[str, str] = {}
    _clean_text(errors, values, "title", _("活动名称"), True, 128)
    _clean_text(errors, values, "description", _("活动简介"), False, MAX_TEXT)
    if values.get("category") not in CATEGORIES:
        errors["category"] = _("请选择活动形式。")
    values["open_to_all"] = bool(values.get("open_to_all"))
    ids = values.pop("invited_member_ids", None) or []
    if not isinstance(ids, list | tuple | set) or not all(is_id(i) for i in ids):
        ids = [0]
    ids = sorted(set(ids))
    invited = list(db.session.scalars(select(Member).where(Member.id.in_(ids)))) if ids else []
    if len(invited) != len(ids):
        errors["invited_member_ids"] = _("所选成员单位不存在。")
    elif not values["open_to_all"] and not invited:
        errors["invited_member_ids"] = _("请至少邀请一个成员单位，或设为向全体成员单位开放。")
    values["invited_members"] = sorted(invited, key=lambda m: m.id)
    capacity = values.get("capacity")
    if capacity is not None and (
        not isinstance(capacity, int)
        or isinstance(capacity, bool)
        or not 1 <= capacity <= MAX_CAPACITY
    ):
        errors["capacity"] = _(
            "名额须为 1 到 %(max)s 之间的整数，不限名额请留空。", max=MAX_CAPACITY
        )
    deadline = values.get("registration_deadline")
    if deadline is not None and (
        not isinstance(deadline, date) or not 2000 <= deadline.year <= 2100
    ):
        errors["registration_deadline"] = _("请填写有效的截止日期。")
    raw_extra = values.pop("extra", None) or {}
    stored, extra_errors = clean_values(specs, raw_extra if isinstance(raw_extra, dict) else {})
    errors.update(extra_errors)
    # Values of fields the plugin no longer offers (or cannot offer right now) are kept.
    keys = {s.key for s in specs}
    kept = {k: v for k, v in (old_extra or {}).items() if k not in keys}
    values["extra"] = {**kept, **stored}
    if errors:
        raise ValidationFailed(errors)
    return values


EVENT_FIELDS = (
    "title",
    "description",
    "category",
    "open_to_all",
    "invited_members",
    "capacity",
    "registration_deadline",
    "extra",
)


def create_event(actor: Any, event_type_id: Any, values: dict[str, Any]) -> JointEvent:
    """A new draft event of a kind. Only the office. The caller commits."""
    require_office(actor)
    event_type = db.session.get(EventType, event_type_id) if is_id(event_type_id) else None
    if event_type is None or event_type.status == "retired":
        raise ValidationFailed({"event_type_id": _("请选择活动类型。")})
    values = validate_event(values, field_specs(event_type))
    event = JointEvent(
        event_type=event_type,
        created_by_id=actor.id,
        status="draft",
        **{f: values[f] for f in EVENT_FIELDS},
    )
    db.session.add(event)
    db.session.flush()
    return event


def update_event(event_id: int, actor: Any, values: dict[str, Any]) -> JointEvent:
    """Edit an event; more places promote those waiting. Only the office. Commits."""
    require_office(actor)
    event = get_event(event_id, actor)
    if event.status == "cancelled":
        raise ServiceError(_("已取消的活动不能再修改。"))
    values = validate_event(values, field_specs(event.event_type), event.extra)
    event = lock_event(event_id)
    try:
        if values["category"] != event.category and (event.entries or event.registrations):
            raise ValidationFailed({"category": _("已有报名或参赛项目，不能再改变活动形式。")})
        taken = places_taken(event.id)
        if values["capacity"] is not None and values["capacity"] < taken:
            raise ValidationFailed(
                {"capacity": _("已有 %(count)s 人报名，名额不能少于此数。", count=taken)}
            )
        for name in EVENT_FIELDS:
            setattr(event, name, values[name])
        db.session.flush()
        promoted = promote_waiting(event)
        notify_promoted(event, promoted)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event


def publish_event(event: JointEvent, actor: Any) -> None:
    """Publish a draft: it shows in the list, the calendar and the feed. The caller commits."""
    require_office(actor)
    if event.status != "draft":
        raise ServiceError(_("只有草稿状态的活动可以发布。"))
    if not event.sessions:
        raise ServiceError(_("请先添加至少一项日程安排，再发布活动。"))
    event.status = "published"
    event.published_at = utcnow()
    members = (
        db.session.scalars(select(Member.id)).all()
        if event.open_to_all
        else [m.id for m in event.invited_members]
    )
    notify(
        member_staff(members),
        _("环线联动活动：%(title)s", title=event.title),
        _(
            "环线办发布了“%(title)s”（%(kind)s），请查看安排并按要求报名或报送。",
            title=event.title,
            kind=event.event_type.name,
        ),
        event_link(event),
    )


def cancel_event(event: JointEvent, actor: Any, reason: str) -> None:
    """Cancel an event with a reason; members that took part are told. The caller commits."""
    require_office(actor)
    if event.status == "cancelled":
        raise ServiceError(_("该活动已取消。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("请说明取消原因。")})
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    event.status = "cancelled"
    event.cancelled_at = utcnow()
    event.cancel_reason = reason
    involved = {r.member_id for r in event.registrations if r.status != "cancelled"}
    involved |= {e.member_id for e in event.entries}
    notify(
        member_staff(involved),
        _("活动已取消：%(title)s", title=event.title),
        reason,
        event_link(event),
    )


# ---------------------------------------------------------------- the programme


def local_dt(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ)


def session_sites() -> list[TeachingSite]:
    return list(
        db.session.scalars(
            select(TeachingSite)
            .where(TeachingSite.status != "retired")
            .options(selectinload(TeachingSite.member))
            .order_by(TeachingSite.member_id, TeachingSite.name)
        )
    )


def shared_teachers() -> list[Teacher]:
    """The consortium's shared teachers (师资共享), the pool a programme draws on."""
    return list(
        db.session.scalars(
            select(Teacher)
            .where(Teacher.shared.is_(True), Teacher.status != "retired")
            .options(selectinload(Teacher.member))
            .order_by(Teacher.member_id, Teacher.name)
        )
    )


def teacher_busy(teacher: Teacher, start: datetime, end: datetime) -> str:
    """Why ``teacher`` cannot teach in [start, end) ("" when free): another event, a class."""
    other = db.session.scalar(
        select(EventSession)
        .join(EventSession.event)
        .where(
            EventSession.teacher_id == teacher.id,
            EventSession.starts_at < end,
            EventSession.ends_at > start,
            JointEvent.status != "cancelled",
        )
        .limit(1)
    )
    if other is not None:
        return _("%(name)s此时已安排在“%(event)s”。", name=teacher.name, event=other.event.title)
    booked = db.session.scalar(
        select(Reservation.id)
        .where(
            Reservation.teacher_id == teacher.id,
            Reservation.status.in_(HOLDING),
            Reservation.starts_at < end,
            Reservation.ends_at > start,
        )
        .limit(1)
    )
    if booked is not None:
        return _("%(name)s此时已有培训班的教学安排。", name=teacher.name)
    first, last = start.astimezone(LOCAL_TZ).date(), end.astimezone(LOCAL_TZ).date()
    away = db.session.scalar(
        select(TeacherUnavailability.id)
        .where(
            TeacherUnavailability.teacher_id == teacher.id,
            TeacherUnavailability.starts_on <= last,
            TeacherUnavailability.ends_on >= first,
        )
        .limit(1)
    )
    if away is not None:
        return _("%(name)s在该日期不能授课。", name=teacher.name)
    return ""


def validate_session(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    errors: dict[str, str] = {}
    _clean_text(errors, values, "title", _("日程内容"), True, 128)
    _clean_text(errors, values, "place", _("地点说明"), False, 128)
    day, starts, ends = values.get("day"), values.get("starts"), values.get("ends")
    if not isinstance(day, date) or not 2000 <= day.year <= 2100:
        errors["day"] = _("请填写有效的日期。")
    if not isinstance(starts, time):
        errors["starts"] = _("请填写开始时间。")
    if not isinstance(ends, time):
        errors["ends"] = _("请填写结束时间。")
    elif isinstance(starts, time) and ends <= starts:
        errors["ends"] = _("结束时间须晚于开始时间。")
    site_id, teacher_id = values.pop("site_id", None), values.pop("teacher_id", None)
    values["site"] = values["teacher"] = None
    if site_id:
        site = db.session.get(TeachingSite, site_id) if is_id(site_id) else None
        if site is None or site.status == "retired":
            errors["site_id"] = _("所选教学点不存在或已退出。")
        values["site"] = site
    elif not values.get("place"):
        errors["site_id"] = _("请选择教学点，或填写地点说明。")
    if teacher_id:
        teacher = db.session.get(Teacher, teacher_id) if is_id(teacher_id) else None
        if teacher is None or not teacher.shared or teacher.status == "retired":
            errors["teacher_id"] = _("只能选择环线共享师资。")
        values["teacher"] = teacher
    if not errors:
        values["starts_at"] = local_dt(day, starts)
        values["ends_at"] = local_dt(day, ends)
        if values["teacher"] is not None:
            busy = teacher_busy(values["teacher"], values["starts_at"], values["ends_at"])
            if busy:
                errors["teacher_id"] = busy
    if errors:
        raise ValidationFailed(errors)
    return values


def add_session(event: JointEvent, actor: Any, values: dict[str, Any]) -> EventSession:
    """Add an item to the programme. Only the office. The caller commits."""
    require_office(actor)
    if event.status == "cancelled":
        raise ServiceError(_("已取消的活动不能再修改。"))
    values = validate_session(values)
    number = (
        db.session.scalar(
            select(func.max(EventSession.number)).where(EventSession.event_id == event.id)
        )
        or 0
    ) + 1
    session = EventSession(
        event=event,
        number=number,
        title=values["title"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        site=values["site"],
        teacher=values["teacher"],
        place=values.get("place") or "",
    )
    db.session.add(session)
    db.session.flush()
    return session


def remove_session(session: EventSession, actor: Any) -> None:
    """Remove an item of the programme; a published event keeps at least one."""
    require_office(actor)
    event = session.event
    if event.status == "cancelled":
        raise ServiceError(_("已取消的活动不能再修改。"))
    if event.status == "published" and len(event.sessions) <= 1:
        raise ServiceError(_("已发布的活动至少保留一项日程安排。"))
    event.sessions.remove(session)
    db.session.flush()


# ---------------------------------------------------------------- registrations and the waiting list


def locks_enabled() -> bool:
    """Always on; a test switches it off (EVENT_LOCKS) to show the race it prevents."""
    return not has_app_context() or current_app.config.get("EVENT_LOCKS", True)


def lock_event(event_id: int) -> JointEvent:
    """Start a transaction holding the event's lock and return the event, freshly loaded.

    The same pattern as ``scheduling.services.begin_locked``: SQLite starts the transaction
    with BEGIN IMMEDIATE (one writer at a time, from its first read), PostgreSQL locks the
    event's row with SELECT … FOR UPDATE. Whatever the session held before is rolled back.
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


# ---------------------------------------------------------------- contests: criteria and judges


def require_contest(event: JointEvent) -> None:
    if not event.is_contest:
        raise ServiceError(_("该活动不是评比类活动。"))


def require_contest_open(event: JointEvent) -> None:
    require_contest(event)
    if event.status == "cancelled":
        raise ServiceError(_("该活动已取消。"))
    if event.results_published_at is not None:
        raise ServiceError(_("成绩已公布，不能再修改。"))


def has_scores(event: JointEvent) -> bool:
    found = db.session.scalar(
        select(ContestScore.id)
        .join(ContestScore.entry)
        .where(ContestEntry.event_id == event.id)
        .limit(1)
    )
    return found is not None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 6:
        return int(text)
    return None


def set_criteria(
    event: JointEvent, actor: Any, rows: Sequence[tuple[Any, Any]]
) -> list[ContestCriterion]:
    """Replace a contest's criteria: (name, weight) rows, weights summing to 100.

    Blank rows are ignored. Refused once any judge has scored. The caller commits.
    """
    require_office(actor)
    require_contest_open(event)
    if has_scores(event):
        raise ServiceError(_("已有评委评分，评分标准不能再修改。"))
    errors: dict[str, str] = {}
    cleaned: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, (raw_name, raw_weight) in enumerate(rows):
        name = str(raw_name or "").strip()
        blank_weight = raw_weight is None or str(raw_weight).strip() == ""
        if not name and blank_weight:
            continue
        n = index + 1
        weight = _int_or_none(raw_weight)
        if not name:
            errors[f"criteria-{index}-name"] = _("请填写第 %(n)s 项的名称。", n=n)
        elif len(name) > 64 or "\x00" in name:
            errors[f"criteria-{index}-name"] = _("第 %(n)s 项的名称过长或包含无效字符。", n=n)
        elif name in seen:
            errors[f"criteria-{index}-name"] = _("评分项“%(name)s”重复。", name=name)
        if weight is None or not 1 <= weight <= 100:
            errors[f"criteria-{index}-weight"] = _(
                "第 %(n)s 项的权重须为 1 到 100 之间的整数。", n=n
            )
        seen.add(name)
        cleaned.append((name, weight or 0))
    if not cleaned and not errors:
        errors["criteria"] = _("请至少填写一项评分标准。")
    elif len(cleaned) > MAX_CRITERIA:
        errors["criteria"] = _("评分标准最多 %(max)s 项。", max=MAX_CRITERIA)
    elif not errors and sum(w for _n, w in cleaned) != 100:
        errors["criteria"] = _(
            "各项权重之和须为 100，现为 %(total)s。", total=sum(w for _n, w in cleaned)
        )
    if errors:
        raise ValidationFailed(errors)
    event.criteria.clear()
    db.session.flush()
    for position, (name, weight) in enumerate(cleaned, start=1):
        event.criteria.append(ContestCriterion(position=position, name=name, weight=weight))
    db.session.flush()
    return list(event.criteria)


def judge_candidates() -> list[User]:
    """Accounts that can judge: active staff of the members."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(MEMBER_ROLES), User.active.is_(True))
            .options(selectinload(User.member))
            .order_by(User.member_id, User.display_name, User.id)
        )
    )


def appoint_judge(event: JointEvent, actor: Any, user_id: Any) -> ContestJudge:
    """Appoint a member's staff account as a judge, and tell them. The caller commits."""
    require_office(actor)
    require_contest_open(event)
    judge = db.session.get(User, user_id) if is_id(user_id) else None
    if judge is None or not judge.active or not judge.is_member_user:
        raise ValidationFailed({"user_id": _("评委须为成员单位工作人员的有效账号。")})
    if any(j.user_id == judge.id for j in event.judges):
        raise ValidationFailed(
            {"user_id": _("%(name)s已是本次大赛的评委。", name=judge.display_name)}
        )
    appointment = ContestJudge(user=judge)
    event.judges.append(appointment)
    db.session.flush()
    notify(
        [judge],
        _("评委聘请：%(title)s", title=event.title),
        _(
            "环线办聘请您担任“%(title)s”的评委。本单位的参赛项目您须回避，不能评分。",
            title=event.title,
        ),
        event_link(event) + "/judging",
    )
    return appointment


def remove_judge(appointment: ContestJudge, actor: Any) -> None:
    """Withdraw a judge who has not scored yet. The caller commits."""
    require_office(actor)
    event = appointment.event
    require_contest_open(event)
    scored = db.session.scalar(
        select(ContestScore.id)
        .join(ContestScore.entry)
        .where(ContestEntry.event_id == event.id, ContestScore.judge_id == appointment.user_id)
        .limit(1)
    )
    if scored is not None:
        raise ServiceError(_("该评委已经评分，不能撤销。"))
    event.judges.remove(appointment)
    db.session.flush()


def is_judge(event: JointEvent, user: Any) -> bool:
    if not is_member_user(user):
        return False
    return any(j.user_id == user.id for j in event.judges)


# ---------------------------------------------------------------- contests: entries


def entry_problem(event: JointEvent) -> str:
    """Why members cannot enter the contest now ("" when they can)."""
    if not event.is_contest:
        return _("该活动不是评比类活动。")
    if event.status == "draft":
        return _("该活动尚未发布。")
    if event.status == "cancelled":
        return _("该活动已取消。")
    if event.results_published_at is not None:
        return _("成绩已公布，不再接受报送。")
    if event.registration_deadline is not None and today() > event.registration_deadline:
        return _("报送已于 %(day)s 截止。", day=event.registration_deadline.isoformat())
    return ""


def entry_choices(event: JointEvent, member_id: int) -> list[Any]:
    """What a member may enter: its sites (guide contest) or its courses (course contest)."""
    if not is_id(member_id):
        return []
    if event.category == "guide_contest":
        return list(
            db.session.scalars(
                select(TeachingSite)
                .where(TeachingSite.member_id == member_id, TeachingSite.status != "retired")
                .order_by(TeachingSite.name)
            )
        )
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.member_id == member_id, Course.status != "retired")
            .order_by(Course.name)
        )
    )


def submit_entry(
    event_id: Any, actor: Any, values: dict[str, Any], member_id: Any = None
) -> ContestEntry:
    """Enter a guide (name and one of the member's sites) or one of the member's courses.

    The caller commits.
    """
    event = get_event(event_id, actor)
    require_contest(event)
    problem = entry_problem(event)
    if problem:
        raise ServiceError(problem)
    owner = acting_member(actor, event, member_id)
    values = dict(values)
    errors: dict[str, str] = {}
    _clean_text(errors, values, "note", _("说明"), False, 2000)
    entry = ContestEntry(member_id=owner, submitted_by_id=actor.id, note=values.get("note") or "")
    if event.category == "guide_contest":
        _clean_text(errors, values, "guide_name", _("讲解员姓名"), True, 64)
        site_id = values.get("site_id")
        site = db.session.get(TeachingSite, site_id) if is_id(site_id) else None
        if site is None or site.member_id != owner or site.status == "retired":
            errors["site_id"] = _("请选择本单位的教学点。")
        if "guide_name" not in errors and any(
            e.member_id == owner and e.guide_name == values["guide_name"] for e in event.entries
        ):
            errors["guide_name"] = _("本单位已报送该讲解员。")
        entry.guide_name, entry.site = values.get("guide_name"), site
    else:
        course_id = values.get("course_id")
        course = db.session.get(Course, course_id) if is_id(course_id) else None
        if course is None or course.member_id != owner or course.status == "retired":
            errors["course_id"] = _("请选择本单位的课程。")
        elif any(e.course_id == course.id for e in event.entries):
            errors["course_id"] = _("该课程已报送。")
        entry.course = course
    if errors:
        raise ValidationFailed(errors)
    event.entries.append(entry)
    db.session.flush()
    return entry


def can_manage_entry(user: Any, entry: ContestEntry) -> bool:
    return is_office(user) or (is_member_user(user) and user.member_id == entry.member_id)


def withdraw_entry(entry: ContestEntry, actor: Any) -> None:
    """Withdraw an entry not yet scored. The member's staff or the office. The caller commits."""
    if not can_manage_entry(actor, entry):
        raise NotFound(_("没有找到该参赛项目。"))
    event = entry.event
    require_contest_open(event)
    if entry.scores:
        raise ServiceError(_("评委已为该项目评分，不能撤回。"))
    event.entries.remove(entry)
    db.session.flush()


def entries_for(event: JointEvent, user: Any) -> list[ContestEntry]:
    """Entries ``user`` may see listed with the contest: all (office), the member's own (staff)."""
    if is_office(user):
        return list(event.entries)
    if is_member_user(user):
        return [e for e in event.entries if e.member_id == user.member_id]
    return []


# ---------------------------------------------------------------- contests: scores and results


def score_field(criterion: ContestCriterion | int) -> str:
    """The form field (and error key) of a criterion on the score sheet."""
    return f"c{criterion if isinstance(criterion, int) else criterion.id}"


def parse_score(value: Any) -> Decimal | None:
    """A score 0–100 with at most one decimal, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    if number != number.quantize(ONE_PLACE):
        return None
    return number.quantize(ONE_PLACE)


@dataclass
class JudgeRow:
    """An entry on a judge's sheet: whether they may score it, and their total if scored."""

    entry: ContestEntry
    scoreable: bool
    total: Decimal | None


def judge_sheet(event: JointEvent, judge: Any) -> list[JudgeRow]:
    """Every entry of the contest for an appointed judge; their own member's are not scoreable."""
    if not is_judge(event, judge):
        raise PermissionDenied(_("只有本次大赛的评委可以评分。"))
    return [
        JudgeRow(
            entry,
            entry.member_id != judge.member_id,
            judge_total(entry, judge.id, event.criteria),
        )
        for entry in event.entries
    ]


def judge_scores(entry: ContestEntry, judge_id: int) -> dict[int, float]:
    """A judge's scores of an entry by criterion id."""
    return {s.criterion_id: s.score for s in entry.scores if s.judge_id == judge_id}


def weighted_total(scores: dict[int, Any], criteria: Sequence[ContestCriterion]) -> Decimal | None:
    """Σ score × weight / 100 over every criterion; None unless all criteria are scored."""
    if not criteria or any(c.id not in scores for c in criteria):
        return None
    total = sum(Decimal(str(scores[c.id])) * c.weight for c in criteria) / 100
    return total.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def judge_total(
    entry: ContestEntry, judge_id: int, criteria: Sequence[ContestCriterion]
) -> Decimal | None:
    return weighted_total(judge_scores(entry, judge_id), criteria)


def record_scores(entry: ContestEntry, judge: Any, scores: dict[Any, Any]) -> Decimal:
    """A judge's score sheet for one entry: every criterion 0–100. Returns the weighted total.

    Refused (PermissionDenied) for anyone not appointed, and for an entry of the judge's own
    member. Scoring again replaces the judge's earlier scores. The caller commits.
    """
    event = entry.event
    if not is_judge(event, judge):
        raise PermissionDenied(_("只有本次大赛的评委可以评分。"))
    if entry.member_id == judge.member_id:
        raise PermissionDenied(_("评委不能为本单位的参赛项目评分，请回避。"))
    if event.status != "published":
        raise ServiceError(_("该大赛未在进行中，不能评分。"))
    if event.results_published_at is not None:
        raise ServiceError(_("成绩已公布，不能再修改评分。"))
    if not event.criteria:
        raise ServiceError(_("环线办尚未设置评分标准。"))
    errors: dict[str, str] = {}
    parsed: dict[int, Decimal] = {}
    for criterion in event.criteria:
        raw = scores.get(criterion.id, scores.get(score_field(criterion)))
        if raw is None or str(raw).strip() == "":
            errors[score_field(criterion)] = _("请为“%(name)s”打分。", name=criterion.name)
            continue
        value = parse_score(raw)
        if value is None:
            errors[score_field(criterion)] = _(
                "“%(name)s”的分数须为 0 到 100 之间的数，最多一位小数。", name=criterion.name
            )
        else:
            parsed[criterion.id] = value
    if errors:
        raise ValidationFailed(errors)
    existing = {s.criterion_id: s for s in entry.scores if s.judge_id == judge.id}
    for criterion_id, value in parsed.items():
        row = existing.get(criterion_id)
        if row is None:
            entry.scores.append(
                ContestScore(judge_id=judge.id, criterion_id=criterion_id, score=float(value))
            )
        else:
            row.score = float(value)
    db.session.flush()
    return weighted_total({k: v for k, v in parsed.items()}, event.criteria)


@dataclass
class ResultRow:
    entry: ContestEntry
    total: Decimal | None
    rank: int | None
    judges: int
    averages: dict[int, Decimal] = field(default_factory=dict)


def results(event: JointEvent) -> list[ResultRow]:
    """Entries ranked by their mean weighted total over the judges' complete sheets.

    Totals are rounded to two decimals; equal totals share a rank and the next rank skips
    (1, 2, 2, 4). Entries nobody has scored come last, without a rank.
    """
    criteria = list(event.criteria)
    rows = []
    for entry in event.entries:
        sheets: dict[int, dict[int, float]] = defaultdict(dict)
        for score in entry.scores:
            sheets[score.judge_id][score.criterion_id] = score.score
        complete = [s for s in sheets.values() if weighted_total(s, criteria) is not None]
        totals = [weighted_total(s, criteria) for s in complete]
        total = (
            (sum(totals) / len(totals)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
            if totals
            else None
        )
        averages = {
            c.id: (sum(Decimal(str(s[c.id])) for s in complete) / len(complete)).quantize(
                TWO_PLACES, rounding=ROUND_HALF_UP
            )
            for c in criteria
            if complete
        }
        rows.append(ResultRow(entry, total, None, len(complete), averages))
    rows.sort(key=lambda r: (r.total is None, -(r.total or 0), r.entry.id))
    previous: Decimal | None = None
    rank = 0
    for position, row in enumerate(rows, start=1):
        if row.total is None:
            break
        if row.total != previous:
            rank, previous = position, row.total
        row.rank = rank
    return rows


def results_visible(event: JointEvent, user: Any) -> bool:
    """The office sees the ranking at any time; everyone else once it is published."""
    if is_office(user):
        return True
    return visible(event, user) and event.results_published_at is not None


def publish_results(event: JointEvent, actor: Any) -> None:
    """Publish the ranking; the members that entered are told. The caller commits."""
    require_office(actor)
    require_contest_open(event)
    if event.status != "published":
        raise ServiceError(_("请先发布该大赛。"))
    if not any(r.total is not None for r in results(event)):
        raise ServiceError(_("还没有任何完整的评分，不能公布成绩。"))
    event.results_published_at = utcnow()
    notify(
        member_staff({e.member_id for e in event.entries}),
        _("成绩公布：%(title)s", title=event.title),
        _("“%(title)s”的评比结果已公布。", title=event.title),
        event_link(event) + "/results",
    )


def set_winners(event: JointEvent, actor: Any, entry_ids: Iterable[Any]) -> list[ContestEntry]:
    """Name the winners among scored entries; a winning course gets the 精品课程 mark.

    Taking the award back takes back the mark if the contest gave it. The caller commits.
    """
    require_office(actor)
    require_contest(event)
    if event.status == "cancelled":
        raise ServiceError(_("该活动已取消。"))
    wanted = list(entry_ids)
    if not all(is_id(i) for i in wanted):
        raise ValidationFailed({"entry_ids": _("所选参赛项目不属于本次大赛。")})
    chosen = set(wanted)
    ranked = {r.entry.id: r for r in results(event)}
    if not chosen <= set(ranked):
        raise ValidationFailed({"entry_ids": _("所选参赛项目不属于本次大赛。")})
    if any(ranked[i].total is None for i in chosen):
        raise ValidationFailed({"entry_ids": _("只能从已评分的参赛项目中评选获奖者。")})
    for entry in event.entries:
        want = entry.id in chosen
        if entry.winner == want:
            continue
        entry.winner = want
        if event.category != "course_contest" or entry.course is None:
            continue
        if want and not entry.course.excellent:
            catalog_services.set_excellent(
                entry.course, actor, True, _("在“%(title)s”中获奖", title=event.title)
            )
            entry.gave_excellent = True
        elif not want and entry.gave_excellent:
            catalog_services.set_excellent(
                entry.course, actor, False, _("撤销“%(title)s”的获奖", title=event.title)
            )
            entry.gave_excellent = False
    db.session.flush()
    return [e for e in event.entries if e.winner]


def set_top_winners(event: JointEvent, actor: Any, top: Any) -> list[ContestEntry]:
    """The entries ranked ``top`` or better win (ties included)."""
    count = _int_or_none(top)
    if count is None or not 1 <= count <= max(1, len(event.entries)):
        raise ValidationFailed(
            {"top": _("请填写 1 到 %(max)s 之间的名次。", max=max(1, len(event.entries)))}
        )
    ids = [r.entry.id for r in results(event) if r.rank is not None and r.rank <= count]
    return set_winners(event, actor, ids)


# ---------------------------------------------------------------- calendar, feed and figures


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


def build_ics(
    entries: Iterable[CalendarEntry], *, name: str, host: str, now: datetime | None = None
) -> bytes:
    """An iCalendar feed of sessions; UIDs ``event-<id>-session-<n>@host`` never change."""
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
        item.add("uid", f"event-{entry.event_id}-session-{entry.number}@{host}")
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
