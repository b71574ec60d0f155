"""After the meeting: attendance, minutes, decisions and their follow-up, the weekly digest.

The office records attendance and minutes and assigns decisions to members; a member's
staff mark their own member's decisions done. ``send_weekly_digest`` tells each member's
staff (and the office) what falls due. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, false, select
from sqlalchemy.orm import selectinload

from portal.catalog.services import require_office
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.access import can_see, is_staff, meeting_link, office_users, require_open
from portal.meetings.models import Decision, Meeting, MeetingInvitation
from portal.meetings.times import local_dt, today_local, when_label
from portal.meetings.validation import (
    MAX_MINUTES_TEXT,
    MAX_NAMES,
    MAX_REASON,
    _check_text,
    _clean_names,
    _member_ids,
)
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.timeutil import LOCAL_TZ, utcnow

# The weekly digest looks this far ahead for decisions falling due and meetings.
DIGEST_AHEAD_DAYS = 7


# ---------------------------------------------------------------- after the meeting


def _mark_held(meeting: Meeting, now: datetime) -> None:
    if meeting.status == "scheduled" and meeting.starts_at is not None and meeting.starts_at <= now:
        meeting.status = "held"


def record_attendance(
    meeting: Meeting,
    actor: Any,
    marks: dict[int, tuple[str, str]],
    *,
    now: datetime | None = None,
) -> None:
    """The office records, per invited member, present (with names) or absent."""
    require_office(actor)
    require_open(meeting)
    now = now or utcnow()
    if meeting.starts_at is None or meeting.starts_at > now:
        raise ServiceError(_("会议开始后才能记录出席情况。"))
    errors: dict[str, str] = {}
    clean = {}
    for invitation in meeting.invitations:
        mark, names = marks.get(invitation.member_id, ("", ""))
        if mark not in ("present", "absent"):
            errors[f"attendance-{invitation.member_id}"] = _(
                "请选择%(member)s的出席情况。", member=invitation.member.short_name
            )
            continue
        names = _check_text(
            errors,
            f"names-{invitation.member_id}",
            names or "",
            _("%(member)s出席人员", member=invitation.member.short_name),
            required=False,
            limit=MAX_NAMES,
        )
        names = _clean_names(names)
        if mark == "present" and not names:
            names = invitation.attendees
        clean[invitation.member_id] = (mark, names if mark == "present" else "")
    if errors:
        raise ValidationFailed(errors)
    for invitation in meeting.invitations:
        invitation.attendance, invitation.attended_names = clean[invitation.member_id]
    _mark_held(meeting, now)


def save_minutes(meeting: Meeting, actor: Any, text: str, *, now: datetime | None = None) -> None:
    """The office writes the minutes (纪要)."""
    require_office(actor)
    require_open(meeting)
    errors: dict[str, str] = {}
    text = _check_text(
        errors, "minutes", text, _("会议纪要"), required=True, limit=MAX_MINUTES_TEXT
    )
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    meeting.minutes = text
    meeting.minutes_updated_at = now
    meeting.minutes_by_id = actor.id
    _mark_held(meeting, now)


def add_decisions(
    meeting: Meeting, actor: Any, member_ids: Iterable[Any], text: str, due_on: date | None
) -> list[Decision]:
    """Assign a decision to one or more invited members (one row each) with a deadline."""
    require_office(actor)
    require_open(meeting)
    errors: dict[str, str] = {}
    text = _check_text(errors, "text", text, _("议定事项"), required=True, limit=MAX_REASON)
    ids = _member_ids(errors, "member_ids", member_ids, required=False)
    if not ids and "member_ids" not in errors:
        errors["member_ids"] = _("请选择承办的成员单位。")
    elif set(ids) - set(meeting.member_ids):
        errors["member_ids"] = _("议定事项只能交办给受邀的成员单位。")
    if not isinstance(due_on, date):
        errors["due_on"] = _("请填写办理期限。")
    elif not 2000 <= due_on.year <= 2100:
        errors["due_on"] = _("请填写有效的日期。")
    elif meeting.starts_at is not None and due_on < meeting.starts_at.astimezone(LOCAL_TZ).date():
        errors["due_on"] = _("办理期限不能早于会议日期。")
    if errors:
        raise ValidationFailed(errors)
    decisions = []
    for member_id in ids:
        decision = Decision(member_id=member_id, text=text, due_on=due_on, created_by_id=actor.id)
        meeting.decisions.append(decision)
        decisions.append(decision)
    db.session.flush()
    body = "\n".join(
        [
            _("会议：%(title)s", title=meeting.title),
            _("事项：%(text)s", text=text),
            _("办理期限：%(day)s", day=due_on.isoformat()),
            "",
            _("办结后请登录门户标记办结并填写办理情况。"),
        ]
    )
    notify(
        member_staff(ids),
        _("议定事项交办：%(title)s", title=meeting.title),
        body,
        meeting_link(meeting),
    )
    return decisions


def get_decision(decision_id: int, user: Any) -> Decision:
    """A decision the user may see: the office, or its meeting's invited member staff."""
    decision = db.session.get(Decision, decision_id)
    if decision is None or not can_see(decision.meeting, user):
        raise NotFound(_("没有找到该议定事项。"))
    return decision


