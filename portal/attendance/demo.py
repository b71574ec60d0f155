"""The attendance part of the demo (SEASON_PARTS "attendance"): the class under way, signed in.

Idempotent and relative to the day it is loaded: the demo class under way
(portal/trainees/demo.py) gets two supervisors (班主任: a sending-side account ``banzhuren``
and the staff of a hosting member), marks for its half days that have ended (most present,
one late, one on approved leave, one left unmarked so it counts as 旷课) and a pending leave
request of the demo ``trainee`` for tomorrow afternoon.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.attendance import leave, services
from portal.attendance.models import AttendanceMark, ClassSupervisor, LeaveRequest
from portal.auth import services as auth_services
from portal.auth.models import User
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow
from portal.trainees.demo import DEMO_CLASS
from portal.trainees.models import RosterEntry

SUPERVISOR = "banzhuren"


def load_demo_attendance() -> None:
    """Add the attendance demo data that is not there yet. Commits."""
    from portal.demo import DEMO_PASSWORD

    training_class = db.session.scalar(
        select(TrainingClass).where(TrainingClass.name == DEMO_CLASS)
    )
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    if training_class is None or organizer is None:
        return
    supervisor = db.session.scalar(select(User).where(User.username == SUPERVISOR))
    if supervisor is None:
        supervisor = auth_services.create_user(
            username=SUPERVISOR,
            display_name="王老师（班主任）",
            role="organizer",
            password=DEMO_PASSWORD,
            unit_name=training_class.sending_unit,
            phone="13908750001",
        )
        db.session.flush()
    named = {s.user_id for s in services.supervisors(training_class)}
    candidates = [supervisor] + [
        u
        for u in db.session.scalars(
            select(User).where(User.role == "member_staff").order_by(User.id)
        )
        if services.eligible_supervisor(training_class, u)
    ][:1]
    for user in candidates:
        if user.id not in named:
            db.session.add(
                ClassSupervisor(
                    class_id=training_class.id, user_id=user.id, added_by_id=organizer.id
                )
            )
    sessions = services.ensure_sessions(training_class)
    db.session.commit()
    entries = list(
        db.session.scalars(
            select(RosterEntry)
            .where(RosterEntry.class_id == training_class.id)
            .order_by(RosterEntry.id)
        )
    )
    if not entries:
        return
    now = utcnow()
    ended = [s for s in sessions if s.ends_at <= now]
    trainee_entry = next((e for e in entries if e.user.username == "trainee"), entries[0])
    others = [e for e in entries if e.id != trainee_entry.id]
    has_marks = db.session.scalar(
        select(AttendanceMark.id).where(AttendanceMark.session_id.in_([s.id for s in sessions]))
    )
    if ended and not has_marks and len(others) >= 3:
        on_leave, late, absent = others[0], others[1], others[2]
        asked = LeaveRequest(
            class_id=training_class.id,
            entry_id=on_leave.id,
            reason="单位紧急公务，需返回处理半天。",
            created_at=ended[0].starts_at - timedelta(days=2),
        )
        asked.sessions = [ended[0]]
        db.session.add(asked)
        db.session.flush()
        leave.decide_leave(asked.id, True, "同意，请提前与带队老师联系。", supervisor)
        for session in ended:
            for entry in entries:
                if entry.id == absent.id and session is ended[-1]:
                    continue  # never marked: counts as 旷课
                if entry.id == on_leave.id and session is ended[0]:
                    continue
                status = "late" if entry.id == late.id and session is ended[0] else "present"
                reason = "交通拥堵，迟到 20 分钟" if status == "late" else ""
                services._write_mark(session, entry, status, "manual", reason, supervisor)
        db.session.commit()
    future = [s for s in sessions if s.starts_at > now + timedelta(hours=12) and s.half == "pm"]
    has_leave = db.session.scalar(
        select(LeaveRequest.id).where(LeaveRequest.entry_id == trainee_entry.id)
    )
    if future and not has_leave:
        asked = LeaveRequest(
            class_id=training_class.id,
            entry_id=trainee_entry.id,
            reason="需参加单位视频会议（已报告单位领导）。",
        )
        asked.sessions = [future[0]]
        db.session.add(asked)
        db.session.commit()
