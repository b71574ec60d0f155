"""The planner on small seasons whose best plan is known, against first come, first served."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.errors import ServiceError
from portal.extensions import db
from portal.planner import services
from portal.planner.models import PlanRequest
from portal.scheduling.booking import book
from portal.scheduling.fitting import BookingRefused, plan_from_template
from tests.planner.helpers import one_stop_template, request_for, season
from tests.scheduling.helpers import user

pytestmark = pytest.mark.db


def by_request(run):
    return {item.request_id: item for item in run.items}


def test_the_planner_fits_a_class_that_first_come_first_served_refuses(planner_app):
    """multi_hall seats 80. A (50) prefers day 1 but accepts day 2; B (50) can only come on
    day 1. Booked in submission order, A takes day 1 and B is refused; the planner moves A."""
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)  # a Tuesday, three weeks ahead
    day2 = day1 + timedelta(days=1)
    a = request_for(spring, 50, {day1: 5, day2: 3}, [hall.id])
    b = request_for(spring, 50, {day1: 3}, [hall.id])

    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)

    assert run.solver_status == "OPTIMAL"
    assert run.gap == 0
    assert (run.placed, run.placed_trainees) == (2, 100)
    assert (run.fcfs_placed, run.fcfs_trainees) == (1, 50)  # A first, on its favourite day
    assert run.trainee_bound == 100
    items = by_request(run)
    assert items[a.id].start_date == day2
    assert items[b.id].start_date == day1

    # First come, first served: A books its preferred day, B then finds the hall full.
    office = user("office")
    a_class, b_class = a.training_class, b.training_class
    book(a_class, plan_from_template(hall, day1), office, template=hall)
    with pytest.raises(BookingRefused) as refused:
        book(b_class, plan_from_template(hall, day1), office, template=hall)
    assert "已满" in refused.value.message


def test_preferences_decide_when_everyone_fits(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    a = request_for(spring, 30, {day1: 2, day1 + timedelta(days=1): 5}, [hall.id])
    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)
    assert by_request(run)[a.id].start_date == day1 + timedelta(days=1)
    assert by_request(run)[a.id].preference == 5


def test_a_request_that_fits_nowhere_says_why(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season()
    saturday = spring.starts_on + timedelta(days=12)  # multi_hall is closed on Saturdays
    assert saturday.isoweekday() == 6
    a = request_for(spring, 30, {saturday: 3}, [hall.id])
    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)
    item = by_request(run)[a.id]
    assert not item.placed
    assert "不开放" in item.reason
    assert run.placed == 0


def test_capacity_is_shared_out_to_place_the_most_trainees(planner_app):
    """Three classes of 40, 40 and 70 want the same 80-seat session: the best plan seats
    the two forties (80 trainees), not the seventy; the other is told why."""
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    small1 = request_for(spring, 40, {day1: 3}, [hall.id])
    small2 = request_for(spring, 40, {day1: 3}, [hall.id])
    big = request_for(spring, 70, {day1: 5}, [hall.id])
    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)
    items = by_request(run)
    assert items[small1.id].placed and items[small2.id].placed
    assert not items[big.id].placed
    assert "争用" in items[big.id].reason
    assert run.placed_trainees == 80
    assert run.trainee_bound == 80  # proven: no plan seats more


def test_pins_and_exclusions_are_kept_on_the_next_run(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    a = request_for(spring, 50, {day1: 5, day1 + timedelta(days=1): 3}, [hall.id])
    b = request_for(spring, 50, {day1: 3}, [hall.id])
    office = user("office")
    first = services.run_planner(spring, office, time_limit=2, workers=1)
    # The office keeps A on day 1 (its wish): B no longer fits.
    a_item = by_request(first)[a.id]
    a_item.start_date = day1  # as if the office had chosen that placement
    services.pin_request(a, office, "pin", a_item)
    second = services.run_planner(spring, office, time_limit=2, workers=1)
    assert by_request(second)[a.id].start_date == day1
    assert not by_request(second)[b.id].placed
    # Excluded, A is left out and B gets the day.
    services.pin_request(db.session.get(PlanRequest, a.id), office, "exclude", None)
    third = services.run_planner(spring, office, time_limit=2, workers=1)
    assert not by_request(third)[a.id].placed
    assert "排除" in by_request(third)[a.id].reason
    assert by_request(third)[b.id].start_date == day1


def test_only_the_office_runs_the_planner(planner_app):
    spring = season()
    with pytest.raises(ServiceError):
        services.run_planner(spring, user("organizer"), time_limit=2)


def test_squads_only_when_allowed(planner_app):
    """100 trainees in an 80-seat hall: placed in two squads if allowed, else told why."""
    hall = one_stop_template("multi_hall")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    split = request_for(spring, 100, {day1: 3}, [hall.id], squads=True)
    whole = request_for(spring, 100, {day1 + timedelta(days=1): 3}, [hall.id], squads=False)
    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)
    items = by_request(run)
    assert items[split.id].placed and items[split.id].squads == 2
    assert not items[whole.id].placed
    assert "超过" in items[whole.id].reason


def test_must_and_must_not_sites_choose_the_route(planner_app):
    hall = one_stop_template("multi_hall", name="多功能厅线路")
    main = one_stop_template("main_hall", name="主报告厅线路")
    spring = season()
    day1 = spring.starts_on + timedelta(days=15)
    wants_main = request_for(spring, 30, {day1: 3}, [hall.id, main.id])
    wants_main.must_sites = [main.stops[0].site_id]
    avoids_main = request_for(spring, 30, {day1 + timedelta(days=1): 3}, [hall.id, main.id])
    avoids_main.avoid_sites = [main.stops[0].site_id]
    db.session.commit()
    run = services.run_planner(spring, user("office"), time_limit=2, workers=1)
    items = by_request(run)
    assert items[wants_main.id].template_id == main.id
    assert items[avoids_main.id].template_id == hall.id


def test_a_generated_season_places_at_least_what_first_come_does(planner_app):
    """The benchmark's generator (20 requests): the planner proves its plan and seats no fewer
    than first come, first served, and no more than its bound."""
    from portal.planner.generate import generate_season

    spring = generate_season(20, seed=20)
    assert len(spring.requests) == 20
    run = services.run_planner(spring, user("office"), time_limit=5, workers=1)
    assert run.solver_status in ("OPTIMAL", "FEASIBLE")
    assert run.placed_trainees >= run.fcfs_trainees
    assert run.placed_trainees <= run.trainee_bound
