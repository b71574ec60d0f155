"""Trainees: rosters, activation links, class notices and rules, open runs and electives."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import Course, TeachingSite
from portal.extensions import db
from portal.scheduling.models import Booking, RouteTemplate, TrainingClass
from portal.timeutil import UTCDateTime, utcnow

GENDERS = {"男": _l("男"), "女": _l("女")}
RUN_STATUSES = {
    "open": _l("报名中"),
    "confirmed": _l("已成班"),
    "cancelled": _l("已取消"),
}
SEAT_STATUSES = {
    "booked": _l("已报名"),
    "waitlisted": _l("候补中"),
    "offered": _l("候补待确认"),
    "cancelled": _l("已取消"),
}
# Seats that count against a run's quota (an offer holds its seat until taken or expired).
SEAT_HOLDING = ("booked", "offered")


class RosterEntry(db.Model):
    """A trainee on a class's roster (学员名单): the person as the class knows them.

    The account (``user``) is shared by every class the person attends over the years;
    the unit, post and rank are kept per class, as they were at the time. An identity-card
    number is never stored whole: only its last four characters and a keyed hash (for
    matching a re-import), see portal/trainees/roster.py.
    """

    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id", name="uq_roster_entries_class_user"),
        CheckConstraint("gender IN ('', '男', '女')", name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(2), default="")
    unit: Mapped[str] = mapped_column(String(128), default="")
    position: Mapped[str] = mapped_column(String(64), default="")
    rank: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str] = mapped_column(String(16))
    ethnicity: Mapped[str] = mapped_column(String(16), default="")
    political_status: Mapped[str] = mapped_column(String(16), default="")
    id_card_last4: Mapped[str] = mapped_column(String(4), default="")
    id_card_hash: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")
    rules_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
    user: Mapped[User] = relationship()

    @property
    def id_card_masked(self) -> str:
        return f"**************{self.id_card_last4}" if self.id_card_last4 else ""

    @property
    def phone_masked(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]}" if len(self.phone) >= 7 else self.phone


class ClassProfile(db.Model):
    """What a class tells its trainees: the rules to acknowledge, contacts, calendar sharing."""

    __tablename__ = "class_profiles"

    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), primary_key=True
    )
    rules_text: Mapped[str] = mapped_column(Text, default="")
    rules_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacts_text: Mapped[str] = mapped_column(Text, default="")
    calendar_shared: Mapped[bool] = mapped_column(default=False)
    # Bumped when the organizer resets the trainees' calendar links: old ones stop working.
    share_version: Mapped[int] = mapped_column(default=1)

    training_class: Mapped[TrainingClass] = relationship()


class ClassNotice(db.Model):
    """A notice (通知) the organizer posts to the class; also sent to inbox, e-mail and SMS."""

    __tablename__ = "class_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenRun(db.Model):
    """An open run (开放班次): a dated route that trainees book seats in themselves.

    Its stops are held in the scheduling engine as an ordinary booking (``booking``) of a
    class (``training_class``) owned by the publisher; when the run goes ahead, that class
    gets the participants as its roster. ``seats`` is the quota locked when a seat is taken.
    """

    __tablename__ = "open_runs"
    __table_args__ = (
        CheckConstraint("seats >= 1 AND seats <= 500", name="seats_range"),
        CheckConstraint("min_participants >= 1", name="min_positive"),
        CheckConstraint("status IN ('open','confirmed','cancelled')", name="status"),
        CheckConstraint("open_to IN ('all','units')", name="open_to"),
        Index("ix_open_runs_status_deadline", "status", "booking_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id"), unique=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("route_templates.id"), index=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    seats: Mapped[int]
    min_participants: Mapped[int]
    booking_deadline: Mapped[date]
    cancel_deadline: Mapped[date]
    open_to: Mapped[str] = mapped_column(String(8), default="all")
    status: Mapped[str] = mapped_column(String(16), default="open")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
    booking: Mapped[Booking | None] = relationship()
    template: Mapped[RouteTemplate | None] = relationship()
    publisher: Mapped[User] = relationship()
    quotas: Mapped[list[OpenRunQuota]] = relationship(
        back_populates="run", order_by="OpenRunQuota.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return str(RUN_STATUSES.get(self.status, self.status))


class OpenRunQuota(db.Model):
    """A sending unit named by a run, with the seats its cadres may take at most."""

    __tablename__ = "open_run_quotas"
    __table_args__ = (
        UniqueConstraint("run_id", "unit_name", name="uq_open_run_quotas_run_unit"),
        CheckConstraint("seats >= 1", name="seats_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("open_runs.id", ondelete="CASCADE"), index=True)
    unit_name: Mapped[str] = mapped_column(String(128))
    seats: Mapped[int]

    run: Mapped[OpenRun] = relationship(back_populates="quotas")


class OpenRunSeat(db.Model):
    """One trainee's seat in an open run (or their place on its waiting list)."""

    __tablename__ = "open_run_seats"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id", name="uq_open_run_seats_run_user"),
        CheckConstraint("status IN ('booked','waitlisted','offered','cancelled')", name="status"),
        Index("ix_open_run_seats_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("open_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quota_id: Mapped[int | None] = mapped_column(ForeignKey("open_run_quotas.id"))
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128), default="")
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="booked")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[OpenRun] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def status_label(self) -> str:
        return str(SEAT_STATUSES.get(self.status, self.status))


class Elective(db.Model):
    """A slot of a class's route where trainees choose one of 2–4 stops (菜单式选学)."""

    __tablename__ = "electives"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ordered"),
        CheckConstraint("status IN ('open','placed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    choose_by: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
    options: Mapped[list[ElectiveOption]] = relationship(
        back_populates="elective", order_by="ElectiveOption.id", cascade="all, delete-orphan"
    )


class ElectiveOption(db.Model):
    """One alternative of an elective: a stop booked for ``seats`` of the class."""

    __tablename__ = "elective_options"
    __table_args__ = (CheckConstraint("seats >= 1", name="seats_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elective_id: Mapped[int] = mapped_column(
        ForeignKey("electives.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    seats: Mapped[int]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))

    elective: Mapped[Elective] = relationship(back_populates="options")
    site: Mapped[TeachingSite] = relationship()
    course: Mapped[Course | None] = relationship()
    booking: Mapped[Booking | None] = relationship()

    @property
    def label(self) -> str:
        return self.course.name if self.course is not None else self.site.name


class ElectiveChoice(db.Model):
    """The option a trainee (a roster entry) takes in an elective."""

    __tablename__ = "elective_choices"
    __table_args__ = (
        UniqueConstraint("elective_id", "entry_id", name="uq_elective_choices_elective_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elective_id: Mapped[int] = mapped_column(ForeignKey("electives.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(
        ForeignKey("elective_options.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), index=True
    )
    placed_by_portal: Mapped[bool] = mapped_column(default=False)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    option: Mapped[ElectiveOption] = relationship()
    entry: Mapped[RosterEntry] = relationship()


class RosterImport(db.Model):
    """An uploaded roster file between its preview and its confirmation (any server reads it)."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
