"""Joint events: who may do what, the list, calendar and feed, the programme, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.catalog.models import TeacherUnavailability
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.events.access import can_take_part, get_event
from portal.events.calendars import events_held
from portal.events.contests import score_field
from portal.events.events import (
    add_session,
    cancel_event,
    create_event,
    publish_event,
    remove_session,
)
from portal.events.models import EventSession, JointEvent
from portal.extensions import db
from tests.conftest import login
from tests.events.builders import (
    appoint,
    enter_course,
    event_type,
    first_site,
    future_day,
    h1_count,
    make_contest,
    make_event,
    member,
    session_values,
    site,
    teacher,
    unlabelled_controls,
    user,
)

pytestmark = pytest.mark.db

MEMBER_USERS = ("party_school_admin", "tengchong_college_staff")


# ---------------------------------------------------------------- only the office runs events


@pytest.mark.parametrize("username", [*MEMBER_USERS, "organizer", "trainee"])
def test_only_the_office_creates_and_runs_events(demo, client, username):
    event = make_event(publish=False)
    published = make_contest()
    kind = event_type("joint_training")
    with pytest.raises(PermissionDenied):
        create_event(user(username), kind.id, {"title": "x", "category": "training"})
    with pytest.raises(PermissionDenied):
        publish_event(event, user(username))
    login(client, username)
    assert client.get("/events/new").status_code == 403
    assert client.post(f"/events/new?type_id={kind.id}", data={"title": "越权"}).status_code == 403
    for url in (
        f"/events/{published.id}/edit",
        f"/events/{published.id}/criteria",
    ):
        assert client.get(url).status_code == 403
    for url in (
        f"/events/{published.id}/publish",
        f"/events/{published.id}/cancel",
        f"/events/{published.id}/sessions",
        f"/events/{published.id}/judges",
        f"/events/{published.id}/results/publish",
        f"/events/{published.id}/winners",
        f"/events/{published.id}/sessions/{published.sessions[0].id}/delete",
    ):
        assert (
            client.post(url, data={"cancel-reason": "x", "judge-user_id": "1"}).status_code == 403
        )
    db.session.expire_all()
    assert db.session.query(JointEvent).count() == 2
    assert published.status == "published" and len(published.sessions) == 1


def test_anonymous_visitors_are_sent_to_log_in(demo, client):
    event = make_event()
    assert client.get("/events/new").status_code == 302
    assert client.post(f"/events/{event.id}/publish").status_code == 302
    assert client.post(f"/events/{event.id}/registrations").status_code == 302


def test_the_office_creates_publishes_and_cancels_an_event(demo, client):
    login(client, "office")
    kind = event_type("themed_seminar")
    page = client.get("/events/new").get_data(as_text=True)
    assert "专题研讨班" in page and "讲解员大赛" in page and "重走松山战场徒步研学" in page
    form = client.get(f"/events/new?type_id={kind.id}").get_data(as_text=True)
    assert '<option selected value="training">' in form
    response = client.post(
        f"/events/new?type_id={kind.id}",
        data={
            "title": "学习贯彻专题研讨班",
            "category": "training",
            "capacity": "40",
            "invited_member_ids": [str(member("party_school").id), str(member("songshan_base").id)],
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(select(JointEvent))
    assert event.status == "draft" and not event.open_to_all and event.capacity == 40
    assert [m.key for m in event.invited_members] == ["party_school", "songshan_base"]
    # Publishing needs a programme.
    page = client.post(f"/events/{event.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "请先添加至少一项日程安排" in page
    day = future_day(20)
    response = client.post(
        f"/events/{event.id}/sessions",
        data={
            "session-title": "开班式",
            "session-day": day.isoformat(),
            "session-starts": "09:00",
            "session-ends": "11:30",
            "session-site_id": str(first_site("party_school").id),
            "session-teacher_id": str(teacher("yang_zhengwei").id),
        },
    )
    assert response.status_code == 302
    assert client.post(f"/events/{event.id}/publish").status_code == 302
    db.session.expire_all()
    assert event.status == "published" and event.published_at is not None
    from portal.notifications.services import inbox

    assert any("学习贯彻专题研讨班" in m.subject for m in inbox(user("songshan_base_staff")))
    assert not any(
        "学习贯彻专题研讨班" in m.subject for m in inbox(user("tengchong_college_staff"))
    )
    # Cancelling needs a reason.
    response = client.post(f"/events/{event.id}/cancel", data={"cancel-reason": ""})
    assert response.status_code == 400 and "请说明取消原因" in response.get_data(as_text=True)
    response = client.post(f"/events/{event.id}/cancel", data={"cancel-reason": "因故延期"})
    assert response.status_code == 302
    db.session.expire_all()
    assert event.status == "cancelled" and event.cancel_reason == "因故延期"
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "该活动已取消" in page and "因故延期" in page


# ---------------------------------------------------------------- who sees what


def test_drafts_are_for_the_office_and_published_events_for_everyone(demo, client):
    draft = make_event(publish=False, title="草稿中的集训")
    published = make_event(title="已发布的集训", open_to_all=False, invited=("party_school",))
    for username in (None, *MEMBER_USERS, "organizer"):
        if username:
            login(client, username)
        else:
            client.post("/logout")
        page = client.get("/events").get_data(as_text=True)
        assert "已发布的集训" in page and "草稿中的集训" not in page
        assert client.get(f"/events/{draft.id}").status_code == 404
        assert client.get(f"/events/{published.id}").status_code == 200
        with pytest.raises(NotFound):
            get_event(draft.id, user(username) if username else None)
    login(client, "office")
    page = client.get("/events").get_data(as_text=True)
    assert "草稿中的集训" in page and "已发布的集训" in page
    assert client.get(f"/events/{draft.id}").status_code == 200


def test_members_see_what_they_may_take_part_in(demo, client):
    event = make_event(title="党校专场", open_to_all=False, invited=("party_school",))
    login(client, "party_school_staff")
    assert "本单位可参加" in client.get("/events").get_data(as_text=True)
    assert 'name="reg-participant_name"' in client.get(f"/events/{event.id}").get_data(as_text=True)
    login(client, "songshan_base_staff")
    assert "本单位可参加" not in client.get("/events").get_data(as_text=True)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'name="reg-participant_name"' not in page
    assert can_take_part(user("party_school_staff"), event)
    assert not can_take_part(user("songshan_base_staff"), event)
    assert not can_take_part(user("office"), event)


def test_judges_find_their_contests(demo, client):
    event = make_contest(title="讲解员大赛决赛", category="guide_contest")
    appoint(event, "tengchong_college_staff")
    login(client, "tengchong_college_staff")
    page = client.get("/events").get_data(as_text=True)
    assert "我担任评委的大赛" in page and f"/events/{event.id}/judging" in page
    assert "进入评分" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_list_filters(demo, client):
    make_event(title="集训一")
    make_contest(title="评比一")
    page = client.get("/events?category=course_contest").get_data(as_text=True)
    assert "评比一" in page and "集训一" not in page
    year = future_day().year
    assert "集训一" in client.get(f"/events?year={year}").get_data(as_text=True)
    assert "集训一" not in client.get(f"/events?year={year - 5}").get_data(as_text=True)


# ---------------------------------------------------------------- the programme


def test_sessions_use_sites_of_several_members_and_shared_teachers(demo):
    event = make_event(publish=False)
    office = user("office")
    add_session(
        event,
        office,
        session_values(
            future_day(31), site_id=site("battlefield").id, teacher_id=teacher("yang_zhengwei").id
        ),
    )
    db.session.commit()
    assert len({s.site.member_id for s in event.sessions}) == 2
    with pytest.raises(ValidationFailed) as refused:
        add_session(
            event, office, session_values(future_day(32), teacher_id=teacher("li_xiaomei").id)
        )
    assert "共享师资" in refused.value.errors["teacher_id"]
    with pytest.raises(ValidationFailed) as refused:
        add_session(event, office, session_values(start=12, end=9))
    assert "ends" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        add_session(event, office, session_values(site_id=None))
    assert "site_id" in refused.value.errors
    add_session(
        event, office, session_values(future_day(33), site_id=None, place="腾冲某宾馆会议室")
    )
    db.session.commit()
    assert [s.number for s in event.sessions] == [1, 2, 3]


def test_a_shared_teacher_cannot_be_in_two_places_at_once(demo):
    day = future_day(40)
    first = make_event(publish=False)
    office = user("office")
    add_session(first, office, session_values(day, 9, 12, teacher_id=teacher("yang_zhengwei").id))
    db.session.commit()
    second = make_event(publish=False)
    with pytest.raises(ValidationFailed) as refused:
        add_session(
            second, office, session_values(day, 11, 13, teacher_id=teacher("yang_zhengwei").id)
        )
    assert "已安排在" in refused.value.errors["teacher_id"]
    add_session(second, office, session_values(day, 12, 14, teacher_id=teacher("yang_zhengwei").id))
    db.session.add(
        TeacherUnavailability(teacher=teacher("wang_desheng"), starts_on=day, ends_on=day)
    )
    db.session.flush()
    with pytest.raises(ValidationFailed, match="不能授课"):
        add_session(
            second, office, session_values(day, 15, 16, teacher_id=teacher("wang_desheng").id)
        )


def test_a_published_event_keeps_at_least_one_session(demo):
    event = make_event()
    with pytest.raises(ServiceError, match="至少保留一项"):
        remove_session(event.sessions[0], user("office"))
    add_session(event, user("office"), session_values(future_day(35)))
    remove_session(event.sessions[0], user("office"))
    db.session.commit()
    assert [s.number for s in event.sessions] == [2]


# ---------------------------------------------------------------- calendar and feed


def test_the_calendar_shows_published_sessions(demo, client):
    day = future_day(15)
    shown = make_event(title="日历中的集训", day=day)
    make_event(title="日历外的草稿", day=day, publish=False)
    page = client.get(f"/events/calendar?date={day.isoformat()}").get_data(as_text=True)
    assert "日历中的集训" in page and "日历外的草稿" not in page
    assert f'data-session="event-{shown.id}-session-1"' in page
    page = client.get(f"/events/calendar?view=week&date={day.isoformat()}").get_data(as_text=True)
    assert "日历中的集训" in page and "开班式与专题讲座" in page
    login(client, "office")
    page = client.get(f"/events/calendar?date={day.isoformat()}").get_data(as_text=True)
    assert "日历外的草稿" in page


def test_the_ics_feed_has_deterministic_uids(demo, client):
    event = make_event(title="联合集训")
    add_session(event, user("office"), session_values(future_day(31), 14, 17))
    draft = make_event(title="草稿", publish=False)
    db.session.commit()
    first = client.get("/events/calendar.ics")
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/calendar")
    body = first.get_data(as_text=True)
    lines = body.splitlines()
    assert f"UID:event-{event.id}-session-1" in lines  # never the host asked (portal/ical.py)
    assert f"UID:event-{event.id}-session-2" in lines
    assert f"event-{draft.id}-" not in body
    assert "SUMMARY:联合集训：开班式与专题讲座" in body
    assert "TZID=Asia/Shanghai" in body
    second = client.get("/events/calendar.ics").get_data(as_text=True)
    uids = [line for line in body.splitlines() if line.startswith("UID:")]
    assert uids == [line for line in second.splitlines() if line.startswith("UID:")]
    one = client.get(f"/events/{event.id}/calendar.ics").get_data(as_text=True)
    assert one.count("BEGIN:VEVENT") == 2
    assert client.get(f"/events/{draft.id}/calendar.ics").status_code == 404
    cancel_event(event, user("office"), "取消")
    db.session.commit()
    assert "STATUS:CANCELLED" in client.get("/events/calendar.ics").get_data(as_text=True)


def test_a_disabled_members_event_kinds_are_not_offered(demo, client):
    from portal import plugins

    trek = event_type("battlefield_trek")  # 松山基地's kind
    old = make_event(title="停用前的徒步", type_key="battlefield_trek", extra={"distance_km": "8"})
    plugins.set_enabled("songshan_base", False, by="test")
    db.session.commit()
    login(client, "office")
    picker = client.get("/events/new").get_data(as_text=True)
    assert trek.name not in picker
    assert event_type("joint_training").name in picker
    response = client.get(f"/events/new?type_id={trek.id}")
    assert response.status_code == 400 and "请选择活动类型" in response.get_data(as_text=True)
    with pytest.raises(ValidationFailed) as refused:
        make_event(title="停用后的徒步", type_key="battlefield_trek", extra={"distance_km": "8"})
    assert "暂停参与环线" in refused.value.errors["event_type_id"]
    db.session.rollback()
    # Its events stay, and open as before.
    assert client.get(f"/events/{old.id}").status_code == 200


def test_events_held_counts_for_the_yearly_figures(demo):
    day = future_day(10)
    make_event(day=day)
    make_contest(day=day)
    make_event(day=day, publish=False)
    cancelled = make_event(day=day)
    cancel_event(cancelled, user("office"), "取消")
    db.session.commit()
    counts = events_held(date(day.year, 1, 1), date(day.year, 12, 31))
    assert counts["total"] == 2
    assert counts["training"] == 1 and counts["course_contest"] == 1
    assert events_held(day + timedelta(days=1), day + timedelta(days=2))["total"] == 0


# ---------------------------------------------------------------- pages: one h1, labelled, phone-ready


def test_pages_have_one_h1_and_labelled_fields(demo, client):
    training = make_event(capacity=10)
    contest = make_contest()
    guide = make_contest("guide_contest")
    entry = enter_course(contest, "party_school")
    appoint(contest, "tengchong_college_staff")
    trek = event_type("battlefield_trek")
    pages = {
        "office": [
            "/events",
            "/events/new",
            f"/events/new?type_id={trek.id}",
            f"/events/{training.id}",
            f"/events/{training.id}/edit",
            f"/events/{contest.id}",
            f"/events/{guide.id}",
            f"/events/{contest.id}/criteria",
            f"/events/{contest.id}/results",
            "/events/calendar",
            "/events/calendar?view=week",
        ],
        "tengchong_college_staff": [
            f"/events/{training.id}",
            f"/events/{contest.id}",
            f"/events/{guide.id}",
            f"/events/{contest.id}/judging",
            f"/events/entries/{entry.id}/score",
        ],
        None: ["/events", f"/events/{training.id}", f"/events/{contest.id}/results"],
    }
    for username, urls in pages.items():
        if username:
            login(client, username)
        else:
            client.post("/logout")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.get_data(as_text=True)
            assert h1_count(page) == 1, url
            assert unlabelled_controls(page) == [], url
            assert 'name="viewport"' in page


# ---------------------------------------------------------------- bad input never 500


BAD_GETS = [
    "/events?year=abc",
    "/events?year=99999999999999999999",
    "/events?category=nonsense",
    "/events?category=%00",
    "/events/calendar?date=2026-02-30",
    "/events/calendar?date=abc",
    "/events/calendar?date=9999-01-01",
    "/events/calendar?view=year",
    "/events/new?type_id=abc",
    "/events/new?type_id=99999999999999999999",
    "/events/new?type_id=-1",
    "/events/999999",
    "/events/999999/results",
    "/events/999999/judging",
    "/events/999999/calendar.ics",
    "/events/entries/999999/score",
]


@pytest.mark.parametrize("url", BAD_GETS)
def test_bad_queries_never_fail(demo, client, url):
    login(client, "office")
    assert client.get(url).status_code in (200, 400, 404)


def test_bad_forms_never_fail(demo, client):
    training = make_event(capacity=2)
    contest = make_contest()
    entry = enter_course(contest, "party_school")
    appoint(contest, "tengchong_college_staff")
    kind = event_type("joint_training")
    garbage = ["abc", "-1", "99999999999999999999", "\x00", "1e400", "", "2026-02-30", "25:99"]
    login(client, "office")
    for value in garbage:
        posts = [
            (
                f"/events/new?type_id={kind.id}",
                {
                    "title": value,
                    "category": value,
                    "capacity": value,
                    "registration_deadline": value,
                    "invited_member_ids": value,
                },
            ),
            (
                f"/events/{training.id}/edit",
                {
                    "title": value,
                    "category": "training",
                    "capacity": value,
                    "open_to_all": value,
                    "invited_member_ids": [value, "1"],
                },
            ),
            (
                f"/events/{training.id}/sessions",
                {
                    "session-title": value,
                    "session-day": value,
                    "session-starts": value,
                    "session-ends": value,
                    "session-site_id": value,
                    "session-teacher_id": value,
                },
            ),
            (
                f"/events/{training.id}/registrations",
                {"reg-member_id": value, "reg-participant_name": value, "reg-phone": value},
            ),
            (
                f"/events/{contest.id}/criteria",
                {"criteria-0-name": value, "criteria-0-weight": value, "criteria-99-name": value},
            ),
            (f"/events/{contest.id}/judges", {"judge-user_id": value}),
            (f"/events/{contest.id}/entries", {"entry-member_id": value, "entry-course_id": value}),
            (f"/events/{contest.id}/winners", {"entry_ids": [value]}),
            (f"/events/{contest.id}/winners", {"top": value}),
            (f"/events/{training.id}/cancel", {"cancel-reason": value * 3000 if value else ""}),
        ]
        for url, data in posts:
            response = client.post(url, data=data)
            assert response.status_code < 500, (url, value)
    login(client, "tengchong_college_staff")
    for value in garbage:
        data = {score_field(c): value for c in contest.criteria}
        assert client.post(f"/events/entries/{entry.id}/score", data=data).status_code < 500
    db.session.expire_all()
    assert training.status in ("published", "cancelled")
    # None of that garbage made a session (only the first one is there).
    assert db.session.scalars(
        select(EventSession.number).where(EventSession.event_id == training.id)
    ).all() == [1]
