"""Many members registering at once never fill more places than an event has (SQLite and PostgreSQL).

Each attempt runs in its own thread with its own app context, session and connection, and
commits for real, on a database of its own (as tests/scheduling/test_concurrency.py does).
The first test makes the race happen with the lock switched off (every attempt counts the
places before any of them writes), to show what the lock prevents.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal.demo import load_demo
from portal.events.models import EventRegistration
from portal.events.registrations import cancel_registration, places_taken, register
from portal.extensions import db
from tests.conftest import fresh_database_url, make_test_app
from tests.events.builders import make_event, user

pytestmark = pytest.mark.db

ATTEMPTS = 30
PLACES = 10
MEMBER_STAFF = (
    "party_school_staff",
    "yangshanzhou_college_staff",
    "tengchong_college_staff",
    "songshan_base_staff",
)


@pytest.fixture
def concurrent_app(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(
            url, str(tmp_path), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 60}
        )
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.remove()
        yield app
        with app.app_context():
            db.engine.dispose()


def new_event(app, capacity: int = PLACES) -> int:
    with app.app_context():
        event_id = make_event(capacity=capacity, title="并发报名测试").id
        db.session.remove()
        return event_id


def attempt(app, event_id: int, number: int) -> str:
    """Register one participant in a thread of its own; returns the status or the error."""
    with app.app_context():
        try:
            staff = user(MEMBER_STAFF[number % len(MEMBER_STAFF)])
            done = register(event_id, staff, {"participant_name": f"学员{number:02d}"})
            return done.status
        except Exception as error:  # counted, and shown when the test fails
            return type(error).__name__
        finally:
            db.session.remove()


def run_all(app, event_id: int, attempts: int = ATTEMPTS) -> Counter:
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return Counter(pool.map(lambda n: attempt(app, event_id, n), range(attempts)))


def stored(app, event_id: int) -> Counter:
    with app.app_context():
        found = Counter(
            db.session.scalars(
                select(EventRegistration.status).where(EventRegistration.event_id == event_id)
            )
        )
        db.session.remove()
        return found


def make_everyone_count_first(monkeypatch, attempts: int, wait: float = 10) -> None:
    """Hold each registration between counting the places and writing until all have counted.

    With the lock on, the first registration holds it while it waits, nobody else can count,
    the gate gives up after ``wait`` seconds and the registrations go one at a time.
    """
    gate = threading.Barrier(attempts)
    original = places_taken

    def count_then_wait(event_id):
        found = original(event_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait(timeout=wait)
        return found

    monkeypatch.setattr("portal.events.registrations.places_taken", count_then_wait)


def test_without_the_lock_the_race_overfills(concurrent_app, monkeypatch):
    concurrent_app.config["EVENT_LOCKS"] = False
    event_id = new_event(concurrent_app)
    make_everyone_count_first(monkeypatch, 15)
    results = run_all(concurrent_app, event_id, 15)
    # Everyone counted before anyone wrote: all fifteen got one of the ten places.
    assert results == Counter({"registered": 15})


def test_with_the_lock_the_same_race_cannot_overfill(concurrent_app, monkeypatch):
    event_id = new_event(concurrent_app)
    make_everyone_count_first(monkeypatch, 15, wait=1)
    results = run_all(concurrent_app, event_id, 15)
    assert results == Counter({"registered": 10, "waitlisted": 5})
    assert stored(concurrent_app, event_id) == Counter({"registered": 10, "waitlisted": 5})


def test_thirty_at_once_for_ten_places(concurrent_app):
    event_id = new_event(concurrent_app)
    results = run_all(concurrent_app, event_id)
    assert results == Counter({"registered": PLACES, "waitlisted": ATTEMPTS - PLACES}), results
    assert stored(concurrent_app, event_id) == Counter(
        {"registered": PLACES, "waitlisted": ATTEMPTS - PLACES}
    )


def test_concurrent_cancellations_promote_exactly_as_many_as_leave(concurrent_app):
    event_id = new_event(concurrent_app)
    run_all(concurrent_app, event_id)
    with concurrent_app.app_context():
        leaving = db.session.scalars(
            select(EventRegistration.id)
            .where(
                EventRegistration.event_id == event_id,
                EventRegistration.status == "registered",
            )
            .order_by(EventRegistration.id)
            .limit(5)
        ).all()
        first_in_line = db.session.scalars(
            select(EventRegistration.participant_name)
            .where(
                EventRegistration.event_id == event_id,
                EventRegistration.status == "waitlisted",
            )
            .order_by(EventRegistration.waitlisted_at, EventRegistration.id)
            .limit(5)
        ).all()
        db.session.remove()

    def cancel(registration_id: int) -> str:
        with concurrent_app.app_context():
            try:
                promoted = cancel_registration(registration_id, user("office"))
                return f"promoted {len(promoted)}"
            except Exception as error:
                return type(error).__name__
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(leaving)) as pool:
        results = Counter(pool.map(cancel, leaving))
    assert results == Counter({"promoted 1": 5}), results
    assert stored(concurrent_app, event_id) == Counter(
        {"registered": PLACES, "waitlisted": ATTEMPTS - PLACES - 5, "cancelled": 5}
    )
    with concurrent_app.app_context():
        promoted = set(
            db.session.scalars(
                select(EventRegistration.participant_name).where(
                    EventRegistration.event_id == event_id,
                    EventRegistration.promoted_at.is_not(None),
                )
            )
        )
        db.session.remove()
    assert promoted == set(first_in_line)
