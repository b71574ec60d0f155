"""Shared builders of the security tests: the demo plus objects of two members and two organizers.

``world`` holds ids only (objects go stale between requests). Member A is party_school (its
staff and admin are the matrix's member roles), member B is tengchong_college; organizer A
is the demo ``organizer``, organizer B a second organizer created here.
"""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage

from portal.auth import services as auth_services
from portal.auth import tokens
from portal.catalog import services as catalog_services
from portal.catalog.models import EventType, TeacherUnavailability
from portal.demo import DEMO_PASSWORD
from portal.events.contests import appoint_judge, set_criteria, submit_entry
from portal.events.events import add_session, create_event, publish_event
from portal.events.models import JointEvent
from portal.events.registrations import register
from portal.extensions import db
from portal.meetings.assistant import add_poll_slots
from portal.meetings.busy import add_busy_time
from portal.meetings.decisions import add_decisions
from portal.meetings.export_views import feed_token as meetings_feed_token
from portal.meetings.meetings import add_agenda_item, create_meeting
from portal.members.models import Member
from portal.notifications.models import Message
from portal.scheduling.booking import book
from portal.scheduling.calendar_views import feed_token
from portal.scheduling.models import RouteTemplate
from tests.conftest import login
from tests.scheduling.helpers import (
    at,
    course,
    future_weekday,
    new_class,
    site,
    stop,
    teacher,
    user,
)

