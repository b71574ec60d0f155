"""Object-level access (OWASP ASVS 8.2.2, 8.4.1): guessing ids gets another tenant's data nowhere.

Member A's staff (party_school) against member B's (tengchong_college) private data, and
organizer A against organizer B's class, in the web UI and in the JSON API. Another
tenant's object answers 404 (never 403: ids leak nothing), and no row changes.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from portal.auth.models import ApiToken
from portal.catalog.models import Teacher
from portal.events.models import EventRegistration, JointEvent
from portal.meetings.models import Decision, Meeting, MemberBusyTime
from portal.notifications.models import Message
from portal.scheduling.calendar_views import feed_token
from portal.timeutil import LOCAL_TZ
from tests.scheduling.helpers import user
from tests.security.support import (
    Tracker,
    changed_tables,
    client_as,
    fresh,
    pdf_upload,
    png_upload,
    snapshot,
)

pytestmark = pytest.mark.db

SITE_FORM = {
    "name": "被改名的教学点",
    "theme": "党性教育",
    "capacity": "50",
    "session_minutes": "60",
    "open_weekdays": ["1", "2"],
    "opens": "09:00",
    "closes": "17:00",
    "reason": "越权",
}
TEACHER_FORM = {"name": "被改名的教师", "kind": "full_time", "title": "教授", "shared": "y"}
COURSE_FORM = {"name": "被改名的课程", "kind": "lecture", "hours": "2.0"}
CLASS_FORM = {
    "name": "被改名的培训班",
    "kind": "main",
    "origin": "province",
    "sending_unit": "某县委组织部",
    "size": "30",
    "theme": "乡村振兴",
    "contact_name": "王老师",
    "contact_phone": "0875-1234567",
}


def member_a_against_b(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, url, form) that member A's staff must find nothing behind (404)."""
    return [
        ("GET", f"/teachers/{w['teacher_b']}", None),
        ("GET", f"/api/v1/teachers/{w['teacher_b']}", None),
        ("GET", f"/calendar/teacher/{w['teacher_b']}", None),
        ("GET", f"/calendar/teacher/{w['teacher_b']}.ics", None),
        ("GET", f"/sites/{w['site_b']}/edit", None),
        ("POST", f"/sites/{w['site_b']}/edit", SITE_FORM),
        ("POST", f"/sites/{w['site_b']}/status", {"status-status": "retired"}),
        ("GET", f"/teachers/{w['teacher_b']}/edit", None),
        ("POST", f"/teachers/{w['teacher_b']}/edit", TEACHER_FORM),
        ("GET", f"/teachers/{w['teacher_b_shared']}/edit", None),
        ("POST", f"/teachers/{w['teacher_b_shared']}/edit", TEACHER_FORM),
        ("POST", f"/teachers/{w['teacher_b_shared']}/status", {"status-status": "retired"}),
        ("GET", f"/courses/{w['course_b']}/edit", None),
        ("POST", f"/courses/{w['course_b']}/edit", COURSE_FORM),
        ("POST", f"/courses/{w['course_b']}/status", {"status-status": "retired"}),
        (
            "POST",
            f"/teachers/{w['teacher_b']}/unavailable",
            {"off-starts_on": "2027-03-01", "off-ends_on": "2027-03-02"},
        ),
        ("POST", f"/teachers/unavailable/{w['unavailable_b']}/delete", {}),
        ("POST", f"/materials/{w['material_b']}/delete", {}),
        ("POST", f"/site-photos/{w['photo_b']}/delete", {}),
        ("POST", f"/reservations/{w['reservation_a_at_b']}/confirm", {}),
        ("POST", f"/reservations/{w['reservation_a_at_b']}/decline", {"reason": "越权"}),
        ("POST", f"/reservations/{w['reservation_b']}/confirm", {}),
        ("POST", f"/reservations/{w['reservation_b']}/decline", {"reason": "越权"}),
        ("GET", f"/bookings/{w['booking_b']}", None),
        ("GET", f"/api/v1/bookings/{w['booking_b']}", None),
    ]


