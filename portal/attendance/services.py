"""Attendance rules: who runs a class's attendance, its half-day sessions, marks, summaries.

``attendance_summary(class_id)`` is the API other areas (completion, 学时 records) build on.
Leave requests and withdrawals live in ``portal.attendance.leave``; QR tokens in
``portal.attendance.tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select

from portal.attendance.models import (
    MARKS,
    AttendanceMark,
    AttendanceMarkChange,
    AttendanceSession,
    ClassSupervisor,
    LeaveRequest,
    LeaveRequestSession,
    Withdrawal,
)
from portal.audit.services import record
from portal.auth.models import MEMBER_ROLES, User
from portal.catalog.models import TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import HOLDING, Booking, Reservation, TrainingClass
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees.access import hosting_member_ids, is_class_manager
from portal.trainees.models import RosterEntry

# A half day without stops in the itinerary still is a class half day (lectures, discussion).
DEFAULT_HOURS = {"am": (time(8, 30), time(12, 0)), "pm": (time(14, 30), time(18, 0))}
# Sign-in opens this long before a session starts.
OPENS_BEFORE = timedelta(minutes=30)
MAX_REASON = 200


def _authenticated(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_token", False)
    )


# ---------------------------------------------------------------- who may do what


def can_run_attendance(training_class: TrainingClass, actor: Any) -> bool:
    """Managers of the class (office, organizer, supervisors) and the hosting members' staff."""
    if is_class_manager(training_class, actor):
        return True
    return (
        _authenticated(actor)
        and getattr(actor, "is_member_user", False)
        and actor.member_id in hosting_member_ids(training_class)
    )


def can_name_supervisors(training_class: TrainingClass, actor: Any) -> bool:
    """Only the organizer of the class (and the office) names its supervisors."""
    return _authenticated(actor) and (actor.is_office or training_class.organizer_id == actor.id)


def own_entry(training_class: TrainingClass, actor: Any) -> RosterEntry | None:
    if not _authenticated(actor):
        return None
    return db.session.scalar(
        select(RosterEntry).where(
            RosterEntry.class_id == training_class.id, RosterEntry.user_id == actor.id
        )
    )


def can_see_board(training_class: TrainingClass, actor: Any) -> bool:
    """The class's attendance board (公示考勤): its trainees, its managers, the hosting staff."""
    return can_run_attendance(training_class, actor) or own_entry(training_class, actor) is not None


def _class_or_404(class_id: int) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or training_class.is_study_visit:
        raise NotFound(_("没有找到该培训班。"))
    return training_class


def get_run_class(class_id: int, actor: Any) -> TrainingClass:
    training_class = _class_or_404(class_id)
    if not can_run_attendance(training_class, actor):
        raise NotFound(_("没有找到该培训班。"))
    return training_class


def get_board_class(class_id: int, actor: Any) -> TrainingClass:
    training_class = _class_or_404(class_id)
    if not can_see_board(training_class, actor):
        raise NotFound(_("没有找到该培训班。"))
    return training_class


def get_run_session(session_id: int, actor: Any) -> AttendanceSession:
    session = db.session.get(AttendanceSession, session_id)
    if session is None or not can_run_attendance(session.training_class, actor):
        raise NotFound(_("没有找到该考勤场次。"))
    return session


def classes_run_by(actor: Any) -> list[TrainingClass]:
    """Classes whose attendance ``actor`` runs as organizer or supervisor (newest first)."""
    if not _authenticated(actor):
        return []
    query = select(TrainingClass).where(
        TrainingClass.is_study_visit.is_(False), TrainingClass.cancelled.is_(False)
    )
    if not actor.is_office:
        supervised = select(ClassSupervisor.class_id).where(ClassSupervisor.user_id == actor.id)
        mine = (TrainingClass.organizer_id == actor.id) | TrainingClass.id.in_(supervised)
        if getattr(actor, "is_member_user", False):
            hosted = (
                select(Booking.class_id)
                .join(Reservation, Reservation.booking_id == Booking.id)
                .join(TeachingSite, TeachingSite.id == Reservation.site_id)
                .where(
                    TeachingSite.member_id == actor.member_id,
                    Booking.status != "cancelled",
                    Reservation.status.in_(HOLDING),
                )
            )
            recent = datetime.now(LOCAL_TZ).date() - timedelta(days=14)
            mine = mine | (TrainingClass.id.in_(hosted) & (TrainingClass.ends_on >= recent))
        query = query.where(mine)
    return list(db.session.scalars(query.order_by(TrainingClass.starts_on.desc()).limit(100)))


