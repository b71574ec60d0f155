"""Member staff at work: a class confirmed in one action, the guide named, a day's guide sheet,
and the inbox that fits a phone (cards) and a desktop (fixed columns)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.labels import ACTION_LABELS
from portal.extensions import db
from portal.scheduling.models import Booking, BookingEvent, Reservation
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, user

pytestmark = pytest.mark.db


def add_booking(training_class, stops, status="pending"):
    booking = Booking(
        training_class=training_class,
        name="定制线路",
        start_date=training_class.starts_on,
        created_by_id=user("organizer").id,
    )
    db.session.add(booking)
    made = []
    for site_key, starts, ends in stops:
        reservation = Reservation(
            booking=booking,
            site_id=site(site_key).id,
            starts_at=starts,
            ends_at=ends,
            group_size=training_class.size,
            status=status,
            guide_requested=True,
        )
        db.session.add(reservation)
        made.append(reservation)
    db.session.commit()
    return made


@pytest.fixture
def two_stops(demo):
    """A class with two pending stops at 杨善洲干部学院's sites on one Wednesday."""
    day = future_weekday(3)
    training_class = new_class(name="确认测试班", start=day)
    stops = add_booking(
        training_class,
        [
            ("spirit_base", at(day, 9), at(day, 10)),
            ("former_residence", at(day, 14), at(day, 15)),
        ],
    )
    return training_class, stops, day


def test_staff_confirm_all_stops_of_a_class_in_one_action(two_stops, client):
    training_class, stops, _day = two_stops
    login(client, "yangshanzhou_college_staff")
    page = client.get("/inbox").get_data(as_text=True)
    assert "全部确认（2 站）" in page
    answer = client.post(f"/inbox/classes/{training_class.id}/confirm", follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "已确认 2 站" in text
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"confirmed"}
    assert db.session.get(Booking, stops[0].booking_id).status == "confirmed"


def test_confirming_a_class_reports_the_stop_that_no_longer_fits(two_stops, client):
    training_class, stops, day = two_stops
    # Another class fills 故居 (40 places) at the time of the second stop.
    other = new_class(size=30, name="占位班", start=day)
    add_booking(other, [("former_residence", at(day, 14), at(day, 15))], status="confirmed")
    login(client, "yangshanzhou_college_staff")
    text = client.post(
        f"/inbox/classes/{training_class.id}/confirm", follow_redirects=True
    ).get_data(as_text=True)
    assert "已确认 1 站" in text
    assert "无法确认" in text and "剩余 10 个名额" in text
    db.session.expire_all()
    assert db.session.get(Reservation, stops[0].id).status == "confirmed"
    assert db.session.get(Reservation, stops[1].id).status == "pending"


def test_another_members_staff_cannot_confirm_the_class(two_stops, client):
    training_class, stops, _day = two_stops
    login(client, "tengchong_college_staff")
    assert client.post(f"/inbox/classes/{training_class.id}/confirm").status_code == 404
    login(client, "organizer")
    assert client.post(f"/inbox/classes/{training_class.id}/confirm").status_code == 403
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"pending"}


def test_staff_name_the_guide_and_see_the_day_on_the_guide_sheet(two_stops, client):
    _class, stops, day = two_stops
    login(client, "yangshanzhou_college_staff")
    answer = client.post(
        f"/reservations/{stops[0].id}/guide",
        data={"guide_name": " 李 讲解 "},
        follow_redirects=True,
    )
    assert "已安排讲解员" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Reservation, stops[0].id).guide_name == "李 讲解"
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.action == "guide")).one()
    assert "李 讲解" in event.reason
    assert "booking.guide" in ACTION_LABELS
    sheet = client.get(f"/inbox/guides?day={day.isoformat()}").get_data(as_text=True)
    assert sheet.count('data-testid="guide-card"') == 2
    assert "李 讲解" in sheet and "未安排" in sheet
    # Too long a name is refused in Chinese, nothing changes.
    answer = client.post(
        f"/reservations/{stops[0].id}/guide", data={"guide_name": "讲" * 65}, follow_redirects=True
    )
    assert "最多 64 个字" in answer.get_data(as_text=True)
    # A bad day answers 400 with the reason, not a 500.
    bad = client.get("/inbox/guides?day=2026-13-40")
    assert bad.status_code == 400 and "日期格式" in bad.get_data(as_text=True)
    # Another member's staff find nothing to change.
    login(client, "tengchong_college_staff")
    assert (
        client.post(f"/reservations/{stops[0].id}/guide", data={"guide_name": "x"}).status_code
        == 404
    )
    other_sheet = client.get(f"/inbox/guides?day={day.isoformat()}").get_data(as_text=True)
    assert 'data-testid="guide-card"' not in other_sheet


def test_the_inbox_has_cards_for_phones_and_fixed_columns_for_desktops(two_stops, client):
    login(client, "yangshanzhou_college_staff")
    page = client.get("/inbox").get_data(as_text=True)
    assert page.count('data-testid="inbox-card"') == 2
    assert 'class="table table-sm align-middle inbox-table"' in page
    assert '<th scope="col" class="text-nowrap">生源</th>' in page
