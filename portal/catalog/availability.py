"""When and where a teacher can teach: unavailable dates and the teachers a course may name.

A teacher's member marks the dates on which the teacher cannot teach
(``add_unavailability``, ``remove_unavailability``, recorded in the teacher's history);
``unavailable_spans`` and ``teacher_available_on`` read them back. ``teachers_for_courses``
lists the teachers a member may put on a course: its own, every shared one and those it
has borrowed through portal.sharing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.catalog.history import record_change
from portal.catalog.models import Teacher, TeacherUnavailability
from portal.catalog.permissions import require_edit
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db


def add_unavailability(
    teacher: Teacher, actor: Any, starts_on: date, ends_on: date, reason: str
) -> TeacherUnavailability:
    """The teacher's member marks dates on which the teacher cannot teach."""
    require_edit(actor, teacher.member_id)
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise ValidationFailed({"starts_on": _("请填写日期。")})
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": _("结束日期不能早于开始日期。")})
    if (ends_on - starts_on).days > 366:
        raise ValidationFailed({"ends_on": _("一次最多登记一年。")})
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > 256:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    entry = TeacherUnavailability(
        teacher=teacher, starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    db.session.add(entry)
    span = f"{starts_on.isoformat()} – {ends_on.isoformat()}"
    record_change(teacher, "availability", actor, {"unavailable": ["", span]}, reason)
    return entry


def remove_unavailability(entry_id: int, actor: Any) -> None:
    entry = db.session.get(TeacherUnavailability, entry_id)
    if entry is None:
        raise NotFound(_("没有找到该条目。"))
    require_edit(actor, entry.teacher.member_id)
    span = f"{entry.starts_on.isoformat()} – {entry.ends_on.isoformat()}"
    record_change(entry.teacher, "availability", actor, {"unavailable": [span, ""]})
    db.session.delete(entry)


def unavailable_spans(teacher: Teacher, after: date | None = None) -> list[TeacherUnavailability]:
    query = select(TeacherUnavailability).where(TeacherUnavailability.teacher_id == teacher.id)
    if after is not None:
        query = query.where(TeacherUnavailability.ends_on >= after)
    return list(db.session.scalars(query.order_by(TeacherUnavailability.starts_on)))


def teacher_available_on(teacher: Teacher, day: date) -> bool:
    clash = db.session.scalar(
        select(TeacherUnavailability.id).where(
            TeacherUnavailability.teacher_id == teacher.id,
            TeacherUnavailability.starts_on <= day,
            TeacherUnavailability.ends_on >= day,
        )
    )
    return clash is None


def teachers_for_courses(member_id: int) -> list[Teacher]:
    """Teachers a member may put on a course: its own, every shared one and those it has
    borrowed (a confirmed loan running today, portal.sharing), not retired."""
    from portal.sharing.services import borrowed_teacher_ids

    borrowed = sorted(borrowed_teacher_ids(member_id))
    return list(
        db.session.scalars(
            select(Teacher)
            .where(
                Teacher.status != "retired",
                or_(
                    Teacher.member_id == member_id,
                    Teacher.shared.is_(True),
                    Teacher.id.in_(borrowed),
                ),
            )
            .order_by(Teacher.member_id != member_id, Teacher.member_id, Teacher.name)
        )
    )
