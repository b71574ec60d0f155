"""Attendance pages: the supervisor's sheet and QR, the trainee's scan, code, leave; who sees what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.attendance import services, tokens
from portal.attendance.models import AttendanceMark, ClassSupervisor, LeaveRequest
from portal.auth import services as auth_services
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow
from portal.trainees.demo import DEMO_CLASS
from tests.conftest import login
from tests.scheduling.helpers import user


def demo_class() -> TrainingClass:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == DEMO_CLASS))


def open_session(training_class: TrainingClass):
    """One of the class's sessions, moved so that its sign-in is open now (any time of day)."""
    now = utcnow()
    session = [s for s in services.ensure_sessions(training_class) if s.ends_at > now][0]
    session.starts_at, session.ends_at = now - timedelta(minutes=5), now + timedelta(hours=1)
    session.opens_at = now - timedelta(minutes=35)
    db.session.commit()
    return session


@pytest.fixture
def world(attendance_demo: Flask):
    return attendance_demo


def test_demo_gives_every_page_data(world, client):
    training_class = demo_class()
    assert db.session.scalar(
        select(ClassSupervisor.id).where(ClassSupervisor.class_id == training_class.id)
    )
    assert db.session.scalar(
        select(LeaveRequest.id).where(LeaveRequest.class_id == training_class.id)
    )
    login(client, "organizer")
    page = client.get(f"/attendance/classes/{training_class.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "请假审批" in text and "班主任" in text
    assert client.get("/attendance/classes").status_code == 200
    login(client, "trainee")
    me = client.get("/attendance/me").get_data(as_text=True)
    assert "我的考勤" in me and "出勤" in me
    board = client.get(f"/attendance/classes/{training_class.id}/board")
    assert board.status_code == 200 and "公示考勤" in board.get_data(as_text=True)


def test_trainee_signs_in_by_the_qr_url_once(world, client):
    training_class = demo_class()
    session = open_session(training_class)
    db.session.execute(
        AttendanceMark.__table__.delete().where(AttendanceMark.session_id == session.id)
    )
    db.session.commit()
    login(client, "organizer")
    qr = client.get(f"/attendance/sessions/{session.id}/qr").get_data(as_text=True)
    assert "<svg" in qr
    code = re.search(r'data-testid="typed-code">(\d{6})<', qr).group(1)
    url = f"/attendance/sessions/{session.id}/scan/{tokens.make_token(session.id, tokens.period_at())}"
    login(client, "trainee")
    page = client.get(url)
    assert page.status_code == 200 and "确认签到" in page.get_data(as_text=True)
    done = client.post(url).get_data(as_text=True)
    assert "签到成功" in done
    again = client.post(url).get_data(as_text=True)
    assert "已有考勤记录" in again
    typed = client.post("/attendance/me/code", data={"code": code}, follow_redirects=True)
    assert "已有考勤记录" in typed.get_data(as_text=True)
    entry = services.own_entry(training_class, user("trainee"))
    marks = db.session.scalars(
        select(AttendanceMark).where(
            AttendanceMark.session_id == session.id, AttendanceMark.entry_id == entry.id
        )
    ).all()
    assert len(marks) == 1


def test_stale_or_other_sessions_token_is_refused_on_the_page(world, client):
    training_class = demo_class()
    session = open_session(training_class)
    login(client, "trainee")
    stale = tokens.make_token(session.id, tokens.period_at() - 2)
    page = client.post(f"/attendance/sessions/{session.id}/scan/{stale}")
    assert "二维码已过期或无效" in page.get_data(as_text=True)
    other = tokens.make_token(session.id + 1, tokens.period_at())
    page = client.post(f"/attendance/sessions/{session.id}/scan/{other}")
    assert "二维码已过期或无效" in page.get_data(as_text=True)


def test_wrong_code_and_bad_input_answer_in_chinese(world, client):
    login(client, "trainee")
    for code in ("000000x", "", "\x00"):
        page = client.post("/attendance/me/code", data={"code": code}, follow_redirects=True)
        assert page.status_code == 200
        assert "签到码" in page.get_data(as_text=True)


def test_leave_form_keeps_what_was_typed(world, client):
    training_class = demo_class()
    login(client, "trainee")
    page = client.post(
        f"/attendance/me/classes/{training_class.id}/leave",
        data={f"c{training_class.id}-reason": "孩子生病需要陪护"},
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "请选择请假的半天" in text and "孩子生病需要陪护" in text


def test_other_organizer_and_stranger_staff_see_nothing(world, client):
    training_class = demo_class()
    auth_services.create_user(
        username="organizer_other",
        display_name="别的联系人",
        role="organizer",
        password=DEMO_PASSWORD,
        unit_name="另一单位",
    )
    db.session.commit()
    session_id = services.ensure_sessions(training_class)[0].id
    db.session.commit()
    login(client, "organizer_other")
    for url in (
        f"/attendance/classes/{training_class.id}",
        f"/attendance/classes/{training_class.id}/board",
        f"/attendance/sessions/{session_id}",
        f"/attendance/sessions/{session_id}/qr",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/attendance/sessions/{session_id}/marks", data={}).status_code == 404


def test_supervisor_removed_loses_access_at_once(world, client):
    training_class = demo_class()
    sup = db.session.scalar(
        select(ClassSupervisor).where(ClassSupervisor.class_id == training_class.id)
    )
    username = sup.user.username
    login(client, username)
    assert client.get(f"/attendance/classes/{training_class.id}").status_code == 200
    login(client, "organizer")
    client.post(f"/attendance/classes/{training_class.id}/supervisors/{sup.id}/remove")
    login(client, username)
    assert client.get(f"/attendance/classes/{training_class.id}").status_code in (200, 404)
    if sup.user.member_id is None:
        assert client.get(f"/attendance/classes/{training_class.id}").status_code == 404


def test_demo_loader_is_idempotent(world):
    from portal.demo import load_demo

    def counts():
        return [
            db.session.scalar(select(db.func.count()).select_from(model))
            for model in (ClassSupervisor, LeaveRequest, AttendanceMark)
        ]

    before = counts()
    assert before[2] > 0
    load_demo(season=["trainees", "attendance"])
    assert counts() == before


def test_supervisor_sees_the_roster_of_that_class_only(world, client, app):
    from flask import url_for

    training_class = demo_class()
    with app.test_request_context():
        roster_url = url_for("trainees.roster_index", class_id=training_class.id)
    login(client, "banzhuren")
    assert client.get(roster_url).status_code == 200
    db.session.execute(
        ClassSupervisor.__table__.delete().where(ClassSupervisor.class_id == training_class.id)
    )
    db.session.commit()
    assert client.get(roster_url).status_code == 404


def test_scan_before_the_session_opens_says_when(world, client):
    training_class = demo_class()
    now = utcnow()
    coming = [s for s in services.ensure_sessions(training_class) if s.opens_at > now][-1]
    db.session.commit()
    login(client, "trainee")
    url = (
        f"/attendance/sessions/{coming.id}/scan/{tokens.make_token(coming.id, tokens.period_at())}"
    )
    text = client.post(url).get_data(as_text=True)
    assert "本场签到尚未开始，将于" in text and "开放" in text
