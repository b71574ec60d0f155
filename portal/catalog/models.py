"""The shared catalogue: teaching sites, teachers, courses and joint-event types."""

from __future__ import annotations

from datetime import datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.members.models import Member
from portal.specs import COURSE_KINDS, TEACHER_KINDS, WEEKDAY_LABELS
from portal.timeutil import UTCDateTime, utcnow

# Labels are lazy: translated into the current locale whenever they are shown.
STATUSES = {"active": _l("启用"), "suspended": _l("暂停"), "retired": _l("退出")}


class CatalogItem:
    """Columns every catalogue item shares: owner, origin, status and edit marks.

    ``plugin``/``key`` say where an item came from (NULL for items created in the portal);
    ``edited_locally`` is set when staff edit the item, so `sync` leaves it alone.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    edited_locally: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))


def _catalog_args(table: str) -> tuple:
    return (
        UniqueConstraint("plugin", "key", name=f"uq_{table}_plugin_key"),
        CheckConstraint("status IN ('active','suspended','retired')", name="status"),
    )


class TeachingSite(CatalogItem, db.Model):
    """A teaching site (现场教学点) that belongs to one member."""

    __tablename__ = "teaching_sites"
    __table_args__ = (
        *_catalog_args("teaching_sites"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("session_minutes > 0", name="session_positive"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    theme: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int]
    session_minutes: Mapped[int] = mapped_column(default=90)
    # ISO weekdays the site opens, as digits: "12345" is Monday to Friday.
    open_weekdays: Mapped[str] = mapped_column(String(7), default="1234567")
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    needs_guide: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(String(256), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    member: Mapped[Member] = relationship()

    @property
    def open_days_label(self) -> str:
        # TRANSLATORS: separator between the names of the days a site opens.
        return _("、").join(str(WEEKDAY_LABELS[int(d)]) for d in self.open_weekdays)


course_teachers = Table(
    "course_teachers",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teachers.id", ondelete="CASCADE"), primary_key=True),
)


class Teacher(CatalogItem, db.Model):
    """A teacher (师资), full-time or part-time, possibly shared with the consortium."""

    __tablename__ = "teachers"
    __table_args__ = (
        *_catalog_args("teachers"),
        CheckConstraint("kind IN ('full_time','part_time')", name="kind"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(64), default="")
    # Topics separated by "、", as users write them.
    topics: Mapped[str] = mapped_column(String(512), default="")
    shared: Mapped[bool] = mapped_column(default=False)
    bio: Mapped[str] = mapped_column(Text, default="")

    member: Mapped[Member] = relationship()
    courses: Mapped[list[Course]] = relationship(
        secondary=course_teachers, back_populates="teachers"
    )

    @property
    def kind_label(self) -> str:
        return str(TEACHER_KINDS.get(self.kind, self.kind))


class Course(CatalogItem, db.Model):
    """A course (课程): lecture, on-site lesson, case study or seminar."""

    __tablename__ = "courses"
    __table_args__ = (
        *_catalog_args("courses"),
        CheckConstraint("kind IN ('lecture','onsite','case','seminar')", name="kind"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    hours: Mapped[float] = mapped_column(Numeric(5, 1, asdecimal=False))
    description: Mapped[str] = mapped_column(Text, default="")
    excellent: Mapped[bool] = mapped_column(default=False)

    member: Mapped[Member] = relationship()
    site: Mapped[TeachingSite | None] = relationship()
    teachers: Mapped[list[Teacher]] = relationship(
        secondary=course_teachers, back_populates="courses", order_by="Teacher.id"
    )

    @property
    def kind_label(self) -> str:
        return str(COURSE_KINDS.get(self.kind, self.kind))


class EventType(CatalogItem, db.Model):
    """A kind of joint event (联动活动) that a member hosts."""

    __tablename__ = "event_types"
    __table_args__ = _catalog_args("event_types")

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")

    member: Mapped[Member] = relationship()
