"""Teacher sharing: borrowing requests and their decisions, and each teacher's lectures.

A member's staff ask to borrow a teacher of another member for a period; the owning
member's staff (or the office) confirm or decline. While a confirmed loan runs, the
borrowing member may put the teacher on its courses (``borrowed_teacher_ids``, used by the
catalogue's course checks). A teacher's lectures are the confirmed reservations naming
them: date, class, course, hours, and the member that hosted each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.catalog.models import Teacher, TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import Booking, Reservation
from portal.sharing.models import TeacherLoan
from portal.timeutil import LOCAL_TZ, utcnow

MAX_TEXT = 2000


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def _text(value: str | None, field: str, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value or len(value) > MAX_TEXT:
        raise ValidationFailed({field: _("内容过长或包含无效字符。")})
    if required and not value:
        raise ValidationFailed({field: _("请填写此项。")})
    return value


def require_member_staff(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_member_user", False):
        raise PermissionDenied(_("只有成员单位工作人员可以借用师资。"))


def request_loan(
    actor: Any, teacher: Teacher, starts_on: date | None, ends_on: date | None, purpose: str
) -> TeacherLoan:
    """Member staff ask to borrow another member's teacher. The caller commits."""
    require_member_staff(actor)
    if teacher.member_id == actor.member_id:
        raise ServiceError(_("这是本单位的师资，无需借用。"))
    if teacher.status == "retired":
        raise ServiceError(_("该教师已退出，不能借用。"))
    today = today_local()
    errors = {}
    if not isinstance(starts_on, date) or not today <= starts_on <= today + timedelta(days=366):
        errors["starts_on"] = _("开始日期须在今天到一年之内。")
    if not isinstance(ends_on, date) or (
        isinstance(starts_on, date) and not starts_on <= ends_on <= starts_on + timedelta(days=366)
    ):
        errors["ends_on"] = _("结束日期须不早于开始日期，且不超过一年。")
    if errors:
        raise ValidationFailed(errors)
    loan = TeacherLoan(
        teacher_id=teacher.id,
        owner_member_id=teacher.member_id,
        borrower_member_id=actor.member_id,
        starts_on=starts_on,
        ends_on=ends_on,
        purpose=_text(purpose, "purpose", required=True),
        requested_by_id=actor.id,
    )
    db.session.add(loan)
    record(actor, "sharing.request", teacher.name, starts_on=starts_on, ends_on=ends_on)
    notify(
        member_staff([teacher.member_id]),
        _("借用师资申请：%(teacher)s", teacher=teacher.name),
        _(
            "%(member)s申请于 %(start)s 至 %(end)s 借用%(teacher)s老师：%(purpose)s",
            member=actor.member.short_name,
            start=starts_on.isoformat(),
            end=ends_on.isoformat(),
            teacher=teacher.name,
            purpose=loan.purpose,
        ),
        "/sharing/",
    )
    return loan


def get_loan(loan_id: int, actor: Any) -> TeacherLoan:
    """A loan for the office or the staff of its owning or borrowing member; else NotFound."""
    loan = db.session.get(TeacherLoan, loan_id)
    if loan is None or actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound(_("没有找到该借用申请。"))
    if actor.is_office or (
        actor.is_member_user and actor.member_id in (loan.owner_member_id, loan.borrower_member_id)
    ):
        return loan
    raise NotFound(_("没有找到该借用申请。"))


def decide_loan(loan: TeacherLoan, actor: Any, confirm: bool, reason: str) -> None:
    """The owning member's staff (or the office) confirm or decline. The caller commits."""
    if not (actor.is_office or (actor.is_member_user and actor.member_id == loan.owner_member_id)):
        raise PermissionDenied(_("只有教师所在单位可以确认或婉拒借用。"))
    if loan.status != "pending":
        raise ServiceError(_("该借用申请已处理。"))
    reason = _text(reason, "reason", required=not confirm)
    loan.status = "confirmed" if confirm else "declined"
    loan.reason, loan.decided_by_id, loan.decided_at = reason, actor.id, utcnow()
    record(actor, "sharing.confirm" if confirm else "sharing.decline", loan.teacher.name)
    notify(
        member_staff([loan.borrower_member_id]),
        _("借用%(teacher)s老师：%(status)s", teacher=loan.teacher.name, status=loan.status_label),
        reason,
        "/sharing/",
    )


