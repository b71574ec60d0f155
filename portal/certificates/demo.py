"""The certificates' part of the demo: the finished class's attendance, completion, certificates.

Idempotent. On the finished class of the evaluations demo (portal/evaluations/demo.py) every
trainee attended every half day except one on approved leave for the last two (8 of 40 学时,
more than 1/7, so no certificate); the organizer issued the certificates; the office
withheld one and revoked another, with reasons.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.attendance import leave
from portal.attendance import services as attendance
from portal.attendance.models import AttendanceMark, LeaveRequest
from portal.auth.models import User
from portal.certificates import services
from portal.certificates.models import Certificate
from portal.evaluations.demo import finished_class
from portal.extensions import db
from portal.trainees.models import RosterEntry

WITHHELD_REASON = "派出单位反映该学员结业考核材料未按时提交，待补交后恢复。"
REVOKED_REASON = "经核实，该学员培训期间违反学习纪律，按规定撤销结业证书。"


def load_demo_certificates() -> None:
    """Attendance of the finished class and its certificates, if not there yet. Commits."""
    klass = finished_class()
    users = {u.username: u for u in db.session.scalars(select(User))}
    organizer, office = users.get("organizer"), users.get("office")
    if klass is None or organizer is None or office is None:
        return
    if db.session.scalar(select(Certificate.id).where(Certificate.class_id == klass.id)):
        return
    sessions = attendance.ensure_sessions(klass)
    entries = list(
        db.session.scalars(
            select(RosterEntry).where(RosterEntry.class_id == klass.id).order_by(RosterEntry.id)
        )
    )
    if not sessions or len(entries) < 4:
        return
    on_leave = entries[-1]
    marked = db.session.scalar(
        select(AttendanceMark.id).where(AttendanceMark.session_id.in_([s.id for s in sessions]))
    )
    if not marked:
        asked = LeaveRequest(
            class_id=klass.id,
            entry_id=on_leave.id,
            reason="单位临时安排接待任务，需请假一天。",
            created_at=sessions[-2].starts_at - timedelta(days=2),
        )
        asked.sessions = sessions[-2:]
        db.session.add(asked)
        db.session.flush()
        leave.decide_leave(asked.id, True, "同意。", organizer)
        for session in sessions:
            for entry in entries:
                if entry.id == on_leave.id and session in sessions[-2:]:
                    continue
                attendance._write_mark(session, entry, "present", "manual", "", organizer)
        db.session.flush()
    issued = services.issue_certificates(klass, organizer)
    db.session.flush()
    trainee = users.get("trainee")
    others = [c for c in issued if trainee is None or c.entry.user_id != trainee.id]
    if len(others) >= 2:
        services.decide(others[-1], "withhold", WITHHELD_REASON, office)
        services.decide(others[-2], "revoke", REVOKED_REASON, office)
    db.session.commit()
