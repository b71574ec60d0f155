"""After the meeting: attendance, minutes, decisions with deadlines, overdue flags, the digest."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.cli import meetings_digest
from portal.meetings.decisions import (
    add_decisions,
    build_digest,
    complete_decision,
    get_decision,
    overdue_count,
    overdue_decisions,
    record_attendance,
    send_weekly_digest,
)
from portal.meetings.meetings import reply
from portal.meetings.models import Decision
from portal.meetings.times import today_local
from portal.notifications.models import Message
from tests.conftest import login
from tests.meetings.helpers import inbox_subjects, make_meeting, member, user

pytestmark = pytest.mark.db


def held_meeting(members=("party_school", "songshan_base", "tengchong_college"), days_ago=20):
    day = today_local() - timedelta(days=days_ago)
    return make_meeting(
        members,
        title="2026年第三季度环线联席会议",
        day=day,
        start_time=time(9),
        end_time=time(11),
    )


# ---------------------------------------------------------------- attendance and minutes


def test_attendance_is_recorded_after_the_meeting(client, demo):
    meeting = held_meeting()
    reply(meeting, user("party_school_staff"), "attend", "张红、李建国")
    db.session.commit()
    ps, sb, tc = (member(k).id for k in ("party_school", "songshan_base", "tengchong_college"))
    login(client, "office")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "保存出席情况" in page
    bad = client.post(f"/meetings/{meeting.id}/attendance", data={f"attendance-{ps}": "present"})
    assert bad.status_code == 400
    assert "请选择松山基地的出席情况。" in bad.get_data(as_text=True)
    response = client.post(
        f"/meetings/{meeting.id}/attendance",
        data={
            f"attendance-{ps}": "present",
            f"names-{ps}": "",
            f"attendance-{sb}": "present",
            f"names-{sb}": "王五，赵六",
            f"attendance-{tc}": "absent",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    marks = {i.member.key: (i.attendance, i.attended_names) for i in meeting.invitations}
    assert marks == {
        "party_school": ("present", "张红、李建国"),
        "songshan_base": ("present", "王五、赵六"),
        "tengchong_college": ("absent", ""),
    }
    assert meeting.status == "held"


def test_attendance_not_before_the_meeting(demo):
    day = today_local() + timedelta(days=10)
    meeting = make_meeting(("party_school",), day=day, start_time=time(9), end_time=time(10))
    with pytest.raises(ServiceError, match="会议开始后才能记录出席情况"):
        record_attendance(meeting, user("office"), {member("party_school").id: ("present", "")})


def test_minutes_written_in_the_portal(client, demo):
    meeting = held_meeting()
    login(client, "office")
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 200
    empty = client.post(f"/meetings/{meeting.id}/minutes", data={"minutes-minutes": "  "})
    assert empty.status_code == 400 and "请填写会议纪要。" in empty.get_data(as_text=True)
    huge = client.post(f"/meetings/{meeting.id}/minutes", data={"minutes-minutes": "纪" * 60000})
    assert huge.status_code == 400
    assert "会议纪要不能超过 50000 个字符。" in huge.get_data(as_text=True)
    nul = client.post(f"/meetings/{meeting.id}/minutes", data={"minutes-minutes": "a\x00b"})
    assert nul.status_code == 400 and "会议纪要包含无效字符。" in nul.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.minutes == ""
    text = "会议听取了各成员单位的工作汇报。\n\n会议研究了2027年环线教学计划。"
    assert (
        client.post(f"/meetings/{meeting.id}/minutes", data={"minutes-minutes": text}).status_code
        == 302
    )
    db.session.expire_all()
    assert meeting.minutes == text
    assert meeting.minutes_by_id == user("office").id
    login(client, "songshan_base_staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "会议研究了2027年环线教学计划。" in page
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 403
    assert (
        client.post(f"/meetings/{meeting.id}/minutes", data={"minutes-minutes": "篡改"}).status_code
        == 403
    )


# ---------------------------------------------------------------- decisions


def test_decisions_with_deadlines_and_marking_done(client, demo):
    meeting = held_meeting()
    due = today_local() + timedelta(days=30)
    login(client, "office")
    response = client.post(
        f"/meetings/{meeting.id}/decisions",
        data={
            "decision-text": "各成员单位报送2027年精品课程申报材料",
            "decision-member_ids": [
                str(member("party_school").id),
                str(member("songshan_base").id),
            ],
            "decision-due_on": due.isoformat(),
        },
    )
    assert response.status_code == 302
    decisions = db.session.scalars(select(Decision).order_by(Decision.member_id)).all()
    assert len(decisions) == 2
    assert {d.member.key for d in decisions} == {"party_school", "songshan_base"}
    assert all(d.due_on == due and d.status == "open" for d in decisions)
    assert f"议定事项交办：{meeting.title}" in inbox_subjects("party_school_staff")
    assert f"议定事项交办：{meeting.title}" not in inbox_subjects("tengchong_college_staff")

    ps = next(d for d in decisions if d.member.key == "party_school")
    sb = next(d for d in decisions if d.member.key == "songshan_base")
    # Another member (even one invited) cannot mark it; nobody marks it without a note.
    login(client, "songshan_base_staff")
    assert (
        client.post(f"/meetings/decisions/{ps.id}/done", data={"done-note": "x"}).status_code == 404
    )
    login(client, "yangshanzhou_college_staff")
    assert (
        client.post(f"/meetings/decisions/{ps.id}/done", data={"done-note": "x"}).status_code == 404
    )
    login(client, "party_school_staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "各成员单位报送2027年精品课程申报材料" in page
    response = client.post(
        f"/meetings/decisions/{ps.id}/done", data={"done-note": ""}, follow_redirects=True
    )
    assert "请填写办理情况。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert ps.status == "open"
    response = client.post(
        f"/meetings/decisions/{ps.id}/done",
        data={"done-note": "已于11月报送3门课程材料"},
        follow_redirects=True,
    )
    assert "已标记办结。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert ps.status == "done" and ps.done_note == "已于11月报送3门课程材料"
    assert ps.done_by_id == user("party_school_staff").id
    assert sb.status == "open"
    assert "议定事项已办结：市委党校" in inbox_subjects("office")
    # Member staff see only their own member's decisions.
    listing = client.get("/meetings/decisions?status=all").get_data(as_text=True)
    assert listing.count('id="decision-') == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision-text": "", "decision-due_on": "2030-01-01"}, "请填写议定事项。"),
        ({"decision-text": "事\x00项", "decision-due_on": "2030-01-01"}, "议定事项包含无效字符。"),
        (
            {"decision-text": "事" * 3000, "decision-due_on": "2030-01-01"},
            "议定事项不能超过 2000 个字符。",
        ),
        ({"decision-text": "报送材料", "decision-due_on": ""}, "请填写办理期限。"),
        ({"decision-text": "报送材料", "decision-due_on": "2030-13-01"}, "请填写有效的日期。"),
        (
            {"decision-text": "报送材料", "decision-due_on": "2001-01-01"},
            "办理期限不能早于会议日期。",
        ),
        (
            {"decision-text": "报送材料", "decision-due_on": "2030-01-01", "members": "none"},
            "请选择承办的成员单位。",
        ),
        (
            {"decision-text": "报送材料", "decision-due_on": "2030-01-01", "members": "other"},
            "议定事项只能交办给受邀的成员单位。",
        ),
    ],
)
def test_bad_decisions_are_refused(client, demo, data, message):
    meeting = held_meeting()
    data = dict(data)
    members = data.pop("members", "ok")
    data["decision-member_ids"] = {
        "ok": [str(member("party_school").id)],
        "none": [],
        "other": [str(member("yangshanzhou_college").id)],
    }[members]
    login(client, "office")
    response = client.post(f"/meetings/{meeting.id}/decisions", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Decision)).all() == []


def test_only_the_office_assigns_decisions(client, demo):
    meeting = held_meeting()
    login(client, "party_school_admin")
    response = client.post(
        f"/meetings/{meeting.id}/decisions",
        data={
            "decision-text": "x",
            "decision-member_ids": [str(member("party_school").id)],
            "decision-due_on": "2030-01-01",
        },
    )
    assert response.status_code == 403
    assert db.session.scalars(select(Decision)).all() == []


def test_overdue_decisions_are_flagged(client, demo):
    meeting = held_meeting(days_ago=30)
    today = today_local()
    late, soon = add_decisions(
        meeting,
        user("office"),
        [member("party_school").id],
        "修订环线教学点考核办法",
        today - timedelta(days=5),
    ) + add_decisions(
        meeting,
        user("office"),
        [member("songshan_base").id],
        "更新讲解词",
        today + timedelta(days=3),
    )
    db.session.commit()
    assert late.overdue_on(today) and not soon.overdue_on(today)
    assert [d.id for d in overdue_decisions()] == [late.id]
    assert overdue_count() == 1
    login(client, "office")
    page = client.get("/meetings/").get_data(as_text=True)
    assert "逾期未办结的议定事项（1 项）" in page
    assert "修订环线教学点考核办法" in page and "更新讲解词" not in page
    detail = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'class="table-danger"' in detail and "已逾期" in detail
    overdue = client.get("/meetings/decisions?status=overdue").get_data(as_text=True)
    assert "修订环线教学点考核办法" in overdue and "更新讲解词" not in overdue
    # The member whose decision is late sees it; the other does not see it as its own.
    login(client, "songshan_base_staff")
    assert "逾期未办结" not in client.get("/meetings/").get_data(as_text=True)
    login(client, "party_school_staff")
    assert "修订环线教学点考核办法" in client.get("/meetings/").get_data(as_text=True)
    # Done decisions are no longer overdue.
    complete_decision(late, user("party_school_staff"), "已印发")
    db.session.commit()
    assert overdue_count() == 0


# ---------------------------------------------------------------- weekly digest


def test_weekly_digest_contents(demo):
    today = today_local()
    meeting = held_meeting(days_ago=30)
    add_decisions(
        meeting,
        user("office"),
        [member("party_school").id],
        "修订考核办法",
        today - timedelta(days=5),
    )
    add_decisions(
        meeting,
        user("office"),
        [member("songshan_base").id],
        "更新讲解词",
        today + timedelta(days=3),
    )
    add_decisions(
        meeting,
        user("office"),
        [member("tengchong_college").id],
        "远期事项",
        today + timedelta(days=60),
    )
    db.session.commit()
    upcoming = make_meeting(
        ("party_school", "tengchong_college"),
        title="下周专题会议",
        day=today + timedelta(days=2),
        start_time=time(9),
        end_time=time(10),
    )
    reply(upcoming, user("party_school_staff"), "attend", "张红")
    db.session.commit()

    office = build_digest(today)
    assert "逾期未办结的议定事项（1 项）" in office
    assert "[市委党校] 修订考核办法" in office and "已逾期 5 天" in office
    assert "7 天内到期的议定事项（1 项）" in office and "[松山基地] 更新讲解词" in office
    assert "远期事项" not in office
    assert "下周专题会议" in office and "09:00–10:00" in office
    assert "未回复 腾冲干部学院" in office

    party_school = build_digest(today, member("party_school").id)
    assert "修订考核办法" in party_school and "更新讲解词" not in party_school
    assert "[市委党校]" not in party_school
    assert build_digest(today, member("yangshanzhou_college").id) is None

    sent = send_weekly_digest(today)
    db.session.commit()
    subject = f"联席会议周报（{today.isoformat()}）"
    assert subject in inbox_subjects("office")
    assert subject in inbox_subjects("party_school_staff")
    assert subject in inbox_subjects("songshan_base_admin")
    assert subject in inbox_subjects("tengchong_college_staff")
    assert subject not in inbox_subjects("yangshanzhou_college_staff")
    assert sent == len(db.session.scalars(select(Message).where(Message.subject == subject)).all())


def test_digest_command(app, demo):
    held = held_meeting(days_ago=30)
    add_decisions(
        held,
        user("office"),
        [member("party_school").id],
        "修订考核办法",
        today_local() - timedelta(days=1),
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(meetings_digest, [])
    assert result.exit_code == 0, result.output
    assert "meetings digest sent to" in result.output
    assert any(s.startswith("联席会议周报") for s in inbox_subjects("office"))
    bad = app.test_cli_runner().invoke(meetings_digest, ["--date", "not-a-date"])
    assert bad.exit_code != 0


def test_decision_services_reject_strangers(demo):
    meeting = held_meeting()
    (decision,) = add_decisions(
        meeting, user("office"), [member("party_school").id], "事项", today_local()
    )
    db.session.commit()
    with pytest.raises(NotFound):
        get_decision(decision.id, user("yangshanzhou_college_staff"))
    with pytest.raises(NotFound):
        complete_decision(decision, user("organizer"), "x")
    with pytest.raises(ValidationFailed):
        complete_decision(decision, user("party_school_staff"), "")
