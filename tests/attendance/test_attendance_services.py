"""Attendance rules without HTTP: rotating tokens, sign-in once, marks, leave and withdrawal."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.attendance import leave, services, tokens
from portal.attendance.models import AttendanceMark, AttendanceMarkChange, Withdrawal
from portal.auth.models import User
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Message
from tests.attendance.helpers import at, entries, klass, sessions
from tests.scheduling.helpers import user


@pytest.fixture
def world(demo: Flask):
    return demo


def test_sessions_are_two_half_days_per_class_day(world):
    training_class = klass(days=3)
    found = sessions(training_class)
    assert [(s.day, s.half) for s in found][:2] == [
        (training_class.starts_on, "am"),
        (training_class.starts_on, "pm"),
    ]
    assert len(found) == 6
    services.ensure_sessions(training_class)  # idempotent
    db.session.commit()
    assert len(sessions(training_class)) == 6


# ---------------------------------------------------------------- tokens


def test_token_of_current_and_previous_period_accepted_two_periods_refused(world):
    now = 1_800_000_000.0
    period = tokens.period_at(now)
    assert tokens.check_token(tokens.make_token(7, period), 7, now) == period
    assert tokens.check_token(tokens.make_token(7, period - 1), 7, now) == period - 1
    with pytest.raises(tokens.TokenRefused):
        tokens.check_token(tokens.make_token(7, period - 2), 7, now)
    with pytest.raises(tokens.TokenRefused):  # from the future
        tokens.check_token(tokens.make_token(7, period + 1), 7, now)


def test_token_of_another_session_or_forged_refused(world):
    now = 1_800_000_000.0
    period = tokens.period_at(now)
    with pytest.raises(tokens.TokenRefused):
        tokens.check_token(tokens.make_token(8, period), 7, now)
    with pytest.raises(tokens.TokenRefused):
        tokens.check_token(tokens.make_token(7, period) + "x", 7, now)
    with pytest.raises(tokens.TokenRefused):
        tokens.check_token("not-a-token", 7, now)


def test_typed_code_changes_with_the_period(world):
    now = 1_800_000_000.0
    period = tokens.period_at(now)
    code = tokens.typed_code(7, period)
    assert len(code) == 6 and code.isdigit()
    assert tokens.code_matches(code, 7, now)
    assert tokens.code_matches(code, 7, now + tokens.PERIOD_SECONDS)
    assert not tokens.code_matches(code, 7, now + 2 * tokens.PERIOD_SECONDS)
    assert not tokens.code_matches(tokens.typed_code(8, period), 7, now)
    assert not tokens.code_matches("12345x", 7, now)


# ---------------------------------------------------------------- sign-in


def test_sign_in_once_and_late_after_the_setting(world):
    training_class = klass()
    first, second = sessions(training_class)[:2]
    entry = entries(training_class)[0]
    result = services.sign_in(first, entry.user, "qr", now=at(first, 5))
    db.session.commit()
    assert result.created and result.mark.status == "present"
    again = services.sign_in(first, entry.user, "code", now=at(first, 6))
    db.session.commit()
    assert not again.created and again.mark.id == result.mark.id
    late = services.sign_in(second, entry.user, "qr", now=at(second, 16))
    assert late.mark.status == "late"
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AttendanceMark)) == 2


def test_sign_in_before_opening_says_when(world):
    training_class = klass()
    first = sessions(training_class)[0]
    entry = entries(training_class)[0]
    with pytest.raises(services.NotOpenYet) as refused:
        services.sign_in(first, entry.user, "qr", now=at(first, -31))
    assert refused.value.opens_at == first.opens_at
    assert "08:00" in refused.value.message
    assert services.sign_in(first, entry.user, "qr", now=at(first, -30)).created


def test_sign_in_refused_to_someone_not_on_the_roster(world):
    training_class = klass()
    first = sessions(training_class)[0]
    with pytest.raises(NotFound):
        services.sign_in(first, user("trainee"), "qr", now=at(first))


def test_concurrent_double_scan_makes_one_record(world):
    training_class = klass()
    session_id = sessions(training_class)[0].id
    entry = entries(training_class)[0]
    user_id, when = entry.user_id, at(sessions(training_class)[0], 1)
    app = world
    barrier = threading.Barrier(2)
    created: list[bool] = []
    errors: list[Exception] = []

    def scan() -> None:
        with app.app_context():
            try:
                from portal.attendance.models import AttendanceSession
                from portal.auth.models import User

                session = db.session.get(AttendanceSession, session_id)
                account = db.session.get(User, user_id)
                barrier.wait()
                created.append(services.sign_in(session, account, "qr", now=when).created)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(created) == [False, True]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AttendanceMark)) == 1


# ---------------------------------------------------------------- marks


def test_manual_correction_needs_a_reason_and_keeps_history(world):
    training_class = klass()
    first = sessions(training_class)[0]
    entry = entries(training_class)[0]
    organizer = user("organizer")
    with pytest.raises(ValidationFailed):  # not open yet: only 请假 may be marked
        services.mark_by_hand(first, entry.id, "absent", "未到", organizer)
    services.mark_by_hand(first, entry.id, "present", "", organizer, now=at(first))
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.mark_by_hand(first, entry.id, "early", "", organizer, now=at(first))
    services.mark_by_hand(first, entry.id, "early", "下午因公提前离开", organizer, now=at(first))
    db.session.commit()
    changes = list(
        db.session.scalars(select(AttendanceMarkChange).order_by(AttendanceMarkChange.id))
    )
    assert [(c.old_status, c.new_status) for c in changes] == [
        ("", "present"),
        ("present", "early"),
    ]


def test_staff_of_other_members_and_trainees_cannot_mark(world):
    training_class = klass()
    first = sessions(training_class)[0]
    entry = entries(training_class)[0]
    for who in (user("trainee"), entry.user, user("party_school_staff")):
        with pytest.raises(PermissionDenied):
            services.mark_by_hand(first, entry.id, "present", "", who)


def test_unmarked_ended_session_counts_as_absent(world):
    training_class = klass()
    first, second = sessions(training_class)[:2]
    summary = services.attendance_summary(training_class.id, now=at(second, 1))
    one = summary[entries(training_class)[0].id]
    assert (one.sessions, one.absent, one.pending, one.hours_attended) == (4, 1, 3, 0)
    assert one.class_hours == 16


# ---------------------------------------------------------------- supervisors


def colleague(unit: str = "某省委组织部") -> User:
    """Another organizer account of the class's sending unit."""
    account = User(
        username="organizer_colleague",
        display_name="钱组织员",
        role="organizer",
        unit_name=unit,
        password_hash="-",
    )
    db.session.add(account)
    db.session.commit()
    return account


