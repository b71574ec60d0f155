"""Many organizers booking at once never overbook a session or a teacher (SQLite and PostgreSQL).

Each attempt runs in its own thread with its own app context, session and connection, and
commits for real, on a database of its own. The first two tests make the race happen with
the locks switched off (every attempt checks before any of them writes), to show what the
locks prevent; the others show that with the locks on it cannot happen.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.demo import load_demo
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.fitting import BookingRefused, check_plan
from portal.scheduling.models import HOLDING, Reservation, TrainingClass
from tests.conftest import fresh_database_url, make_test_app
from tests.scheduling.helpers import at, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db

ATTEMPTS = 50


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


def prepare(app, sizes: int, teacher_key: str | None = None) -> tuple[list[int], str]:
    """One class per attempt, and the date of the contested session."""
    with app.app_context():
        day = future_weekday(2)
        ids = [new_class(sizes, name=f"并发测试班{i:02d}").id for i in range(ATTEMPTS)]
        db.session.remove()
        return ids, day.isoformat()


def attempt(app, class_id: int, plan_of) -> str:
    """Book in a thread of its own; returns "ok", a refusal code, or the error's class name."""
    from datetime import date

    with app.app_context():
        try:
            klass = db.session.get(TrainingClass, class_id)
            plan = plan_of(date.fromisoformat(app.config["CONTESTED_DAY"]))
            book(klass, plan, user("organizer"))
            return "ok"
        except BookingRefused as refused:
            return refused.problems[0].code
        except Exception as error:  # counted, and shown when the test fails
            return type(error).__name__
        finally:
            db.session.remove()


def run_all(app, ids: list[int], plan_of) -> Counter:
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        return Counter(pool.map(lambda class_id: attempt(app, class_id, plan_of), ids))


def make_everyone_check_first(monkeypatch, attempts: int, wait: float = 10) -> None:
    """Hold each booking between its check and its write until all have checked: the race.

    With the locks on, the first booking holds its lock while it waits, nobody else can
    check, the gate gives up after ``wait`` seconds and the bookings go one at a time.
    """
    gate = threading.Barrier(attempts)
    original = check_plan

    def check_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait(timeout=wait)
        return found

    monkeypatch.setattr("portal.scheduling.booking.check_plan", check_then_wait)


def seats_taken(app, site_key: str) -> int:
    with app.app_context():
        from tests.scheduling.helpers import site

        total = db.session.scalar(
            select(func.coalesce(func.sum(Reservation.group_size), 0)).where(
                Reservation.site_id == site(site_key).id, Reservation.status.in_(HOLDING)
            )
        )
        db.session.remove()
        return total


def teacher_bookings(app, teacher_key: str) -> int:
    with app.app_context():
        from tests.scheduling.helpers import teacher

        count = db.session.scalar(
            select(func.count()).where(
                Reservation.teacher_id == teacher(teacher_key).id,
                Reservation.status.in_(HOLDING),
            )
        )
        db.session.remove()
        return count


def session_plan(day):
    """The contested session: 善洲墓园 (120 seats, no guide needed, no daily limit), 09:00–10:00."""
    return [stop("cemetery", at(day, 9), 60)]


def teacher_plan(day):
    """The contested teacher: 赵娜 at 14:00, each class at the same site and hour."""
    return [stop("cemetery", at(day, 14), 60, teacher_key="zhao_na")]


def test_without_locks_the_race_overbooks(concurrent_app, monkeypatch):
    concurrent_app.config["SCHEDULING_LOCKS"] = False
    ids, day = prepare(concurrent_app, 10)
    concurrent_app.config["CONTESTED_DAY"] = day
    make_everyone_check_first(monkeypatch, 20)
    results = run_all(concurrent_app, ids[:20], session_plan)
    # Everyone checked before anyone wrote: all twenty classes of ten got into 120 seats.
    assert results["ok"] == 20
    assert seats_taken(concurrent_app, "cemetery") == 200


def test_without_locks_a_teacher_is_booked_twice(concurrent_app, monkeypatch):
    concurrent_app.config["SCHEDULING_LOCKS"] = False
    ids, day = prepare(concurrent_app, 5)
    concurrent_app.config["CONTESTED_DAY"] = day
    make_everyone_check_first(monkeypatch, 10)
    results = run_all(concurrent_app, ids[:10], teacher_plan)
    assert results["ok"] == 10
    assert teacher_bookings(concurrent_app, "zhao_na") == 10


def test_with_locks_the_same_race_cannot_overbook(concurrent_app, monkeypatch):
    ids, day = prepare(concurrent_app, 10)
    concurrent_app.config["CONTESTED_DAY"] = day
    make_everyone_check_first(monkeypatch, 20, wait=1)
    results = run_all(concurrent_app, ids[:20], session_plan)
    assert results == Counter({"ok": 12, "full": 8})
    assert seats_taken(concurrent_app, "cemetery") == 120


def test_fifty_at_once_never_exceed_capacity(concurrent_app):
    ids, day = prepare(concurrent_app, 14)
    concurrent_app.config["CONTESTED_DAY"] = day
    results = run_all(concurrent_app, ids, session_plan)
    assert results["ok"] == 8, results  # 8 × 14 = 112 of 120 seats; a ninth class would need 126
    assert results["full"] == ATTEMPTS - 8, results
    assert seats_taken(concurrent_app, "cemetery") == 112


def test_fifty_at_once_never_book_a_teacher_twice(concurrent_app):
    ids, day = prepare(concurrent_app, 5)
    concurrent_app.config["CONTESTED_DAY"] = day
    results = run_all(concurrent_app, ids, teacher_plan)
    assert results["ok"] == 1, results
    assert results["teacher_busy"] == ATTEMPTS - 1, results
    assert teacher_bookings(concurrent_app, "zhao_na") == 1
