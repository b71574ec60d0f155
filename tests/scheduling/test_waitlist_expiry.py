"""Waiting-list offers expire once, whoever runs the sweep, and the booking follows its stops.

``expire_offers()`` runs when booking and inbox pages open, in every gunicorn worker, and
from the ``process-waitlist`` timer, perhaps on two servers at once. Here several real
processes (each its own interpreter, app, engine and connection, as workers and servers
are) run it at the same moment on offers that are all due: each offer is processed once,
with one history row and one message, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.demo import load_demo
from portal.errors import ServiceError
from portal.extensions import db
from portal.notifications.models import Message
from portal.scheduling.booking import book, cancel_booking
from portal.scheduling.models import Booking, BookingEvent, Reservation
from portal.scheduling.waitlist import accept_offer, expire_offers
from portal.timeutil import utcnow
from tests.conftest import fresh_database_url, make_test_app
from tests.scheduling.helpers import at, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db

PROCESSES = 4
OFFERS = 24
EXPIRED_SUBJECT = "候补名额已过期"


@pytest.fixture
def shared_database(tmp_path):
    """A database of its own with the demo, which other processes can open by its URL."""
    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.remove()
        yield app, url
        with app.app_context():
            db.engine.dispose()


def make_due_offers(app, count: int) -> list[int]:
    """``count`` bookings, each with one stop whose waiting-list offer expired an hour ago."""
    with app.app_context():
        day = future_weekday(3)
        ids = []
        for i in range(count):
            hour = 9 + i % 7
            booking = book(
                new_class(5, name=f"候补过期{i:02d}", start=day + timedelta(days=i // 7)),
                [stop("cemetery", at(day + timedelta(days=i // 7), hour), 60)],
                user("organizer"),
            )
            ids.append(booking.reservations[0].id)
        db.session.execute(
            update(Reservation)
            .where(Reservation.id.in_(ids))
            .values(status="offered", offer_expires_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        db.session.remove()
        return ids


def _expire_in_a_process(url: str, instance: str, barrier, results) -> None:
    """One worker or server: its own app and connection; sweeps when all are ready."""
    from sqlalchemy import text

    app = make_test_app(url, instance)
    with app.app_context():
        try:
            db.session.execute(text("SELECT 1"))  # connected before the start
            db.session.rollback()
            barrier.wait(timeout=120)
            results.put(("ok", expire_offers()))
        except Exception as error:  # reported to the test, which fails on it
            results.put(("error", f"{type(error).__name__}: {error}"))
        finally:
            db.session.remove()
            db.engine.dispose()


def sweep_in_processes(url: str, instance: str, processes: int) -> list[tuple[str, object]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_expire_in_a_process, args=(url, instance, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(60)
    return answers


def test_several_processes_expire_each_offer_once(shared_database, tmp_path):
    app, url = shared_database
    offers = make_due_offers(app, OFFERS)
    answers = sweep_in_processes(url, str(tmp_path), PROCESSES)
    assert all(kind == "ok" for kind, _ in answers), answers
    assert sum(n for _, n in answers) == OFFERS
    with app.app_context():
        history = db.session.scalar(
            select(func.count()).where(BookingEvent.action == "offer_expired")
        )
        messages = db.session.scalar(
            select(func.count()).where(Message.subject.like(f"{EXPIRED_SUBJECT}%"))
        )
        statuses = set(
            db.session.scalars(select(Reservation.status).where(Reservation.id.in_(offers)))
        )
        db.session.remove()
    assert history == OFFERS
    assert messages == OFFERS
    assert statuses == {"cancelled"}


def test_a_booking_whose_last_stop_expired_is_cancelled(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    full = book(new_class(40, name="满员"), plan, user("organizer"))
    waiting = book(new_class(30, name="只在候补"), plan, user("organizer"), waitlist_full=True)
    assert waiting.status == "pending"
    cancel_booking(full, user("organizer"), "取消")
    assert db.session.get(Booking, waiting.id).reservations[0].status == "offered"
    assert expire_offers(now=utcnow() + timedelta(days=2)) == 1
    db.session.expire_all()
    expired = db.session.get(Booking, waiting.id)
    assert expired.status == "cancelled"
    assert expired.cancel_reason == "候补名额已过期"
    assert [e.to_status for e in expired_status_events(expired.id)] == ["cancelled"]


def test_a_booking_whose_other_stops_are_confirmed_becomes_confirmed(demo):
    tuesday = future_weekday(2)
    library = [stop("heshun_library", at(tuesday, 10), 60)]
    full = book(new_class(40, name="满员"), library, user("organizer"))
    # 善洲墓园 confirms at once (demo: auto_confirm); the library stop waits for a place.
    both = [stop("cemetery", at(tuesday + timedelta(days=1), 9), 60, index=0)] + [
        stop("heshun_library", at(tuesday, 10), 60, index=1)
    ]
    waiting = book(new_class(30, name="一站候补"), both, user("organizer"), waitlist_full=True)
    live = {r.site.key: r.status for r in waiting.reservations}
    assert live["heshun_library"] == "waitlisted"
    cemetery = next(r for r in waiting.reservations if r.site.key == "cemetery")
    if cemetery.status != "confirmed":
        db.session.execute(
            update(Reservation).where(Reservation.id == cemetery.id).values(status="confirmed")
        )
        db.session.commit()
    cancel_booking(full, user("organizer"), "取消")
    assert expire_offers(now=utcnow() + timedelta(days=2)) == 1
    db.session.expire_all()
    assert db.session.get(Booking, waiting.id).status == "confirmed"


def test_an_offer_is_either_accepted_or_expired(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    full = book(new_class(40, name="满员"), plan, user("organizer"))
    waiting = book(new_class(30, name="候补"), plan, user("organizer"), waitlist_full=True)
    cancel_booking(full, user("organizer"), "取消")
    offer = db.session.get(Booking, waiting.id).reservations[0]
    assert offer.status == "offered"  # what the organizer's page showed
    with db.engine.begin() as other_worker:  # whose sweep expired it before the click
        other_worker.execute(
            update(Reservation).where(Reservation.id == offer.id).values(status="cancelled")
        )
    with pytest.raises(ServiceError, match="候补名额已过期"):
        accept_offer(offer, user("organizer"))
    db.session.expire_all()
    assert db.session.get(Reservation, offer.id).status == "cancelled"


def expired_status_events(booking_id: int) -> list[BookingEvent]:
    return list(
        db.session.scalars(
            select(BookingEvent).where(
                BookingEvent.booking_id == booking_id,
                BookingEvent.action == "status",
                BookingEvent.reservation_id.is_(None),
                BookingEvent.to_status == "cancelled",
            )
        )
    )
