"""Joint events (联动活动) of the consortium: contests, joint training and themed seminars.

Every event is of a kind (``EventType``, contributed by a member's plugin) and has a
*category* that says how the portal runs it:

* ``guide_contest`` (讲解员大赛): members enter guides (a person and one of their sites);
* ``course_contest`` (课程评比大赛): members enter courses of their own;
* ``training`` (联合集训, 专题研讨班 and any other kind): named participants register,
  within a capacity and with a waiting list.

All events have a programme of sessions (date and time, a site, a shared teacher) that the
consortium calendar and its .ics feed show. Contests have criteria with weights, judges
appointed by the office, and scores; results are ranked and published by the office.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

# Labels are lazy: translated into the current locale whenever they are shown.
CATEGORIES = {
    "guide_contest": _l("讲解员大赛（报送讲解员）"),
    "course_contest": _l("课程评比大赛（报送课程）"),
    "training": _l("集训研讨（日程与报名）"),
}
CONTEST_CATEGORIES = ("guide_contest", "course_contest")
# The category an event of a well-known kind gets unless the office chooses another.
DEFAULT_CATEGORY_BY_KIND = {"guide_contest": "guide_contest", "course_contest": "course_contest"}
EVENT_STATUSES = {"draft": _l("草稿"), "published": _l("已发布"), "cancelled": _l("已取消")}
# A contest's award grades, highest first.
GRADES = {
    "first": _l("一等奖"),
    "second": _l("二等奖"),
    "third": _l("三等奖"),
    "merit": _l("优秀奖"),
}
REGISTRATION_STATUSES = {
    "registered": _l("已报名"),
    "waitlisted": _l("候补"),
    "cancelled": _l("已取消"),
}

event_invitations = Table(
    "event_invitations",
    db.metadata,
    Column("event_id", ForeignKey("joint_events.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)


class JointEvent(db.Model):
    """A joint event run by the office (环线办) with the members."""

    __tablename__ = "joint_events"
    __table_args__ = (
        CheckConstraint(
            "category IN ('guide_contest','course_contest','training')", name="category"
        ),
        CheckConstraint("status IN ('draft','published','cancelled')", name="status"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type_id: Mapped[int] = mapped_column(ForeignKey("event_types.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Open to every member, or only to the invited ones (event_invitations).
    open_to_all: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Places for participants (training); NULL: no limit.
    capacity: Mapped[int | None]
    # Last day (Asia/Shanghai) on which members may register participants or enter entries.
    registration_deadline: Mapped[date | None]
    # Values of the fields a member plugin adds to its kind: {key: {"label", "value"}}.
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event_type: Mapped[EventType] = relationship()
    invited_members: Mapped[list[Member]] = relationship(
        secondary=event_invitations, order_by="Member.id"
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        order_by="(EventSession.starts_at, EventSession.number)",
        cascade="all, delete-orphan",
    )
    criteria: Mapped[list[ContestCriterion]] = relationship(
        back_populates="event", order_by="ContestCriterion.position", cascade="all, delete-orphan"
    )
    judges: Mapped[list[ContestJudge]] = relationship(
        back_populates="event", order_by="ContestJudge.id", cascade="all, delete-orphan"
    )
    entries: Mapped[list[ContestEntry]] = relationship(
        back_populates="event", order_by="ContestEntry.id", cascade="all, delete-orphan"
    )
    registrations: Mapped[list[EventRegistration]] = relationship(
        back_populates="event", order_by="EventRegistration.id", cascade="all, delete-orphan"
    )

    @property
    def is_contest(self) -> bool:
        return self.category in CONTEST_CATEGORIES

    @property
    def category_label(self) -> str:
        return str(CATEGORIES.get(self.category, self.category))

    @property
    def status_label(self) -> str:
        return str(EVENT_STATUSES.get(self.status, self.status))

    @property
    def host(self) -> Member:
        """The member whose kind of event this is (承办单位)."""
        return self.event_type.member

    @property
    def starts_at(self) -> datetime | None:
        return min((s.starts_at for s in self.sessions), default=None)

    @property
    def ends_at(self) -> datetime | None:
        return max((s.ends_at for s in self.sessions), default=None)


class EventSession(db.Model):
    """One item of an event's programme: a time, a place (a site) and a teacher.

    ``number`` is given once and never reused within the event: the .ics feed derives its
    UIDs from it, so calendar apps keep recognising a session after others are removed.
    """

    __tablename__ = "event_sessions"
    __table_args__ = (
        UniqueConstraint("event_id", "number", name="uq_event_sessions_event_number"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
        Index("ix_event_sessions_teacher_time", "teacher_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("joint_events.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    # A place that is not a teaching site (a hotel meeting room …), or details of the site.
    place: Mapped[str] = mapped_column(String(128), default="")

    event: Mapped[JointEvent] = relationship(back_populates="sessions")
    site: Mapped[TeachingSite | None] = relationship()
    teacher: Mapped[Teacher | None] = relationship()

    @property
    def location(self) -> str:
        parts = [self.site.name] if self.site is not None else []
        if self.place:
            parts.append(self.place)
        return " · ".join(parts)


class EventRegistration(db.Model):
    """A named participant a member registers for a training event (or its waiting list)."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        CheckConstraint("status IN ('registered','waitlisted','cancelled')", name="status"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("joint_events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    participant_name: Mapped[str] = mapped_column(String(64))
    # 职务 / 职称, as the member writes it.
    participant_title: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16))
    # When the participant joined the waiting list: the first in line is promoted first.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[JointEvent] = relationship(back_populates="registrations")
    member: Mapped[Member] = relationship()

    @property
    def status_label(self) -> str:
        return str(REGISTRATION_STATUSES.get(self.status, self.status))


