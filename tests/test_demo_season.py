"""The living demo's bookings, meeting and joint events (issue 19): after
``load_demo(season=True)`` the pages of the demo accounts are not empty, and a second load
adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.demo import load_demo
from portal.events.demo import CONTEST, TRAINING
from portal.events.models import ContestEntry, EventRegistration, JointEvent
from portal.extensions import db
from portal.meetings.demo import DEMO_MEETING
from portal.meetings.models import Decision, Meeting
from portal.notifications.models import Message
from portal.scheduling.demo import DEMO_CLASSES, NOTICE
from portal.scheduling.models import Booking, Reservation
from tests.conftest import login

MEMBERS = ["party_school", "songshan_base", "tengchong_college", "yangshanzhou_college"]


def _counts() -> dict[str, int]:
    models = [
        Booking,
        Reservation,
        Meeting,
        Decision,
        JointEvent,
        ContestEntry,
        EventRegistration,
        Message,
    ]
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}


def test_season_shows_bookings_meeting_and_events_and_loads_once(app, client):
    load_demo(season=True)
    statuses = set(db.session.scalars(select(Reservation.status)))
    assert {"pending", "confirmed", "declined", "offered"} <= statuses
    for key in MEMBERS:
        login(client, f"{key}_admin")
        page = client.get("/inbox").get_data(as_text=True)
        assert any(name in page for name, *_rest in DEMO_CLASSES), key
        assert DEMO_MEETING in client.get("/meetings/").get_data(as_text=True), key
        events_page = client.get("/events").get_data(as_text=True)
        assert CONTEST in events_page and TRAINING in events_page, key
    login(client, "office")
    assert DEMO_MEETING in client.get("/meetings/").get_data(as_text=True)
    assert CONTEST in client.get("/events").get_data(as_text=True)
    assert "议定事项已办结" in client.get("/messages").get_data(as_text=True)
    login(client, "trainee")
    assert NOTICE[0] in client.get("/messages").get_data(as_text=True)
    before = _counts()
    load_demo(season=True)
    assert _counts() == before