def test_organizer_names_a_supervisor_who_then_manages_that_class_only(world):
    training_class = klass()
    other = klass()
    organizer = user("organizer")
    with pytest.raises(ValidationFailed):
        services.add_supervisor(training_class, "trainee", organizer)
    with pytest.raises(ValidationFailed):  # a member that hosts none of the class's stops
        services.add_supervisor(training_class, "party_school_staff", organizer)
    with pytest.raises(ValidationFailed):
        services.add_supervisor(training_class, "nobody", organizer)
    supervisor = colleague()
    assert not services.can_run_attendance(training_class, supervisor)
    with pytest.raises(PermissionDenied):
        services.add_supervisor(training_class, supervisor.username, supervisor)
    services.add_supervisor(training_class, supervisor.username, organizer)
    db.session.commit()
    assert services.can_run_attendance(training_class, supervisor)
    assert not services.can_run_attendance(other, supervisor)
    with pytest.raises(ValidationFailed):
        services.add_supervisor(training_class, supervisor.username, organizer)
    first = sessions(training_class)[0]
    services.mark_by_hand(
        first, entries(training_class)[0].id, "present", "", supervisor, now=at(first)
    )
    with pytest.raises(PermissionDenied):  # supervisors do not name supervisors
        services.remove_supervisor(training_class, 1, supervisor)


# ---------------------------------------------------------------- leave and withdrawal


