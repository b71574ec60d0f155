"""Who sees which meeting, the lists and calendar of the meetings a user sees, who is told.

* only the office (环线办) calls, edits and cancels meetings, puts times to a poll, fixes
  the time, reminds, records attendance, writes minutes and assigns decisions;
* a member's staff see only the meetings their member is invited to (any other meeting
  is NotFound, shown as 404), reply and answer the poll for their own member only, mark
  their own member's decisions done and keep their member's busy times;
* organizers, trainees and the public see nothing of meetings.

Changes are not committed by the meeting rules: the caller commits, so a change and its
notices (``notify``) are saved together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, false, select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.errors import NotFound, ServiceError
from portal.extensions import db
from portal.meetings.models import Meeting, MeetingInvitation
from portal.meetings.times import local_dt, when_label
from portal.notifications.services import member_staff, notify
from portal.timeutil import utcnow

# ---------------------------------------------------------------- who sees what


def is_staff(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and (user.is_office or user.is_member_user)
    )


def visible_meetings(user: Any) -> Select[tuple[Meeting]]:
    """Meetings ``user`` may see: all for the office, the invited ones for member staff."""
    query = select(Meeting)
    if not is_staff(user):
        return query.where(false())
    if user.is_office:
        return query
    invited = select(MeetingInvitation.meeting_id).where(
        MeetingInvitation.member_id == user.member_id
    )
    return query.where(Meeting.id.in_(invited))


def can_see(meeting: Meeting, user: Any) -> bool:
    if not is_staff(user):
        return False
    return user.is_office or meeting.invitation_for(user.member_id) is not None


def get_meeting(meeting_id: int, user: Any) -> Meeting:
    """The meeting if ``user`` may see it; NotFound otherwise (the id leaks nothing)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can_see(meeting, user):
        raise NotFound(_("没有找到该会议。"))
    return meeting


def own_invitation(meeting: Meeting, user: Any) -> MeetingInvitation:
    """The invitation of ``user``'s own member; NotFound unless member staff of an invitee."""
    if not is_staff(user) or not user.is_member_user:
        raise NotFound(_("没有找到该会议。"))
    invitation = meeting.invitation_for(user.member_id)
    if invitation is None:
        raise NotFound(_("没有找到该会议。"))
    return invitation


def meeting_link(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}"


def office_users() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.role == "office", User.active.is_(True)))
    )


def describe(meeting: Meeting) -> str:
    """The body of a notice about a meeting: what, when, where, agenda."""
    lines = [
        _("会议：%(title)s", title=meeting.title),
        _("类型：%(kind)s", kind=meeting.kind_label),
        _("时间：%(when)s", when=when_label(meeting.starts_at, meeting.ends_at)),
    ]
    if meeting.place_label:
        lines.append(_("地点：%(place)s", place=meeting.place_label))
    if meeting.online_url:
        lines.append(_("线上会议：%(url)s", url=meeting.online_url))
    if meeting.agenda:
        lines.append(_("议程："))
        for number, item in enumerate(meeting.agenda, 1):
            presenter = f"（{item.presenter.short_name}）" if item.presenter else ""
            lines.append(f"  {number}. {item.title}{presenter}")
    return "\n".join(lines)


def notify_invited(meeting: Meeting, subject: str, body: str = "", member_ids=None) -> int:
    ids = meeting.member_ids if member_ids is None else member_ids
    return notify(member_staff(ids), subject, body or describe(meeting), meeting_link(meeting))


def require_open(meeting: Meeting) -> None:
    if meeting.status == "cancelled":
        raise ServiceError(_("该会议已取消。"))


# ---------------------------------------------------------------- lists and calendar


def meetings_for(user: Any, *, upcoming: bool | None = None) -> list[Meeting]:
    """Meetings the user sees: still to come (or undated), or past, or all; soonest first."""
    query = visible_meetings(user).options(
        selectinload(Meeting.invitations).selectinload(MeetingInvitation.member),
        selectinload(Meeting.site),
    )
    now = utcnow()
    if upcoming is True:
        query = query.where(
            Meeting.status.in_(("planning", "scheduled")),
            (Meeting.ends_at.is_(None)) | (Meeting.ends_at >= now - timedelta(hours=12)),
        ).order_by(Meeting.starts_at.is_(None), Meeting.starts_at, Meeting.id)
    elif upcoming is False:
        query = query.where(
            (Meeting.status.in_(("held", "cancelled")))
            | (Meeting.ends_at < now - timedelta(hours=12))
        ).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    else:
        query = query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    return list(db.session.scalars(query))


def pending_replies(user: Any) -> list[Meeting]:
    """Meetings the user's member has not answered yet (for member staff)."""
    if not is_staff(user) or not user.is_member_user:
        return []
    return [
        m
        for m in meetings_for(user, upcoming=True)
        if (i := m.invitation_for(user.member_id)) is not None and i.response == "pending"
    ]


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return local_dt(first, time(0)).astimezone(UTC), local_dt(following, time(0)).astimezone(UTC)


def meetings_between(user: Any, start: datetime, end: datetime) -> list[Meeting]:
    """Dated meetings the user sees that overlap [start, end), in time order."""
    query = (
        visible_meetings(user)
        .where(Meeting.starts_at.is_not(None), Meeting.starts_at < end, Meeting.ends_at > start)
        .options(selectinload(Meeting.site))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(db.session.scalars(query))