def complete_decision(decision: Decision, actor: Any, note: str) -> None:
    """The assigned member's staff (or the office) mark a decision done, saying how."""
    if not is_staff(actor) or not (actor.is_office or actor.member_id == decision.member_id):
        raise NotFound(_("没有找到该议定事项。"))
    if decision.status == "done":
        raise ServiceError(_("该事项已办结。"))
    errors: dict[str, str] = {}
    note = _check_text(errors, "note", note, _("办理情况"), required=True, limit=MAX_REASON)
    if errors:
        raise ValidationFailed(errors)
    decision.status = "done"
    decision.done_note = note
    decision.done_at = utcnow()
    decision.done_by_id = actor.id
    if not actor.is_office:
        notify(
            office_users(),
            _("议定事项已办结：%(member)s", member=decision.member.short_name),
            "\n".join(
                [
                    _("会议：%(title)s", title=decision.meeting.title),
                    _("事项：%(text)s", text=decision.text),
                    _("办理情况：%(note)s", note=note),
                ]
            ),
            meeting_link(decision.meeting),
        )


def reopen_decision(decision: Decision, actor: Any) -> None:
    """The office reopens a decision marked done (for instance, when the work is not finished)."""
    require_office(actor)
    if decision.status != "done":
        raise ServiceError(_("该事项尚未办结。"))
    decision.status = "open"
    decision.done_at = None
    decision.done_by_id = None


def decisions_query(user: Any) -> Select[tuple[Decision]]:
    """Decisions the user sees: all for the office, its own member's for member staff."""
    query = (
        select(Decision)
        .join(Decision.meeting)
        .options(selectinload(Decision.meeting), selectinload(Decision.member))
        .order_by(Decision.due_on, Decision.id)
    )
    if not is_staff(user):
        return query.where(false())
    if not user.is_office:
        query = query.where(Decision.member_id == user.member_id)
    return query


def overdue_decisions(user: Any = None, today: date | None = None) -> list[Decision]:
    """Open decisions past their deadline (all of them when ``user`` is None)."""
    today = today or today_local()
    query = decisions_query(user) if user is not None else decisions_query_all()
    return list(db.session.scalars(query.where(Decision.status == "open", Decision.due_on < today)))


def decisions_query_all() -> Select[tuple[Decision]]:
    return (
        select(Decision)
        .options(selectinload(Decision.meeting), selectinload(Decision.member))
        .order_by(Decision.due_on, Decision.id)
    )


def overdue_count(user: Any = None, today: date | None = None) -> int:
    """How many decisions are overdue (for a dashboard badge)."""
    return len(overdue_decisions(user, today))


# ---------------------------------------------------------------- weekly digest


def _decision_line(decision: Decision, today: date, with_member: bool) -> str:
    who = f"[{decision.member.short_name}] " if with_member else ""
    text = decision.text if len(decision.text) <= 120 else decision.text[:119] + "…"
    if decision.due_on < today:
        late = _(
            "期限 %(day)s，已逾期 %(days)s 天",
            day=decision.due_on.isoformat(),
            days=(today - decision.due_on).days,
        )
    else:
        late = _("期限 %(day)s", day=decision.due_on.isoformat())
    return f"  - {who}{text}（{late}；{_('会议：%(title)s', title=decision.meeting.title)}）"


