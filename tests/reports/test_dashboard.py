"""The dashboards each role lands on after login."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.meetings.models import Decision, Meeting
from portal.reports.dashboard import dashboard_for, next_step, same_day_last_year, week_of
from portal.scheduling.models import Booking, TrainingClass
from portal.scheduling.settings import all_settings
from tests.conftest import login
from tests.reports.conftest import build_year

pytestmark = pytest.mark.db


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_each_role_lands_on_its_page(demo, client):
    assert login(client, "office").request.path == "/dashboard"
    assert login(client, "party_school_staff").request.path == "/dashboard"
    assert login(client, "organizer").request.path == "/dashboard"
    assert login(client, "trainee").request.path == "/me"
    assert client.get("/dashboard").status_code == 302


def test_office_and_member_boards(demo, client):
    build_year()
    today = date(2025, 6, 11)  # the week of c3's stops (10 and 11 June)
    office = dashboard_for(user("office"), today)
    assert office.week_total == 3  # c3's two squads at A, then B (its declined stop is not)
    figures = {f.key: (f.this_year, f.last_year) for f in office.figures}
    assert figures["classes"] == (2, 0)  # c1 (1 Jan) and c3 (10 June); none in 2024 so far
    assert figures["trainees"] == (40, 0)
    member = dashboard_for(user("party_school_staff"), today)
    assert member.week_total == 2 and {r.group_size for r in member.week} == {15}
    assert dashboard_for(user("tengchong_college_staff"), today).week_total == 1
    login(client, "office")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="pending-count"' in page and 'data-figure="classes"' in page


def test_office_sees_overdue_decisions_and_declines(demo):
    build_year()
    today = date.today()
    meeting = Meeting(title="会议", status="held")
    db.session.add(meeting)
    db.session.flush()
    member_id = user("party_school_staff").member_id
    db.session.add(
        Decision(
            meeting_id=meeting.id,
            member_id=member_id,
            text="整改",
            due_on=today - timedelta(days=1),
        )
    )
    organizer = user("organizer")
    c = TrainingClass(
        name="未来班",
        kind="main",
        origin="city",
        sending_unit="单位",
        size=10,
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=12),
        theme="党性教育",
        contact_name="联系人",
        contact_phone="13900000000",
        organizer_id=organizer.id,
    )
    db.session.add(c)
    db.session.flush()
    db.session.add(
        Booking(
            class_id=c.id,
            name="线路",
            start_date=c.starts_on,
            status="declined",
            created_by_id=organizer.id,
        )
    )
    db.session.commit()
    office = dashboard_for(user("office"))
    assert [d.text for d in office.overdue] == ["整改"]
    assert [b.training_class.name for b in office.declined] == ["未来班"]
    assert [d.text for d in dashboard_for(user("party_school_staff")).overdue] == ["整改"]
    assert dashboard_for(user("tengchong_college_staff")).overdue == []
    board = dashboard_for(organizer)
    assert [(t.training_class.name, t.next_step) for t in board.classes] == [("未来班", "declined")]


def test_organizer_next_steps(demo, client):
    organizer = user("organizer")
    today = date.today()

    def klass(name, days, **extra):
        c = TrainingClass(
            name=name,
            kind="main",
            origin="city",
            sending_unit="单位",
            size=10,
            starts_on=today + timedelta(days=5),
            ends_on=today + timedelta(days=4 + days),
            theme="党性教育",
            contact_name="联系人",
            contact_phone="13900000000",
            organizer_id=organizer.id,
            **extra,
        )
        db.session.add(c)
        db.session.flush()
        return c

    klass("三日班", 3)
    klass("一日班", 1)
    klass("已取消班", 1, cancelled=True)
    pending = klass("待确认班", 1)
    db.session.add(
        Booking(
            class_id=pending.id,
            name="线路",
            start_date=pending.starts_on,
            status="pending",
            created_by_id=organizer.id,
        )
    )
    ready = klass("已确认班", 1)
    booking = Booking(
        class_id=ready.id,
        name="线路",
        start_date=ready.starts_on,
        status="confirmed",
        created_by_id=organizer.id,
    )
    db.session.add(booking)
    db.session.commit()
    steps = {t.training_class.name: t.next_step for t in dashboard_for(organizer).classes}
    assert steps == {
        "三日班": "book_ring",
        "一日班": "book",
        "待确认班": "pending",
        "已确认班": "roster",
    }
    login(client, "organizer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-next="book_ring"' in page and "须预约环线教学" in page
    assert next_step(ready, all_settings(), 3).next_step == "ready"


def test_calendar_helpers():
    assert week_of(date(2026, 12, 6)) == (date(2026, 11, 30), date(2026, 12, 6))  # a Sunday
    assert same_day_last_year(date(2028, 2, 29)) == date(2027, 2, 28)
