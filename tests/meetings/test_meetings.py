"""Calling a meeting, who sees it, replies, reminders and the time poll."""

from __future__ import annotations

import re
from datetime import UTC, time, timedelta

import pytest
from sqlalchemy import select

from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.meetings.access import get_meeting
from portal.meetings.assistant import add_poll_slots, answer_poll
from portal.meetings.decisions import add_decisions
from portal.meetings.meetings import create_meeting, remind, reply, update_meeting
from portal.meetings.models import Meeting, MeetingInvitation, PollAnswer
from portal.notifications.models import OutboxEmail
from tests.conftest import login
from tests.meetings.helpers import (
    at,
    future_weekday,
    inbox_subjects,
    make_meeting,
    meeting_count,
    member,
    message_count,
    user,
)

pytestmark = pytest.mark.db

TITLE = "2026年第四季度环线联席会议"


def form_data(**extra):
    data = {
        "title": TITLE,
        "kind": "joint",
        "description": "研究明年环线教学计划。",
        "site_id": "",
        "place_text": "市委党校三楼第一会议室",
        "online_url": "",
        "duration_minutes": "120",
        "day": "",
        "start_time": "",
        "end_time": "",
        "member_ids": [str(member("party_school").id), str(member("songshan_base").id)],
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------- calling a meeting


def test_office_calls_a_meeting_and_invited_members_are_notified(client, demo):
    staff = user("party_school_staff")
    staff.email = "staff@example.cn"
    db.session.commit()
    login(client, "office")
    page = client.get("/meetings/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1") == 1
    for label in ("会议名称", "会议类型", "会议室或地点", "线上会议链接", "受邀成员单位"):
        assert label in html
    response = client.post("/meetings/new", data=form_data())
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    assert meeting.title == TITLE
    assert meeting.status == "planning"
    assert meeting.starts_at is None
    assert sorted(i.member.key for i in meeting.invitations) == ["party_school", "songshan_base"]
    assert f"会议通知：{TITLE}" in inbox_subjects("party_school_staff")
    assert f"会议通知：{TITLE}" in inbox_subjects("songshan_base_admin")
    assert inbox_subjects("tengchong_college_staff") == []
    mail = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.to_address == "staff@example.cn")
    )
    assert mail is not None and TITLE in mail.body and f"/meetings/{meeting.id}" in mail.body


def test_meeting_with_a_time_is_scheduled_in_shanghai_time(client, demo):
    day = future_weekday(2)
    login(client, "office")
    response = client.post(
        "/meetings/new",
        data=form_data(day=day.isoformat(), start_time="09:00", end_time="11:30"),
    )
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    assert meeting.status == "scheduled"
    utc = meeting.starts_at.astimezone(UTC)
    assert (utc.hour, utc.minute) == (1, 0)
    assert meeting.duration_minutes == 150
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "09:00–11:30" in page


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"title": ""}, "请填写会议名称。"),
        ({"title": "   "}, "请填写会议名称。"),
        ({"title": "联席\x00会议"}, "会议名称包含无效字符。"),
        ({"title": "会" * 200}, "会议名称不能超过 128 个字符。"),
        ({"description": "说" * 6000}, "会议说明不能超过 5000 个字符。"),
        ({"place_text": "", "online_url": ""}, "请填写会议地点"),
        ({"online_url": "javascript:alert(1)"}, "线上会议链接须以 http:// 或 https:// 开头"),
        ({"member_ids": []}, "请至少邀请一个成员单位。"),
        ({"member_ids": ["999999"]}, "所选成员单位无效。"),
        ({"member_ids": ["x\x00"]}, "所选成员单位无效。"),
        (
            {"day": "2026-11-20", "start_time": "10:00", "end_time": "09:00"},
            "结束时间须晚于开始时间。",
        ),
        ({"day": "2026-11-20", "start_time": "10:00", "end_time": ""}, "请填写结束时间。"),
        ({"day": "", "start_time": "10:00"}, "请填写会议日期。"),
        ({"day": "2026-02-30"}, "请填写有效的日期。"),
        ({"start_time": "25:00", "day": "2026-11-20"}, "请填写有效的时间"),
        ({"duration_minutes": "abc"}, "请填写整数。"),
        ({"duration_minutes": "0"}, "会议时长须在 15 到 720 分钟之间。"),
        ({"duration_minutes": "99999999999999999999999"}, "会议时长须在"),
        ({"kind": "party"}, "请选择会议类型。"),
        ({"site_id": "987654"}, "所选教学点不存在或已退出。"),
    ],
)
def test_bad_meeting_input_is_refused_with_a_message(client, demo, changes, field_message):
    login(client, "office")
    before = message_count()
    response = client.post("/meetings/new", data=form_data(**changes))
    assert response.status_code == 400
    assert field_message in response.get_data(as_text=True)
    assert meeting_count() == 0
    assert message_count() == before


