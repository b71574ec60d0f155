"""Members' busy times: periods a member cannot meet, which the scheduling assistant avoids.

A member's staff keep their own member's busy times. The caller commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.access import is_staff
from portal.meetings.models import MemberBusyTime
from portal.meetings.times import local_dt
from portal.meetings.validation import _check_text

# How far a busy period may reach.
MAX_BUSY_DAYS = 366


def can_edit_busy(user: Any, member_id: int) -> bool:
    return bool(is_staff(user) and user.is_member_user and user.member_id == member_id)


def add_busy_time(actor: Any, values: dict[str, Any]) -> MemberBusyTime:
    """Member staff declare a busy period of their own member.

    ``starts_on``/``ends_on`` are dates and ``starts_time``/``ends_time`` optional times in
    Asia/Shanghai; without times the period covers the whole days.
    """
    if not is_staff(actor) or not actor.is_member_user:
        raise ServiceError(_("只有成员单位工作人员可以登记本单位的忙碌时间。"))
    errors: dict[str, str] = {}
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on") or values.get("starts_on")
    starts_time, ends_time = values.get("starts_time"), values.get("ends_time")
    if not isinstance(starts_on, date) or not 2000 <= starts_on.year <= 2100:
        errors["starts_on"] = _("请填写开始日期。")
    if not isinstance(ends_on, date) or not 2000 <= ends_on.year <= 2100:
        errors["ends_on"] = _("请填写有效的结束日期。")
    note = _check_text(
        errors, "note", values.get("note") or "", _("事由"), required=False, limit=256
    )
    if errors:
        raise ValidationFailed(errors)
    starts_at = local_dt(starts_on, starts_time or time(0))
    ends_at = (
        local_dt(ends_on, ends_time)
        if ends_time is not None
        else local_dt(ends_on + timedelta(days=1), time(0))
    )
    if ends_at <= starts_at:
        errors["ends_time" if ends_time is not None else "ends_on"] = _("结束时间须晚于开始时间。")
    elif ends_at - starts_at > timedelta(days=MAX_BUSY_DAYS):
        errors["ends_on"] = _("一次登记不能超过 %(days)s 天。", days=MAX_BUSY_DAYS)
    if errors:
        raise ValidationFailed(errors)
    entry = MemberBusyTime(
        member_id=actor.member_id,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        note=note,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def remove_busy_time(entry_id: int, actor: Any) -> None:
    entry = db.session.get(MemberBusyTime, entry_id)
    if entry is None or not can_edit_busy(actor, entry.member_id):
        raise NotFound(_("没有找到该条忙碌时间。"))
    db.session.delete(entry)


def busy_times(user: Any, *, after: datetime | None = None) -> list[MemberBusyTime]:
    """Busy periods the user sees: their own member's, or every member's for the office."""
    if not is_staff(user):
        return []
    query = (
        select(MemberBusyTime)
        .options(selectinload(MemberBusyTime.member))
        .order_by(MemberBusyTime.starts_at, MemberBusyTime.id)
    )
    if not user.is_office:
        query = query.where(MemberBusyTime.member_id == user.member_id)
    if after is not None:
        query = query.where(MemberBusyTime.ends_at > after)
    return list(db.session.scalars(query))