def loans_for(actor: Any) -> list[TeacherLoan]:
    query = select(TeacherLoan).options(
        selectinload(TeacherLoan.teacher),
        selectinload(TeacherLoan.owner),
        selectinload(TeacherLoan.borrower),
    )
    if not actor.is_office:
        query = query.where(
            or_(
                TeacherLoan.owner_member_id == actor.member_id,
                TeacherLoan.borrower_member_id == actor.member_id,
            )
        )
    return list(db.session.scalars(query.order_by(TeacherLoan.id.desc())))


def borrowed_teacher_ids(member_id: int, day: date | None = None) -> set[int]:
    """Teachers the member has borrowed under a confirmed loan running on ``day`` (today)."""
    day = day or today_local()
    return set(
        db.session.scalars(
            select(TeacherLoan.teacher_id).where(
                TeacherLoan.borrower_member_id == member_id,
                TeacherLoan.status == "confirmed",
                TeacherLoan.starts_on <= day,
                TeacherLoan.ends_on >= day,
            )
        )
    )


def lendable_teachers(actor: Any) -> list[Teacher]:
    """Other members' teachers not retired, for the borrowing form."""
    query = select(Teacher).where(Teacher.status != "retired")
    if actor.is_member_user:
        query = query.where(Teacher.member_id != actor.member_id)
    return list(
        db.session.scalars(
            query.options(selectinload(Teacher.member)).order_by(Teacher.member_id, Teacher.name)
        )
    )


# ---------------------------------------------------------------- lectures given


@dataclass(frozen=True)
class Lecture:
    day: date
    class_name: str
    course: str
    hours: float
    host: str


def get_teacher_for_log(teacher_id: int, actor: Any) -> Teacher:
    """A teacher's lecture log: for the office and the staff of the teacher's member."""
    teacher = db.session.get(Teacher, teacher_id)
    if teacher is None or actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound(_("没有找到该教师。"))
    if actor.is_office or (actor.is_member_user and actor.member_id == teacher.member_id):
        return teacher
    raise NotFound(_("没有找到该教师。"))


def lectures(teacher: Teacher, year: int) -> tuple[list[Lecture], dict[str, tuple[int, float]]]:
    """The teacher's confirmed lectures in ``year`` and, per hosting member, (count, hours).

    Hours are the course's 学时 when the stop names a course, else the stop's length."""
    start = datetime.combine(date(year, 1, 1), time(0), LOCAL_TZ)
    end = datetime.combine(date(year + 1, 1, 1), time(0), LOCAL_TZ)
    rows = db.session.scalars(
        select(Reservation)
        .join(Booking, Booking.id == Reservation.booking_id)
        .where(
            Reservation.teacher_id == teacher.id,
            Reservation.status == "confirmed",
            Reservation.starts_at >= start,
            Reservation.starts_at < end,
        )
        .options(
            selectinload(Reservation.course),
            selectinload(Reservation.site).selectinload(TeachingSite.member),
            selectinload(Reservation.booking).selectinload(Booking.training_class),
        )
        .order_by(Reservation.starts_at)
    ).all()
    found, by_member = [], defaultdict(lambda: [0, 0.0])
    for r in rows:  # each squad's session is a lecture given
        hours = (
            float(r.course.hours)
            if r.course
            else round((r.ends_at - r.starts_at).total_seconds() / 3600, 1)
        )
        host = r.site.member.short_name
        found.append(
            Lecture(
                r.starts_at.astimezone(LOCAL_TZ).date(),
                r.booking.training_class.name,
                r.course.name if r.course else r.site.name,
                hours,
                host,
            )
        )
        by_member[host][0] += 1
        by_member[host][1] += hours
    return found, {k: (v[0], round(v[1], 1)) for k, v in by_member.items()}