def test_only_the_office_calls_meetings(client, demo):
    for username, status in (("party_school_admin", 403), ("organizer", 404), ("trainee", 404)):
        login(client, username)
        assert client.get("/meetings/new").status_code == status
        assert client.post("/meetings/new", data=form_data()).status_code == status
    client.post("/logout")
    response = client.get("/meetings/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert meeting_count() == 0
    with pytest.raises(PermissionDenied):
        create_meeting(user("party_school_admin"), {"title": "x"})


def test_office_edits_a_meeting_and_new_members_are_told(client, demo):
    meeting = make_meeting(("party_school",))
    day = future_weekday(3)
    login(client, "office")
    assert client.get(f"/meetings/{meeting.id}/edit").status_code == 200
    response = client.post(
        f"/meetings/{meeting.id}/edit",
        data=form_data(
            member_ids=[str(member("party_school").id), str(member("tengchong_college").id)],
            day=day.isoformat(),
            start_time="14:30",
            end_time="16:00",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert meeting.status == "scheduled"
    assert meeting.sequence == 1
    assert f"会议通知：{TITLE}" in inbox_subjects("tengchong_college_staff")
    assert f"会议时间变更：{TITLE}" in inbox_subjects("party_school_staff")
    assert f"会议时间变更：{TITLE}" not in inbox_subjects("tengchong_college_staff")


# ---------------------------------------------------------------- who sees what


def test_members_see_only_meetings_they_are_invited_to(client, demo):
    meeting = make_meeting(("party_school", "songshan_base"), title="只邀请两家的会议")
    other = make_meeting(("tengchong_college",), title="腾冲专题会议")
    urls = [
        f"/meetings/{meeting.id}",
        f"/meetings/{meeting.id}/export.pdf",
        f"/meetings/{meeting.id}/export.txt",
        f"/meetings/{meeting.id}/export.md",
    ]
    login(client, "party_school_staff")
    index = client.get("/meetings/").get_data(as_text=True)
    assert "只邀请两家的会议" in index and "腾冲专题会议" not in index
    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    login(client, "tengchong_college_staff")
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/meetings/{meeting.id}/reply",
            data={"reply-response": "attend", "reply-attendees": "张三"},
        ).status_code
        == 404
    )
    assert "只邀请两家的会议" not in client.get("/meetings/").get_data(as_text=True)
    assert client.get(f"/meetings/{other.id}").status_code == 200
    assert client.get("/meetings/999999").status_code == 404


def test_organizers_trainees_and_the_public_see_nothing(client, demo):
    meeting = make_meeting(title="内部联席会议")
    for username in ("organizer", "trainee"):
        login(client, username)
        for url in (
            "/meetings/",
            f"/meetings/{meeting.id}",
            "/meetings/calendar",
            "/meetings/calendar.ics",
            "/meetings/decisions",
            "/meetings/busy",
            f"/meetings/{meeting.id}/export.txt",
        ):
            response = client.get(url)
            assert response.status_code == 404, (username, url)
            assert "内部联席会议" not in response.get_data(as_text=True)
    client.post("/logout")
    for url in ("/meetings/", f"/meetings/{meeting.id}", "/meetings/calendar"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/meetings/calendar.ics")
    assert response.status_code == 404
    assert "内部联席会议" not in response.get_data(as_text=True)
    with pytest.raises(NotFound):
        get_meeting(meeting.id, user("organizer"))


# ---------------------------------------------------------------- replies and reminders


def test_member_replies_attend_with_names(client, demo):
    meeting = make_meeting()
    login(client, "party_school_staff")
    response = client.post(
        f"/meetings/{meeting.id}/reply",
        data={"reply-response": "attend", "reply-attendees": "张红（副校长）, 李建国\n王芳"},
    )
    assert response.status_code == 302
    invitation = meeting.invitation_for(member("party_school").id)
    db.session.refresh(invitation)
    assert invitation.response == "attend"
    assert invitation.attendees == "张红（副校长）、李建国、王芳"
    assert invitation.replied_by_id == user("party_school_staff").id
    login(client, "office")
    table = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "张红（副校长）、李建国、王芳" in table
    assert "出席 1 · 请假 0 · 未回复 3" in table


def test_member_declines_with_a_reason(client, demo):
    meeting = make_meeting()
    login(client, "songshan_base_admin")
    response = client.post(
        f"/meetings/{meeting.id}/reply",
        data={"reply-response": "decline", "reply-reason": "当天承办省外培训班"},
    )
    assert response.status_code == 302
    invitation = meeting.invitation_for(member("songshan_base").id)
    db.session.refresh(invitation)
    assert (invitation.response, invitation.decline_reason) == ("decline", "当天承办省外培训班")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reply-response": "attend", "reply-attendees": ""}, "请填写参会人员。"),
        ({"reply-response": "attend", "reply-attendees": "，、;"}, "请填写参会人员。"),
        ({"reply-response": "attend", "reply-attendees": "张\x00三"}, "参会人员包含无效字符。"),
        (
            {"reply-response": "attend", "reply-attendees": "张" * 600},
            "参会人员不能超过 500 个字符。",
        ),
        ({"reply-response": "decline", "reply-reason": ""}, "请填写请假原因。"),
        ({"reply-response": "maybe"}, "请选择出席或请假。"),
        ({}, "请选择出席或请假。"),
    ],
)
def test_bad_replies_are_refused(client, demo, data, message):
    meeting = make_meeting()
    login(client, "party_school_staff")
    response = client.post(f"/meetings/{meeting.id}/reply", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.invitation_for(member("party_school").id).response == "pending"


def test_replies_only_for_own_member(client, demo):
    meeting = make_meeting(("party_school", "songshan_base"))
    # The office does not reply for a member; a member not invited finds nothing.
    with pytest.raises(NotFound):
        reply(meeting, user("office"), "attend", "王主任")
    with pytest.raises(NotFound):
        reply(meeting, user("tengchong_college_staff"), "attend", "某某")
    reply(meeting, user("party_school_staff"), "attend", "张红")
    db.session.commit()
    replies = {i.member.key: i.response for i in meeting.invitations}
    assert replies == {"party_school": "attend", "songshan_base": "pending"}
    login(client, "office")
    assert (
        client.post(
            f"/meetings/{meeting.id}/reply",
            data={"reply-response": "attend", "reply-attendees": "王主任"},
        ).status_code
        == 404
    )


def test_reminders_go_only_to_those_who_have_not_answered(client, demo):
    meeting = make_meeting()
    reply(meeting, user("party_school_staff"), "attend", "张红")
    reply(meeting, user("songshan_base_staff"), "decline", reason="外出")
    db.session.commit()
    admin = user("tengchong_college_admin")
    admin.email = "tc@example.cn"
    db.session.commit()
    subject = f"请回复会议通知：{meeting.title}"
    login(client, "office")
    response = client.post(f"/meetings/{meeting.id}/remind", follow_redirects=True)
    assert response.status_code == 200
    assert "已提醒尚未回复的单位：杨善洲干部学院、腾冲干部学院" in response.get_data(
        as_text=True
    ) or "已提醒尚未回复的单位：腾冲干部学院、杨善洲干部学院" in response.get_data(as_text=True)
    for username in (
        "yangshanzhou_college_staff",
        "yangshanzhou_college_admin",
        "tengchong_college_staff",
        "tengchong_college_admin",
    ):
        assert subject in inbox_subjects(username), username
    for username in ("party_school_staff", "party_school_admin", "songshan_base_staff", "office"):
        assert subject not in inbox_subjects(username), username
    assert db.session.scalar(
        select(OutboxEmail).where(
            OutboxEmail.to_address == "tc@example.cn", OutboxEmail.subject == subject
        )
    )
    db.session.expire_all()
    counts = {i.member.key: i.remind_count for i in meeting.invitations}
    assert counts == {
        "party_school": 0,
        "songshan_base": 0,
        "yangshanzhou_college": 1,
        "tengchong_college": 1,
    }
    # Members cannot remind.
    login(client, "party_school_staff")
    assert client.post(f"/meetings/{meeting.id}/remind").status_code == 403


def test_nothing_to_remind_when_everyone_answered(demo):
    meeting = make_meeting(("party_school",))
    reply(meeting, user("party_school_staff"), "attend", "张红")
    db.session.commit()
    with pytest.raises(Exception, match="所有受邀单位都已回复"):
        remind(meeting, user("office"))


# ---------------------------------------------------------------- agenda


def test_agenda_items_with_presenting_members(client, demo):
    meeting = make_meeting(("party_school", "songshan_base"))
    login(client, "office")
    response = client.post(
        f"/meetings/{meeting.id}/agenda",
        data={
            "agenda-title": "通报全年环线教学情况",
            "agenda-presenter_member_id": str(member("party_school").id),
        },
    )
    assert response.status_code == 302
    client.post(f"/meetings/{meeting.id}/agenda", data={"agenda-title": "研究明年计划"})
    bad = client.post(
        f"/meetings/{meeting.id}/agenda",
        data={
            "agenda-title": "x",
            "agenda-presenter_member_id": str(member("tengchong_college").id),
        },
    )
    assert bad.status_code == 400 and "汇报单位须是受邀的成员单位。" in bad.get_data(as_text=True)
    empty = client.post(f"/meetings/{meeting.id}/agenda", data={"agenda-title": " "})
    assert empty.status_code == 400 and "请填写议题。" in empty.get_data(as_text=True)
    db.session.expire_all()
    assert [(a.title, a.presenter.short_name if a.presenter else None) for a in meeting.agenda] == [
        ("通报全年环线教学情况", "市委党校"),
        ("研究明年计划", None),
    ]
    second = meeting.agenda[1]
    client.post(f"/meetings/agenda/{second.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert meeting.agenda[0].title == "研究明年计划"
    login(client, "party_school_staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "通报全年环线教学情况" in page and "添加议题" not in page
    assert client.post(f"/meetings/agenda/{second.id}/delete").status_code == 403


# ---------------------------------------------------------------- time poll


def test_poll_answers_counts_and_fixing_the_time(client, demo):
    meeting = make_meeting(("party_school", "songshan_base", "tengchong_college"))
    day = future_weekday(2)
    first, second = at(day, 9, 0), at(day, 14, 30)
    login(client, "office")
    response = client.post(
        f"/meetings/{meeting.id}/poll",
        data={"slot": [first.isoformat(), second.isoformat()]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    slots = meeting.slots
    assert [s.starts_at for s in slots] == [first.astimezone(UTC), second.astimezone(UTC)]
    assert slots[0].ends_at - slots[0].starts_at == timedelta(minutes=120)
    assert f"请回复会议时间征询：{meeting.title}" in inbox_subjects("songshan_base_staff")

    login(client, "party_school_staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "09:00–11:00" in page and "提交时间回复" in page
    client.post(
        f"/meetings/{meeting.id}/poll/answer",
        data={f"slot-{slots[0].id}": "yes", f"slot-{slots[1].id}": "no"},
    )
    login(client, "songshan_base_staff")
    client.post(
        f"/meetings/{meeting.id}/poll/answer",
        data={f"slot-{slots[0].id}": "maybe", f"slot-{slots[1].id}": "yes"},
    )
    # Answering again replaces the member's answers.
    client.post(
        f"/meetings/{meeting.id}/poll/answer",
        data={f"slot-{slots[0].id}": "yes", f"slot-{slots[1].id}": "yes"},
    )
    # An incomplete answer is refused, with a message.
    login(client, "tengchong_college_staff")
    bad = client.post(f"/meetings/{meeting.id}/poll/answer", data={f"slot-{slots[0].id}": "yes"})
    assert bad.status_code == 400
    assert "请为" in bad.get_data(as_text=True)
    bad = client.post(
        f"/meetings/{meeting.id}/poll/answer",
        data={f"slot-{slots[0].id}": "sure", f"slot-{slots[1].id}": "yes"},
    )
    assert bad.status_code == 400
    db.session.expire_all()
    assert len(db.session.scalars(select(PollAnswer)).all()) == 4
    assert (slots[0].count("yes"), slots[0].count("maybe"), slots[0].count("no")) == (2, 0, 0)
    assert (slots[1].count("yes"), slots[1].count("no")) == (1, 1)

    login(client, "office")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "市委党校：可以" in page and "腾冲干部学院：未答" in page
    response = client.post(f"/meetings/{meeting.id}/poll/{slots[0].id}/fix")
    assert response.status_code == 302
    db.session.expire_all()
    assert meeting.status == "scheduled"
    assert meeting.starts_at == first.astimezone(UTC)
    for username in ("party_school_staff", "songshan_base_admin", "tengchong_college_staff"):
        assert f"会议时间已确定：{meeting.title}" in inbox_subjects(username)
    assert f"会议时间已确定：{meeting.title}" not in inbox_subjects("yangshanzhou_college_staff")
    # Once fixed, the poll is closed.
    login(client, "party_school_staff")
    closed = client.post(
        f"/meetings/{meeting.id}/poll/answer",
        data={f"slot-{slots[0].id}": "no", f"slot-{slots[1].id}": "no"},
    )
    assert closed.status_code == 400
    assert "会议时间已确定" in closed.get_data(as_text=True)


def test_poll_limits(client, demo):
    meeting = make_meeting()
    day = future_weekday(2)
    starts = [at(day, 8 + i) for i in range(6)]
    login(client, "office")
    client.post(f"/meetings/{meeting.id}/poll", data={"slot": [s.isoformat() for s in starts[:5]]})
    db.session.expire_all()
    assert len(meeting.slots) == 5
    response = client.post(
        f"/meetings/{meeting.id}/poll",
        data={"slot": [starts[5].isoformat()]},
        follow_redirects=True,
    )
    assert "时间征询最多 5 个候选时间。" in response.get_data(as_text=True)
    past = client.post(
        f"/meetings/{meeting.id}/poll",
        data={"slot-day": "2001-01-01", "slot-start_time": "09:00"},
    )
    assert past.status_code == 400
    assert "候选时间须晚于现在。" in past.get_data(as_text=True) or "最多" in past.get_data(
        as_text=True
    )
    junk = client.post(
        f"/meetings/{meeting.id}/poll", data={"slot": ["not a time\x00"]}, follow_redirects=True
    )
    assert "候选时间无效" in junk.get_data(as_text=True)
    db.session.expire_all()
    assert len(meeting.slots) == 5
    # Members cannot put times to a poll nor fix one.
    login(client, "party_school_staff")
    assert client.post(f"/meetings/{meeting.id}/poll", data={"slot": []}).status_code == 403
    slot = meeting.slots[0]
    assert client.post(f"/meetings/{meeting.id}/poll/{slot.id}/fix").status_code == 403


def test_manual_slot_and_answers_only_for_own_member(demo):
    meeting = make_meeting(("party_school",))
    day = future_weekday(2)
    (slot,) = add_poll_slots(meeting, user("office"), [at(day, 10)])
    db.session.commit()
    with pytest.raises(NotFound):
        answer_poll(meeting, user("songshan_base_staff"), {slot.id: "yes"})
    with pytest.raises(NotFound):
        answer_poll(meeting, user("office"), {slot.id: "yes"})
    with pytest.raises(ValidationFailed):
        add_poll_slots(meeting, user("office"), [])
    answer_poll(meeting, user("party_school_admin"), {slot.id: "maybe"})
    db.session.commit()
    assert slot.answer_of(member("party_school").id) == "maybe"


def test_cancel_a_meeting(client, demo):
    meeting = make_meeting(
        ("party_school",), day=future_weekday(2), start_time=time(9), end_time=time(10)
    )
    login(client, "office")
    bad = client.post(f"/meetings/{meeting.id}/cancel", data={"cancel-reason": ""})
    assert bad.status_code == 400 and "请填写取消原因。" in bad.get_data(as_text=True)
    client.post(f"/meetings/{meeting.id}/cancel", data={"cancel-reason": "与全市大会冲突"})
    db.session.expire_all()
    assert meeting.status == "cancelled"
    assert f"会议取消：{meeting.title}" in inbox_subjects("party_school_staff")
    login(client, "party_school_staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "与全市大会冲突" in page


def test_pages_have_one_h1_and_labels(client, demo):
    meeting = make_meeting(("party_school",))
    add_poll_slots(meeting, user("office"), [at(future_weekday(2), 10)])
    db.session.commit()
    for username, urls in (
        (
            "office",
            [
                "/meetings/",
                "/meetings/new",
                f"/meetings/{meeting.id}",
                f"/meetings/{meeting.id}/edit",
                f"/meetings/{meeting.id}/assistant",
                f"/meetings/{meeting.id}/minutes",
                "/meetings/decisions",
                "/meetings/calendar",
                "/meetings/busy",
            ],
        ),
        ("party_school_staff", ["/meetings/", f"/meetings/{meeting.id}", "/meetings/busy"]),
    ):
        login(client, username)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            assert html.count("<h1") == 1, url
            assert 'name="viewport"' in html
            # Every visible input, select and textarea has a label naming its id.
            for tag in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
                attrs = tag.group(2)
                if re.search(r'type="(hidden|submit)"', attrs):
                    continue
                found = re.search(r'\bid="([^"]+)"', attrs)
                assert found, (url, attrs)
                assert f'for="{found.group(1)}"' in html, (url, found.group(1))


def test_removing_an_invited_member(demo):
    meeting = make_meeting(("party_school", "songshan_base"))
    (slot,) = add_poll_slots(meeting, user("office"), [at(future_weekday(2), 10)])
    answer_poll(meeting, user("songshan_base_staff"), {slot.id: "no"})
    db.session.commit()
    values = {
        "title": meeting.title,
        "kind": meeting.kind,
        "place_text": meeting.place_text,
        "duration_minutes": meeting.duration_minutes,
        "member_ids": [member("party_school").id],
    }
    update_meeting(meeting, user("office"), values)
    db.session.commit()
    assert [i.member.key for i in meeting.invitations] == ["party_school"]
    assert slot.answers == []
    with pytest.raises(NotFound):
        get_meeting(meeting.id, user("songshan_base_staff"))
    # A member with a decision cannot be dropped.
    add_decisions(meeting, user("office"), [member("party_school").id], "事项", future_weekday(2))
    db.session.commit()
    with pytest.raises(ValidationFailed, match="不能取消邀请"):
        update_meeting(
            meeting, user("office"), {**values, "member_ids": [member("songshan_base").id]}
        )
    assert len(db.session.scalars(select(MeetingInvitation)).all()) == 1
