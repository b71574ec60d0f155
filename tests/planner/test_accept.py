"""Accepting a plan books through scheduling's book(): a booking made meanwhile wins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.models import Message
from portal.planner import services
from portal.planner.models import PlanRequest, PlanSeason
from portal.scheduling.booking import book
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import Reservation
from tests.planner.helpers import one_stop_template, request_for, season
from tests.scheduling.helpers import new_class, site, user

pytestmark = pytest.mark.db


def test_accept_books_each_placement_and_reports_a_booking_made_meanwhile(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    day2 = day1 + timedelta(days=1)
    a = request_for(spring, 50, {day1: 5, day2: 3}, [hall.id])
    b = request_for(spring, 50, {day1: 3}, [hall.id])
    office = user("office")
    run = services.run_planner(spring, office, time_limit=2, workers=1)
    assert run.placed == 2

    # Meanwhile another organizer books 50 seats of day 1's session in the ordinary way.
    other = new_class(50, organizer="organizer", start=day1, days=1, name="插队的班")
    book(other, plan_from_template(hall, day1), office, template=hall)

    counts = services.accept_run(run, office)

    assert counts == {"booked": 1, "conflict": 1}
    items = {i.request_id: i for i in run.items}
    assert items[a.id].outcome == "booked" and items[a.id].booking_id
    assert items[b.id].outcome == "conflict"
    assert "已满" in items[b.id].outcome_message
    assert db.session.get(PlanRequest, a.id).status == "booked"
    assert db.session.get(PlanRequest, b.id).status == "submitted"
    assert run.status == "accepted"
    # Never overbooked: the day-1 session holds what it can.
    seats = db.session.scalar(
        select(func.sum(Reservation.group_size)).where(
            Reservation.site_id == site("multi_hall").id,
            Reservation.status.in_(("pending", "confirmed")),
        )
    )
    assert seats == 100  # 50 (the class that came first) on day 1 + 50 (A) on day 2
    subjects = list(db.session.scalars(select(Message.subject)))
    assert any("已预约" in s for s in subjects)
    assert any("未能按方案预约" in s for s in subjects)
    # A plan is accepted once.
    try:
        services.accept_run(run, office)
        raise AssertionError("accepted twice")
    except services.ServiceError:
        db.session.rollback()


def test_cli_plans_and_accepts(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    request_for(spring, 50, {day1: 5, day1 + timedelta(days=1): 3}, [hall.id])
    request_for(spring, 50, {day1: 3}, [hall.id])
    season_id = spring.id
    runner = planner_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "portal",
            "plan-season",
            "--season",
            str(season_id),
            "--time-limit",
            "2",
            "--workers",
            "1",
            "--accept",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "placed 2/2 requests (100 trainees; proven at most 100)" in result.output
    assert "status OPTIMAL, gap 0.00%" in result.output
    assert "accepted: 2 booked, 0 conflicts" in result.output
    missing = runner.invoke(args=["portal", "plan-season", "--season", "99999"])
    assert missing.exit_code != 0
    assert db.session.get(PlanSeason, season_id).requests[0].status == "booked"
