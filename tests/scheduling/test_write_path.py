"""What the booking write path and the waiting-list sweep cost: statements, locks, commits.

The rules themselves are tested in test_rules.py and the locking in test_concurrency.py;
these tests hold the cheap paths to being cheap (docs/benchmarks.md, "booking burst").
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.scheduling.booking import begin_locked, book
from portal.scheduling.fitting import BookingRefused
from portal.scheduling.history import booking_events
from portal.scheduling.models import Booking
from portal.scheduling.waitlist import expire_offers
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user

pytestmark = pytest.mark.db


@contextmanager
def statements():
    """The SQL statements run inside the block, and the number of commits."""
    seen: list[str] = []
    commits = [0]

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    def committed(_session):
        commits[0] += 1

    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.session, "after_commit", committed)
    try:
        yield seen, commits
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.session, "after_commit", committed)


# ---------------------------------------------------------------- expire_offers


def test_expire_offers_with_nothing_due_reads_once_and_writes_nothing(demo):
    tuesday = future_weekday(2)
    book(new_class(20), [stop("heshun_library", at(tuesday, 10))], user("organizer"))
    db.session.commit()
    with statements() as (seen, commits):
        assert expire_offers() == 0
    assert len(seen) == 1 and "offer_expires_at" in seen[0]
    assert commits == [0]


def test_waiting_list_offers_have_a_partial_index_the_sweep_can_use(demo):
    found = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("reservations")}
    index = found["ix_reservations_offered"]
    assert index["column_names"] == ["offer_expires_at"]
    where = index["dialect_options"][f"{db.engine.dialect.name}_where"]
    assert "offered" in str(where)
    # The sweep names the status as a literal, so the planner can match the index's WHERE
    # even for a prepared statement (a parameter would not match a partial index).
    with statements() as (seen, _commits):
        expire_offers()
    assert "status = 'offered'" in seen[0]


# ---------------------------------------------------------------- book()


def auto_confirming(key: str):
    found = site(key)
    found.auto_confirm = True
    db.session.commit()
    return found


def test_a_booking_is_written_in_one_statement_per_table_and_not_read_back(demo):
    auto_confirming("dianxi_memorial")
    klass = new_class(20)
    db.session.commit()
    with demo.test_request_context():  # as the booking form: the class, user and plan loaded
        klass, organizer = db.session.get(type(klass), klass.id), user("organizer")
        plan = [stop("dianxi_memorial", at(future_weekday(2), 9), 90)]
        with statements() as (seen, commits):
            booking = book(klass, plan, organizer)
    writes = [
        f"{s.split()[0]} {s.split()[2]}"
        for s in seen
        if s.startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    # The page cache's bump after the commit: a nextval() of a sequence on PostgreSQL.
    reads = [s for s in seen if s.startswith("SELECT") and "cache_generation" not in s]
    tables = ["INSERT bookings", "INSERT reservations", "INSERT booking_events"]
    bumped = ["INSERT cache_generations"] if "INSERT cache_generations" in writes else []
    if db.engine.dialect.name == "postgresql":
        assert writes == tables + bumped  # several rows of a table in one statement
    else:
        assert list(dict.fromkeys(writes)) == tables + bumped  # SQLite: a statement per row
    assert commits == [1]
    # Reads: the check before the lock (reservations, plugin states, the site's member,
    # settings), whether plan review holds the automatic site's confirmation (a setting),
    # the locking read of the site, the reservations again under the lock.
    assert len(reads) <= 7, reads
    # Nothing is read back after the commit (booking_changed gets the status and owners).
    last_insert = max(i for i, sql in enumerate(seen) if "INTO booking_events" in sql)
    assert [sql for sql in seen[last_insert + 1 :] if "cache_generation" not in sql] == []
    assert booking.status == "confirmed" and booking.reservations[0].status == "confirmed"


def test_the_history_of_a_new_booking_names_its_stops_in_order(demo):
    auto_confirming("dianxi_memorial")
    tuesday = future_weekday(2)
    plan = [
        stop("dianxi_memorial", at(tuesday, 9), 90, index=0),
        stop("heshun_library", at(tuesday, 11), 60, index=1),
    ]
    booking = book(new_class(20), plan, user("organizer"))
    first, second = (r.id for r in booking.reservations)
    events = [
        (e.action, e.reservation_id, e.from_status, e.to_status, e.actor_name)
        for e in booking_events(db.session.get(Booking, booking.id))
    ]
    name = user("organizer").display_name
    assert events == [
        ("create", None, "", "pending", name),
        ("confirmed", first, "", "confirmed", name),
        ("pending", second, "", "pending", name),
    ]


def test_a_full_window_is_refused_without_waiting_for_its_lock(demo, monkeypatch):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]  # 40 seats
    book(new_class(40, name="满员"), plan, user("organizer"))
    locked = []
    original = begin_locked
    monkeypatch.setattr(
        "portal.scheduling.booking.begin_locked",
        lambda *args: locked.append(args) or original(*args),
    )
    late, organizer = new_class(10, name="晚到"), user("organizer")
    db.session.commit()
    with statements() as (seen, commits), pytest.raises(BookingRefused) as refused:
        book(late, plan, organizer)
    assert [p.code for p in refused.value.problems] == ["full"]
    assert locked == [] and commits == [0]
    assert not any("FOR UPDATE" in s or s.startswith(("INSERT", "UPDATE")) for s in seen)
    # What fits still takes the lock, and is checked again under it.
    book(new_class(10, name="另一场"), [stop("heshun_library", at(tuesday, 14), 60)],
                  user("organizer"))  # fmt: skip
    assert len(locked) == 1


def test_a_repeated_form_whose_first_submission_filled_the_window_answers_that_booking(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    klass = new_class(40)
    first = book(klass, plan, user("organizer"), idempotency_key="form-1")
    # The check before the lock finds the window full, by this very form's first booking.
    again = book(klass, plan, user("organizer"), idempotency_key="form-1")
    assert again.id == first.id
