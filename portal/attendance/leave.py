"""Leave (请假) and withdrawal (退学): trainees ask, supervisors decide, organizers confirm."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.attendance.models import (
    ATTENDED,
    AttendanceMark,
    AttendanceSession,
    LeaveRequest,
    LeaveRequestSession,
    Withdrawal,
)
from portal.attendance.services import (
    _insert_ignoring_duplicate,
    _write_mark,
    attendance_summary,
    can_name_supervisors,
    class_sessions,
    clean_reason,
    ensure_sessions,
    own_entry,
    supervisors,
)
from portal.audit.services import record
from portal.auth.models import User
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.notifications.services import notify
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow
from portal.trainees.access import is_class_manager
from portal.trainees.models import RosterEntry

MAX_LEAVE_REASON = 500


def _link(endpoint: str, **values: Any) -> str:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request (command line, demo loader)
        return ""


def ask_leave(
    training_class: TrainingClass, session_ids: list[int], reason: str, actor: Any
) -> LeaveRequest:
    """A trainee asks leave for sessions of their class that have not ended. The caller commits."""
    entry = own_entry(training_class, actor)
    if entry is None:
        raise NotFound(_("您不在该培训班的学员名单中。"))
    reason = " ".join((reason or "").split())
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("请填写请假事由。")
    elif len(reason) > MAX_LEAVE_REASON or "\x00" in reason:
        errors["reason"] = _("请假事由不能超过 500 个字符。")
    ensure_sessions(training_class)
    sessions = {s.id: s for s in class_sessions(training_class.id)}
    now = utcnow()
    chosen = sorted(set(session_ids))
    if not chosen:
        errors["sessions"] = _("请选择请假的半天。")
    elif any(sid not in sessions or sessions[sid].ends_at <= now for sid in chosen):
        errors["sessions"] = _("只能为本班尚未结束的半天请假。")
    else:
        taken = set(
            db.session.scalars(
                select(LeaveRequestSession.session_id)
                .join(LeaveRequest, LeaveRequest.id == LeaveRequestSession.leave_id)
                .where(
                    LeaveRequest.entry_id == entry.id,
                    LeaveRequest.status.in_(("pending", "approved")),
                    LeaveRequestSession.session_id.in_(chosen),
                )
            )
        )
        attended = set(
            db.session.scalars(
                select(AttendanceMark.session_id).where(
                    AttendanceMark.entry_id == entry.id,
                    AttendanceMark.session_id.in_(chosen),
                    AttendanceMark.status.in_(ATTENDED),
                )
            )
        )
        if taken:
            errors["sessions"] = _("所选半天中已有待审批或已批准的请假。")
        elif attended:
            errors["sessions"] = _("所选半天中已有您的签到记录，不能再请假。")
    if errors:
        raise ValidationFailed(errors)
    leave = LeaveRequest(class_id=training_class.id, entry_id=entry.id, reason=reason)
    leave.sessions = [sessions[sid] for sid in chosen]
    db.session.add(leave)
    db.session.flush()
    record(actor, "attendance.leave_ask", entry.name, sessions=len(chosen))
    managers = [s.user for s in supervisors(training_class)] or [training_class.organizer]
    notify(
        managers,
        _("%(name)s 申请请假（%(n)s 个半天）", name=entry.name, n=len(chosen)),
        reason,
        _link("attendance.class_page", class_id=training_class.id),
    )
    return leave


def pending_leave(training_class: TrainingClass) -> list[LeaveRequest]:
    return list(
        db.session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.class_id == training_class.id, LeaveRequest.status == "pending")
            .order_by(LeaveRequest.created_at, LeaveRequest.id)
        )
    )


def class_leave(training_class: TrainingClass) -> list[LeaveRequest]:
    return list(
        db.session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.class_id == training_class.id)
            .order_by(LeaveRequest.created_at.desc(), LeaveRequest.id.desc())
        )
    )


def my_leave(entry: RosterEntry) -> list[LeaveRequest]:
    return list(
        db.session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.entry_id == entry.id)
            .order_by(LeaveRequest.created_at.desc(), LeaveRequest.id.desc())
        )
    )


def decide_leave(leave_id: int, approve: bool, note: str, actor: Any) -> LeaveRequest:
    """A supervisor (or organizer, office) approves or refuses a pending request.

    Approval marks the sessions 请假 where nothing else is marked; refusal leaves them to
    count as 旷课 unless the trainee attends. The caller commits.
    """
    leave = db.session.get(LeaveRequest, leave_id)
    if leave is None or not is_class_manager(leave.entry.training_class, actor):
        raise NotFound(_("没有找到该请假申请。"))
    if leave.status != "pending":
        raise ValidationFailed({"decision": _("该请假申请已经处理过了。")})
    note = clean_reason(note)
    leave.status = "approved" if approve else "refused"
    leave.decided_by_id, leave.decided_at, leave.decision_note = actor.id, utcnow(), note
    if approve:
        for session in leave.sessions:
            existing = db.session.scalar(
                select(AttendanceMark).where(
                    AttendanceMark.session_id == session.id,
                    AttendanceMark.entry_id == leave.entry_id,
                )
            )
            if existing is None or existing.status == "absent":
                _write_mark(session, leave.entry, "leave", "leave", leave.reason[:200], actor)
    record(
        actor,
        "attendance.leave_approve" if approve else "attendance.leave_refuse",
        leave.entry.name,
        sessions=len(leave.sessions),
        note=note,
    )
    notify(
        [leave.entry.user],
        _("您的请假申请已批准") if approve else _("您的请假申请未获批准"),
        note,
        _link("attendance.me"),
    )
    flag_if_due(leave.entry)
    return leave


def flag_if_due(entry: RosterEntry, summary: Any = None) -> Withdrawal | None:
    """Flag the trainee for 退学 when the rules call for it and tell the organizer (once).

    Written with INSERT … ON CONFLICT DO NOTHING: two servers checking at once flag once and
    tell once. The caller commits.
    """
    db.session.flush()
    if summary is None:
        summary = attendance_summary(entry.class_id).get(entry.id)
    if summary is None or summary.withdrawal_due is None:
        return None
    inserted = _insert_ignoring_duplicate(
        Withdrawal,
        ["entry_id"],
        entry_id=entry.id,
        class_id=entry.class_id,
        reason=summary.withdrawal_due,
        status="flagged",
        flagged_at=utcnow(),
        note="",
    )
    withdrawal = db.session.scalar(select(Withdrawal).where(Withdrawal.entry_id == entry.id))
    if not inserted:
        return withdrawal
    record(None, "attendance.withdrawal_flag", entry.name, reason=withdrawal.reason_label)
    training_class = entry.training_class
    notify(
        [training_class.organizer],
        _("%(name)s 达到退学条件，请确认", name=entry.name),
        withdrawal.reason_label,
        _link("attendance.class_page", class_id=training_class.id),
    )
    return withdrawal


def flag_withdrawals(now: Any = None) -> int:
    """Flag every trainee of classes under way (or ended in the last week) whom the rules call
    for withdrawal: 旷课 accrues as sessions end unmarked, with no request to notice it.

    Run from a timer (``flask portal flag-withdrawals``); returns how many were newly flagged.
    """
    from datetime import timedelta

    from portal.timeutil import LOCAL_TZ

    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    flagged = 0
    classes = db.session.scalars(
        select(TrainingClass).where(
            TrainingClass.cancelled.is_(False),
            TrainingClass.is_study_visit.is_(False),
            TrainingClass.starts_on <= today,
            TrainingClass.ends_on >= today - timedelta(days=7),
        )
    ).all()
    for training_class in classes:
        known = set(withdrawals(training_class))
        for entry_id, summary in attendance_summary(training_class.id, now).items():
            if summary.withdrawal_due is None or entry_id in known:
                continue
            if flag_if_due(db.session.get(RosterEntry, entry_id), summary) is not None:
                flagged += 1
        db.session.commit()
    return flagged


def withdrawals(training_class: TrainingClass) -> dict[int, Withdrawal]:
    return {
        w.entry_id: w
        for w in db.session.scalars(
            select(Withdrawal).where(Withdrawal.class_id == training_class.id)
        )
    }


def unit_contacts(entry: RosterEntry) -> list[User]:
    """Who speaks for the trainee's unit: organizers of that unit, else the class's organizer."""
    training_class = entry.training_class
    unit = entry.unit or training_class.sending_unit
    found = list(
        db.session.scalars(
            select(User).where(
                User.role == "organizer", User.unit_name == unit, User.active.is_(True)
            )
        )
    )
    return found or [training_class.organizer]


def decide_withdrawal(entry_id: int, confirm: bool, note: str, actor: Any) -> Withdrawal:
    """The organizer (or office) confirms or dismisses a trainee's 退学; the unit is told."""
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or not is_class_manager(entry.training_class, actor):
        raise NotFound(_("没有找到该学员。"))
    training_class = entry.training_class
    if not can_name_supervisors(training_class, actor):
        raise PermissionDenied(_("只有培训班联系人可以确认退学。"))
    note = clean_reason(note)
    withdrawal = db.session.scalar(select(Withdrawal).where(Withdrawal.entry_id == entry.id))
    if withdrawal is None:
        summary = attendance_summary(training_class.id).get(entry.id)
        if summary is None or summary.withdrawal_due is None:
            raise ValidationFailed({"decision": _("该学员未达到退学条件。")})
        withdrawal = Withdrawal(
            entry_id=entry.id, class_id=training_class.id, reason=summary.withdrawal_due
        )
        db.session.add(withdrawal)
    if withdrawal.status != "flagged":
        raise ValidationFailed({"decision": _("该退学已经处理过了。")})
    withdrawal.status = "confirmed" if confirm else "dismissed"
    withdrawal.decided_by_id, withdrawal.decided_at, withdrawal.note = actor.id, utcnow(), note
    record(
        actor,
        "attendance.withdrawal_confirm" if confirm else "attendance.withdrawal_dismiss",
        entry.name,
        reason=withdrawal.reason_label,
        note=note,
    )
    if confirm:
        body = _(
            "%(name)s（%(unit)s）参加“%(cls)s”，因%(reason)s，按规定作退学处理。%(note)s",
            name=entry.name,
            unit=entry.unit or training_class.sending_unit,
            cls=training_class.name,
            reason=withdrawal.reason_label,
            note=note,
        )
        notify(unit_contacts(entry), _("学员退学通知：%(name)s", name=entry.name), body)
        notify([entry.user], _("退学通知"), body, _link("attendance.me"))
    return withdrawal


def sessions_for_leave(training_class: TrainingClass) -> list[AttendanceSession]:
    """Sessions a trainee may still ask leave for (not ended)."""
    now = utcnow()
    return [s for s in ensure_sessions(training_class) if s.ends_at > now]