@pytest.mark.parametrize("username", ["party_school_staff", "party_school_admin"])
def test_member_a_cannot_reach_member_b_private_data(world, app, username):
    client = client_as(app, username)
    failures = []
    cases = [
        *member_a_against_b(world),
        ("POST", f"/courses/{world['course_b']}/materials", "upload"),
        ("POST", f"/sites/{world['site_b']}/photos", "photo"),
        ("POST", f"/account/api-tokens/{world['api_token_b']}/revoke", {}),
    ]
    tracker = Tracker()
    for method, url, form in cases:
        if form == "photo":
            form = {"photo-photo": (png_upload().stream, "p.png"), "photo-caption": "越权"}
        elif form == "upload":
            form = {
                "mat-kind": "material",
                "mat-title": "越权",
                "mat-file": (pdf_upload().stream, "a.pdf"),
            }
        response = client.open(url, method=method, data=form)
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}, expected 404")
        changed = tracker.changed()
        if changed:
            failures.append(f"{method} {url} changed {changed}")
    assert not failures, "\n".join(failures)
    assert fresh(ApiToken, world["api_token_b"]).revoked_at is None


def test_member_a_lists_show_no_private_teacher_of_member_b(world, app):
    hidden = fresh(Teacher, world["teacher_b"]).name
    own = fresh(Teacher, world["teacher_a"]).name
    staff = client_as(app, "party_school_staff")
    page = staff.get("/teachers?status=").get_data(as_text=True)
    assert own in page and hidden not in page
    names = {t["name"] for t in staff.get("/api/v1/teachers?per_page=100&status=").json["items"]}
    assert own in names and hidden not in names
    workbook = load_workbook(io.BytesIO(staff.get("/teachers/export.xlsx?status=").data))
    cells = {str(c.value) for row in workbook.active.iter_rows() for c in row}
    assert own in cells and hidden not in cells
    # Member B's own staff do see it; anonymous visitors see neither.
    other = client_as(app, "tengchong_college_staff")
    assert hidden in other.get("/teachers?status=").get_data(as_text=True)
    anonymous = app.test_client()
    names = {
        t["name"] for t in anonymous.get("/api/v1/teachers?per_page=100&status=").json["items"]
    }
    assert hidden not in names and own not in names


def test_member_a_sees_only_its_own_stops(world, app):
    staff = client_as(app, "party_school_staff")
    inbox = staff.get("/inbox").get_data(as_text=True)
    assert "安全测试甲班" in inbox
    assert "和顺图书馆" not in inbox and "国殇墓园" not in inbox and "安全测试乙班" not in inbox
    listed = staff.get("/api/v1/bookings").json["items"]
    assert [b["id"] for b in listed] == [world["booking_a"]]
    stops = staff.get(f"/api/v1/bookings/{world['booking_a']}").json["stops"]
    assert [s["site"]["id"] for s in stops] == [world["site_a"]]


def test_organizer_a_cannot_reach_organizer_b_class(world, app):
    client = client_as(app, "organizer")
    w = world
    cases = [
        ("GET", f"/classes/{w['class_b']}", None),
        ("GET", f"/classes/{w['class_b']}/edit", None),
        ("POST", f"/classes/{w['class_b']}/edit", CLASS_FORM),
        ("GET", f"/bookings/new?class_id={w['class_b']}", None),
        (
            "POST",
            f"/bookings/new?class_id={w['class_b']}",
            {"template_id": str(w["template"]), "start_date": "2027-01-05", "book": "1"},
        ),
        ("GET", f"/bookings/{w['booking_b']}", None),
        ("POST", f"/bookings/{w['booking_b']}/cancel", {"reason": "越权取消"}),
        ("POST", f"/reservations/{w['reservation_b']}/accept", {}),
        ("GET", f"/calendar/class/{w['class_b']}", None),
        ("GET", f"/calendar/class/{w['class_b']}.ics", None),
        ("GET", f"/classes/{w['class_b']}/itinerary.pdf", None),
        ("GET", f"/api/v1/bookings/{w['booking_b']}", None),
    ]
    failures = []
    tracker = Tracker()
    for method, url, form in cases:
        response = client.open(url, method=method, data=form)
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}, expected 404")
        changed = tracker.changed()
        if changed:
            failures.append(f"{method} {url} changed {changed}")
    # The /classes/<id>/book shortcut only redirects; where it leads is refused as well.
    response = client.get(f"/classes/{w['class_b']}/book", follow_redirects=True)
    if response.status_code != 404:
        failures.append(f"GET /classes/{w['class_b']}/book → {response.status_code}")
    assert not failures, "\n".join(failures)
    assert "安全测试乙班" not in client.get("/classes").get_data(as_text=True)
    # Organizer A's bookings: class A's route and the options of its elective, not B's.
    listed = {b["id"] for b in client.get("/api/v1/bookings").json["items"]}
    assert listed == {w["booking_a"], *w["elective_bookings_a"]}


