"""The guide corps (讲解员队伍): guides as people, with their dated record.

A ``Guide`` belongs to a member (and, optionally, to one of its sites). Their training,
certificates, promotions, rewards and penalties are ``GuideEntry`` rows, each dated; a
promotion entry also sets the guide's grade. A reservation names a guide from the roster
through ``Reservation.guide_id`` (``guide_name`` keeps the name shown, and stays the
free-text fallback for guides not on the roster).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

GRADES = {
    "trainee": _l("见习讲解员"),
    "junior": _l("初级讲解员"),
    "intermediate": _l("中级讲解员"),
    "senior": _l("高级讲解员"),
}
ENTRY_KINDS = {
    "training": _l("培训"),
    "certificate": _l("证书"),
    "promotion": _l("晋级"),
    "reward": _l("奖励"),
    "penalty": _l("惩戒"),
}


class Guide(db.Model):
    """A guide (讲解员) on a member's roster."""

    __tablename__ = "guides"
    __table_args__ = (
        CheckConstraint("grade IN ('trainee','junior','intermediate','senior')", name="grade"),
        Index("ix_guides_member_name", "member_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32), default="")
    grade: Mapped[str] = mapped_column(String(16), default="trainee")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()
    site: Mapped[TeachingSite | None] = relationship()
    entries: Mapped[list[GuideEntry]] = relationship(
        back_populates="guide", order_by="(GuideEntry.on.desc(), GuideEntry.id.desc())"
    )

    @property
    def grade_label(self) -> str:
        return str(GRADES.get(self.grade, self.grade))


class GuideEntry(db.Model):
    """One dated line of a guide's record: training, certificate, promotion, reward, penalty."""

    __tablename__ = "guide_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('training','certificate','promotion','reward','penalty')", name="kind"
        ),
        Index("ix_guide_entries_guide", "guide_id", "on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"))
    kind: Mapped[str] = mapped_column(String(16))
    on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    # A promotion's new grade ("" for other kinds).
    grade: Mapped[str] = mapped_column(String(16), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    guide: Mapped[Guide] = relationship(back_populates="entries")

    @property
    def kind_label(self) -> str:
        return str(ENTRY_KINDS.get(self.kind, self.kind))

    @property
    def grade_label(self) -> str:
        return str(GRADES.get(self.grade, self.grade)) if self.grade else ""
