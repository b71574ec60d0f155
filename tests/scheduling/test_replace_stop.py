"""A declined stop is not a dead end: the organizer replaces just that stop."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.scheduling.booking import book, decide
from portal.scheduling.itinerary import build
from portal.scheduling.models import Booking, BookingEvent, Reservation
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user


@pytest.fixture
def declined(demo):
    """A two-day class with two stops at 杨善洲's sites; 陈列室 declined the second."""
    day = future_weekday(3)
    training_class = new_class(name="替换测试班", start=day, days=2)
    booking = book(
        training_class,
        [
            stop("spirit_base", at(day, 9), index=0),
            stop("exhibition_room", at(day, 14), index=1),
        ],
        user("organizer"),
    )
    second = [r for r in booking.reservations if r.site.key == "exhibition_room"][0]
    decide(second, user("yangshanzhou_college_staff"), False, "当天布展")
    return booking.id, second.id, day


pytestmark = pytest.mark.db


def test_the_booking_page_offers_the_next_step(declined, client):
    booking_id, reservation_id, _day = declined
    login(client, "organizer")
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert 'data-testid="next-step"' in page and "只替换该站点" in page
    assert f'id="replace-{reservation_id}"' in page
    assert f"/bookings/{booking_id}/stops/{reservation_id}/replace" in page


def test_the_organizer_replaces_the_declined_stop_at_another_time(declined, client):
    booking_id, reservation_id, day = declined
    login(client, "organizer")
    prefix = f"replace-{reservation_id}-"
    answer = client.post(
        f"/bookings/{booking_id}/stops/{reservation_id}/replace",
        data={
            prefix + "day": day.isoformat(),
            prefix + "starts": "15:30",
            prefix + "site": "",
        },
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text
    assert "已替换该站点" in text
    db.session.expire_all()
    old = db.session.get(Reservation, reservation_id)
    assert old.status == "declined" and old.replaced_by_id is not None
    new = db.session.get(Reservation, old.replaced_by_id)
    assert new.site_id == old.site_id and new.status == "pending"
    assert new.starts_at == at(day, 15, 30)
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "pending"  # the declined stop no longer counts
    assert (
        db.session.scalars(select(BookingEvent).where(BookingEvent.action == "replace"))
        .one()
        .reservation_id
        == new.id
    )
    # The itinerary shows the replacement, not the replaced stop.
    itinerary = build(booking.training_class)
    assert itinerary.declined == 0
    assert "已被婉拒" not in repr(itinerary.days) and "15:30" in repr(itinerary.days)
    assert 'data-testid="next-step"' not in text
    # It cannot be replaced twice.
    again = client.post(
        f"/bookings/{booking_id}/stops/{reservation_id}/replace",
        data={prefix + "day": day.isoformat(), prefix + "starts": "16:00", prefix + "site": ""},
    )
    assert again.status_code == 409


def test_a_replacement_at_another_site(declined, client):
    booking_id, reservation_id, day = declined
    login(client, "organizer")
    prefix = f"replace-{reservation_id}-"
    cemetery = site("cemetery")
    answer = client.post(
        f"/bookings/{booking_id}/stops/{reservation_id}/replace",
        data={
            prefix + "day": day.isoformat(),
            prefix + "starts": "14:00",
            prefix + "site": str(cemetery.id),
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    new = db.session.get(Reservation, db.session.get(Reservation, reservation_id).replaced_by_id)
    assert new.site_id == cemetery.id


def test_a_replacement_that_does_not_fit_keeps_what_was_typed(declined, client):
    booking_id, reservation_id, day = declined
    login(client, "organizer")
    prefix = f"replace-{reservation_id}-"
    # Overnight: outside the site's hours.
    answer = client.post(
        f"/bookings/{booking_id}/stops/{reservation_id}/replace",
        data={prefix + "day": day.isoformat(), prefix + "starts": "23:00", prefix + "site": ""},
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "无法替换：" in text and "开放时间" in text
    assert re.search(r'value="23:00"', text)
    # The class is at 精神教育基地 at 09:00: not in two places at once.
    answer = client.post(
        f"/bookings/{booking_id}/stops/{reservation_id}/replace",
        data={prefix + "day": day.isoformat(), prefix + "starts": "09:00", prefix + "site": ""},
    )
    assert answer.status_code == 409 and "同一时间不能去两处" in answer.get_data(as_text=True)
    # Outside the class's dates, and nonsense input: 400/409, never 500.
    for typed in ("2099-01-01", "明天", ""):
        answer = client.post(
            f"/bookings/{booking_id}/stops/{reservation_id}/replace",
            data={prefix + "day": typed, prefix + "starts": "10:00", prefix + "site": "999999"},
        )
        assert answer.status_code in (400, 409)
    db.session.expire_all()
    assert db.session.get(Reservation, reservation_id).replaced_by_id is None


def test_only_the_classs_organizer_may_replace(declined, client):
    booking_id, reservation_id, day = declined
    prefix = f"replace-{reservation_id}-"
    data = {prefix + "day": day.isoformat(), prefix + "starts": "15:30", prefix + "site": ""}
    login(client, "yangshanzhou_college_staff")
    assert (
        client.post(f"/bookings/{booking_id}/stops/{reservation_id}/replace", data=data).status_code
        == 404
    )
    login(client, "organizer")
    other = db.session.scalars(select(Reservation).where(Reservation.id != reservation_id)).first()
    assert (
        client.post(f"/bookings/{booking_id}/stops/{other.id}/replace", data=data).status_code
        == 409
    )
