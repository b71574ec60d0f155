"""Bookings stay on the class's days and within the years the portal holds.

A booking, a move and the suggested dates lie within the class's dates; a date far outside
them (9999-12-31, 0001-01-01) or merely outside the class answers 4xx with a message in
Chinese on every booking and move endpoint, and writes nothing. The date search does not
give up on a class that only needs squads: it suggests the date, with the squads.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import book, move_booking
from portal.scheduling.classes import class_window
from portal.scheduling.fitting import (
    BookingRefused,
    check_plan,
    plan_from_template,
    suggest_dates,
)
from portal.scheduling.models import Booking, BookingEvent, Reservation
from tests.conftest import login
from tests.scheduling.helpers import (
    at,
    codes,
    future_weekday,
    new_class,
    site,
    stop,
    template,
    user,
)

pytestmark = pytest.mark.db

ONE_DAY = "杨善洲精神一日环线"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FAR, EARLY = "9999-12-31", "0001-01-01"


def written() -> tuple[int, int, int]:
    """Bookings, reservations and history rows: a refusal changes none of them."""
    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Booking, Reservation, BookingEvent)
    )


# ---------------------------------------------------------------- the services


def test_a_booking_years_after_its_class_is_refused(demo):
    klass = new_class(20, days=5)
    later = klass.starts_on + timedelta(days=4 * 365 + 140)
    before = written()
    with pytest.raises(BookingRefused) as refused:
        book(klass, [stop("cemetery", at(later, 9), 60)], user("organizer"))
    assert codes(refused.value.problems) == ["outside_class"]
    assert klass.starts_on.isoformat() in refused.value.problems[0].message
    assert written() == before
    # A route that runs past the class's last day is refused too, stop by stop.
    last = klass.ends_on
    plan = [
        stop("cemetery", at(last, 9), 60, index=0),
        stop("cemetery", at(last + timedelta(days=1), 9), 60, index=1),
    ]
    assert codes(check_plan(plan, 20, within=class_window(klass))) == ["outside_class"]


def test_a_move_stays_within_the_class_and_the_years_the_portal_holds(demo):
    klass = new_class(20, days=3)
    booking = book(klass, [stop("cemetery", at(klass.starts_on, 9), 60)], user("organizer"))
    before = written()
    for day in (klass.ends_on + timedelta(days=1), date(9999, 12, 31), date(2100, 12, 31)):
        with pytest.raises(ValidationFailed) as failed:
            move_booking(db.session.get(Booking, booking.id), day, user("organizer"))
        assert CHINESE.search(failed.value.errors["start_date"])
    assert written() == before
    move_booking(db.session.get(Booking, booking.id), klass.ends_on, user("organizer"))
    assert db.session.get(Booking, booking.id).start_date == klass.ends_on


def test_moving_a_class_split_into_squads_keeps_its_squads(demo):
    klass = new_class(50, days=3)  # 和顺图书馆 holds 40: two squads of 25, one after the other
    day = klass.starts_on
    plan = [stop("heshun_library", at(day, 10), 60, squads=2)]
    booking = book(klass, plan, user("organizer"))
    move_booking(booking, day + timedelta(days=1), user("organizer"))
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert sorted((r.squad, r.group_size, r.starts_at) for r in moved.reservations) == [
        (1, 25, at(day + timedelta(days=1), 10)),
        (2, 25, at(day + timedelta(days=1), 11)),
    ]


def test_a_template_on_an_impossible_date_is_a_message_not_an_overflow(demo):
    for day in (date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(ValidationFailed, match="2000 年至 2100 年"):
            plan_from_template(template(ONE_DAY), day)


def test_suggested_dates_lie_within_the_class(demo):
    monday = future_weekday(1)
    klass = new_class(20, start=monday - timedelta(days=1), days=3)  # Sunday to Tuesday
    plan = plan_from_template(template(ONE_DAY), monday)
    assert "closed_day" in codes(check_plan(plan, 20))
    anywhere = suggest_dates(plan, 20)
    assert any(not klass.starts_on <= d <= klass.ends_on for d in anywhere)
    within = suggest_dates(plan, 20, within=class_window(klass))
    assert within == [klass.starts_on, klass.ends_on]


def test_a_class_that_needs_squads_is_suggested_a_date_with_them(demo):
    monday = future_weekday(1)
    klass = new_class(80, start=monday, days=2)
    plan = [stop("exhibition_room", at(monday, 9), 60)]
    problems = check_plan(plan, 80, within=class_window(klass))
    assert {"closed_day", "too_large"} <= set(codes(problems))
    # The room holds 60: on Tuesday two squads of 40 fit one after the other.
    assert suggest_dates(plan, 80, within=class_window(klass)) == [monday + timedelta(days=1)]


# ---------------------------------------------------------------- the pages


@pytest.fixture
def organizer(demo, client):
    login(client, "organizer")
    return client


def assert_refused(response, before, *expected: str) -> str:
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, page[:500])
    for text in expected:
        assert text in page
    assert written() == before
    return page


RANGE = "日期须在 2000 年至 2100 年之间"
OUTSIDE = "培训班日期"


@pytest.mark.parametrize("action", ["check", "book", "waitlist"])
@pytest.mark.parametrize("day", [FAR, EARLY, "outside"])
def test_the_template_form_refuses_dates_outside_the_class_or_the_years(organizer, action, day):
    klass = new_class(20, days=2)
    if day == "outside":
        day, message = (klass.ends_on + timedelta(days=30)).isoformat(), OUTSIDE
    else:
        message = RANGE
    before = written()
    response = organizer.post(
        f"/bookings/new?class_id={klass.id}",
        data={
            "template_id": str(template(ONE_DAY).id),
            "start_date": day,
            "key": "key-0123456789abcdef",
            action: "1",
        },
    )
    page = assert_refused(response, before, message)
    assert f'value="{day}"' in page  # what was typed is kept


@pytest.mark.parametrize("action", ["check", "book"])
@pytest.mark.parametrize("day", [FAR, EARLY, "outside"])
def test_the_custom_form_refuses_dates_outside_the_class_or_the_years(organizer, action, day):
    klass = new_class(20, days=2)
    if day == "outside":
        day, message = (klass.starts_on - timedelta(days=3)).isoformat(), OUTSIDE
    else:
        message = RANGE
    before = written()
    response = organizer.post(
        f"/bookings/new?class_id={klass.id}&mode=custom",
        data={
            "start_date": day,
            "key": "key-0123456789abcdef",
            action: "1",
            "stops-0-day": "1",
            "stops-0-starts": "09:00",
            "stops-0-minutes": "60",
            "stops-0-site_id": str(site("cemetery").id),
            "stops-0-course_id": "0",
            "stops-0-squads": "1",
        },
    )
    page = assert_refused(response, before, message)
    assert f'value="{day}"' in page


def test_a_custom_route_running_past_the_class_is_refused_stop_by_stop(organizer):
    klass = new_class(20, days=2)
    before = written()
    response = organizer.post(
        f"/bookings/new?class_id={klass.id}&mode=custom",
        data={
            "start_date": klass.starts_on.isoformat(),
            "key": "key-0123456789abcdef",
            "book": "1",
            "stops-0-day": "5",
            "stops-0-starts": "09:00",
            "stops-0-minutes": "60",
            "stops-0-site_id": str(site("cemetery").id),
            "stops-0-course_id": "0",
            "stops-0-squads": "1",
        },
    )
    assert response.status_code == 409
    assert_refused(response, before, "不在培训班日期")


def test_a_suggested_date_from_outside_the_years_is_ignored(organizer):
    klass = new_class(20, days=2)
    before = written()
    response = organizer.post(
        f"/bookings/new?class_id={klass.id}",
        data={
            "template_id": str(template(ONE_DAY).id),
            "start_date": EARLY,
            "suggest": FAR,
            "key": "key-0123456789abcdef",
        },
    )
    assert_refused(response, before, RANGE)


@pytest.mark.parametrize("day", [FAR, EARLY, "outside", "2026-02-30"])
def test_the_move_form_refuses_dates_outside_the_class_or_the_years(organizer, day):
    klass = new_class(20, days=2)
    booking = book(klass, [stop("cemetery", at(klass.starts_on, 9), 60)], user("organizer"))
    if day == "outside":
        day = (klass.ends_on + timedelta(days=7)).isoformat()
    before = written()
    response = organizer.post(f"/bookings/{booking.id}/move", data={"start_date": day})
    page = assert_refused(response, before)
    assert CHINESE.search(re.search(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<', page)[1])
    assert f'value="{day}"' in page
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_date == klass.starts_on


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("day", [FAR, EARLY])
def test_the_availability_api_refuses_dates_outside_the_years(demo, client, bound, day):
    dates = {"from": "2030-01-07", "to": "2030-01-08", bound: day}
    response = client.get(
        f"/api/v1/availability?site=cemetery&from={dates['from']}&to={dates['to']}"
    )
    assert response.status_code == 400
    assert CHINESE.search(str(response.get_json()))


# ---------------------------------------------------------------- what a refusal costs


def test_the_date_search_costs_the_same_queries_however_wide_its_window(demo):
    """A refused booking searches other dates: a few queries, not one per date tried."""
    from sqlalchemy import event

    from portal.scheduling.settings import set_setting

    monday = future_weekday(1, 40)
    plan = plan_from_template(template(ONE_DAY), monday)
    for week in (-1, 1):  # bookings in the window, so that there is something to read
        day = monday + timedelta(days=7 * week + 1)
        book(
            new_class(20, start=day), plan_from_template(template(ONE_DAY), day), user("organizer")
        )

    def queries(within_days: int) -> int:
        set_setting("suggest_within_days", within_days, user("office"))
        db.session.commit()
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = suggest_dates(plan, 20, limit=1000)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert found  # every date was tried: none is the limit
        return len(statements)

    assert queries(7) == queries(30) == queries(60)
