"""Who may do what with joint events, and the events a user sees.

* only the office (环线办) creates, edits, publishes and cancels events, sets criteria,
  appoints judges, publishes results and names winners;
* everyone sees published events (drafts: the office only); members' staff take part
  (register participants, enter guides or courses) in events open to all members or to
  which their member is invited;
* a judge scores only the contests they are appointed to, and never an entry of their
  own member (回避); results are hidden from everyone but the office until published.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import EventType
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.events.models import CATEGORIES, JointEvent
from portal.events.validation import is_id
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ


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
