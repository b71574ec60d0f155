"""Double submits: a double click, a reload or two people at once never make a thing twice.

Sequential repeats are what a reload or a slow double click sends; the threaded cases send
both requests at the same moment, each in its own app context and database session, as
two browser tabs would.
"""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.notifications.models import Message
from portal.scheduling.models import Booking, BookingEvent, Reservation, TrainingClass
from tests.scheduling.helpers import future_weekday, new_class, template
from tests.security.support import client_as, count, fresh

pytestmark = pytest.mark.db

ONE_DAY = "杨善洲精神一日环线"


def events_of(reservation_id: int, action: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count())
        .select_from(BookingEvent)
        .where(BookingEvent.reservation_id == reservation_id, BookingEvent.action == action)
    )


def flashed(client, response) -> str:
    """The page a redirect leads to (where the flashed message shows)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def at_once(*calls) -> list[Any]:
    """Run the calls in threads released together."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def booking_page(world, app) -> dict[str, Any]:
    """A fresh class of organizer A and the booking form for the one-day route (after a check)."""
    day = future_weekday(2, at_least_days=28)
    klass = new_class(30, name="重复提交测试班", theme="乡村振兴", start=day)
    client = client_as(app, "organizer")
    url = f"/bookings/new?class_id={klass.id}"
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="key"', page)
    assert key, "the booking page has no one-time key"
    form = {
        "template_id": str(template(ONE_DAY).id),
        "start_date": day.isoformat(),
        "key": key.group(1) or key.group(2),
    }
    checked = client.post(url, data={**form, "check": "1"})
    assert checked.status_code == 200, checked.get_data(as_text=True)[:1000]
    return {"client": client, "url": url, "form": form, "class_id": klass.id}


def bookings_of(class_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Booking).where(Booking.class_id == class_id)
    )


def test_the_same_booking_form_twice_makes_one_booking(booking_page):
    client, url, form = booking_page["client"], booking_page["url"], booking_page["form"]
    assert bookings_of(booking_page["class_id"]) == 0
    first = client.post(url, data={**form, "book": "1"})
    second = client.post(url, data={**form, "book": "1"})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert bookings_of(booking_page["class_id"]) == 1
    # The "waitlist" button of the same form is the same submission, too.
    third = client.post(url, data={**form, "waitlist": "1"})
    assert third.headers["Location"] == first.headers["Location"]
    assert bookings_of(booking_page["class_id"]) == 1


def test_the_same_booking_form_at_once_from_two_tabs_makes_one_booking(booking_page, app):
    url, form = booking_page["url"], booking_page["form"]
    other = client_as(app, "organizer")
    clients = [booking_page["client"], other]
    responses = at_once(*(lambda c=c: c.post(url, data={**form, "book": "1"}) for c in clients))
    statuses = [r.status_code for r in responses]
    assert statuses == [302, 302], statuses
    assert len({r.headers["Location"] for r in responses}) == 1
    assert bookings_of(booking_page["class_id"]) == 1


def test_a_key_cannot_be_replayed_for_another_class(booking_page, app):
    client, form = booking_page["client"], booking_page["form"]
    client.post(booking_page["url"], data={**form, "book": "1"})
    # Another class on the same days, so that only the replayed key can refuse the form.
    same_days = date.fromisoformat(form["start_date"])
    other_class = new_class(30, name="另一个班", theme="乡村振兴", start=same_days)
    before = count(Booking)
    response = client.post(f"/bookings/new?class_id={other_class.id}", data={**form, "book": "1"})
    assert response.status_code == 409
    assert "表单已失效" in response.get_data(as_text=True)
    assert count(Booking) == before


def test_two_confirms_of_one_reservation_make_one_decision(world, app):
    reservation_id = world["reservation_a"]
    staff = client_as(app, "party_school_staff")
    first = staff.post(f"/reservations/{reservation_id}/confirm")
    assert "已确认：" in flashed(staff, first)
    second = staff.post(f"/reservations/{reservation_id}/confirm")
    page = flashed(staff, second)
    assert "该预约已处理" in page and "已确认" in page
    assert fresh(Reservation, reservation_id).status == "confirmed"
    assert events_of(reservation_id, "confirm") == 1
    organizer_messages = db.session.scalar(
        select(func.count()).select_from(Message).where(Message.subject.contains("已确认接待"))
    )
    assert organizer_messages == 1


