"""Joint training and seminars: registrations within a capacity, the waiting list, promotion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.events import registrations
from portal.events.events import cancel_event, update_event
from portal.events.models import EventRegistration
from portal.events.registrations import (
    cancel_registration,
    places_taken,
    waiting_count,
    waiting_position,
)
from portal.extensions import db
from portal.notifications.services import inbox
from tests.conftest import login
from tests.events.builders import future_day, make_event, member, text_of, user

pytestmark = pytest.mark.db


def register(event, username: str, name: str, **extra) -> EventRegistration:
    return registrations.register(event.id, user(username), {"participant_name": name, **extra})


def statuses(event) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(EventRegistration).where(EventRegistration.event_id == event.id)
    )
    return {r.participant_name: r.status for r in rows}


def test_registrations_beyond_capacity_go_to_the_waiting_list(demo):
    event = make_event(capacity=2)
    assert register(event, "party_school_staff", "甲").status == "registered"
    assert register(event, "tengchong_college_staff", "乙").status == "registered"
    third = register(event, "songshan_base_staff", "丙", participant_title="副主任")
    assert third.status == "waitlisted" and third.waitlisted_at is not None
    assert places_taken(event.id) == 2 and waiting_count(event.id) == 1
    assert waiting_position(third) == 1


def test_a_cancellation_promotes_the_first_in_line(demo):
    event = make_event(capacity=1, title="2026年环线联合集训")
    first = register(event, "party_school_staff", "甲")
    register(event, "tengchong_college_staff", "乙")
    register(event, "songshan_base_staff", "丙")
    assert statuses(event) == {"甲": "registered", "乙": "waitlisted", "丙": "waitlisted"}
    promoted = cancel_registration(first.id, user("party_school_staff"))
    assert [r.participant_name for r in promoted] == ["乙"]
    assert statuses(event) == {"甲": "cancelled", "乙": "registered", "丙": "waitlisted"}
    third = db.session.scalar(
        select(EventRegistration).where(EventRegistration.participant_name == "丙")
    )
    assert waiting_position(third) == 1
    # The member whose participant got the place is told.
    assert any("候补转正" in m.subject for m in inbox(user("tengchong_college_staff")))
    with pytest.raises(ServiceError, match="已取消"):
        cancel_registration(first.id, user("party_school_staff"))


def test_cancelling_a_waiting_registration_promotes_nobody(demo):
    event = make_event(capacity=1)
    register(event, "party_school_staff", "甲")
    waiting = register(event, "tengchong_college_staff", "乙")
    register(event, "songshan_base_staff", "丙")
    assert cancel_registration(waiting.id, user("office")) == []
    assert statuses(event) == {"甲": "registered", "乙": "cancelled", "丙": "waitlisted"}


def test_more_places_promote_those_waiting_and_fewer_than_taken_are_refused(demo):
    event = make_event(capacity=1)
    for username, name in (("party_school_staff", "甲"), ("tengchong_college_staff", "乙")):
        register(event, username, name)
    register(event, "songshan_base_staff", "丙")
    values = {
        "title": event.title,
        "description": "",
        "category": "training",
        "open_to_all": True,
        "invited_member_ids": [],
        "capacity": 2,
        "registration_deadline": None,
        "extra": {},
    }
    update_event(event.id, user("office"), values)
    assert statuses(event) == {"甲": "registered", "乙": "registered", "丙": "waitlisted"}
    with pytest.raises(ValidationFailed, match="名额不能少于"):
        update_event(event.id, user("office"), {**values, "capacity": 1})
    update_event(event.id, user("office"), {**values, "capacity": None})
    assert statuses(event) == {"甲": "registered", "乙": "registered", "丙": "registered"}


def test_registration_rules(demo):
    event = make_event(capacity=5)
    register(event, "party_school_staff", "甲")
    with pytest.raises(ValidationFailed, match="已为此人报名"):
        register(event, "party_school_staff", "甲")
    register(event, "tengchong_college_staff", "甲")  # another member's 甲
    for bad in ("", "  ", "x" * 65, "坏\x00名"):
        with pytest.raises(ValidationFailed):
            register(event, "party_school_staff", bad)
    for username in ("organizer", "trainee"):
        with pytest.raises(PermissionDenied):
            register(event, username, "乙")
    with pytest.raises(NotFound):
        registrations.register(999999, user("party_school_staff"), {"participant_name": "乙"})
    # The office registers for a member of its choice.
    office = user("office")
    with pytest.raises(ValidationFailed):
        registrations.register(event.id, office, {"participant_name": "丁"})
    done = registrations.register(
        event.id, office, {"participant_name": "丁"}, member_id=member("songshan_base").id
    )
    assert done.member_id == member("songshan_base").id


def test_only_invited_members_register(demo):
    event = make_event(open_to_all=False, invited=("party_school",))
    register(event, "party_school_staff", "甲")
    with pytest.raises(PermissionDenied, match="邀请范围"):
        register(event, "songshan_base_staff", "乙")
    with pytest.raises(ValidationFailed):
        registrations.register(
            event.id,
            user("office"),
            {"participant_name": "乙"},
            member_id=member("songshan_base").id,
        )


def test_no_registration_for_drafts_contests_cancelled_or_closed_events(demo):
    draft = make_event(publish=False)
    with pytest.raises(NotFound):
        register(draft, "party_school_staff", "甲")
    with pytest.raises(ServiceError, match="尚未发布"):
        register(draft, "office", "甲")
    contest = make_event("course_contest")
    with pytest.raises(ServiceError, match="不接受人员报名"):
        register(contest, "party_school_staff", "甲")
    closed = make_event(deadline=future_day(-1))
    with pytest.raises(ServiceError, match="截止"):
        register(closed, "party_school_staff", "甲")
    cancelled = make_event()
    cancel_event(cancelled, user("office"), "因故取消")
    db.session.commit()
    with pytest.raises(ServiceError, match="已取消"):
        register(cancelled, "party_school_staff", "甲")


def test_registration_pages(demo, client):
    event = make_event(capacity=1, title="专题研讨班")
    login(client, "party_school_staff")
    response = client.post(
        f"/events/{event.id}/registrations",
        data={"reg-participant_name": "张三", "reg-participant_title": "教研室主任"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "张三 报名成功" in page
    login(client, "tengchong_college_staff")
    response = client.post(
        f"/events/{event.id}/registrations",
        data={"reg-participant_name": "李四"},
        follow_redirects=True,
    )
    assert "候补名单" in response.get_data(as_text=True)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    # Staff see their own member's people only; the public sees the counts only.
    assert "李四" in page and "张三" not in page
    assert "共 1 人，已报名 1 人，候补 1 人" in page
    client.post("/logout")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "张三" not in page and "李四" not in page and "已报名 1 人" in page
    assert client.get(f"/events/{event.id}/registrations.xlsx").status_code == 302
    # Empty and bad names are shown beside the field.
    login(client, "party_school_staff")
    response = client.post(f"/events/{event.id}/registrations", data={"reg-participant_name": ""})
    assert response.status_code == 400 and "请填写姓名" in response.get_data(as_text=True)
    # Another member cannot cancel; the owner can, and 李四 moves up.
    zhang = db.session.scalar(
        select(EventRegistration).where(EventRegistration.participant_name == "张三")
    )
    login(client, "tengchong_college_staff")
    assert client.post(f"/events/registrations/{zhang.id}/cancel").status_code == 404
    login(client, "party_school_staff")
    response = client.post(f"/events/registrations/{zhang.id}/cancel", follow_redirects=True)
    assert "候补人员 李四 已自动递补" in response.get_data(as_text=True)
    assert statuses(event) == {"张三": "cancelled", "李四": "registered"}
    export = client.get(f"/events/{event.id}/registrations.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"


def test_organizers_cannot_register(demo, client):
    event = make_event()
    login(client, "organizer")
    response = client.post(f"/events/{event.id}/registrations", data={"reg-participant_name": "甲"})
    assert response.status_code == 403
    assert 'name="reg-participant_name"' not in client.get(f"/events/{event.id}").get_data(
        as_text=True
    )
    assert "甲" not in text_of(client.get(f"/events/{event.id}").get_data(as_text=True))
