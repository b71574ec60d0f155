"""Attendance (考勤): supervisors, half-day sessions, marks with their history, leave, withdrawal."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import UTCDateTime, utcnow
from portal.trainees.models import RosterEntry

HALVES = {"am": _l("上午"), "pm": _l("下午")}
MARKS = {
    "present": _l("出勤"),
    "leave": _l("请假"),
    "absent": _l("旷课"),
    "late": _l("迟到"),
    "early": _l("早退"),
}
# Marks that count as attending the session (学时 are credited for them).
ATTENDED = ("present", "late", "early")
MARK_SOURCES = {
    "qr": _l("扫码签到"),
    "code": _l("签到码"),
    "manual": _l("手工登记"),
    "leave": _l("准假"),
}
LEAVE_STATUSES = {"pending": _l("待审批"), "approved": _l("已批准"), "refused": _l("未批准")}
WITHDRAWAL_STATUSES = {
    "flagged": _l("待确认退学"),
    "confirmed": _l("已退学"),
    "dismissed": _l("不予退学"),
}
WITHDRAWAL_REASONS = {"leave": _l("请假超过总学时的七分之一"), "absence": _l("旷课超过规定次数")}


class ClassSupervisor(db.Model):
    """A supervisor (组织员 / 班主任) the organizer named for one class."""

    __tablename__ = "class_supervisors"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id", name="uq_class_supervisors_class_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AttendanceSession(db.Model):
    """A half-day session (上午 / 下午) of a class: the unit attendance is kept in.

    Derived from the class's dates and itinerary (see services.ensure_sessions); sign-in is
    open from ``opens_at`` until ``ends_at``.
    """

    __tablename__ = "attendance_sessions"
    __table_args__ = (
        UniqueConstraint("class_id", "day", "half", name="uq_attendance_sessions_class_day_half"),
        CheckConstraint("half IN ('am','pm')", name="half"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    half: Mapped[str] = mapped_column(String(2))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(300), default="")

    training_class: Mapped[TrainingClass] = relationship()

    @property
    def half_label(self) -> str:
        return str(HALVES.get(self.half, self.half))


class AttendanceMark(db.Model):
    """A trainee's current mark for one session: at most one (a double scan signs in once)."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        UniqueConstraint("session_id", "entry_id", name="uq_attendance_marks_session_entry"),
        CheckConstraint("status IN ('present','leave','absent','late','early')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_sessions.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8), default="manual")
    reason: Mapped[str] = mapped_column(String(200), default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[AttendanceSession] = relationship()
    entry: Mapped[RosterEntry] = relationship()

    @property
    def status_label(self) -> str:
        return str(MARKS.get(self.status, self.status))


class AttendanceMarkChange(db.Model):
    """One change of a mark (kept for good: a correction never erases what was there)."""

    __tablename__ = "attendance_mark_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_marks.id", ondelete="CASCADE"), index=True
    )
    old_status: Mapped[str] = mapped_column(String(8), default="")
    new_status: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8), default="manual")
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User | None] = relationship()


class LeaveRequest(db.Model):
    """A trainee's request for leave (请假) for one or more sessions, and its decision."""

    __tablename__ = "leave_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','refused')", name="status"),
        Index("ix_leave_requests_class_status", "class_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[RosterEntry] = relationship()
    sessions: Mapped[list[AttendanceSession]] = relationship(
        secondary="leave_request_sessions", order_by="AttendanceSession.starts_at"
    )

    @property
    def status_label(self) -> str:
        return str(LEAVE_STATUSES.get(self.status, self.status))


class LeaveRequestSession(db.Model):
    """A session a leave request covers."""

    __tablename__ = "leave_request_sessions"

    leave_id: Mapped[int] = mapped_column(
        ForeignKey("leave_requests.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_sessions.id", ondelete="CASCADE"), primary_key=True
    )


class Withdrawal(db.Model):
    """A trainee flagged for withdrawal (退学) by the rules, and the organizer's decision."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        CheckConstraint("status IN ('flagged','confirmed','dismissed')", name="status"),
        CheckConstraint("reason IN ('leave','absence')", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), unique=True
    )
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="flagged")
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")

    entry: Mapped[RosterEntry] = relationship()

    @property
    def status_label(self) -> str:
        return str(WITHDRAWAL_STATUSES.get(self.status, self.status))

    @property
    def reason_label(self) -> str:
        return str(WITHDRAWAL_REASONS.get(self.reason, self.reason))