class ContestCriterion(db.Model):
    """A criterion judges score (0–100) with its weight; a contest's weights sum to 100."""

    __tablename__ = "contest_criteria"
    __table_args__ = (CheckConstraint("weight >= 1 AND weight <= 100", name="weight_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("joint_events.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    weight: Mapped[int]

    event: Mapped[JointEvent] = relationship(back_populates="criteria")


class ContestJudge(db.Model):
    """A judge the office appointed: a member staff account, or an outside expert (name and
    unit, no account: listed on the panel and the certificates, scoring on paper)."""

    __tablename__ = "contest_judges"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_contest_judges_event_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("joint_events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # An outside expert's name and unit (user_id NULL); "" for an account.
    name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    unit: Mapped[str] = mapped_column(String(128), default="", server_default="")
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[JointEvent] = relationship(back_populates="judges")
    user: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        if self.user is not None:
            member = self.user.member.short_name if self.user.member else ""
            return f"{self.user.display_name}（{member}）" if member else self.user.display_name
        return f"{self.name}（{self.unit}）" if self.unit else self.name


class ContestEntry(db.Model):
    """An entry of a member: a guide (name and site) or one of its courses."""

    __tablename__ = "contest_entries"
    __table_args__ = (
        CheckConstraint("(guide_name IS NULL) <> (course_id IS NULL)", name="guide_or_course"),
        UniqueConstraint("event_id", "course_id", name="uq_contest_entries_event_course"),
        UniqueConstraint(
            "event_id", "member_id", "guide_name", name="uq_contest_entries_event_member_guide"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("joint_events.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    guide_name: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    winner: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The award's grade (first, second, third, merit: GRADES); NULL without a grade.
    grade: Mapped[str | None] = mapped_column(String(16))
    # The contest gave the course its 精品课程 mark (so taking the award back takes it back).
    gave_excellent: Mapped[bool] = mapped_column(default=False, server_default=false())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[JointEvent] = relationship(back_populates="entries")
    member: Mapped[Member] = relationship()
    site: Mapped[TeachingSite | None] = relationship()
    course: Mapped[Course | None] = relationship()
    scores: Mapped[list[ContestScore]] = relationship(
        back_populates="entry", cascade="all, delete-orphan"
    )

    @property
    def grade_label(self) -> str:
        return str(GRADES[self.grade]) if self.grade in GRADES else ""

    @property
    def label(self) -> str:
        if self.course is not None:
            return self.course.name
        site = f"（{self.site.name}）" if self.site is not None else ""
        return f"{self.guide_name}{site}"


class ContestScore(db.Model):
    """One judge's score (0–100, one decimal) of one entry on one criterion."""

    __tablename__ = "contest_scores"
    __table_args__ = (
        UniqueConstraint(
            "entry_id", "judge_id", "criterion_id", name="uq_contest_scores_entry_judge_criterion"
        ),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("contest_entries.id", ondelete="CASCADE"), index=True
    )
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("contest_criteria.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Numeric(4, 1, asdecimal=False))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    entry: Mapped[ContestEntry] = relationship(back_populates="scores")
