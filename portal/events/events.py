"""Joint events themselves: kinds and plugin fields, create, edit, publish, cancel, the programme.

Only the office creates, edits, publishes and cancels events and sets their programme
(sessions at sites, with shared teachers who must be free). ``update_event`` takes the
event's lock (more places promote those waiting) and commits; the others leave the commit
to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import plugins
from portal.catalog.models import EventType, Teacher, TeacherUnavailability, TeachingSite
from portal.catalog.services import require_office
from portal.errors import ServiceError, ValidationFailed
from portal.events.access import event_link, get_event
from portal.events.fields import check_specs, clean_values
from portal.events.models import CATEGORIES, DEFAULT_CATEGORY_BY_KIND, EventSession, JointEvent
from portal.events.registrations import lock_event, notify_promoted, places_taken, promote_waiting
from portal.events.validation import MAX_TEXT, _clean_text, is_id
from portal.extensions import db
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import HOLDING, Reservation
from portal.specs import EventFieldSpec
from portal.timeutil import LOCAL_TZ, utcnow

MAX_CAPACITY = 10000


# ---------------------------------------------------------------- kinds and plugin fields


def event_types() -> list[EventType]:
    """The kinds a new event can be of: not retired, of a member that takes part (its plugin
    enabled), by member. A disabled member's kinds are not offered; its events stay."""
    return list(
        db.session.scalars(
            select(EventType)
            .join(EventType.member)
            .where(
                EventType.status != "retired",
                Member.plugin.in_(sorted(plugins.enabled_plugin_names())),
            )
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
    if not plugins.is_enabled(event_type.member.plugin):
        raise ValidationFailed(
            {
                "event_type_id": _(
                    "%(member)s已暂停参与环线，暂不能新建该类型的活动。",
                    member=event_type.member.short_name,
                )
            }
        )
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