# The roles of the matrix and the demo account that plays each (None: not logged in).
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "trainee": "trainee",
    "organizer": "organizer",
    "member_staff": "party_school_staff",
    "member_admin": "party_school_admin",
    "office": "office",
}

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_upload(name: str = "jiangyi.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(PDF_BYTES), filename=name, content_type="application/pdf")


def png_upload(name: str = "photo.png") -> FileStorage:
    """A small real PNG (a site photo)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 30, 30)).save(out, "PNG")
    out.seek(0)
    return FileStorage(out, filename=name, content_type="image/png")


def build_world() -> dict[str, Any]:
    """Objects of member A (party_school) and B (tengchong_college), organizers A and B."""
    organizer_b = auth_services.create_user(
        username="organizer_b",
        display_name="第二联系人",
        role="organizer",
        password=DEMO_PASSWORD,
        unit_name="另一省委组织部",
    )
    db.session.commit()
    office = user("office")

    # Organizer A's class: one stop at member A's site, one at member B's. It runs for three
    # months, so that the matrix's booking a week later and move two months ahead lie within it.
    start_a = future_weekday(2)
    class_a = new_class(30, name="安全测试甲班", theme="乡村振兴", start=start_a, days=90)
    booking_a = book(
        class_a,
        [
            stop("main_hall", at(start_a, 9), 90, index=0),
            stop("heshun_library", at(start_a + timedelta(days=1), 10), 60, index=1),
        ],
        user("organizer"),
        name="甲班定制线路",
        idempotency_key="world-booking-a-0123456789",
    )
    by_member = {r.site.member.key: r.id for r in booking_a.reservations}

    # Organizer B's class: member B's site only.
    start_b = future_weekday(4)
    class_b = new_class(
        20, organizer="organizer_b", name="安全测试乙班", theme="乡村振兴", start=start_b
    )
    booking_b = book(
        class_b,
        [stop("guoshang_cemetery", at(start_b, 10), 60)],
        organizer_b,
        name="乙班定制线路",
        idempotency_key="world-booking-b-0123456789",
    )

    material_a = catalog_services.add_material(
        course("theory_lecture"), office, "material", "党校讲义", pdf_upload()
    )
    material_b = catalog_services.add_material(
        course("memorial_onsite"), office, "case", "纪念馆案例", pdf_upload("anli.pdf")
    )
    from portal.catalog import photos

    photo_a = photos.add_photo(site("main_hall"), office, png_upload(), "主报告厅")
    photo_b = photos.add_photo(site("dianxi_memorial"), office, png_upload(), "纪念馆")
    far = date.today() + timedelta(days=300)
    off_a = TeacherUnavailability(
        teacher_id=teacher("yang_li").id, starts_on=far, ends_on=far, reason="外出"
    )
    off_b = TeacherUnavailability(
        teacher_id=teacher("li_yunfei").id, starts_on=far, ends_on=far, reason="外出"
    )
    message_b = Message(user_id=organizer_b.id, subject="只给第二联系人的消息", body="私密")
    draft = RouteTemplate(name="安全测试草稿线路", theme="党性教育", days=1, status="draft")
    db.session.add_all([off_a, off_b, message_b, draft])
    api_token, api_secret = tokens.create_token(user("party_school_admin"), "甲单位系统")
    api_token_b, api_secret_b = tokens.create_token(user("tengchong_college_admin"), "乙单位系统")
    db.session.commit()

    meetings = build_meetings(
        office, site("main_hall").member_id, site("dianxi_memorial").member_id
    )
    events = build_events(office, site("main_hall").member_id, site("dianxi_memorial").member_id)
    trainees = build_trainees(class_a, class_b, start_a)
    attendance = build_attendance(class_a.id)
    directory = build_directory(office, site("main_hall"), site("heshun_library"))

    published = db.session.scalar(
        sa.select(RouteTemplate)
        .where(RouteTemplate.status == "published")
        .order_by(RouteTemplate.id)
    )
    member_a = site("main_hall").member
    planner = build_planner(class_a.id, start_a, published.id, office)
    return {
        "member_a": member_a.id,
        "member_b": site("dianxi_memorial").member_id,
        "site_a": site("main_hall").id,
        "site_b": site("dianxi_memorial").id,
        "teacher_a": teacher("yang_li").id,  # member A, not shared
        "teacher_a_shared": teacher("zhang_hong").id,
        "teacher_b": teacher("li_yunfei").id,  # member B, not shared
        "teacher_b_shared": teacher("cun_haiyan").id,
        "course_a": course("theory_lecture").id,
        "course_b": course("memorial_onsite").id,
        "template": published.id,
        "template_stop": published.stops[0].id,
        "draft_template": draft.id,
        "class_a": class_a.id,
        "class_b": class_b.id,
        "booking_a": booking_a.id,
        "booking_b": booking_b.id,
        "reservation_a": by_member["party_school"],  # in booking A, at member A's site
        "reservation_a_at_b": by_member["tengchong_college"],  # in booking A, at member B's site
        "reservation_b": booking_b.reservations[0].id,
        "material_a": material_a.id,
        "material_b": material_b.id,
        "photo_a": photo_a.id,
        "photo_b": photo_b.id,
        "unavailable_a": off_a.id,
        "unavailable_b": off_b.id,
        "message_b": message_b.id,
        "trainee": user("trainee").id,
        "organizer_b": organizer_b.id,
        "feed_token": feed_token("class", class_a.id, user("organizer")),
        "api_token": api_token.id,  # member A's
        "api_secret": api_secret,
        "api_token_b": api_token_b.id,
        "api_secret_b": api_secret_b,
        "start_a": start_a,
        "start_b": start_b,
        **meetings,
        **events,
        **trainees,
        **attendance,
        **planner,
        **directory,
        **build_reports(class_a.id, office),
    }


def build_reports(class_a_id: int, office: Any) -> dict[str, Any]:
    """The reports' objects: class A's plan awaiting review, a needs survey still open."""
    from portal.reports import review, survey
    from portal.scheduling.models import TrainingClass

    class_a = db.session.get(TrainingClass, class_a_id)
    review.submit_plan(
        class_a,
        user("organizer"),
        {
            "starts_on": class_a.starts_on,
            "ends_on": class_a.ends_on,
            "theme": class_a.theme,
            "size": class_a.size,
            "itinerary": "第一天：现场教学",
        },
    )
    opened = survey.open_survey(
        office,
        {
            "title": "安全测试需求征集",
            "year": survey.today().year + 1,
            "topics": "党性教育\n乡村振兴",
            "formats": "现场教学",
            "ranks": "处级\n科级",
            "closes_on": survey.today() + timedelta(days=30),
        },
    )
    db.session.commit()
    return {"survey_a": opened.id}


def build_directory(office: Any, site_a: Any, site_b: Any) -> dict[str, Any]:
    """The directory's objects: a change request, a warning, a visit to sites of A and B with
    a finding at member A's site."""
    from portal.directory import assessment, supervision
    from portal.directory import services as directory
    from portal.directory.models import SiteChangeRequest

    criteria = assessment.ensure_criteria()  # what the migration seeds

    change = SiteChangeRequest(site_id=site_a.id, values={"capacity": 10}, changes={})
    db.session.add(change)
    warning = directory.warn(site_a, office, "整改测试", directory.today_local())
    visit = supervision.plan_visit(
        office, "安全测试督查", directory.today_local(), [site_a.id, site_b.id]
    )
    db.session.flush()
    finding = supervision.add_finding(
        visit, office, site_a.id, "问题", "整改", directory.today_local(), png_upload()
    )
    from portal.sharing.services import request_loan

    loan = request_loan(
        user("tengchong_college_staff"),
        teacher("yang_li"),
        directory.today_local(),
        directory.today_local(),
        "安全测试借用",
    )
    from portal.guides.models import Guide

    guide = Guide(member_id=site_a.member_id, site_id=site_a.id, name="安全测试讲解员")
    db.session.add(guide)
    db.session.commit()
    return {
        "guide_a": guide.id,
        "loan_a": loan.id,
        "change_a": change.id,
        "warning_a": warning.id,
        "visit_a": visit.id,
        "finding_a": finding.id,
        "criterion_a": criteria[0].id,
    }


def build_planner(class_a_id: int, start_a: date, template_id: int, office: Any) -> dict[str, Any]:
    """A season with organizer A's request for class A and a proposed plan placing it
    (written as the planner would, without running the solver)."""
    from portal.planner import services as planner_services
    from portal.planner.models import PlanItem, PlanRun

    season = planner_services.create_season(
        office,
        {
            "name": "安全测试调训季",
            "starts_on": start_a,
            "ends_on": start_a + timedelta(days=80),
            "time_limit": 1,
        },
    )
    request = planner_services.submit_request(
        season,
        user("organizer"),
        {
            "class_id": class_a_id,
            "size": 30,
            "dates_text": (start_a + timedelta(days=14)).isoformat(),
            "template_ids": [template_id],
        },
    )
    run = PlanRun(
        season_id=season.id, status="proposed", solver_status="OPTIMAL", requests=1, placed=1
    )
    run.items.append(
        PlanItem(
            request_id=request.id,
            start_date=start_a + timedelta(days=14),
            template_id=template_id,
        )
    )
    db.session.add(run)
    db.session.commit()
    return {"plan_season": season.id, "plan_request": request.id, "plan_run": run.id}


def build_trainees(class_a: Any, class_b: Any, start_a: date) -> dict[str, Any]:
    """Rosters, an elective and open runs: the demo trainee on class A's roster (with rules
    and a shared calendar), a trainee on class B's, an elective in class A, an open run of
    member A (where the demo trainee holds a seat) and one of member B."""
    from portal.certificates.models import Certificate
    from portal.trainees import accounts, electives, notices, open_runs, roster, run_publishing
    from portal.trainees.handbook import feed_token as trainee_feed_token

    organizer, organizer_b = user("organizer"), user("organizer_b")
    trainee = user("trainee")
    trainee.phone = trainee.phone or "13800138000"
    db.session.commit()
    entry_a = roster.add_trainee(
        class_a, organizer, {"name": trainee.display_name, "phone": trainee.phone}
    )
    entry_b = roster.add_trainee(class_b, organizer_b, {"name": "乙班学员", "phone": "13911110002"})
    notices.save_profile(class_a, organizer, "遵守学员纪律。", "班主任 13900000000", True)
    notices.save_profile(class_b, organizer_b, "乙班纪律。", "", True)
    elective = electives.create_elective(
        class_a,
        organizer,
        {
            "title": "甲班选学",
            "day": start_a,
            "starts": time(14, 0),
            "minutes": 60,
            "choose_by": start_a - timedelta(days=2),
            "options": [
                {"site_id": site("simola_village").id, "course_id": None, "seats": 20},
                {"site_id": site("guoshang_cemetery").id, "course_id": None, "seats": 20},
            ],
        },
    )
    route = db.session.scalar(
        sa.select(RouteTemplate).where(RouteTemplate.name == "杨善洲精神一日环线")
    )

    def run(publisher: str, start: date) -> Any:
        return run_publishing.publish_run(
            user(publisher),
            {
                "title": f"{publisher}的开放班次",
                "template_id": route.id,
                "starts_on": start,
                "booking_deadline": start - timedelta(days=7),
                "cancel_deadline": start - timedelta(days=3),
                "seats": 10,
                "min_participants": 2,
                "open_to": "all",
            },
        )

    run_a = run("party_school_staff", future_weekday(2, at_least_days=50))
    run_b = run("tengchong_college_staff", future_weekday(3, at_least_days=50))
    seat_a = open_runs.book_seat(run_a.id, user("trainee"))
    class_a_obj = db.session.get(type(class_a), class_a.id)
    certificate_a = Certificate(
        serial="HX2026-WRLDA-23456",
        class_id=class_a.id,
        entry_id=entry_a.id,
        name=entry_a.name,
        hours=8,
    )
    db.session.add(certificate_a)
    db.session.commit()
    return {
        "certificate_a": certificate_a.id,
        "certificate_serial_a": certificate_a.serial,
        "roster_entry_a": entry_a.id,
        "roster_entry_b": entry_b.id,
        "elective_a": elective.id,
        "elective_option_a": elective.options[0].id,
        "elective_bookings_a": [o.booking_id for o in elective.options],
        "run_a": run_a.id,
        "run_b": run_b.id,
        "seat_a": seat_a.id,
        "activation_token": accounts.make_token(entry_b.user),
        "trainee_feed_token": trainee_feed_token(class_a_obj, user("trainee")),
    }


def build_attendance(class_a_id: int) -> dict[str, Any]:
    """Class A's sessions, a supervisor of its sending side, the trainee's pending leave."""
    from portal.attendance import leave, services, tokens
    from portal.scheduling.models import TrainingClass

    class_a = db.session.get(TrainingClass, class_a_id)
    auth_services.create_user(
        username="supervisor_a",
        display_name="甲班班主任",
        role="organizer",
        password=DEMO_PASSWORD,
        unit_name=class_a.sending_unit,
    )
    supervisor = services.add_supervisor(class_a, "supervisor_a", user("organizer"))
    sessions = services.ensure_sessions(class_a)
    asked = leave.ask_leave(class_a, [sessions[1].id], "家中有事", user("trainee"))
    db.session.commit()
    return {
        "attendance_session_a": sessions[0].id,
        "supervisor_a": supervisor.id,
        "leave_a": asked.id,
        "attendance_scan_token": tokens.make_token(sessions[0].id, tokens.period_at()),
    }


def build_meetings(office: Any, member_a: int, member_b: int) -> dict[str, Any]:
    """Joint meetings through their services: one inviting member A (and B), one without A."""
    songshan = db.session.scalar(sa.select(Member.id).where(Member.key == "songshan_base"))
    meeting_a = create_meeting(
        office,
        {
            "title": "安全测试联席会议",
            "kind": "joint",
            "place_text": "市委党校三楼第一会议室",
            "duration_minutes": 120,
            "member_ids": [member_a, member_b],
        },
    )  # planning: the time is still to be found (a poll)
    poll_day = future_weekday(3, at_least_days=21)
    (slot,) = add_poll_slots(meeting_a, office, [at(poll_day, 9)])
    agenda_item = add_agenda_item(meeting_a, office, "环线线路调整", member_a, "甲单位汇报")
    decision_a, decision_b = add_decisions(
        meeting_a, office, [member_a, member_b], "完善教学点讲解词", poll_day + timedelta(days=30)
    )
    other_day = future_weekday(4, at_least_days=21)
    meeting_b = create_meeting(
        office,
        {
            "title": "不邀请甲单位的专题会议",
            "kind": "joint",
            "place_text": "腾冲干部学院会议室",
            "day": other_day,
            "start_time": time(14),
            "end_time": time(16),
            "member_ids": [member_b, songshan],
        },
    )
    (decision_meeting_b,) = add_decisions(
        meeting_b, office, [member_b], "乙单位的私有事项", other_day + timedelta(days=30)
    )
    busy_values = {
        "starts_on": other_day + timedelta(days=7),
        "starts_time": time(9),
        "ends_on": other_day + timedelta(days=7),
        "ends_time": time(12),
    }
    busy_a = add_busy_time(user("party_school_staff"), {**busy_values, "note": "甲单位外出办班"})
    busy_b = add_busy_time(
        user("tengchong_college_staff"), {**busy_values, "note": "乙单位私有安排"}
    )
    db.session.commit()
    return {
        "meeting_a": meeting_a.id,  # invites member A (and B); planning, with a poll
        "meeting_b": meeting_b.id,  # does not invite member A
        "poll_slot": slot.id,
        "agenda_item": agenda_item.id,
        "decision_a": decision_a.id,  # member A's, in meeting A
        "decision_b": decision_b.id,  # member B's, in meeting A (which member A sees)
        "decision_meeting_b": decision_meeting_b.id,
        "busy_a": busy_a.id,
        "busy_b": busy_b.id,
        "meetings_feed_token": meetings_feed_token(user("party_school_staff")),
    }


def build_events(office: Any, member_a: int, member_b: int) -> dict[str, Any]:
    """Joint events through their services: a published training with a registration of
    member A, a draft, a training only for member B, and a course contest with criteria,
    a judge of member B and entries of both members."""

    def event(kind: str, category: str, title: str, invited: list[int], publish: bool = True):
        event_type = db.session.scalar(sa.select(EventType).where(EventType.key == kind))
        made = create_event(
            office,
            event_type.id,
            {
                "title": title,
                "description": "安全测试",
                "category": category,
                "open_to_all": False,
                "invited_member_ids": invited,
                "capacity": 30,
                "registration_deadline": None,
                "extra": {},
            },
        )
        day = date.today() + timedelta(days=40)
        session = add_session(
            made,
            office,
            {
                "title": "开班式与专题讲座",
                "day": day,
                "starts": time(9),
                "ends": time(12),
                "site_id": site("main_hall").id,
                "place": "",
                "teacher_id": None,
            },
        )
        if publish:
            publish_event(made, office)
        db.session.commit()
        return made.id, session.id

    staff_a, staff_b = user("party_school_staff"), user("tengchong_college_staff")
    training, session = event(
        "joint_training", "training", "安全测试联合培训", [member_a, member_b]
    )
    draft, _ = event("joint_training", "training", "安全测试草稿活动", [member_a], publish=False)
    only_b, _ = event("joint_training", "training", "只邀请乙单位的培训", [member_b])
    registration_a = register(training, staff_a, {"participant_name": "王甲"})
    registration_b = register(training, staff_b, {"participant_name": "李乙"})
    contest_id, _ = event(
        "course_contest", "course_contest", "安全测试精品课大赛", [member_a, member_b]
    )
    contest = db.session.get(JointEvent, contest_id)
    criteria = set_criteria(contest, office, [("内容设计", 60), ("讲授表达", 40)])
    judge = appoint_judge(contest, office, staff_b.id)
    entry_a = submit_entry(contest_id, staff_a, {"course_id": course("theory_lecture").id})
    entry_b = submit_entry(contest_id, staff_b, {"course_id": course("memorial_onsite").id})
    db.session.commit()
    return {
        "training_event": training,  # published, invites members A and B
        "event_session": session,
        "draft_event": draft,
        "event_b_only": only_b,
        "registration_a": registration_a.id,
        "registration_b": registration_b.id,
        "contest": contest_id,  # published course contest, invites members A and B
        "judge": judge.id,  # member B's staff user
        "contest_entry_a": entry_a.id,
        "contest_entry_b": entry_b.id,
        "criteria": [c.id for c in criteria],
        "training_type": db.session.scalar(
            sa.select(EventType.id).where(EventType.key == "joint_training")
        ),
    }


def client_as(app: Flask, role_or_username: str | None) -> FlaskClient:
    """A new client logged in as a matrix role (or a username); None stays anonymous."""
    username = ROLES.get(role_or_username, role_or_username) if role_or_username else None
    client = app.test_client()
    if username:
        response = login(client, username)
        assert response.status_code == 200, username
        assert "退出" in response.get_data(as_text=True), f"login failed for {username}"
    return client


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, for 'nothing changed' checks (read on a connection of its own)."""
    db.session.rollback()
    found = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table.name}"').all()
            found[table.name] = sorted(map(repr, rows))
    return found


class Tracker:
    """Tables changed since the last look (one snapshot per request in a sweep), and tables
    that gained a row holding a NUL byte (PostgreSQL cannot store one; the portal refuses it)."""

    def __init__(self) -> None:
        self.last = snapshot()
        self.nul = _nul_rows(self.last)
        self.new_nul: list[str] = []

    def changed(self) -> list[str]:
        now = snapshot()
        found = changed_tables(self.last, now)
        nul = _nul_rows(now)
        self.new_nul = sorted({table for table, _row in nul - self.nul})
        self.last, self.nul = now, nul
        return found


def _nul_rows(tables: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(name, row) for name, rows in tables.items() for row in rows if "\\x00" in row}


class WriteDetector:
    """Whether anything was committed since the last look: SQLite's data_version (cheap),
    else a full snapshot. Close it at the end."""

    def __init__(self) -> None:
        self.sqlite = db.engine.dialect.name == "sqlite"
        if self.sqlite:
            self.conn = db.engine.raw_connection()
            self.last: Any = self._version()
        else:
            self.tracker = Tracker()

    def _version(self) -> int:
        return self.conn.cursor().execute("PRAGMA data_version").fetchone()[0]

    def wrote(self) -> bool:
        if not self.sqlite:
            return bool(self.tracker.changed())
        now = self._version()
        found, self.last = now != self.last, now
        return found

    def close(self) -> None:
        if self.sqlite:
            self.conn.close()


# Bookkeeping that moves with every commit of catalogue or schedule rows (portal/pagecache.py).
BOOKKEEPING = frozenset({"cache_generations"})


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return [name for name in before if name not in BOOKKEEPING and before[name] != after.get(name)]


def count(model: Any) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def fresh(model: Any, ident: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, ident)
