"""A member's daily limit counts the whole local day, one booking after another and at once.

腾冲干部学院 takes at most two training groups a day at 滇西抗战纪念馆 (its plugin's rule, fed
``groups_already_that_day``). The count must see every booking of that local day, not only
those overlapping the new stop's window, and the booking locks must cover it, so that
bookings checked at the same moment cannot all pass (SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.demo import load_demo
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.fitting import BookingRefused, check_plan
from portal.scheduling.models import HOLDING, Booking, Reservation, TrainingClass
from tests.conftest import fresh_database_url, make_test_app
from tests.scheduling.helpers import at, codes, future_weekday, new_class, site, stop, user

pytestmark = pytest.mark.db

# Five windows of 90 minutes that do not overlap: the limit, not the seats, decides.
HOURS = ((9, 0), (10, 30), (12, 0), (13, 30), (15, 0))


def memorial_visit(day: date, hour: int, minute: int = 0):
    return [stop("dianxi_memorial", at(day, hour, minute), 90, guide=True)]


def test_three_visits_one_after_another_on_one_day_are_two_too_many(demo):
    day = future_weekday(3)
    book(new_class(20, name="上午班", start=day), memorial_visit(day, 9), user("organizer"))
    book(new_class(20, name="中午班", start=day), memorial_visit(day, 11), user("organizer"))
    third = new_class(20, name="下午班", start=day)
    assert "member_rule" in codes(check_plan(memorial_visit(day, 14), 20))
    with pytest.raises(BookingRefused) as refused:
        book(third, memorial_visit(day, 14), user("organizer"))
    assert any("每天最多接待2批" in p.message for p in refused.value.problems)
    # Another day is another count.
    other_day = future_weekday(4)
    book(
        new_class(20, name="次日班", start=other_day),
        memorial_visit(other_day, 14),
        user("organizer"),
    )


def test_moving_a_booking_onto_a_full_day_is_refused(demo):
    from portal.scheduling.booking import move_booking

    day = future_weekday(3)
    book(new_class(20, name="甲", start=day), memorial_visit(day, 9), user("organizer"))
    book(new_class(20, name="乙", start=day), memorial_visit(day, 15), user("organizer"))
    earlier = future_weekday(2)
    mover = book(
        new_class(20, name="丙", start=earlier, days=2),
        memorial_visit(earlier, 12),
        user("organizer"),
    )
    with pytest.raises(BookingRefused) as refused:
        move_booking(mover, day, user("organizer"))
    assert "member_rule" in codes(refused.value.problems)


@pytest.fixture
def concurrent_app(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(
            url, str(tmp_path), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20}
        )
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.remove()
        yield app
        with app.app_context():
            db.engine.dispose()


def everyone_checks_first(monkeypatch, attempts: int, wait: float) -> None:
    """Hold each booking between its first check and its lock until all have checked."""
    gate = threading.Barrier(attempts)
    original = check_plan

    def check_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait(timeout=wait)
        return found

    monkeypatch.setattr("portal.scheduling.booking.check_plan", check_then_wait)


def race(app, class_ids: list[int], day: date) -> Counter:
    def attempt(class_id: int, hour: tuple[int, int]) -> str:
        with app.app_context():
            try:
                klass = db.session.get(TrainingClass, class_id)
                book(klass, memorial_visit(day, *hour), user("organizer"))
                return "ok"
            except BookingRefused as refused:
                return refused.problems[0].code
            except Exception as error:  # counted, and shown when the test fails
                return type(error).__name__
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(class_ids)) as pool:
        return Counter(pool.map(attempt, class_ids, HOURS))


def groups_booked(app, day: date) -> int:
    with app.app_context():
        memorial = site("dianxi_memorial")
        count = db.session.scalar(
            select(func.count(func.distinct(Reservation.booking_id)))
            .join(Booking)
            .where(
                Reservation.site_id == memorial.id,
                Reservation.status.in_(HOLDING),
                Booking.start_date == day,
            )
        )
        db.session.remove()
        return count


def prepare(app) -> tuple[list[int], date]:
    with app.app_context():
        day = future_weekday(3)
        ids = [new_class(20, name=f"同日{i}", start=day).id for i in range(len(HOURS))]
        db.session.remove()
        return ids, day


def test_without_locks_five_at_once_all_pass_the_daily_limit(concurrent_app, monkeypatch):
    concurrent_app.config["SCHEDULING_LOCKS"] = False
    ids, day = prepare(concurrent_app)
    everyone_checks_first(monkeypatch, len(ids), wait=10)
    results = race(concurrent_app, ids, day)
    # Everyone counted the day before anyone wrote: the race the locks prevent.
    assert results["ok"] == len(ids), results
    assert groups_booked(concurrent_app, day) == len(ids)


def test_with_locks_five_at_once_make_two_groups(concurrent_app, monkeypatch):
    ids, day = prepare(concurrent_app)
    everyone_checks_first(monkeypatch, len(ids), wait=1)
    results = race(concurrent_app, ids, day)
    assert results == Counter({"ok": 2, "member_rule": len(ids) - 2}), results
    assert groups_booked(concurrent_app, day) == 2