def test_messages_of_another_user_stay_private(world, app):
    client = client_as(app, "organizer")
    assert "只给第二联系人的消息" not in client.get("/messages").get_data(as_text=True)
    response = client.post("/messages/read", data={"message_id": str(world["message_b"])})
    assert response.status_code == 302
    assert fresh(Message, world["message_b"]).read_at is None
    # Marking all of one's own messages read leaves the other user's alone, too.
    client.post("/messages/read", data={})
    assert fresh(Message, world["message_b"]).read_at is None


def test_calendar_feed_tokens_name_one_user_and_one_calendar(world, app):
    client = app.test_client()
    assert client.get(f"/calendar/feed/{world['feed_token']}.ics").status_code == 200
    # A token organizer A could make for organizer B's class gives nothing.
    with app.test_request_context():
        foreign = feed_token("class", world["class_b"], user("organizer"))
        private_teacher = feed_token("teacher", world["teacher_b"], user("party_school_staff"))
    assert client.get(f"/calendar/feed/{foreign}.ics").status_code == 404
    assert client.get(f"/calendar/feed/{private_teacher}.ics").status_code == 404
    # Tampered: another class id under the same signature.
    forged = world["feed_token"].replace(world["feed_token"].split(".")[0], "eyJ4Ijo", 1)
    assert client.get(f"/calendar/feed/{forged}.ics").status_code == 404


