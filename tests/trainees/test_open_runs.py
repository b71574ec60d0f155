"""Open runs: publishing holds the route in the engine, seats, quotas, waiting list, deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Message
from portal.scheduling.fitting import BookingRefused
from portal.scheduling.models import Booking, TrainingClass
from portal.timeutil import utcnow
from portal.trainees import open_runs
from portal.trainees.models import OpenRun, OpenRunSeat, RosterEntry
from tests.conftest import recorded_statements
from tests.scheduling.helpers import user
from tests.trainees.helpers import publish, run_start, trainee_account

pytestmark = pytest.mark.db


def seat_statuses(run_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (s.name, s.status)
        for s in db.session.scalars(
            select(OpenRunSeat).where(OpenRunSeat.run_id == run_id).order_by(OpenRunSeat.id)
        )
    ]


def test_publishing_books_the_route_for_the_seats_like_any_class(demo):
    run = publish(seats=25)
    booking = db.session.get(Booking, run.booking_id)
    assert booking.training_class.organizer_id == user("office").id
    assert booking.training_class.size == 25
    assert booking.reservations and all(r.group_size <= 25 for r in booking.reservations)
    assert booking.status in ("pending", "confirmed")


def test_the_engine_refuses_a_run_that_does_not_fit(demo):
    day = run_start()
    while day.isoweekday() != 1:  # the 杨善洲 base is closed on Mondays
        day += timedelta(days=1)
    with pytest.raises(BookingRefused):
        publish(start=day)
    assert db.session.scalars(select(OpenRun).where(OpenRun.title == "测试开放班次10")).all() == []
    held = db.session.scalar(select(TrainingClass).where(TrainingClass.name == "测试开放班次10"))
    assert held.cancelled  # the class made to hold the route is cancelled with it


def test_only_the_office_and_members_publish_and_dates_are_checked(demo):
    with pytest.raises(PermissionDenied):
        publish(publisher="organizer")
    with pytest.raises(ValidationFailed) as bad:
        publish(minimum=50, deadline_days=-1)
    assert {"min_participants", "booking_deadline"} <= set(bad.value.errors)
    run = publish(publisher="party_school_staff")
    assert open_runs.can_manage(run, user("party_school_admin"))
    assert not open_runs.can_manage(run, user("tengchong_college_staff"))


def test_a_trainee_books_and_a_full_run_refuses_or_waitlists(demo):
    run = publish(seats=2)
    a = trainee_account("甲", "13900000101")
    b = trainee_account("乙", "13900000102")
    c = trainee_account("丙", "13900000103")
    open_runs.book_seat(run.id, a)
    with pytest.raises(ServiceError, match="已在该班次中"):
        open_runs.book_seat(run.id, a)
    open_runs.book_seat(run.id, b)
    with pytest.raises(ServiceError, match="名额已满"):
        open_runs.book_seat(run.id, c)
    open_runs.book_seat(run.id, c, waitlist=True)
    assert seat_statuses(run.id) == [("甲", "booked"), ("乙", "booked"), ("丙", "waitlisted")]
    with pytest.raises(PermissionDenied):
        open_runs.book_seat(run.id, user("party_school_staff"))


def test_a_booking_in_a_rush_keeps_its_round_trips_few(demo):
    """Under the run's lock each statement keeps the next booking waiting: a trainee's
    booking reads the run, its quotas, the held seats with the trainee's own seat, and writes
    the seat and the message; it does not read the trainee again (PostgreSQL goes on in the
    transaction that read; SQLite starts an immediate one, after which the user reloads)."""
    run = publish(seats=5)
    a = trainee_account("甲", "13900000101")
    db.session.refresh(a)
    run_id = run.id
    postgres = db.engine.dialect.name == "postgresql"
    with recorded_statements() as statements:
        open_runs.book_seat(run_id, a)
    # (SQLite's page cache generations are bumped after the commit, on a connection of their own.)
    statements = [s for s in statements if "cache_generations" not in s]
    users = [s for s in statements if "FROM users" in s]
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(users) == (0 if postgres else 1), users
    assert len(writes) == 2, writes  # the seat, the trainee's message
    assert len(statements) <= (6 if postgres else 7), statements


def test_cancelling_frees_the_seat_at_once_for_the_first_in_line(demo):
    run = publish(seats=1)
    a = trainee_account("甲", "13900000101")
    b = trainee_account("乙", "13900000102")
    seat_a = open_runs.book_seat(run.id, a)
    seat_b = open_runs.book_seat(run.id, b, waitlist=True)
    with pytest.raises(NotFound):
        open_runs.cancel_seat(run.id, seat_a.id, b)  # not b's seat
    open_runs.cancel_seat(run.id, seat_a.id, a)
    assert seat_statuses(run.id) == [("甲", "cancelled"), ("乙", "offered")]
    assert db.session.scalar(
        select(Message).where(Message.user_id == b.id, Message.subject.contains("候补名额"))
    )
    open_runs.accept_offer(run.id, seat_b.id, b)
    assert seat_statuses(run.id)[1] == ("乙", "booked")
    # 甲 may book again, and waits in line now.
    open_runs.book_seat(run.id, a, waitlist=True)
    assert seat_statuses(run.id)[0] == ("甲", "waitlisted")


def test_an_offer_not_taken_in_time_goes_to_the_next(demo):
    run = publish(seats=1)
    a, b, c = (trainee_account(n, f"1390000010{i}") for i, n in enumerate("甲乙丙", start=1))
    seat_a = open_runs.book_seat(run.id, a)
    open_runs.book_seat(run.id, b, waitlist=True)
    open_runs.book_seat(run.id, c, waitlist=True)
    open_runs.cancel_seat(run.id, seat_a.id, a)
    later = utcnow() + timedelta(days=3)
    assert open_runs.expire_offers(later) == 1
    assert seat_statuses(run.id) == [("甲", "cancelled"), ("乙", "cancelled"), ("丙", "offered")]
    # 丙's offer runs its own 24 hours from now.
    assert open_runs.expire_offers(utcnow() + timedelta(hours=1)) == 0


def test_unit_quotas_and_organizers_booking_for_their_cadres(demo):
    run = publish(seats=5, quotas="甲县发改局 1\n乙县教育局 3")
    organizer = user("organizer")
    organizer.unit_name = "乙县教育局"
    db.session.commit()
    a = trainee_account("甲", "13900000101", unit="甲县发改局")
    b = trainee_account("乙", "13900000102", unit="甲县发改局")
    outsider = trainee_account("外", "13900000109", unit="其他单位")
    open_runs.book_seat(run.id, a)
    with pytest.raises(ServiceError, match="名额已满"):
        open_runs.book_seat(run.id, b)  # the unit's quota, not the run, is full
    with pytest.raises(ServiceError, match="指定单位"):
        open_runs.book_seat(run.id, outsider)
    seat = open_runs.book_seat(run.id, organizer, cadre={"name": "干部一", "phone": "13900000201"})
    assert (
        seat.unit == "乙县教育局"
        and seat.user.role == "trainee"
        and seat.booked_by_id == organizer.id
    )
    assert open_runs.units_summary(db.session.get(OpenRun, run.id)) == [
        ("甲县发改局", 1, 1),
        ("乙县教育局", 1, 3),
    ]


def test_the_deadline_confirms_a_run_and_its_participants_become_a_roster(demo):
    run = publish(seats=3, minimum=2)
    people = [trainee_account(n, f"1390000010{i}") for i, n in enumerate("甲乙丙丁", start=1)]
    for person in people[:3]:
        open_runs.book_seat(run.id, person)
    open_runs.book_seat(run.id, people[3], waitlist=True)
    assert open_runs.process_open_runs(on=run.booking_deadline).confirmed == []  # not yet
    done = open_runs.process_open_runs(on=run.booking_deadline + timedelta(days=1))
    assert done.confirmed == [run.id]
    run = db.session.get(OpenRun, run.id)
    assert run.status == "confirmed"
    names = db.session.scalars(
        select(RosterEntry.name)
        .where(RosterEntry.class_id == run.class_id)
        .order_by(RosterEntry.id)
    ).all()
    assert names == ["甲", "乙", "丙"]
    assert seat_statuses(run.id)[3] == ("丁", "cancelled")
    # Acting twice changes nothing.
    again = open_runs.process_open_runs(on=run.booking_deadline + timedelta(days=1))
    assert again.confirmed == [] and again.cancelled == []


def test_below_the_minimum_the_run_is_cancelled_with_notices_and_the_route_released(demo):
    run = publish(seats=5, minimum=3)
    a = trainee_account("甲", "13900000101")
    open_runs.book_seat(run.id, a)
    done = open_runs.process_open_runs(on=run.booking_deadline + timedelta(days=1))
    assert done.cancelled == [run.id]
    db.session.expire_all()
    run = db.session.get(OpenRun, run.id)
    assert run.status == "cancelled" and run.training_class.cancelled
    assert run.booking.status == "cancelled"
    assert seat_statuses(run.id) == [("甲", "cancelled")]
    assert db.session.scalar(
        select(Message).where(Message.user_id == a.id, Message.subject.contains("已取消"))
    )


def test_trainees_cannot_cancel_after_the_deadline_but_the_publisher_can(demo, monkeypatch):
    run = publish(seats=5)
    a = trainee_account("甲", "13900000101")
    seat = open_runs.book_seat(run.id, a)
    monkeypatch.setattr(open_runs, "today", lambda: run.cancel_deadline + timedelta(days=1))
    with pytest.raises(ServiceError, match="取消截止"):
        open_runs.cancel_seat(run.id, seat.id, a)
    open_runs.cancel_seat(run.id, seat.id, user("office"))


def test_a_full_run_refuses_without_waiting_for_its_lock(demo, monkeypatch):
    """In a rush most attempts find the run full: refused before the run's lock (issue 20)."""
    run = publish(seats=1)
    a = trainee_account("甲", "13900000111")
    b = trainee_account("乙", "13900000112")
    open_runs.book_seat(run.id, a)

    def no_lock(run_id):
        raise AssertionError("the run's lock was taken for a refusal")

    monkeypatch.setattr(open_runs, "lock_run", no_lock)
    with pytest.raises(ServiceError, match="名额已满"):
        open_runs.book_seat(run.id, b)
    monkeypatch.undo()
    # The seat holder is still told they hold one, and waiting lists still work.
    with pytest.raises(ServiceError, match="已在该班次中"):
        open_runs.book_seat(run.id, a)
    assert open_runs.book_seat(run.id, b, waitlist=True).status == "waitlisted"
