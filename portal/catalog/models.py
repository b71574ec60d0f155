"""The shared catalogue: teaching sites, teachers, courses and joint-event types."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.members.models import Member
from portal.specs import COURSE_KINDS, TEACHER_KINDS, WEEKDAY_LABELS
from portal.timeutil import UTCDateTime, utcnow

# Labels are lazy: translated into the current locale whenever they are shown.
STATUSES = {"active": _l("启用"), "suspended": _l("暂停"), "retired": _l("退出")}
ADMISSIONS = {"proposed": _l("待审核"), "returned": _l("已退回"), "admitted": _l("已入录")}


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


# Joint ownership (共建): members besides the owner that co-own a site or course; their
# staff may edit it and the yearly report counts it for each of them (docs/catalogue.md).
site_coowners = Table(
    "site_coowners",
    db.metadata,
    Column("site_id", ForeignKey("teaching_sites.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)
course_coowners = Table(
    "course_coowners",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)


class TeachingSite(CatalogItem, db.Model):
    """A teaching site (现场教学点) that belongs to one member."""

    __tablename__ = "teaching_sites"
    __table_args__ = (
        *_catalog_args("teaching_sites"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("session_minutes > 0", name="session_positive"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
        CheckConstraint("admission IN ('proposed','returned','admitted')", name="admission"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # Entering the directory (portal/directory): a member's new site is proposed until the
    # office admits it or returns it; only admitted sites are listed and bookable.
    admission: Mapped[str] = mapped_column(
        String(16), default="admitted", server_default="admitted"
    )
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
    # Guides (讲解员) the site can send out at one time; each squad of a class needs one.
    guide_count: Mapped[int] = mapped_column(default=2, server_default="2")
    # Reservations of this site are confirmed at once, without the member's decision.
    auto_confirm: Mapped[bool] = mapped_column(default=False, server_default=false())
    address: Mapped[str] = mapped_column(String(256), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    member: Mapped[Member] = relationship()
    coowners: Mapped[list[Member]] = relationship(secondary=site_coowners, order_by="Member.id")

    @property
    def admission_label(self) -> str:
        return str(ADMISSIONS.get(self.admission, self.admission))

    @property
    def bookable(self) -> bool:
        return self.status == "active" and self.admission == "admitted"

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
    coowners: Mapped[list[Member]] = relationship(secondary=course_coowners, order_by="Member.id")
    site: Mapped[TeachingSite | None] = relationship()
    teachers: Mapped[list[Teacher]] = relationship(
        secondary=course_teachers, back_populates="courses", order_by="Teacher.id"
    )
    materials: Mapped[list[CourseMaterial]] = relationship(
        back_populates="course", order_by="CourseMaterial.id", cascade="all, delete-orphan"
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


ITEM_TYPES = {"site": _l("教学点"), "teacher": _l("师资"), "course": _l("课程")}
CHANGE_ACTIONS = {
    "create": _l("新建"),
    "edit": _l("修改"),
    "suspend": _l("暂停"),
    "retire": _l("退出"),
    "activate": _l("启用"),
    "sync": _l("插件同步"),
    "import": _l("批量导入"),
    "assess": _l("年度考核"),
    "excellent": _l("精品课程"),
    "availability": _l("不可用日期"),
    "material": _l("教材与案例"),
    "photo": _l("照片"),
}


class CatalogChange(db.Model):
    """One entry of an item's history: who changed what, when and why.

    ``changes`` maps a field name to ``[old, new]`` as display strings.
    """

    __tablename__ = "catalog_changes"
    __table_args__ = (Index("ix_catalog_changes_item", "item_type", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(128))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def action_label(self) -> str:
        return str(CHANGE_ACTIONS.get(self.action, self.action))


class SiteAssessment(db.Model):
    """The office's yearly assessment (考核) of a teaching site: a score out of 100."""

    __tablename__ = "site_assessments"
    __table_args__ = (
        UniqueConstraint("site_id", "year", name="uq_site_assessments_site_year"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    year: Mapped[int]
    score: Mapped[float] = mapped_column(Numeric(4, 1, asdecimal=False))
    remarks: Mapped[str] = mapped_column(Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[TeachingSite] = relationship()


class TeacherUnavailability(db.Model):
    """Dates on which a teacher cannot teach (both ends included)."""

    __tablename__ = "teacher_unavailability"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teachers.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(256), default="")

    teacher: Mapped[Teacher] = relationship()


MATERIAL_KINDS = {"material": _l("教材"), "case": _l("案例")}


class CourseMaterial(db.Model):
    """A teaching material (教材) or case (案例) listed with a course, with an optional file."""

    __tablename__ = "course_materials"
    __table_args__ = (CheckConstraint("kind IN ('material','case')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    # The stored file's name under the upload folder (never the client's name) and its metadata.
    stored_name: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="materials")

    @property
    def kind_label(self) -> str:
        return str(MATERIAL_KINDS.get(self.kind, self.kind))


class SitePhoto(db.Model):
    """A photo of a teaching site, stored resized (a large and a small JPEG) under random names."""

    __tablename__ = "site_photos"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        Index("ix_site_photos_site", "site_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id", ondelete="CASCADE"))
    # Names under the upload folder, made by the portal (never the client's file name).
    stored_name: Mapped[str] = mapped_column(String(64))
    thumb_name: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    caption: Mapped[str] = mapped_column(String(128), default="")
    position: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[TeachingSite] = relationship()