def test_import_preview_of_another_user_cannot_be_confirmed(world, app):
    """The confirmation token of member B's upload is useless to member A (404, no rows)."""
    owner = client_as(app, "tengchong_college_staff")
    template = owner.get("/sites/import/template.xlsx").data
    preview = owner.post(
        "/sites/import",
        data={"file": (io.BytesIO(template), "sites.xlsx")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.get_data(as_text=True))
    assert token, "no confirmation token on the preview page"
    intruder = client_as(app, "party_school_staff")
    before = snapshot()
    response = intruder.post("/sites/import/confirm", data={"token": token.group(1)})
    assert response.status_code == 404
    assert not changed_tables(before, snapshot())
    # Nor under the other kind's confirmation, by the owner.
    assert owner.post("/teachers/import/confirm", data={"token": token.group(1)}).status_code == 404
    # The owner's upload is still there to be confirmed.
    assert owner.post("/sites/import/confirm", data={"token": token.group(1)}).status_code == 302


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_api_tokens_see_what_their_member_sees(world, app):
    client = app.test_client()
    token_b = bearer(world["api_secret_b"])
    assert client.get(f"/api/v1/teachers/{world['teacher_a']}", headers=token_b).status_code == 404
    assert client.get(f"/api/v1/teachers/{world['teacher_b']}", headers=token_b).status_code == 200
    assert client.get(f"/api/v1/bookings/{world['booking_b']}", headers=token_b).status_code == 200
    stops = client.get(f"/api/v1/bookings/{world['booking_a']}", headers=token_b).json["stops"]
    assert {s["site"]["id"] for s in stops} == {fresh_site_of(world["reservation_a_at_b"])}
    token_a = bearer(world["api_secret"])
    assert client.get(f"/api/v1/bookings/{world['booking_b']}", headers=token_a).status_code == 404
    # A token opens the API only: web pages ignore it, and it cannot write.
    assert client.get("/inbox", headers=token_a).status_code == 302
    assert client.post("/api/v1/sites", headers=token_a).status_code in (403, 405)
    before = snapshot()
    response = client.post("/messages/read", headers=token_a, data={})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not changed_tables(before, snapshot())


def test_a_revoked_or_unknown_token_is_refused_at_once(world, app):
    client = app.test_client()
    token_a = bearer(world["api_secret"])
    assert client.get("/api/v1/bookings", headers=token_a).status_code == 200
    admin = client_as(app, "party_school_admin")
    assert admin.post(f"/account/api-tokens/{world['api_token']}/revoke").status_code == 302
    assert fresh(ApiToken, world["api_token"]).revoked_at is not None
    assert client.get("/api/v1/bookings", headers=token_a).status_code == 401
    assert client.get("/api/v1/bookings", headers=bearer("hxp_" + "x" * 43)).status_code == 401
    assert client.get("/api/v1/bookings", headers=bearer("x" * 5000)).status_code == 401


def fresh_site_of(reservation_id: int) -> int:
    from portal.scheduling.models import Reservation

    return fresh(Reservation, reservation_id).site_id


def test_disabling_a_user_ends_their_session_at_once(world, app):
    client = client_as(app, "party_school_staff")
    assert client.get("/inbox").status_code == 200
    staff = user("party_school_staff")
    office = client_as(app, "office")
    assert office.post(f"/admin/users/{staff.id}/active", data={"active": "0"}).status_code == 302
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- joint meetings and events


def member_a_against_meetings_of_others(w: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, url, form) behind which member A's staff must find nothing (404): a meeting
    member A is not invited to, member B's decisions and member B's busy time."""
    meeting_b = w["meeting_b"]
    return [
        ("GET", f"/meetings/{meeting_b}", None),
        ("GET", f"/meetings/{meeting_b}/export.pdf", None),
        ("GET", f"/meetings/{meeting_b}/export.txt", None),
        ("GET", f"/meetings/{meeting_b}/export.md", None),
        ("GET", f"/meetings/{meeting_b}/export.docx", None),
        (
            "POST",
            f"/meetings/{meeting_b}/reply",
            {"reply-response": "attend", "reply-attendees": "越权参会"},
        ),
        ("POST", f"/meetings/{meeting_b}/poll/answer", {}),
        ("POST", f"/meetings/decisions/{w['decision_meeting_b']}/done", {"done-note": "越权"}),
        # meeting A invites member A, but this decision is member B's
        ("POST", f"/meetings/decisions/{w['decision_b']}/done", {"done-note": "越权"}),
        ("POST", f"/meetings/busy/{w['busy_b']}/delete", {}),
    ]


def member_a_against_events_of_others(w: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, url, form) behind which member A's staff must find nothing (404)."""
    draft = w["draft_event"]
    return [
        ("GET", f"/events/{draft}", None),
        ("GET", f"/events/{draft}/calendar.ics", None),
        ("GET", f"/events/{draft}/registrations.xlsx", None),
        ("POST", f"/events/{draft}/registrations", {"reg-participant_name": "越权报名"}),
        ("POST", f"/events/registrations/{w['registration_b']}/cancel", {}),
        ("POST", f"/events/entries/{w['contest_entry_b']}/withdraw", {}),
        ("GET", f"/events/{w['contest']}/results.xlsx", None),  # results not published yet
    ]


@pytest.mark.parametrize("username", ["party_school_staff", "party_school_admin"])
def test_member_a_cannot_reach_other_members_meetings_and_events(world, app, username):
    client = client_as(app, username)
    failures = []
    tracker = Tracker()
    cases = [
        *member_a_against_meetings_of_others(world),
        *member_a_against_events_of_others(world),
    ]
    for method, url, form in cases:
        response = client.open(url, method=method, data=form)
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}, expected 404")
        changed = tracker.changed()
        if changed:
            failures.append(f"{method} {url} changed {changed}")
    # An event member A is not invited to: refused with the reason (403), nothing stored.
    url = f"/events/{world['event_b_only']}/registrations"
    response = client.post(url, data={"reg-participant_name": "越权报名"})
    if response.status_code != 403:
        failures.append(f"POST {url}: {response.status_code}, expected 403")
    if tracker.changed():
        failures.append(f"POST {url} changed something")
    assert not failures, "\n".join(failures)


def test_member_b_reaches_what_member_a_cannot(world, app):
    """The same requests as member B's staff work (so the 404s above are about the tenant)."""
    client = client_as(app, "tengchong_college_staff")
    for url in (
        f"/meetings/{world['meeting_b']}",
        f"/meetings/{world['meeting_b']}/export.txt",
        f"/events/registrations/{world['registration_b']}/cancel",
        f"/meetings/decisions/{world['decision_b']}/done",
        f"/meetings/busy/{world['busy_b']}/delete",
    ):
        method = "GET" if "/export" in url or url.endswith(str(world["meeting_b"])) else "POST"
        data = {"done-note": "已按要求办结"} if "/done" in url else None
        response = client.open(url, method=method, data=data)
        assert response.status_code in (200, 302), (method, url, response.status_code)
    staff = client_as(app, "party_school_staff")
    assert staff.get(f"/meetings/{world['meeting_a']}").status_code == 200


