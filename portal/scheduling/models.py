"""Scheduling: route templates, training classes, bookings, reservations and their history."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow

CLASS_KINDS = {"main": _l("主体班"), "commissioned": _l("委托班"), "adhoc": _l("临时班")}
ORIGINS = {
    "city": _l("市内"),
    "province": _l("市外省内"),
    "other_province": _l("省外"),
    "international": _l("国际"),
}
STOP_KINDS = {
    "course": _l("课程"),
    "visit": _l("现场参观"),
    "meal": _l("用餐"),
    "travel": _l("交通"),
}
TEMPLATE_STATUSES = {"draft": _l("草稿"), "published": _l("已发布"), "retired": _l("已停用")}
BOOKING_STATUSES = {
    "pending": _l("待确认"),
    "confirmed": _l("已确认"),
    "declined": _l("有站点被婉拒"),
    "cancelled": _l("已取消"),
}
RESERVATION_STATUSES = {
    "pending": _l("待确认"),
    "confirmed": _l("已确认"),
    "declined": _l("已婉拒"),
    "cancelled": _l("已取消"),
    "waitlisted": _l("候补中"),
    "offered": _l("候补待接受"),
}
# Reservations that hold seats (and a teacher's time): a pending one holds them until decided.
HOLDING = ("pending", "confirmed", "offered")


class Setting(db.Model):
    """A consortium rule the office sets (key → JSON value); defaults live in settings.py."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class RouteTemplate(db.Model):
    """A ring route the office publishes (精品环线): an itinerary over one or more days."""

    __tablename__ = "route_templates"
    __table_args__ = (
        CheckConstraint("days >= 1 AND days <= 30", name="days_range"),
        CheckConstraint("status IN ('draft','published','retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    theme: Mapped[str] = mapped_column(String(32))
    days: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    # Class kinds allowed to book it, as keys joined by commas ("main,commissioned").
    class_kinds: Mapped[str] = mapped_column(String(64), default="main,commissioned,adhoc")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    stops: Mapped[list[RouteStop]] = relationship(
        back_populates="template",
        order_by="(RouteStop.day, RouteStop.starts, RouteStop.id)",
        cascade="all, delete-orphan",
    )

    @property
    def kinds(self) -> list[str]:
        return [k for k in self.class_kinds.split(",") if k]

    @property
    def kinds_label(self) -> str:
        return "、".join(str(CLASS_KINDS[k]) for k in self.kinds if k in CLASS_KINDS)

    @property
    def status_label(self) -> str:
        return str(TEMPLATE_STATUSES.get(self.status, self.status))


class RouteStop(db.Model):
    """One leg of a route template: a course or guided visit at a site, a meal or travel."""

    __tablename__ = "route_stops"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 720", name="minutes_range"),
        CheckConstraint("day >= 1", name="day_positive"),
        CheckConstraint("kind IN ('course','visit','meal','travel')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("route_templates.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[int]
    starts: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    title: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(String(512), default="")

    template: Mapped[RouteTemplate] = relationship(back_populates="stops")
    site: Mapped[TeachingSite | None] = relationship()
    course: Mapped[Course | None] = relationship()

    @property
    def kind_label(self) -> str:
        return str(STOP_KINDS.get(self.kind, self.kind))

    @property
    def label(self) -> str:
        if self.course is not None:
            return self.course.name
        if self.site is not None:
            return self.site.name
        return self.title or self.kind_label


class TrainingClass(db.Model):
    """A training class (培训班) or a study-visit group (参观学习) registered by an organizer."""

    __tablename__ = "training_classes"
    __table_args__ = (
        CheckConstraint("size >= 1 AND size <= 2000", name="size_range"),
        CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        CheckConstraint("kind IN ('main','commissioned','adhoc')", name="kind"),
        CheckConstraint(
            "origin IN ('city','province','other_province','international')", name="origin"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    sending_unit: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    theme: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str] = mapped_column(String(32))
    is_study_visit: Mapped[bool] = mapped_column(default=False)
    # Hosted by the 干教委办 (the cadre-education committee's office): the ring-route rule
    # applies whatever its theme and length (portal.scheduling.classes.needs_ring_route).
    hosted_by_office: Mapped[bool] = mapped_column(default=False, server_default=false())
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one-time key of the form that registered it: a double click registers one class.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    organizer: Mapped[User] = relationship()
    bookings: Mapped[list[Booking]] = relationship(
        back_populates="training_class", order_by="Booking.id"
    )

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def kind_label(self) -> str:
        return str(CLASS_KINDS.get(self.kind, self.kind))

    @property
    def origin_label(self) -> str:
        return str(ORIGINS.get(self.origin, self.origin))


class Booking(db.Model):
    """A class's booking of a route (a template or a custom one) from a start date."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('pending','confirmed','declined','cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("route_templates.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    start_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The form's one-time key: submitting the same form twice creates one booking.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    training_class: Mapped[TrainingClass] = relationship(back_populates="bookings")
    template: Mapped[RouteTemplate | None] = relationship()
    reservations: Mapped[list[Reservation]] = relationship(
        back_populates="booking", order_by="(Reservation.starts_at, Reservation.id)"
    )

    @property
    def status_label(self) -> str:
        return str(BOOKING_STATUSES.get(self.status, self.status))


class Reservation(db.Model):
    """One stop of a booking: a time window at a site, for one squad of the class."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ordered"),
        CheckConstraint("group_size >= 1", name="group_positive"),
        CheckConstraint(
            "status IN ('pending','confirmed','declined','cancelled','waitlisted','offered')",
            name="status",
        ),
        Index("ix_reservations_site_time", "site_id", "starts_at", "ends_at"),
        Index("ix_reservations_teacher_time", "teacher_id", "starts_at", "ends_at"),
        Index("ix_reservations_guide_time", "guide_id", "starts_at", "ends_at"),
        # The inbox: a status's reservations from (or before) a day, in time order.
        Index("ix_reservations_status_time", "status", "starts_at"),
        # expire_offers() runs when the booking and inbox pages open: only offers are indexed,
        # so finding the expired ones costs the same however many reservations exist.
        Index(
            "ix_reservations_offered",
            "offer_expires_at",
            postgresql_where=text("status = 'offered'"),
            sqlite_where=text("status = 'offered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    group_size: Mapped[int]
    squad: Mapped[int] = mapped_column(default=1)
    guide_requested: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The guide (讲解员) the hosting member names to take the group; "" until named.
    guide_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The guide from the member's roster (portal.guides), if named from it; see docs/directory.md.
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    # A declined stop the organizer replaced: the first reservation of the new stop.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))

    booking: Mapped[Booking] = relationship(back_populates="reservations")
    site: Mapped[TeachingSite] = relationship()
    course: Mapped[Course | None] = relationship()
    teacher: Mapped[Teacher | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(RESERVATION_STATUSES.get(self.status, self.status))


class BookingEvent(db.Model):
    """History of a booking and its reservations: every state change, who, when and why."""

    __tablename__ = "booking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Written through these, so that the events of a booking and its reservations being
    # created go in with them at the next flush (record_event); read through the ids.
    booking: Mapped[Booking] = relationship()
    reservation: Mapped[Reservation | None] = relationship()