def build_digest(today: date | None = None, member_id: int | None = None) -> str | None:
    """The weekly digest for the office (``member_id`` None) or for one member.

    Lists overdue decisions, decisions due within a week, meetings within a week (with the
    members that have not answered) and meetings still waiting for replies. None when a
    member has nothing to be told.
    """
    today = today or today_local()
    ahead = today + timedelta(days=DIGEST_AHEAD_DAYS)
    decisions = db.session.scalars(
        decisions_query_all().where(Decision.status == "open", Decision.due_on <= ahead)
    ).all()
    if member_id is not None:
        decisions = [d for d in decisions if d.member_id == member_id]
    overdue = [d for d in decisions if d.due_on < today]
    due_soon = [d for d in decisions if d.due_on >= today]
    start, end = local_dt(today, time(0)), local_dt(ahead + timedelta(days=1), time(0))
    meetings = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.status == "scheduled",
            Meeting.starts_at >= start.astimezone(UTC),
            Meeting.starts_at < end.astimezone(UTC),
        )
        .options(selectinload(Meeting.invitations).selectinload(MeetingInvitation.member))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    waiting = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.status.in_(("planning", "scheduled")),
            Meeting.starts_at.is_(None) | (Meeting.starts_at >= start.astimezone(UTC)),
        )
        .options(selectinload(Meeting.invitations).selectinload(MeetingInvitation.member))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    if member_id is not None:
        meetings = [m for m in meetings if m.invitation_for(member_id) is not None]
        waiting = [
            m
            for m in waiting
            if (i := m.invitation_for(member_id)) is not None and i.response == "pending"
        ]
    else:
        waiting = [m for m in waiting if any(i.response == "pending" for i in m.invitations)]
    with_member = member_id is None
    if member_id is not None and not (overdue or due_soon or meetings or waiting):
        return None
    lines = [_("联席会议与议定事项周报（%(day)s）", day=today.isoformat()), ""]
    lines.append(_("一、逾期未办结的议定事项（%(count)s 项）", count=len(overdue)))
    lines += [_decision_line(d, today, with_member) for d in overdue] or [_("  无")]
    lines.append("")
    lines.append(
        _(
            "二、%(days)s 天内到期的议定事项（%(count)s 项）",
            days=DIGEST_AHEAD_DAYS,
            count=len(due_soon),
        )
    )
    lines += [_decision_line(d, today, with_member) for d in due_soon] or [_("  无")]
    lines.append("")
    lines.append(
        _(
            "三、%(days)s 天内召开的会议（%(count)s 个）",
            days=DIGEST_AHEAD_DAYS,
            count=len(meetings),
        )
    )
    for m in meetings:
        line = f"  - {when_label(m.starts_at, m.ends_at)} {m.title}"
        if m.place_label:
            line += f"（{m.place_label}）"
        lines.append(line)
    if not meetings:
        lines.append(_("  无"))
    lines.append("")
    lines.append(_("四、尚未回复的会议通知（%(count)s 个）", count=len(waiting)))
    for m in waiting:
        line = f"  - {m.title}（{when_label(m.starts_at, m.ends_at)}）"
        if member_id is None:
            names = "、".join(i.member.short_name for i in m.invitations if i.response == "pending")
            line += _("：未回复 %(names)s", names=names)
        lines.append(line)
    if not waiting:
        lines.append(_("  无"))
    return "\n".join(lines)


def send_weekly_digest(today: date | None = None) -> int:
    """Send the weekly digest to the office and to each member with something to do.

    Returns how many users were notified. The caller commits (the CLI command does).
    """
    today = today or today_local()
    subject = _("联席会议周报（%(day)s）", day=today.isoformat())
    sent = 0
    body = build_digest(today)
    if body:
        sent += notify(office_users(), subject, body, "/meetings/decisions")
    for member in db.session.scalars(select(Member).order_by(Member.id)):
        member_body = build_digest(today, member.id)
        if member_body:
            sent += notify(member_staff([member.id]), subject, member_body, "/meetings/decisions")
    return sent