def test_member_a_lists_show_nothing_of_other_members(world, app):
    """Lists, calendars and exports of member A's staff name no meeting, decision, busy time,
    registration or entry of another member."""
    client = client_as(app, "party_school_staff")
    meeting_b = fresh(Meeting, world["meeting_b"])
    hidden = {
        meeting_b.title,
        fresh(Decision, world["decision_meeting_b"]).text,
        fresh(MemberBusyTime, world["busy_b"]).note,
        fresh(EventRegistration, world["registration_b"]).participant_name,
    }
    month = meeting_b.starts_at.astimezone(LOCAL_TZ).strftime("%Y-%m")
    pages = [
        "/meetings/",
        f"/meetings/calendar?month={month}",
        "/meetings/calendar.ics",
        f"/meetings/feed/{world['meetings_feed_token']}.ics",
        "/meetings/decisions?status=all",
        "/meetings/busy",
        f"/meetings/{world['meeting_a']}",
        f"/meetings/{world['meeting_a']}/export.txt",
        f"/events/{world['training_event']}",
        f"/events/{world['contest']}",
        "/events",
    ]
    failures = []
    for url in pages:
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code)
        failures += [f"{url} shows {text!r}" for text in hidden if text in body]
    # Member B's decision in meeting A: the decisions list shows member A's own only.
    listed = client.get("/meetings/decisions?status=all").get_data(as_text=True)
    assert listed.count(fresh(Decision, world["decision_a"]).text) == 1
    workbook = client.get(f"/events/{world['training_event']}/registrations.xlsx")
    names = {
        row[2]
        for row in load_workbook(io.BytesIO(workbook.data)).active.iter_rows(
            min_row=2, values_only=True
        )
    }
    assert names == {fresh(EventRegistration, world["registration_a"]).participant_name}
    assert not failures, "\n".join(failures)


def _score_form(world: dict[str, Any]) -> dict[str, str]:
    event = fresh(JointEvent, world["contest"])
    return {f"c{c.id}": "88" for c in event.criteria}


def test_only_the_contest_judges_score_and_never_their_own_member(world, app):
    judge = client_as(app, "tengchong_college_staff")  # member B's staff, appointed
    contest, entry_a, entry_b = world["contest"], world["contest_entry_a"], world["contest_entry_b"]
    assert judge.get(f"/events/{contest}/judging").status_code == 200
    assert judge.get(f"/events/entries/{entry_a}/score").status_code == 200
    others = {
        u: client_as(app, u) for u in ("tengchong_college_admin", "party_school_staff", "office")
    }
    tracker = Tracker()
    refused = [
        (judge, f"/events/entries/{entry_b}/score"),  # the judge's own member: recused
        (others["tengchong_college_admin"], f"/events/entries/{entry_a}/score"),
        (others["party_school_staff"], f"/events/entries/{entry_b}/score"),
        (others["office"], f"/events/entries/{entry_b}/score"),
    ]
    for client, url in refused:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data=_score_form(world)).status_code == 403, url
        assert not tracker.changed(), url
    for client in others.values():
        assert client.get(f"/events/{contest}/judging").status_code == 403
    response = judge.post(f"/events/entries/{entry_a}/score", data=_score_form(world))
    assert response.status_code == 302
    assert tracker.changed() == ["contest_scores"]


def _all_404(client, cases) -> list[str]:
    failures = []
    tracker = Tracker()
    for method, url, form in cases:
        response = client.open(url, method=method, data=form)
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}, expected 404")
        changed = tracker.changed()
        if changed:
            failures.append(f"{method} {url} changed {changed}")
    return failures