# ---------------------------------------------------------------- supervisors


def supervisors(training_class: TrainingClass) -> list[ClassSupervisor]:
    return list(
        db.session.scalars(
            select(ClassSupervisor)
            .where(ClassSupervisor.class_id == training_class.id)
            .order_by(ClassSupervisor.id)
        )
    )


def eligible_supervisor(training_class: TrainingClass, user: User) -> bool:
    """An account of the sending side (an organizer of the class's unit) or of a hosting member."""
    if not user.active:
        return False
    if user.role == "organizer":
        organizer_unit = training_class.organizer.unit_name or ""
        return user.id == training_class.organizer_id or (
            bool(user.unit_name) and user.unit_name in {training_class.sending_unit, organizer_unit}
        )
    if user.role in MEMBER_ROLES:
        return user.member_id in hosting_member_ids(training_class)
    return False


def add_supervisor(training_class: TrainingClass, username: str, actor: Any) -> ClassSupervisor:
    """The organizer names a supervisor by account name. The caller commits."""
    if not can_name_supervisors(training_class, actor):
        raise PermissionDenied(_("只有培训班联系人可以指定班主任。"))
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not eligible_supervisor(training_class, user):
        raise ValidationFailed(
            {"username": _("没有这个账号，或该账号不属于派出单位或承接成员单位。")}
        )
    if user.id in {s.user_id for s in supervisors(training_class)}:
        raise ValidationFailed({"username": _("该账号已是本班的班主任。")})
    supervisor = ClassSupervisor(class_id=training_class.id, user_id=user.id, added_by_id=actor.id)
    db.session.add(supervisor)
    record(actor, "attendance.supervisor_add", training_class.name, user=user.username)
    return supervisor


def remove_supervisor(training_class: TrainingClass, supervisor_id: int, actor: Any) -> None:
    if not can_name_supervisors(training_class, actor):
        raise PermissionDenied(_("只有培训班联系人可以指定班主任。"))
    supervisor = db.session.get(ClassSupervisor, supervisor_id)
    if supervisor is None or supervisor.class_id != training_class.id:
        raise NotFound(_("没有找到该班主任。"))
    record(
        actor, "attendance.supervisor_remove", training_class.name, user=supervisor.user.username
    )
    db.session.delete(supervisor)


# ---------------------------------------------------------------- sessions


def _planned_sessions(training_class: TrainingClass) -> dict[tuple[date, str], dict]:
    """Each class day's morning and afternoon, with the itinerary's stops in it (local times)."""
    from portal.trainees.itinerary import class_stops

    planned: dict[tuple[date, str], dict] = {}
    day = training_class.starts_on
    while day <= training_class.ends_on:
        for half, (start, end) in DEFAULT_HOURS.items():
            planned[(day, half)] = {
                "starts": datetime.combine(day, start, tzinfo=LOCAL_TZ),
                "ends": datetime.combine(day, end, tzinfo=LOCAL_TZ),
                "titles": [],
                "stops": False,
            }
        day += timedelta(days=1)
    for stop in class_stops(training_class):
        key = (stop.starts.date(), "am" if stop.starts.hour < 12 else "pm")
        if key not in planned or not stop.site_name:
            continue
        slot = planned[key]
        if not slot["stops"]:
            slot["starts"], slot["ends"], slot["stops"] = stop.starts, stop.ends, True
        slot["starts"] = min(slot["starts"], stop.starts)
        slot["ends"] = max(slot["ends"], stop.ends)
        if stop.title not in slot["titles"]:
            slot["titles"].append(stop.title)
    return planned


