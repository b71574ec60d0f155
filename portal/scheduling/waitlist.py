"""The waiting list: offering freed places in turn, accepting an offer, expiring offers.

A stop that joined a session's waiting list (``book(..., waitlist_full=True)``) is offered
the place when seats free up (a cancellation, a move, a member's refusal, an expired offer);
the offer holds the seats until it is accepted or expires.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, literal_column, or_, select, update

from portal import pagecache
from portal.errors import ServiceError
from portal.extensions import db
from portal.scheduling.classes import require_class_owner
from portal.scheduling.history import (
    booking_changed,
    notify_organizer,
    record_event,
    refresh_booking_status,
)
from portal.scheduling.locks import begin_locked
from portal.scheduling.models import HOLDING, Booking, Reservation
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
    """The organizer takes the place offered from the waiting list before it expires. Commits.

    The offer is claimed with a conditional UPDATE (still offered, not yet expired), so an
    offer that ``expire_offers`` cancels at the same moment is either taken or expired,
    never both.
    """
    require_class_owner(reservation.booking.training_class, actor)
    if reservation.status != "offered":
        raise ServiceError(_("没有待接受的候补名额。"))
    now = utcnow()
    if reservation.offer_expires_at is not None and reservation.offer_expires_at < now:
        raise ServiceError(_("候补名额已过期。"))
    from portal.reports.review import confirm_blocked

    blocked = confirm_blocked(reservation.booking.training_class)
    new = "confirmed" if reservation.site.auto_confirm and not blocked else "pending"
    claimed = db.session.execute(
        update(Reservation)
        .where(
            Reservation.id == reservation.id,
            Reservation.status == "offered",
            or_(Reservation.offer_expires_at.is_(None), Reservation.offer_expires_at >= now),
        )
        .values(status=new, decided_at=now if new == "confirmed" else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise ServiceError(_("候补名额已过期。"))
    db.session.expire(reservation, ["status", "decided_at"])
    record_event(reservation.booking, "accept_offer", actor, reservation, "offered", new)
    refresh_booking_status(reservation.booking, actor)
    db.session.commit()


# This process's knowledge of the earliest end of a running offer: (the schedule's page
# cache generation it was read at, that end).
NEXT_OFFER_END = "portal.scheduling.next_offer_end"
NO_OFFER = datetime.max.replace(tzinfo=UTC)


def expire_due_offers() -> int:
    """``expire_offers()`` for a page opened many times a minute (the members' 预约待办).

    With the page cache's generations in Redis, each process keeps the earliest end of a
    running offer with the schedule's generation it was read at: while neither the
    schedule changed (a new offer moves the generation) nor that time has come, no offer
    can be due and the database is not asked. Otherwise as ``expire_offers()``.
    """
    if not pagecache.shared_generations():
        return expire_offers()
    now = utcnow()
    generation = pagecache.generations()[pagecache.SCHEDULE]
    known = current_app.extensions.get(NEXT_OFFER_END)
    if known is not None and known[0] == generation and now < known[1]:
        return 0
    first_end = db.session.scalar(
        select(func.min(Reservation.offer_expires_at)).where(
            Reservation.status == literal_column("'offered'")
        )
    )
    if first_end is not None and first_end < now:
        return expire_offers(now)  # its commit moves the generation: read again next time
    current_app.extensions[NEXT_OFFER_END] = (generation, first_end or NO_OFFER)
    return 0


def expire_offers(now: datetime | None = None) -> int:
    """Offers past their time go back to cancelled and the place to the next in line. Commits.

    Runs when booking and inbox pages open, in every worker, and from the
    ``process-waitlist`` timer, perhaps on several servers at once; each expired offer is
    still processed once. The due offers are found without a lock (with none due, the usual
    case, that one read is all); then, under the locks of their sites (``begin_locked``),
    each is claimed by a conditional UPDATE (``… WHERE status = 'offered'``): only the run
    whose claim changed the row records the history, tells the organizer, offers the place
    to the next in line and refreshes the booking's status (cancelled when no stop is left).
    Returns the number of offers this run expired.
    """
    now = now or utcnow()
    due = db.session.execute(
        select(Reservation.id, Reservation.site_id).where(
            # A literal, not a parameter: the planner may then use the partial index
            # ix_reservations_offered (… WHERE status = 'offered').
            Reservation.status == literal_column("'offered'"),
            Reservation.offer_expires_at < now,
        )
    ).all()
    if not due:
        # The usual case on every booking and inbox page: nothing to write, so no settings
        # read and no commit (which would expire what the page has loaded).
        return 0
    begin_locked({site_id for _id, site_id in due}, [])
    try:
        claimed = db.session.scalars(
            update(Reservation)
            .where(
                Reservation.id.in_([offer_id for offer_id, _site in due]),
                Reservation.status == "offered",
                Reservation.offer_expires_at < now,
            )
            .values(status="cancelled")
            .returning(Reservation.id)
            .execution_options(synchronize_session=False)
        ).all()
        if not claimed:  # another worker or server expired them first
            db.session.rollback()
            return 0
        expired = db.session.scalars(
            select(Reservation).where(Reservation.id.in_(claimed)).order_by(Reservation.id)
        ).all()
        before: dict[int, tuple[Booking, str]] = {}
        for r in expired:
            before.setdefault(r.booking_id, (r.booking, r.booking.status))
            record_event(r.booking, "offer_expired", None, r, "offered", "cancelled")
            notify_organizer(r.booking, _("候补名额已过期：“%(site)s”", site=r.site.name))
        db.session.flush()
        offer_freed_places(expired, None)
        for booking, _old in before.values():
            refresh_booking_status(booking, None, reason=_("候补名额已过期"))
        changed = [(b, old, b.status) for b, old in before.values() if b.status != old]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for booking, old, new in changed:
        booking_changed(booking, old, new_status=new)
    return len(claimed)
