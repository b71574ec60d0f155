"""Notices: every booking change reaches the right inboxes and the outbox, and mail is never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import hookimpl
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import Message, OutboxEmail
from portal.scheduling.booking import book, cancel_booking, decide
from portal.scheduling.fitting import BookingRefused
from tests.conftest import login
from tests.members.test_plugins import registered
from tests.scheduling.helpers import at, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db


def inbox_subjects(username: str) -> list[str]:
    return [m.subject for m in services.inbox(user(username))]


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxEmail))


@pytest.fixture
def booking(demo):
    staff = user("tengchong_college_staff")
    staff.email = "staff@tc.example"
    user("organizer").email = "organizer@unit.example"
    db.session.commit()
    klass = new_class(20, name="通知测试班")
    return book(klass, [stop("dianxi_memorial", at(future_weekday(2), 9), 90)], user("organizer"))


def test_a_new_booking_reaches_the_hosting_members_staff(booking):
    assert "新的预约待确认：通知测试班" in inbox_subjects("tengchong_college_staff")
    assert "新的预约待确认：通知测试班" in inbox_subjects("tengchong_college_admin")
    assert inbox_subjects("party_school_staff") == []
    email = db.session.scalar(select(OutboxEmail))
    assert email.to_address == "staff@tc.example" and "通知测试班" in email.body


def test_decisions_reach_the_organizer(booking):
    decide(booking.reservations[0], user("tengchong_college_staff"), confirm=True)
    assert any("已确认接待通知测试班" in s for s in inbox_subjects("organizer"))
    assert db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.to_address == "organizer@unit.example")
    )


def test_a_refused_booking_writes_no_notice(demo):
    klass = new_class(20)
    before = db.session.scalar(select(func.count()).select_from(Message))
    with pytest.raises(BookingRefused):
        book(klass, [stop("spirit_base", at(future_weekday(1), 9), 60)], user("organizer"))
    assert db.session.scalar(select(func.count()).select_from(Message)) == before


class Failing:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, email):
        self.calls += 1
        raise ConnectionRefusedError("mail server down")


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, email):
        self.sent.append(email.to_address)


def test_a_failed_send_keeps_the_mail_and_retries_later(booking):
    failing = Failing()
    assert services.send_outbox(failing) == (0, 1)
    email = db.session.scalar(select(OutboxEmail))
    assert email.sent_at is None and email.attempts == 1 and "mail server down" in email.last_error
    assert services.send_outbox(Recording()) == (0, 0)  # not due again yet
    email.next_attempt_at = email.created_at
    db.session.commit()
    recording = Recording()
    assert services.send_outbox(recording) == (1, 0)
    assert recording.sent == ["staff@tc.example"]
    assert services.send_outbox(recording) == (0, 0)  # sent once only


def test_cli_sends_the_outbox_to_the_console(booking, app):
    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 0 and "1 sent, 0 failed" in result.output
    assert db.session.scalar(select(OutboxEmail)).sent_at is not None


def test_the_inbox_page_and_marking_read(booking, client):
    login(client, "tengchong_college_staff")
    page = client.get("/").get_data(as_text=True)
    assert "条未读" in page
    inbox = client.get("/messages").get_data(as_text=True)
    assert "新的预约待确认：通知测试班" in inbox
    mine = services.inbox(user("tengchong_college_staff"))[0]
    theirs = services.inbox(user("tengchong_college_admin"))[0]
    client.post("/messages/read", data={"message_id": str(theirs.id)})
    db.session.refresh(theirs)
    assert theirs.read_at is None  # another user's message is never touched
    client.post("/messages/read", data={"message_id": str(mine.id)})
    db.session.refresh(mine)
    assert mine.read_at is not None
    assert client.post("/messages/read", data={"message_id": "x" * 50}).status_code == 302
    assert client.get("/messages").status_code == 200


def test_anonymous_has_no_inbox(client):
    assert client.get("/messages").status_code == 302


def test_hook_portal_booking_changed(demo, app):
    calls: list[tuple[int, str, str]] = []

    class Listener:
        @hookimpl
        def portal_booking_changed(self, booking, old_status, new_status):
            calls.append((booking.id, old_status, new_status))

    class Broken:
        @hookimpl
        def portal_booking_changed(self, booking, old_status, new_status):
            raise RuntimeError("member system down")

    pm = app.extensions["portal.plugins"]
    # The hook goes to the plugins of the members the booking visits: stand in for 腾冲.
    module = pm.get_plugin("tengchong_college")
    pm.unregister(name="tengchong_college")
    try:
        with (
            registered(app, Listener(), "tengchong_college"),
            registered(app, Broken(), "songshan_base_extra"),
        ):
            klass = new_class(20)
            booking = book(
                klass, [stop("dianxi_memorial", at(future_weekday(2), 9), 90)], user("organizer")
            )
            decide(booking.reservations[0], user("tengchong_college_staff"), confirm=True)
            cancel_booking(db.session.get(type(booking), booking.id), user("office"), "测试")
    finally:
        pm.register(module, name="tengchong_college")
    assert calls == [
        (booking.id, "", "pending"),
        (booking.id, "pending", "confirmed"),
        (booking.id, "confirmed", "cancelled"),
    ]
