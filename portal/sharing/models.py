"""Teacher sharing (师资共享) as a workflow: a member asks to borrow another member's teacher
for a period; the owning member confirms or declines."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models import Teacher
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

LOAN_STATUSES = {
    "pending": _l("待确认"),
    "confirmed": _l("已同意"),
    "declined": _l("已婉拒"),
}


class TeacherLoan(db.Model):
    """A request to borrow a teacher of another member from ``starts_on`` to ``ends_on``."""

    __tablename__ = "teacher_loans"
    __table_args__ = (
        CheckConstraint("status IN ('pending','confirmed','declined')", name="status"),
        CheckConstraint("starts_on <= ends_on", name="ordered"),
        CheckConstraint("owner_member_id <> borrower_member_id", name="other_member"),
        Index("ix_teacher_loans_borrower", "borrower_member_id", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teachers.id", ondelete="CASCADE"), index=True
    )
    owner_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    borrower_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    teacher: Mapped[Teacher] = relationship()
    owner: Mapped[Member] = relationship(foreign_keys=[owner_member_id])
    borrower: Mapped[Member] = relationship(foreign_keys=[borrower_member_id])

    @property
    def status_label(self) -> str:
        return str(LOAN_STATUSES.get(self.status, self.status))
