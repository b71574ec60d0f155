"""The members' 预约待办 expires offers that ran out, without asking the database each time.

The inbox runs ``expire_due_offers()`` on every request, kept page or not (issue 20's
morning rush). With the page cache's generations in Redis, each process remembers the
earliest end of a running offer under the schedule's generation: a new offer (any change
to the schedule) or that time coming makes it look again, and an offer that ran out is
expired by the next request as before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.scheduling import waitlist
from portal.scheduling.models import Reservation
from portal.timeutil import utcnow
from tests.conftest import demo_apps, login, recorded_statements

pytestmark = pytest.mark.db


@pytest.fixture
def redis_app(_schema: str, tmp_path, shared_redis):
    url, prefix = shared_redis
    for (app,) in demo_apps(
        _schema, tmp_path, season=["scheduling"], CACHE_REDIS_URL=url, PAGE_CACHE_KEY_PREFIX=prefix
    ):
        yield app


def the_offer() -> Reservation:
    """The demo's place offered to the group on the waiting list (待接受)."""
    db.session.expire_all()
    return db.session.scalar(select(Reservation).where(Reservation.status == "offered"))


def staff_of(app, offer: Reservation):
    from portal.auth.models import User

    username = db.session.scalar(
        select(User.username).where(User.member_id == offer.site.member_id, User.role != "")
    )
    client = app.test_client()
    login(client, username)
    return client


def test_no_offer_due_asks_the_database_once_per_change(redis_app):
    offer = the_offer()
    assert offer is not None and offer.offer_expires_at > utcnow()
    staff = staff_of(redis_app, offer)
    assert staff.get("/inbox").status_code == 200
    with recorded_statements() as statements:
        assert staff.get("/inbox").status_code == 200
    assert statements == []  # login, generations, page and the offers' end: all known
    # A change to the schedule (a new offer could end sooner): asked again, once.
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == offer.id)
        .values(offer_expires_at=utcnow() + timedelta(minutes=30))
    )
    db.session.commit()
    with recorded_statements() as statements:
        assert staff.get("/inbox").status_code == 200
    assert [s for s in statements if "min(reservations.offer_expires_at)" in s]


def test_an_offer_is_expired_by_the_next_request_once_its_time_has_come(redis_app, monkeypatch):
    offer = the_offer()
    staff = staff_of(redis_app, offer)
    assert staff.get("/inbox").status_code == 200  # the offer's end is now known
    later = offer.offer_expires_at + timedelta(minutes=1)
    monkeypatch.setattr(waitlist, "utcnow", lambda: later)
    assert staff.get("/inbox").status_code == 200
    db.session.expire_all()
    assert db.session.get(Reservation, offer.id).status == "cancelled"


def test_an_offer_already_due_is_expired_at_once(redis_app):
    offer = the_offer()
    staff = staff_of(redis_app, offer)
    assert staff.get("/inbox").status_code == 200
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == offer.id)
        .values(offer_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    staff.get("/inbox")
    db.session.expire_all()
    assert db.session.get(Reservation, offer.id).status == "cancelled"