def test_organizer_a_cannot_reach_class_b_roster_or_its_trainees(world, app):
    w = world
    b, entry_b = w["class_b"], w["roster_entry_b"]
    cases = [
        ("GET", f"/classes/{b}/trainees", None),
        ("POST", f"/classes/{b}/trainees", {"name": "越权", "phone": "13912345678"}),
        ("GET", f"/classes/{b}/trainees/{entry_b}/edit", None),
        ("POST", f"/classes/{b}/trainees/{entry_b}/edit", {"name": "改", "phone": "13911110002"}),
        ("POST", f"/classes/{b}/trainees/{entry_b}/delete", {}),
        # class A's URL with class B's trainee: the entry must belong to the class
        ("GET", f"/classes/{w['class_a']}/trainees/{entry_b}/edit", None),
        ("POST", f"/classes/{w['class_a']}/trainees/{entry_b}/delete", {}),
        ("GET", f"/classes/{b}/trainees/export.xlsx", None),
        ("GET", f"/classes/{b}/trainees/sheet", None),
        ("POST", f"/classes/{b}/trainees/send-links", {}),
        ("GET", f"/classes/{b}/trainees/summary", None),
        ("GET", f"/classes/{b}/notices", None),
        ("POST", f"/classes/{b}/notices", {"title": "越权", "body": "越权"}),
        ("GET", f"/classes/{b}/trainees/profile", None),
        ("POST", f"/classes/{b}/trainees/share-reset", {}),
        ("GET", f"/classes/{b}/electives", None),
        ("GET", f"/me/classes/{b}/handbook", None),
        ("GET", f"/me/classes/{b}/handbook.pdf", None),
    ]
    failures = _all_404(client_as(app, "organizer"), cases)
    assert not failures, "\n".join(failures)
    # Organizer A's own roster does not list class B's trainee either.
    page = (
        client_as(app, "organizer").get(f"/classes/{w['class_a']}/trainees").get_data(as_text=True)
    )
    assert "乙班学员" not in page and "13911110002" not in page


def test_a_trainee_sees_only_their_own_classes_and_seats(world, app):
    w = world
    cases = [
        ("GET", f"/me/classes/{w['class_b']}", None),
        ("POST", f"/me/classes/{w['class_b']}/acknowledge", {}),
        ("GET", f"/me/classes/{w['class_b']}/handbook", None),
        ("GET", f"/classes/{w['class_a']}/trainees", None),
        ("GET", f"/classes/{w['class_a']}/trainees/summary", None),
        ("GET", f"/classes/{w['class_a']}/trainees/export.xlsx", None),
        ("GET", f"/runs/{w['run_a']}/manage", None),
    ]
    failures = _all_404(client_as(app, "trainee"), cases)
    assert not failures, "\n".join(failures)
    page = client_as(app, "trainee").get("/me").get_data(as_text=True)
    assert "安全测试甲班" in page and "安全测试乙班" not in page


def test_another_users_seat_cannot_be_cancelled_or_taken(world, app):
    w = world
    url = f"/runs/{w['run_a']}/seats/{w['seat_a']}"
    failures = _all_404(
        client_as(app, "organizer"),
        [("POST", f"{url}/cancel", {}), ("POST", f"{url}/accept", {})],
    )
    # Member B's staff do not manage member A's run, and its seat is not theirs.
    failures += _all_404(
        client_as(app, "tengchong_college_staff"),
        [
            ("POST", f"{url}/cancel", {}),
            ("GET", f"/runs/{w['run_a']}/manage", None),
            ("POST", f"/runs/{w['run_a']}/cancel", {}),
        ],
    )
    # A seat id of run A under run B's URL is not found either.
    failures += _all_404(
        client_as(app, "party_school_staff"),
        [
            ("POST", f"/runs/{w['run_b']}/seats/{w['seat_a']}/cancel", {}),
            ("GET", f"/runs/{w['run_b']}/manage", None),
        ],
    )
    assert not failures, "\n".join(failures)


def test_hosting_members_see_name_unit_and_count_only(world, app):
    w = world
    staff = client_as(app, "party_school_staff")  # class A visits member A's site
    page = staff.get(f"/classes/{w['class_a']}/trainees/summary").get_data(as_text=True)
    trainee = user("trainee")
    assert trainee.display_name in page and trainee.phone not in page
    assert staff.get(f"/classes/{w['class_a']}/trainees").status_code == 404
    # Member A hosts nothing of class B.
    assert staff.get(f"/classes/{w['class_b']}/trainees/summary").status_code == 404


def test_activation_and_calendar_links_name_one_account(world, app):
    w = world
    client = app.test_client()
    assert client.get(f"/activate/{w['activation_token']}").status_code == 200
    assert client.get(f"/activate/{w['activation_token'][:-3]}abc").status_code == 404
    assert client.get(f"/me/calendar/{w['trainee_feed_token']}.ics").status_code == 200
    forged = w["trainee_feed_token"][:-3] + "abc"
    assert client.get(f"/me/calendar/{forged}.ics").status_code == 404
