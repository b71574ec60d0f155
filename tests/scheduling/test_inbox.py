"""The members' inbox (预约待办): upcoming reservations by page, earlier ones on request."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.scheduling.booking import INBOX_PER_PAGE
from portal.scheduling.models import Booking, Reservation
from portal.timeutil import LOCAL_TZ
from tests.conftest import login
from tests.scheduling.helpers import at, new_class, site, user

pytestmark = pytest.mark.db

UPCOMING = INBOX_PER_PAGE + 5
EARLIER = 3


@pytest.fixture
def inbox(demo):
    """A booking with UPCOMING pending stops from tomorrow on and EARLIER ones before today."""
    training_class = new_class(name="收件箱测试班")
    booking = Booking(
        training_class=training_class,
        name="定制线路",
        start_date=training_class.starts_on,
        created_by_id=user("organizer").id,
    )
    db.session.add(booking)
    spirit = site("spirit_base")
    today = datetime.now(LOCAL_TZ).date()
    days = [today + timedelta(days=1 + n) for n in range(UPCOMING)]
    days += [today - timedelta(days=1 + n) for n in range(EARLIER)]
    for n, day in enumerate(days):
        db.session.add(
            Reservation(
                booking=booking,
                site_id=spirit.id,
                starts_at=at(day, 9),
                ends_at=at(day, 10),
                group_size=30,
                status="pending",
                decline_reason=f"第{n:03}站",
            )
        )
    db.session.commit()
    return days


def reservation_days(page: str) -> list[str]:
    return re.findall(r'<h2 class="h5[^"]*" id="day-(\d{4}-\d\d-\d\d)"', page)


def test_the_inbox_lists_upcoming_reservations_by_page(inbox, client):
    login(client, "yangshanzhou_college_staff")
    first = client.get("/inbox").get_data(as_text=True)
    upcoming = [d.isoformat() for d in inbox[:UPCOMING]]
    assert reservation_days(first) == upcoming[:INBOX_PER_PAGE]
    assert f"今天及以后的 {UPCOMING} 条" in first
    assert "第 1 / 2 页" in first and "/inbox?page=2" in first
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert reservation_days(second) == upcoming[INBOX_PER_PAGE:]
    # A page beyond the last shows the last; nonsense shows the first.
    assert (
        reservation_days(client.get("/inbox?page=99").get_data(as_text=True))
        == (upcoming[INBOX_PER_PAGE:])
    )
    assert (
        reservation_days(client.get("/inbox?page=x").get_data(as_text=True))
        == (upcoming[:INBOX_PER_PAGE])
    )


def test_earlier_reservations_are_one_click_away(inbox, client):
    login(client, "yangshanzhou_college_staff")
    page = client.get("/inbox").get_data(as_text=True)
    assert 'href="/inbox?when=earlier"' in page and "更早的" in page
    earlier = client.get("/inbox?when=earlier").get_data(as_text=True)
    # Latest first, and only the ones before today.
    assert reservation_days(earlier) == [d.isoformat() for d in inbox[UPCOMING:]]
    assert f"今天以前的 {EARLIER} 条" in earlier
    # They can still be decided from there.
    # (each in a card for phones and in a table row for wider screens).
    assert len(re.findall(r'action="/reservations/\d+/confirm"', earlier)) == 2 * EARLIER
    assert len(re.findall(r'action="/reservations/\d+/decline"', earlier)) == 2 * EARLIER


def test_the_office_filters_by_member_in_the_query(inbox, client):
    login(client, "office")
    spirit = site("spirit_base")
    mine = client.get(f"/inbox?member={spirit.member_id}").get_data(as_text=True)
    assert f"今天及以后的 {UPCOMING} 条" in mine
    assert f"/inbox?page=2&amp;member={spirit.member_id}" in mine or (
        f"/inbox?member={spirit.member_id}&amp;page=2" in mine
    )
    other = site("dianxi_memorial").member_id
    assert "收件箱测试班" not in client.get(f"/inbox?member={other}").get_data(as_text=True)
    # The filter form keeps the earlier/upcoming choice.
    earlier = client.get(f"/inbox?member={spirit.member_id}&when=earlier").get_data(as_text=True)
    assert '<input type="hidden" name="when" value="earlier">' in earlier
