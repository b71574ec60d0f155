"""The scheduling JSON API: a site's availability and bookings, with visibility per role."""

from __future__ import annotations

import pytest

from portal.scheduling.booking import book
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user

pytestmark = pytest.mark.db


@pytest.fixture
def booked(demo):
    tuesday = future_weekday(2)
    klass = new_class(20, name="保密的班")
    booking = book(klass, [stop("dianxi_memorial", at(tuesday, 9), 90)], user("organizer"))
    return tuesday, booking.id


def test_availability_shows_held_windows_without_names(booked, client):
    tuesday, _ = booked
    memorial = site("dianxi_memorial")
    response = client.get(f"/api/v1/availability?site={memorial.key}&from={tuesday}&to={tuesday}")
    data = response.get_json()
    assert response.status_code == 200
    assert data["capacity"] == memorial.capacity
    day = data["days"][0]
    assert day["open"] is True and day["opens"] == "09:00"
    assert day["held"] == [
        {
            "starts_at": f"{tuesday}T09:00:00+08:00",
            "ends_at": f"{tuesday}T10:30:00+08:00",
            "seats_taken": 20,
            "guide": True,
            "status": "pending",
        }
    ]
    assert "保密的班" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "site=999999&from=2026-12-01&to=2026-12-02",
        "site=dianxi_memorial&from=2026-02-30&to=2026-03-01",
        "site=dianxi_memorial&from=2026-12-05&to=2026-12-01",
        "site=dianxi_memorial&from=2026-01-01&to=2026-12-31",
        "site=%00&from=x&to=y",
        "",
    ],
)
def test_availability_rejects_bad_parameters(demo, client, query):
    response = client.get(f"/api/v1/availability?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_bookings_are_visible_to_their_organizer_host_and_office(booked, client, app):
    _, booking_id = booked
    assert client.get("/api/v1/bookings").status_code == 401
    for username, visible in (
        ("organizer", True),
        ("office", True),
        ("tengchong_college_staff", True),
        ("party_school_staff", False),
        ("trainee", False),
    ):
        login(client, username)
        items = client.get("/api/v1/bookings").get_json()["items"]
        assert (booking_id in [b["id"] for b in items]) is visible, username
        one = client.get(f"/api/v1/bookings/{booking_id}")
        assert one.status_code == (200 if visible else 404), username
    login(client, "organizer")
    data = client.get(f"/api/v1/bookings/{booking_id}").get_json()
    assert data["class"]["name"] == "保密的班" and data["stops"][0]["status"] == "pending"
    assert client.get("/api/v1/bookings?status=bogus").status_code == 400


def test_cli_processes_the_waiting_list(demo):
    result = demo.test_cli_runner().invoke(args=["portal", "process-waitlist"])
    assert result.exit_code == 0 and "expired offers processed" in result.output
