"""A booking's history and who is told of a change.

Every change of a booking or of one of its stops is recorded as a ``BookingEvent``
(``record_event``); the booking's own status follows its stops (``refresh_booking_status``);
the hosting members' staff, the organizer and the members' plugins are told.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal import plugins
from portal.extensions import db
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import Booking, BookingEvent, Reservation
from portal.timeutil import LOCAL_TZ, utcnow


def record_event(
    booking: Booking,
    action: str,
    actor: Any,
    reservation: Reservation | None = None,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> None:
    db.session.add(
        BookingEvent(
            # Objects, not ids: events of a booking not yet flushed are inserted with it.
            booking=booking,
            reservation=reservation,
            action=action,
            from_status=old,
            to_status=new,
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "display_name", None) or _("系统"),
            reason=reason,
        )
    )


def refresh_booking_status(booking: Booking, actor: Any, reason: str = "") -> None:
    """A booking is confirmed when all its live stops are, declined when one was declined
    (and not replaced yet), and cancelled when none is left (its last offer from the waiting
    list expired)."""
    live = [
        r
        for r in booking.reservations
        if r.status != "cancelled" and not (r.status == "declined" and r.replaced_by_id)
    ]
    if booking.status == "cancelled":
        return
    if not live and booking.reservations:
        new = "cancelled"
        booking.cancelled_at = utcnow()
        booking.cancel_reason = reason
    elif any(r.status == "declined" for r in live):
        new = "declined"
    elif live and all(r.status == "confirmed" for r in live):
        new = "confirmed"
    else:
        new = "pending"
    if new != booking.status:
        record_event(booking, "status", actor, old=booking.status, new=new, reason=reason)
        booking.status = new


def booking_link(booking: Booking) -> str:
    return f"/bookings/{booking.id}"


def describe(booking: Booking) -> str:
    """Lines about a booking for a notice: class, unit, size, and its stops."""
    klass = booking.training_class
    lines = [
        _(
            "培训班：%(name)s（%(unit)s，%(size)s 人）",
            name=klass.name,
            unit=klass.sending_unit,
            size=klass.size,
        ),
        _("线路：%(route)s", route=booking.name),
    ]
    for r in booking.reservations:
        lines.append(
            f"{r.starts_at.astimezone(LOCAL_TZ).strftime('%Y-%m-%d %H:%M')} {r.site.name} {r.status_label}"
        )
    return "\n".join(lines)


def notify_hosts(
    booking: Booking, subject: str, reservations: Iterable[Reservation] | None = None
) -> None:
    """Tell the staff of the members whose sites the booking (or these stops) visit."""
    stops = list(reservations) if reservations is not None else booking.reservations
    notify(member_staff(r.site.member_id for r in stops), subject, describe(booking), "/inbox")


def notify_organizer(booking: Booking, subject: str) -> None:
    notify([booking.training_class.organizer], subject, describe(booking), booking_link(booking))


def booking_changed(
    booking: Booking,
    old_status: str,
    *,
    new_status: str | None = None,
    owners: set[str] | None = None,
) -> None:
    """Tell the plugins of the members the booking visits, after the change is committed.

    A caller that knows the new status and the members' plugins passes them, so the
    committed (expired) booking is not read again unless a plugin implements the hook.
    """
    new_status = booking.status if new_status is None else new_status
    if old_status == new_status:
        return
    if owners is None:
        owners = {r.site.member.plugin for r in booking.reservations}
    plugins.call_each(
        "portal_booking_changed",
        plugins=owners,
        booking=booking,
        old_status=old_status,
        new_status=new_status,
    )


def booking_events(booking: Booking) -> list[BookingEvent]:
    return list(
        db.session.scalars(
            select(BookingEvent)
            .where(BookingEvent.booking_id == booking.id)
            .order_by(BookingEvent.id)
        )
    )