def _ask_and_approve(training_class, entry, n: int):
    chosen = [s.id for s in sessions(training_class)[:n]]
    request = leave.ask_leave(training_class, chosen, "家中有事", entry.user)
    db.session.commit()
    leave.decide_leave(request.id, True, "", user("organizer"))
    db.session.commit()
    return request


def test_leave_of_exactly_one_seventh_is_allowed(world):
    training_class = klass(days=7)  # 14 half days, 56 学时; 1/7 = 8 学时 = 2 half days
    entry = entries(training_class)[0]
    _ask_and_approve(training_class, entry, 2)
    summary = services.attendance_summary(training_class.id)[entry.id]
    assert (summary.leave, summary.leave_hours, summary.class_hours) == (2, 8, 56)
    assert summary.withdrawal_due is None
    assert db.session.scalar(select(Withdrawal)) is None


def test_leave_just_above_one_seventh_flags_withdrawal_the_organizer_confirms(world):
    training_class = klass(days=7)
    entry = entries(training_class)[0]
    _ask_and_approve(training_class, entry, 3)
    summary = services.attendance_summary(training_class.id)[entry.id]
    assert summary.withdrawal_due == "leave" and not summary.withdrawn
    flagged = db.session.scalar(select(Withdrawal))
    assert flagged.status == "flagged"
    with pytest.raises(NotFound):
        leave.decide_withdrawal(entry.id, True, "", user("trainee"))
    leave.decide_withdrawal(entry.id, True, "", user("organizer"))
    db.session.commit()
    assert services.attendance_summary(training_class.id)[entry.id].withdrawn
    subjects = list(db.session.scalars(select(Message.subject)))
    assert any("学员退学通知" in s for s in subjects)


def test_refused_leave_leaves_absence(world):
    training_class = klass()
    first, second = sessions(training_class)[:2]
    entry = entries(training_class)[0]
    request = leave.ask_leave(training_class, [first.id], "私事", entry.user)
    db.session.commit()
    leave.decide_leave(request.id, False, "教学安排不可缺席", user("organizer"))
    db.session.commit()
    summary = services.attendance_summary(training_class.id, now=at(second, 1))[entry.id]
    assert (summary.leave, summary.absent) == (0, 1)
    with pytest.raises(ValidationFailed):
        leave.decide_leave(request.id, True, "", user("organizer"))


def test_leave_request_checks(world):
    training_class = klass()
    entry = entries(training_class)[0]
    first = sessions(training_class)[0]
    with pytest.raises(ValidationFailed):
        leave.ask_leave(training_class, [first.id], "  ", entry.user)
    with pytest.raises(ValidationFailed):
        leave.ask_leave(training_class, [], "事由", entry.user)
    with pytest.raises(ValidationFailed):
        leave.ask_leave(training_class, [999999], "事由", entry.user)
    with pytest.raises(NotFound):
        leave.ask_leave(training_class, [first.id], "事由", user("trainee"))
    leave.ask_leave(training_class, [first.id], "事由", entry.user)
    with pytest.raises(ValidationFailed):
        leave.ask_leave(training_class, [first.id], "再请一次", entry.user)
    second = sessions(training_class)[1]
    services.sign_in(second, entry.user, "qr", now=at(second))
    with pytest.raises(ValidationFailed):  # already signed in there
        leave.ask_leave(training_class, [second.id], "事由", entry.user)


def test_absence_limit_flags_withdrawal(world):
    training_class = klass(days=3)
    entry = entries(training_class)[0]
    all_sessions = sessions(training_class)
    for session in all_sessions[:4]:
        services.mark_by_hand(
            session, entry.id, "absent", "未到", user("organizer"), now=at(session)
        )
    db.session.commit()
    assert db.session.scalar(select(Withdrawal.reason)) == "absence"


def test_absence_accrued_by_time_is_flagged_by_the_timer_once(world):
    from datetime import timedelta

    training_class = klass(days=3)
    fourth = sessions(training_class)[3]
    later = fourth.ends_at + timedelta(minutes=1)  # four half days over, nobody signed in
    assert leave.flag_withdrawals(now=later) == 3  # each trainee: 4 half days of 旷课
    assert leave.flag_withdrawals(now=later) == 0
    assert db.session.scalar(select(func.count()).select_from(Withdrawal)) == 3