def ensure_sessions(training_class: TrainingClass) -> list[AttendanceSession]:
    """The class's sessions, created from its dates and itinerary where missing (idempotent).

    A session kept from an earlier itinerary follows the itinerary's new times; sessions of
    days no longer in the class are left alone when they hold marks. The caller commits.

    A page (GET) derives each class's sessions once: the page and attendance_summary both
    ask, and deriving reads the whole itinerary (half of the class page's time).
    """
    derived = None
    if has_request_context() and request.method in ("GET", "HEAD"):
        derived = g.setdefault("attendance_sessions_derived", set())
        if training_class.id in derived:
            return class_sessions(training_class.id)
    existing = {
        (s.day, s.half): s
        for s in db.session.scalars(
            select(AttendanceSession).where(AttendanceSession.class_id == training_class.id)
        )
    }
    for (day, half), slot in _planned_sessions(training_class).items():
        title = " · ".join(slot["titles"])[:300]
        session = existing.get((day, half))
        if session is None:
            _insert_ignoring_duplicate(
                AttendanceSession,
                ["class_id", "day", "half"],
                class_id=training_class.id,
                day=day,
                half=half,
                starts_at=slot["starts"],
                ends_at=slot["ends"],
                opens_at=slot["starts"] - OPENS_BEFORE,
                title=title,
            )
        elif session.starts_at != slot["starts"] or session.title != title:
            _set_times(session, slot, title)
    db.session.flush()
    if derived is not None:
        derived.add(training_class.id)
    return class_sessions(training_class.id)


def _insert_ignoring_duplicate(model: Any, keys: list[str], **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: whether this call inserted the row.

    Two requests creating the same row at once (a double scan, two pages deriving the same
    sessions) end with one row and no error, whatever the database.
    """
    db.session.flush()
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(table.c.id)
    )
    # Core, not the ORM's bulk insert (whose rowcount PostgreSQL drivers leave at -1).
    return db.session.connection().execute(statement).first() is not None


def _set_times(session: AttendanceSession, slot: dict, title: str) -> None:
    session.starts_at = slot["starts"]
    session.ends_at = slot["ends"]
    session.opens_at = slot["starts"] - OPENS_BEFORE
    session.title = title


def class_sessions(class_id: int) -> list[AttendanceSession]:
    """The sessions of the class's current dates, in order."""
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        return []
    return list(
        db.session.scalars(
            select(AttendanceSession)
            .where(
                AttendanceSession.class_id == class_id,
                AttendanceSession.day >= training_class.starts_on,
                AttendanceSession.day <= training_class.ends_on,
            )
            .order_by(AttendanceSession.starts_at, AttendanceSession.id)
        )
    )


# ---------------------------------------------------------------- marks


def _write_mark(
    session: AttendanceSession,
    entry: RosterEntry,
    status: str,
    source: str,
    reason: str,
    actor: Any,
) -> tuple[AttendanceMark, bool]:
    """Create or change a mark, keeping the change; (mark, created). The caller commits."""
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.session_id == session.id, AttendanceMark.entry_id == entry.id
        )
    )
    actor_id = getattr(actor, "id", None)
    created = False
    old = ""
    if mark is None:
        now = utcnow()
        created = _insert_ignoring_duplicate(
            AttendanceMark,
            ["session_id", "entry_id"],
            session_id=session.id,
            entry_id=entry.id,
            status=status,
            source=source,
            reason=reason,
            marked_by_id=actor_id,
            marked_at=now,
        )
        mark = db.session.scalar(
            select(AttendanceMark)
            .where(AttendanceMark.session_id == session.id, AttendanceMark.entry_id == entry.id)
            .execution_options(populate_existing=True)
        )
        if not created:  # a concurrent request wrote it first
            if source in ("qr", "code"):
                return mark, False
            old = mark.status
            _fill(mark, status, source, reason, actor_id)
    else:
        if source in ("qr", "code"):
            return mark, False
        if mark.status == status and mark.reason == reason:
            return mark, False
        old = mark.status
        _fill(mark, status, source, reason, actor_id)
    db.session.add(
        AttendanceMarkChange(
            mark_id=mark.id,
            old_status=old,
            new_status=status,
            source=source,
            reason=reason,
            changed_by_id=actor_id,
        )
    )
    return mark, created


def _fill(mark: AttendanceMark, status: str, source: str, reason: str, actor_id: Any) -> None:
    mark.status, mark.source, mark.reason = status, source, reason
    mark.marked_by_id, mark.marked_at = actor_id, utcnow()


def clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if "\x00" in reason:
        raise ValidationFailed({"reason": _("包含无效字符。")})
    if len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": _("原因不能超过 200 个字符。")})
    return reason


