"""Booking check messages that agree with each other: a full session offers squads (分批)
as well as the waiting list; one closed day is one row."""

from __future__ import annotations

import pytest

from portal.scheduling.booking import book
from portal.scheduling.booking_views import problem_rows
from portal.scheduling.fitting import check_plan
from tests.scheduling.helpers import at, codes, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db


def test_a_full_session_with_places_left_offers_squads_and_the_waiting_list(demo, app):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    book(new_class(26, name="先到的班"), plan, user("organizer"))
    problems = check_plan(plan, 30)
    assert codes(problems) == ["full"]
    assert problems[0].suggestion == {"waitlist": True, "squads": 3}
    message = problems[0].message
    assert "剩余 14 个名额" in message and "分批" in message and "候补" in message
    with app.test_request_context():
        (row,) = problem_rows(problems, plan)
    assert row.hint == "可分为 3 组，或加入候补"
    # Split as suggested, the first squad fits the places left.
    split = [stop("heshun_library", at(tuesday, 10), 60, squads=3)]
    assert check_plan(split, 30) == []


def test_a_session_with_no_place_left_offers_only_the_waiting_list(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    capacity = plan[0].site.capacity
    book(new_class(capacity, name="包场的班"), plan, user("organizer"))
    problems = check_plan(plan, 20)
    assert codes(problems) == ["full"] and problems[0].suggestion == {"waitlist": True}
    assert "已满（剩余 0 个名额）" in problems[0].message


def test_one_closed_day_is_one_row(demo):
    """杨善洲精神教育基地 is closed on Mondays: the core rule says so (with the open days),
    and the member's own rule (每周一闭馆) does not say it again."""
    monday = future_weekday(1)
    problems = check_plan([stop("spirit_base", at(monday, 9), 120)], 30)
    assert codes(problems) == ["closed_day"]
    assert "开放日" in problems[0].message
    assert not any("闭馆" in p.message for p in problems)
