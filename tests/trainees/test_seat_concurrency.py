"""Seats are never oversold, and the deadline job acts once, under real concurrency.

Each seat booking runs in its own thread with its own app context, session and connection
and commits for real, on a database of its own (SQLite here, PostgreSQL with
PORTAL_TEST_DATABASE_URL). The deadline job is run by two processes at the same moment,
as two app servers' timers would.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.demo import load_demo
from portal.extensions import db
from portal.notifications.models import Message
from portal.trainees import electives, open_runs
from portal.trainees.models import ElectiveChoice, OpenRun, OpenRunSeat, RosterEntry
from tests.conftest import fresh_database_url, make_test_app
from tests.scheduling.helpers import user
from tests.trainees.helpers import publish, trainee_account

pytestmark = pytest.mark.db

ATTEMPTS = 60
SEATS = 20
QUOTA = 5


@pytest.fixture
def concurrent_app(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(
            url, str(tmp_path), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 70}
        )
        app.config["TEST_DATABASE_URL"] = url
        with app.app_context():
            db.create_all()
            load_demo(season=["trainees"])
            db.session.remove()
        yield app
        with app.app_context():
            db.engine.dispose()


def prepare_run(app, quotas: str = "") -> tuple[int, list[int]]:
    """A run of SEATS seats and ATTEMPTS trainees (half of them of the unit with a quota)."""
    with app.app_context():
        run = publish(seats=SEATS, minimum=1, quotas=quotas)
        ids = []
        for i in range(ATTEMPTS):
            unit = "甲县发改局" if i % 2 else "乙县教育局"
            ids.append(trainee_account(f"学员{i:02d}", f"1370000{i:04d}", unit=unit).id)
        run_id = run.id
        db.session.remove()
        return run_id, ids


def book(app, run_id: int, user_id: int) -> str:
    from portal.auth.models import User

    with app.app_context():
        try:
            seat = open_runs.book_seat(run_id, db.session.get(User, user_id), waitlist=True)
            return seat.status
        except Exception as error:  # counted, and shown when the test fails
            return f"{type(error).__name__}: {error}"
        finally:
            db.session.remove()


def run_all(app, run_id: int, ids: list[int]) -> Counter:
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        return Counter(pool.map(lambda user_id: book(app, run_id, user_id), ids))


def held(app, run_id: int) -> tuple[int, dict[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(OpenRunSeat.unit, func.count())
            .where(OpenRunSeat.run_id == run_id, OpenRunSeat.status.in_(("booked", "offered")))
            .group_by(OpenRunSeat.unit)
        ).all()
        db.session.remove()
        return sum(n for _u, n in rows), dict(rows)


def test_sixty_trainees_at_once_never_oversell_the_seats(concurrent_app):
    run_id, ids = prepare_run(concurrent_app)
    outcome = run_all(concurrent_app, run_id, ids)
    assert outcome == Counter({"booked": SEATS, "waitlisted": ATTEMPTS - SEATS}), outcome
    assert held(concurrent_app, run_id)[0] == SEATS


def test_a_unit_quota_holds_under_the_same_lock(concurrent_app):
    run_id, ids = prepare_run(concurrent_app, quotas=f"甲县发改局 {QUOTA}\n乙县教育局 {SEATS}")
    outcome = run_all(concurrent_app, run_id, ids)
    total, by_unit = held(concurrent_app, run_id)
    assert by_unit["甲县发改局"] == QUOTA, (by_unit, outcome)
    assert total == SEATS and by_unit["乙县教育局"] == SEATS - QUOTA
    assert outcome["booked"] == SEATS and outcome["waitlisted"] == ATTEMPTS - SEATS, outcome


def test_cancellations_and_bookings_at_once_keep_the_count(concurrent_app):
    """Half the seats are given up while others book: the total never passes the seats."""
    run_id, ids = prepare_run(concurrent_app)
    first = run_all(concurrent_app, run_id, ids[:SEATS])
    assert first == Counter({"booked": SEATS})
    with concurrent_app.app_context():
        seat_ids = db.session.scalars(
            select(OpenRunSeat.id).where(OpenRunSeat.run_id == run_id).order_by(OpenRunSeat.id)
        ).all()[: SEATS // 2]
        owners = {
            s.id: s.user_id
            for s in db.session.scalars(select(OpenRunSeat).where(OpenRunSeat.id.in_(seat_ids)))
        }
        db.session.remove()

    def cancel(seat_id: int) -> str:
        from portal.auth.models import User

        with concurrent_app.app_context():
            try:
                open_runs.cancel_seat(run_id, seat_id, db.session.get(User, owners[seat_id]))
                return "cancelled"
            except Exception as error:
                return f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()

    jobs = [("cancel", s) for s in seat_ids] + [("book", u) for u in ids[SEATS:]]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        outcome = Counter(
            pool.map(
                lambda job: (
                    cancel(job[1]) if job[0] == "cancel" else book(concurrent_app, run_id, job[1])
                ),
                jobs,
            )
        )
    assert outcome["cancelled"] == SEATS // 2, outcome
    assert held(concurrent_app, run_id)[0] == SEATS


def _process_job(url: str, instance: str, barrier, results, on: str) -> None:
    from datetime import date

    app = make_test_app(url, instance)
    with app.app_context():
        barrier.wait(timeout=60)
        done = open_runs.process_open_runs(on=date.fromisoformat(on))
        results.put((done.confirmed, done.cancelled, done.electives_placed))
        db.session.remove()
        db.engine.dispose()


def test_the_deadline_job_acts_once_when_two_servers_run_it_at_once(concurrent_app, tmp_path):
    with concurrent_app.app_context():
        confirmed_run = publish(seats=5, minimum=2)
        cancelled_run = publish(
            seats=5, minimum=3, start=confirmed_run.starts_on + timedelta(days=7)
        )
        for i in range(3):
            open_runs.book_seat(confirmed_run.id, trainee_account(f"甲{i}", f"1360000000{i}"))
        open_runs.book_seat(cancelled_run.id, trainee_account("乙", "13600000009"))
        # An elective due now: placing its trainees must also happen once.
        klass = confirmed_run.training_class
        on = max(confirmed_run.booking_deadline, cancelled_run.booking_deadline) + timedelta(days=1)
        ids = (confirmed_run.id, cancelled_run.id)
        db.session.remove()
        db.engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    url = concurrent_app.config["TEST_DATABASE_URL"]
    workers = [
        context.Process(
            target=_process_job, args=(url, str(tmp_path), barrier, results, on.isoformat())
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in workers]
    confirmed = [run_id for c, _x, _e in outcomes for run_id in c]
    cancelled = [run_id for _c, x, _e in outcomes for run_id in x]
    assert confirmed == [ids[0]] and cancelled == [ids[1]], outcomes
    with concurrent_app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(RosterEntry)
                .where(RosterEntry.class_id == klass.id)
            )
            == 3
        )
        tellings = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.subject.contains("已成班"))
        )
        assert tellings == 4  # three participants and the publisher, once each
        assert {
            r.status for r in db.session.scalars(select(OpenRun).where(OpenRun.id.in_(ids)))
        } == {
            "confirmed",
            "cancelled",
        }
        db.session.remove()


def test_an_elective_option_never_takes_more_than_its_seats(concurrent_app):
    """60 trainees choose the same option of 20 seats at once."""
    from tests.trainees.test_electives import make_elective

    with concurrent_app.app_context():
        klass, elective = make_elective(trainees=ATTEMPTS, seats=(20, 45))
        option_id = elective.options[0].id
        entry_ids = db.session.scalars(
            select(RosterEntry.id).where(RosterEntry.class_id == klass.id).order_by(RosterEntry.id)
        ).all()
        elective_id = elective.id
        db.session.remove()

    def choose(entry_id: int) -> str:
        with concurrent_app.app_context():
            try:
                electives.choose(elective_id, entry_id, option_id)
                return "ok"
            except Exception as error:
                return type(error).__name__
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(entry_ids)) as pool:
        outcome = Counter(pool.map(choose, entry_ids))
    assert outcome == Counter({"ok": 20, "ServiceError": ATTEMPTS - 20}), outcome
    with concurrent_app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ElectiveChoice)
                .where(ElectiveChoice.option_id == option_id)
            )
            == 20
        )
        assert user("organizer") is not None
        db.session.remove()


def make_everyone_count_first(monkeypatch, attempts: int, wait: float = 10) -> None:
    """Hold each booking between counting the seats and writing until all have counted.

    With the lock on, the first booking holds the run's row while it waits, nobody else
    can count, the gate gives up after ``wait`` seconds and the bookings go one at a time.
    """
    import contextlib
    import threading

    gate = threading.Barrier(attempts)
    original = open_runs._held_counts  # the count under the run's lock

    def count_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait(timeout=wait)
        return found

    monkeypatch.setattr(open_runs, "_held_counts", count_then_wait)


def test_without_the_lock_the_race_oversells(concurrent_app, monkeypatch):
    """What the lock prevents: everyone counts 0 of 20 taken, and all 30 get a seat."""
    concurrent_app.config["SCHEDULING_LOCKS"] = False
    run_id, ids = prepare_run(concurrent_app)
    make_everyone_count_first(monkeypatch, 30)
    outcome = run_all(concurrent_app, run_id, ids[:30])
    assert outcome == Counter({"booked": 30}), outcome
    assert held(concurrent_app, run_id)[0] == 30 > SEATS


def test_with_the_lock_the_same_race_cannot_oversell(concurrent_app, monkeypatch):
    run_id, ids = prepare_run(concurrent_app)
    make_everyone_count_first(monkeypatch, 30, wait=1)
    outcome = run_all(concurrent_app, run_id, ids[:30])
    assert outcome == Counter({"booked": SEATS, "waitlisted": 10}), outcome
    assert held(concurrent_app, run_id)[0] == SEATS
