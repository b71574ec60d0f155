"""Seasons and requests check what is typed against their context, in Chinese."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.errors import PermissionDenied, ValidationFailed
from portal.planner import services
from tests.planner.helpers import one_stop_template, season
from tests.scheduling.helpers import new_class, user


def test_season_dates_are_checked(planner_app):
    office = user("office")
    today = date.today()
    cases = [
        (
            {"starts_on": today - timedelta(days=3), "ends_on": today + timedelta(days=9)},
            "starts_on",
        ),
        ({"starts_on": today + timedelta(days=9), "ends_on": today + timedelta(days=3)}, "ends_on"),
        (
            {"starts_on": today + timedelta(days=3), "ends_on": today + timedelta(days=500)},
            "ends_on",
        ),
        ({"starts_on": None, "ends_on": today}, "starts_on"),
    ]
    for dates, field in cases:
        with pytest.raises(ValidationFailed) as failed:
            services.create_season(office, {"name": "春季", "time_limit": 30, **dates})
        assert field in failed.value.errors
    with pytest.raises(ValidationFailed) as failed:
        services.create_season(
            office,
            {
                "name": "春季",
                "starts_on": today + timedelta(days=3),
                "ends_on": today + timedelta(days=30),
                "time_limit": 0,
            },
        )
    assert "time_limit" in failed.value.errors
    with pytest.raises(PermissionDenied):
        services.create_season(user("organizer"), {"name": "x"})


def test_request_dates_lie_in_the_season_and_the_class(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season(weeks=4)
    klass = new_class(30, start=spring.starts_on + timedelta(days=7), days=7)
    base = {"class_id": klass.id, "size": 30, "template_ids": [hall.id], "days": 0}

    def errors(**values):
        with pytest.raises(ValidationFailed) as failed:
            services.submit_request(spring, user("organizer"), {**base, **values})
        return failed.value.errors

    assert "dates" in errors(dates_text="")
    assert "格式" in errors(dates_text="next tuesday")["dates"]
    assert "调训季" in errors(dates_text=(spring.ends_on + timedelta(days=1)).isoformat())["dates"]
    assert "不存在" in errors(dates_text="2027-02-30")["dates"]
    assert "培训班日期" in errors(dates_text=spring.starts_on.isoformat())["dates"]
    assert "size" in errors(dates_text=klass.starts_on.isoformat(), size=0)
    assert "template_ids" in errors(dates_text=klass.starts_on.isoformat(), template_ids=[])
    assert "avoid_sites" in errors(
        dates_text=klass.starts_on.isoformat(), must_sites=[1], avoid_sites=[1]
    )
    # Another organizer's class is not theirs to request.
    theirs = new_class(30, organizer="office", start=klass.starts_on, days=3)
    assert "class_id" in errors(dates_text=klass.starts_on.isoformat(), class_id=theirs.id)
    # A week stands for each of its days (the class runs Monday to Sunday of that week).
    year, week, _day = klass.starts_on.isocalendar()
    made = services.submit_request(
        spring,
        user("organizer"),
        {**base, "dates_text": f"{year}-W{week:02d} 2\n{klass.starts_on.isoformat()} 5"},
    )
    assert len(made.dates) == 7
    assert made.dates[0] == [klass.starts_on.isoformat(), 5]
    assert made.dates[1] == [(klass.starts_on + timedelta(days=1)).isoformat(), 2]


def test_a_closed_season_takes_no_requests(planner_app):
    hall = one_stop_template("multi_hall")
    spring = season(weeks=4)
    klass = new_class(30, start=spring.starts_on + timedelta(days=7), days=7)
    with pytest.raises(PermissionDenied):
        services.set_season_status(spring, user("organizer"), "closed")
    services.set_season_status(spring, user("office"), "closed")
    with pytest.raises(services.ServiceError) as refused:
        services.submit_request(
            spring,
            user("organizer"),
            {
                "class_id": klass.id,
                "size": 30,
                "dates_text": klass.starts_on.isoformat(),
                "template_ids": [hall.id],
            },
        )
    assert "结束征集" in refused.value.message
    assert spring not in services.seasons(user("organizer"))
    assert spring in services.seasons(user("office"))
