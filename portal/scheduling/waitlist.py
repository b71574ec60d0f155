"""The waiting list: offering freed places in turn, accepting an offer, expiring offers.

A stop that joined a session's waiting list (``book(..., waitlist_full=True)``) is offered
the place when seats free up (a cancellation, a move, a member's refusal, an expired offer);
the offer holds the seats until it is accepted or expires.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import literal_column, select

from portal.errors import ServiceError
from portal.extensions import db
from portal.scheduling.classes import require_class_owner
from portal.scheduling.history import notify_organizer, record_event, refresh_booking_status
from portal.scheduling.models import HOLDING, Reservation
from portal.scheduling.settings import setting
from portal.timeutil import utcnow


def offer_freed_places(freed: Iterable[Reservation], actor: Any) -> list[Reservation]:
    """Offer places freed at these windows to those waiting, in order, while seats allow.

    Each offered squad holds its seats until it is accepted or its offer expires; a squad
    too large for what is free is passed over for now and keeps its place in line.
    """
    offered = []
    hours = setting("waitlist_offer_hours")
    for gone in freed:
        waiting = db.session.scalars(
            select(Reservation)
            .where(
                Reservation.site_id == gone.site_id,
                Reservation.status == "waitlisted",
                Reservation.starts_at < gone.ends_at,
                Reservation.ends_at > gone.starts_at,
            )
            .order_by(Reservation.waitlisted_at, Reservation.id)
        ).all()
        for candidate in waiting:
            if seats_free(candidate) >= candidate.group_size:
                candidate.status = "offered"
                candidate.offer_expires_at = utcnow() + timedelta(hours=hours)
                record_event(candidate.booking, "offer", actor, candidate, "waitlisted", "offered")
                notify_organizer(
                    candidate.booking,
                    _(
                        "候补名额：“%(site)s”有空位了，请在 %(hours)s 小时内接受",
                        site=candidate.site.name,
                        hours=hours,
                    ),
                )
                db.session.flush()
                offered.append(candidate)
    return offered


def seats_free(reservation: Reservation) -> int:
    """Seats left at the reservation's site and window, not counting the reservation itself."""
    others = db.session.scalars(
        select(Reservation).where(
            Reservation.site_id == reservation.site_id,
            Reservation.id != reservation.id,
            Reservation.status.in_(HOLDING),
            Reservation.starts_at < reservation.ends_at,
            Reservation.ends_at > reservation.starts_at,
        )
    )
    return reservation.site.capacity - sum(r.group_size for r in others)


def accept_offer(reservation: Reservation, actor: Any) -> None:
    """The organizer takes the place offered from the waiting list before it expires. Commits."""
    require_class_owner(reservation.booking.training_class, actor)
    if reservation.status != "offered":
        raise ServiceError(_("没有待接受的候补名额。"))
    if reservation.offer_expires_at is not None and reservation.offer_expires_at < utcnow():
        raise ServiceError(_("候补名额已过期。"))
    old = reservation.status
    reservation.status = "confirmed" if reservation.site.auto_confirm else "pending"
    record_event(reservation.booking, "accept_offer", actor, reservation, old, reservation.status)
    refresh_booking_status(reservation.booking, actor)
    db.session.commit()


def expire_offers(now: datetime | None = None) -> int:
    """Offers past their time go back to cancelled and the place to the next in line. Commits."""
    now = now or utcnow()
    expired = db.session.scalars(
        select(Reservation).where(
            # A literal, not a parameter: the planner may then use the partial index
            # ix_reservations_offered (… WHERE status = 'offered').
            Reservation.status == literal_column("'offered'"),
            Reservation.offer_expires_at < now,
        )
    ).all()
    if not expired:
        # The usual case on every booking and inbox page: nothing to write, so no settings
        # read and no commit (which would expire what the page has loaded).
        return 0
    for r in expired:
        record_event(r.booking, "offer_expired", None, r, "offered", "cancelled")
        r.status = "cancelled"
        notify_organizer(r.booking, _("候补名额已过期：“%(site)s”", site=r.site.name))
    db.session.flush()
    offer_freed_places(expired, None)
    db.session.commit()
    return len(expired)
