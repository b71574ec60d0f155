"""Member staff at work: confirm a class's stops at once, name the guide, a day's guide sheet.

Confirming a whole class goes through ``booking.decide`` stop by stop, so each stop is checked
again under the locks exactly as a single confirmation is; one stop that no longer fits does
not stop the others, and the caller is told which were confirmed and which not (and why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import decide, get_reservation_for_member
from portal.scheduling.fitting import BookingRefused
from portal.scheduling.history import notify_organizer, record_event
from portal.scheduling.models import Booking, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ, within_range

GUIDE_NAME_MAX = 64


def _where(reservation: Reservation) -> str:
    local = reservation.starts_at.astimezone(LOCAL_TZ)
    return f"{reservation.site.name} {local.strftime('%m-%d %H:%M')}"


def require_member_staff(actor: Any) -> None:
    if not (actor.is_office or actor.is_member_user):
        raise PermissionDenied(_("只有成员单位工作人员可以处理预约。"))


def pending_stops_of_class(
    training_class: TrainingClass, actor: Any, member_id: int | None = None
) -> list[Reservation]:
    """The class's pending stops the actor decides on: their member's sites (office: all, or
    one member's)."""
    require_member_staff(actor)
    query = (
        select(Reservation)
        .join(Reservation.booking)
        .join(Reservation.site)
        .where(Booking.class_id == training_class.id, Reservation.status == "pending")
        .order_by(Reservation.starts_at, Reservation.id)
    )
    if not actor.is_office:
        query = query.where(TeachingSite.member_id == actor.member_id)
    elif member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    return list(db.session.scalars(query))


@dataclass
class BulkResult:
    """What confirming a class's stops did: the stops confirmed and the ones refused, why."""

    confirmed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def confirm_class(
    training_class: TrainingClass, actor: Any, member_id: int | None = None
) -> BulkResult:
    """Confirm every pending stop of a class at the actor's member's sites. Commits per stop.

    Each stop goes through ``decide`` (its own lock and every rule checked again); a stop
    that fails is reported and the others go on.
    """
    stops = pending_stops_of_class(training_class, actor, member_id)
    if not stops:
        raise ServiceError(_("该培训班没有待您确认的站点。"))
    result = BulkResult()
    for reservation_id, where in [(r.id, _where(r)) for r in stops]:
        reservation = db.session.get(Reservation, reservation_id)
        try:
            decide(reservation, actor, True)
        except BookingRefused as refused:
            db.session.rollback()
            result.refused.append((where, "；".join(p.message for p in refused.problems)))
        except ServiceError as error:
            db.session.rollback()
            result.refused.append((where, error.message))
        else:
            result.confirmed.append(where)
    return result


def clean_guide_name(value: str | None) -> str:
    name = " ".join((value or "").split())
    if len(name) > GUIDE_NAME_MAX or "\x00" in name:
        raise ValidationFailed(
            {"guide_name": _("讲解员姓名最多 %(max)s 个字。", max=GUIDE_NAME_MAX)}
        )
    return name


def name_guide(reservation_id: int, actor: Any, value: str | None) -> Reservation:
    """The hosting member names the guide who takes the group ("" clears it). Commits."""
    require_member_staff(actor)
    reservation = get_reservation_for_member(reservation_id, actor)
    name = clean_guide_name(value)
    if reservation.status not in ("pending", "confirmed"):
        raise ServiceError(_("该预约%(status)s，不能安排讲解员。", status=reservation.status_label))
    if name == reservation.guide_name:
        return reservation
    booking = reservation.booking
    record_event(
        booking,
        "guide",
        actor,
        reservation,
        reason=_("讲解员：%(name)s", name=name) if name else _("取消讲解员安排"),
    )
    reservation.guide_name = name
    reservation.guide_id = None  # a free-text name: not a roster guide (portal.guides)
    if name:
        notify_organizer(
            booking,
            _(
                "“%(site)s”为%(class)s安排讲解员：%(name)s",
                site=reservation.site.name,
                **{"class": booking.training_class.name},
                name=name,
            ),
        )
    db.session.commit()
    return reservation


def parse_day(value: str | None, today: date) -> date:
    """A day typed in a URL (YYYY-MM-DD, within the portal's range); today if missing."""
    if not value:
        return today
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"day": _("日期格式应为 2026-12-14。")}) from None
    if not within_range(day):
        raise ValidationFailed({"day": _("日期须在 2000 年至 2100 年之间。")})
    return day


def guide_sheet(actor: Any, day: date, member_id: int | None = None) -> list[Reservation]:
    """The groups at the actor's member's sites on a day (confirmed and pending), in order:
    what the guides need on their phones (time, site, class, size, contact, guide)."""
    require_member_staff(actor)
    start = datetime.combine(day, time(0), tzinfo=LOCAL_TZ)
    query = (
        select(Reservation)
        .join(Reservation.site)
        .where(
            Reservation.status.in_(("pending", "confirmed")),
            Reservation.starts_at >= start,
            Reservation.starts_at < start + timedelta(days=1),
        )
        .options(
            selectinload(Reservation.booking).selectinload(Booking.training_class),
            selectinload(Reservation.site),
            selectinload(Reservation.course),
        )
        .order_by(TeachingSite.name, Reservation.starts_at, Reservation.id)
    )
    if not actor.is_office:
        query = query.where(TeachingSite.member_id == actor.member_id)
    elif member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    return list(db.session.scalars(query))


def class_for_member(class_id: int, actor: Any) -> TrainingClass:
    """A class with stops at the actor's member's sites (any class for the office); else 404."""
    require_member_staff(actor)
    training_class = db.session.get(
        TrainingClass, class_id, options=[selectinload(TrainingClass.bookings)]
    )
    if training_class is None:
        raise NotFound(_("没有找到该培训班。"))
    if actor.is_office:
        return training_class
    visits = db.session.scalar(
        select(Reservation.id)
        .join(Reservation.booking)
        .join(Reservation.site)
        .where(Booking.class_id == class_id, TeachingSite.member_id == actor.member_id)
        .limit(1)
    )
    if visits is None:
        raise NotFound(_("没有找到该培训班。"))
    return training_class