def mark_by_hand(
    session: AttendanceSession,
    entry_id: int,
    status: str,
    reason: str,
    actor: Any,
    now: datetime | None = None,
) -> AttendanceMark:
    """Staff mark or correct a trainee's attendance; a correction needs a reason. The caller commits."""
    if not can_run_attendance(session.training_class, actor):
        raise PermissionDenied(_("您不能登记本班的考勤。"))
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.class_id != session.class_id:
        raise NotFound(_("没有找到该学员。"))
    if status not in MARKS:
        raise ValidationFailed({"status": _("请选择考勤结果。")})
    reason = clean_reason(reason)
    if status != "leave" and (now or utcnow()) < session.opens_at:
        raise ValidationFailed({"status": _("本场尚未开始，只能登记请假。")})
    existing = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.session_id == session.id, AttendanceMark.entry_id == entry.id
        )
    )
    if existing is not None and existing.status != status and not reason:
        raise ValidationFailed({"reason": _("更正考勤须填写原因。")})
    if status != "present" and not reason:
        raise ValidationFailed({"reason": _("请填写原因。")})
    mark, _created = _write_mark(session, entry, status, "manual", reason, actor)
    record(
        actor,
        "attendance.mark",
        f"{entry.name} · {session.day.isoformat()} {session.half_label}",
        status=MARKS[status],
        reason=reason,
    )
    from portal.attendance.leave import flag_if_due

    flag_if_due(entry)
    return mark


def mark_history(session: AttendanceSession) -> dict[int, list[AttendanceMarkChange]]:
    """Entry id → the changes of its mark in this session, oldest first."""
    rows = db.session.execute(
        select(AttendanceMark.entry_id, AttendanceMarkChange)
        .join(AttendanceMarkChange, AttendanceMarkChange.mark_id == AttendanceMark.id)
        .where(AttendanceMark.session_id == session.id)
        .order_by(AttendanceMarkChange.id)
    ).all()
    history: dict[int, list[AttendanceMarkChange]] = {}
    for entry_id, change in rows:
        history.setdefault(entry_id, []).append(change)
    return history


# ---------------------------------------------------------------- sign-in


class NotOpenYet(ServiceError):
    """A sign-in before the session opens: says when it does."""

    def __init__(self, opens_at: datetime) -> None:
        self.opens_at = opens_at
        local = opens_at.astimezone(LOCAL_TZ)
        super().__init__(
            _(
                "本场签到尚未开始，将于 %(day)s %(time)s 开放，届时请再扫码或输入签到码。",
                day=local.strftime("%m-%d"),
                time=local.strftime("%H:%M"),
            )
        )


@dataclass
class SignIn:
    mark: AttendanceMark
    created: bool


def sign_in(
    session: AttendanceSession, user: Any, source: str, now: datetime | None = None
) -> SignIn:
    """A trainee of the class signs in once (a second scan changes nothing). The caller commits."""
    now = now or utcnow()
    training_class = session.training_class
    entry = own_entry(training_class, user)
    if entry is None or training_class.cancelled:
        raise NotFound(_("您不在该培训班的学员名单中。"))
    if withdrawn_entry_ids(training_class.id) & {entry.id}:
        raise PermissionDenied(_("您已退学，无需签到。"))
    if now < session.opens_at:
        raise NotOpenYet(session.opens_at)
    if now >= session.ends_at:
        raise ServiceError(_("本场已结束，不能再签到；如有疑问请联系班主任。"))
    late = now > session.starts_at + timedelta(minutes=setting("attendance_late_minutes"))
    mark, created = _write_mark(session, entry, "late" if late else "present", source, "", user)
    if created:
        record(
            user,
            "attendance.sign_in",
            f"{entry.name} · {session.day.isoformat()} {session.half_label}",
            status=MARKS[mark.status],
        )
    return SignIn(mark, created)