def test_two_members_of_staff_deciding_at_once_make_one_decision(world, app):
    reservation_id = world["reservation_a"]
    staff, admin = client_as(app, "party_school_staff"), client_as(app, "party_school_admin")
    responses = at_once(
        lambda: staff.post(f"/reservations/{reservation_id}/confirm"),
        lambda: admin.post(f"/reservations/{reservation_id}/decline", data={"reason": "有接待"}),
    )
    assert [r.status_code for r in responses] == [302, 302]
    pages = [flashed(c, r) for c, r in zip((staff, admin), responses, strict=True)]
    assert sum("该预约已处理" in p for p in pages) == 1, "the later decision must be refused"
    decided = events_of(reservation_id, "confirm") + events_of(reservation_id, "decline")
    assert decided == 1
    assert fresh(Reservation, reservation_id).status in ("confirmed", "declined")


def test_cancelling_twice_cancels_once(world, app):
    organizer = client_as(app, "organizer")
    url = f"/bookings/{world['booking_a']}/cancel"
    first = organizer.post(url, data={"reason": "计划调整"})
    assert "预约已取消" in flashed(organizer, first)
    second = organizer.post(url, data={"reason": "计划调整"})
    assert "该预约已取消" in flashed(organizer, second)
    db.session.rollback()
    cancels = db.session.scalar(
        select(func.count())
        .select_from(BookingEvent)
        .where(
            BookingEvent.booking_id == world["booking_a"],
            BookingEvent.reservation_id.is_(None),
            BookingEvent.to_status == "cancelled",
        )
    )
    assert cancels == 1


def test_an_import_is_confirmed_once(world, app):
    staff = client_as(app, "party_school_staff")
    upload = staff.get("/sites/import/template.xlsx").data
    preview = staff.post(
        "/sites/import",
        data={"file": (io.BytesIO(upload), "sites.xlsx")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.get_data(as_text=True))
    assert token
    before = count(TeachingSite)
    assert staff.post("/sites/import/confirm", data={"token": token.group(1)}).status_code == 302
    after_first = count(TeachingSite)
    assert after_first > before
    again = staff.post("/sites/import/confirm", data={"token": token.group(1)})
    assert again.status_code == 404
    assert count(TeachingSite) == after_first


def class_form() -> dict[str, str]:
    day = future_weekday(2, at_least_days=35)
    return {
        "name": "双击登记的培训班",
        "kind": "main",
        "origin": "province",
        "sending_unit": "某县委组织部",
        "size": "30",
        "starts_on": day.isoformat(),
        "ends_on": (day + timedelta(days=1)).isoformat(),
        "theme": "乡村振兴",
        "contact_name": "王老师",
        "contact_phone": "0875-1234567",
    }


def classes_named(name: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(TrainingClass).where(TrainingClass.name == name)
    )


def one_time_key(page: str) -> str:
    found = re.search(r'name="key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="key"', page)
    assert found, "the form has no one-time key"
    return found.group(1) or found.group(2)


def class_form_as_shown(organizer) -> dict[str, str]:
    """The registration form as a browser posts it: the fields plus the page's one-time key."""
    page = organizer.get("/classes/new")
    assert page.status_code == 200
    return {**class_form(), "key": one_time_key(page.get_data(as_text=True))}


def test_a_double_click_on_class_registration_registers_one_class(world, app):
    organizer = client_as(app, "organizer")
    form = class_form_as_shown(organizer)
    first = organizer.post("/classes/new", data=form)
    second = organizer.post("/classes/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert classes_named(form["name"]) == 1, "the class was registered twice"


def test_two_class_registrations_at_the_same_moment_register_one_class(world, app):
    form = class_form_as_shown(client_as(app, "organizer"))
    tabs = [client_as(app, "organizer"), client_as(app, "organizer")]
    answers = at_once(*(lambda tab=tab: tab.post("/classes/new", data=form) for tab in tabs))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert classes_named(form["name"]) == 1


def test_two_forms_opened_separately_register_two_classes(world, app):
    """Only a repeat of the same form is one registration: a second form is a second class."""
    organizer = client_as(app, "organizer")
    for _ in range(2):
        assert (
            organizer.post("/classes/new", data=class_form_as_shown(organizer)).status_code == 302
        )
    assert classes_named(class_form()["name"]) == 2


def test_another_organizer_cannot_reuse_a_class_form_key(world, app):
    form = class_form_as_shown(client_as(app, "organizer"))
    assert client_as(app, "organizer").post("/classes/new", data=form).status_code == 302
    other = client_as(app, "office")
    answer = other.post("/classes/new", data=form)
    assert answer.status_code == 400
    assert "表单已失效" in answer.get_data(as_text=True)
    assert classes_named(form["name"]) == 1