def open_sessions_of(user: Any, now: datetime | None = None) -> list[AttendanceSession]:
    """Sessions of the user's classes whose sign-in is open now (for the typed code)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(AttendanceSession)
            .join(RosterEntry, RosterEntry.class_id == AttendanceSession.class_id)
            .where(
                RosterEntry.user_id == user.id,
                AttendanceSession.opens_at <= now,
                AttendanceSession.ends_at > now,
            )
            .order_by(AttendanceSession.starts_at)
        )
    )


# ---------------------------------------------------------------- summaries


@dataclass
class Summary:
    """A trainee's attendance in one class, for the board, completion and 学时 records."""

    entry_id: int
    sessions: int = 0  # all sessions of the class
    present: int = 0
    leave: int = 0
    absent: int = 0
    late: int = 0
    early: int = 0
    pending: int = 0  # sessions not ended and not marked yet
    withdrawn: bool = False
    hours_attended: int = 0
    leave_hours: int = 0
    class_hours: int = 0
    withdrawal_due: str | None = None  # "leave" / "absence" when the rules call for 退学

    @property
    def attended(self) -> int:
        return self.present + self.late + self.early


def withdrawn_entry_ids(class_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Withdrawal.entry_id).where(
                Withdrawal.class_id == class_id, Withdrawal.status == "confirmed"
            )
        )
    )


def session_statuses(class_id: int, now: datetime | None = None) -> dict[tuple[int, int], str]:
    """(entry id, session id) → the mark that counts: given, approved leave, or 旷课 once ended."""
    now = now or utcnow()
    sessions = class_sessions(class_id)
    entries = list(
        db.session.scalars(select(RosterEntry.id).where(RosterEntry.class_id == class_id))
    )
    marks = {
        (m.entry_id, m.session_id): m.status
        for m in db.session.scalars(
            select(AttendanceMark)
            .join(AttendanceSession, AttendanceSession.id == AttendanceMark.session_id)
            .where(AttendanceSession.class_id == class_id)
        )
    }
    approved = set(
        db.session.execute(
            select(LeaveRequest.entry_id, LeaveRequestSession.session_id)
            .join(LeaveRequestSession, LeaveRequestSession.leave_id == LeaveRequest.id)
            .where(LeaveRequest.class_id == class_id, LeaveRequest.status == "approved")
        ).all()
    )
    withdrawn_at = dict(
        db.session.execute(
            select(Withdrawal.entry_id, Withdrawal.decided_at).where(
                Withdrawal.class_id == class_id, Withdrawal.status == "confirmed"
            )
        ).all()
    )
    statuses: dict[tuple[int, int], str] = {}
    for entry_id in entries:
        for s in sessions:
            key = (entry_id, s.id)
            if key in marks:
                statuses[key] = marks[key]
            elif key in approved:
                statuses[key] = "leave"
            elif entry_id in withdrawn_at and withdrawn_at[entry_id] <= s.starts_at:
                statuses[key] = "withdrawn"
            elif s.ends_at <= now:
                statuses[key] = "absent"
            else:
                statuses[key] = "pending"
    return statuses


def attendance_summary(class_id: int, now: datetime | None = None) -> dict[int, Summary]:
    """Roster entry id → its Summary for the class (sessions derived if missing).

    学时: each attended session (出勤, 迟到, 早退) credits ``attendance_hours_per_half_day``;
    the class's 学时 are its sessions times the same. ``withdrawal_due`` says the rules call
    for 退学: approved leave above 1/7 of the class's 学时 (exactly 1/7 is allowed), or 旷课
    reaching ``attendance_absence_limit`` half days. ``withdrawn`` is a confirmed 退学.
    """
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        return {}
    ensure_sessions(training_class)
    hours = setting("attendance_hours_per_half_day")
    limit = setting("attendance_absence_limit")
    n_sessions = len(class_sessions(class_id))
    withdrawn = withdrawn_entry_ids(class_id)
    summaries: dict[int, Summary] = {}
    for entry_id in db.session.scalars(
        select(RosterEntry.id).where(RosterEntry.class_id == class_id).order_by(RosterEntry.id)
    ):
        summaries[entry_id] = Summary(
            entry_id=entry_id,
            sessions=n_sessions,
            class_hours=n_sessions * hours,
            withdrawn=entry_id in withdrawn,
        )
    for (entry_id, _session_id), status in session_statuses(class_id, now).items():
        summary = summaries[entry_id]
        if status in ("present", "leave", "absent", "late", "early", "pending"):
            setattr(summary, status, getattr(summary, status) + 1)
    for summary in summaries.values():
        summary.hours_attended = summary.attended * hours
        summary.leave_hours = summary.leave * hours
        if summary.leave_hours * 7 > summary.class_hours:
            summary.withdrawal_due = "leave"
        elif summary.absent >= limit:
            summary.withdrawal_due = "absence"
    return summaries
