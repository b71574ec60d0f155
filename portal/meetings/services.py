"""Joint meetings: calling them, replies, the scheduling assistant, the time poll, minutes, decisions.

Who may do what (every function takes the acting user):

* only the office (环线办) calls, edits and cancels meetings, puts times to a poll, fixes
  the time, reminds, records attendance, writes minutes and assigns decisions;
* a member's staff see only the meetings their member is invited to (any other meeting
  is NotFound, shown as 404), reply and answer the poll for their own member only, mark
  their own member's decisions done and keep their member's busy times;
* organizers, trainees and the public see nothing of meetings.

Changes are not committed here: the caller commits, so a change and its notices
(``notify``) are saved together. Times are stored in UTC and shown in Asia/Shanghai.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, false, select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.catalog.services import clean_text, require_office
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.models import (
    MEETING_KINDS,
    POLL_ANSWERS,
    AgendaItem,
    Decision,
    Meeting,
    MeetingInvitation,
    MemberBusyTime,
    PollAnswer,
    PollSlot,
)
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import HOLDING, Reservation
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ, utcnow

MAX_TEXT = 5000
MAX_MINUTES_TEXT = 50000
MAX_NAMES = 500
MAX_REASON = 2000
MAX_POLL_SLOTS = 5
# The scheduling assistant: working hours (Asia/Shanghai), weekdays, a slot every 30 minutes.
DEFAULT_DAY_START = time(8, 30)
DEFAULT_DAY_END = time(17, 30)
STEP_MINUTES = 30
MAX_SUGGESTIONS = 5
MAX_RANGE_DAYS = 92
MIN_DURATION, MAX_DURATION = 15, 720
# How far a busy period may reach.
MAX_BUSY_DAYS = 366
# The weekly digest looks this far ahead for decisions falling due and meetings.
DIGEST_AHEAD_DAYS = 7
# Statuses in which a meeting takes its invited members' time.
TAKES_TIME = ("scheduled", "held")
_NAME_SEPARATORS = re.compile(r"[,，、;；\n\r]+")


# ---------------------------------------------------------------- time helpers


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def local_dt(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ)


def weekday_label(day: date) -> str:
    return str(WEEKDAY_LABELS[day.isoweekday()])


def when_label(starts_at: datetime | None, ends_at: datetime | None = None) -> str:
    """ "2026-11-25（周三）09:00–11:00" in Asia/Shanghai; "待定" without a time."""
    if starts_at is None:
        return _("时间待定")
    starts = starts_at.astimezone(LOCAL_TZ)
    text = f"{starts:%Y-%m-%d}（{weekday_label(starts.date())}）{starts:%H:%M}"
    if ends_at is not None:
        ends = ends_at.astimezone(LOCAL_TZ)
        text += f"–{ends:%H:%M}" if ends.date() == starts.date() else f" – {ends:%Y-%m-%d %H:%M}"
    return text


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


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


# ---------------------------------------------------------------- validation helpers


def _clean_names(value: Any) -> str:
    """Names as users write them ("张三,李四；王五") joined by "、"."""
    parts = [p.strip() for p in _NAME_SEPARATORS.split(str(value or "")) if p.strip()]
    return "、".join(parts)


def _check_text(
    errors: dict[str, str], field: str, value: Any, label: str, *, required: bool, limit: int
) -> str:
    values = {field: value}
    clean_text(errors, values, field, label, required=required, limit=limit)
    return values[field] if isinstance(values[field], str) else ""


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip()) if len(value.strip()) <= 9 else None
    return None


def _member_ids(errors: dict[str, str], field: str, raw: Any, *, required: bool) -> list[int]:
    ids = []
    for value in raw or []:
        number = _int_or_none(value)
        if number is None:
            errors[field] = _("所选成员单位无效。")
            return []
        ids.append(number)
    ids = sorted(set(ids))
    if not ids:
        if required:
            errors[field] = _("请至少邀请一个成员单位。")
        return []
    found = set(db.session.scalars(select(Member.id).where(Member.id.in_(ids))))
    if found != set(ids):
        errors[field] = _("所选成员单位无效。")
    return ids


def validate_meeting(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a meeting's values; raise ValidationFailed naming every bad field.

    ``day``, ``start_time`` and ``end_time`` are Asia/Shanghai; all empty means the time is
    still to be found (the assistant and the poll), and ``duration_minutes`` is then needed.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["title"] = _check_text(
        errors, "title", values.get("title"), _("会议名称"), required=True, limit=128
    )
    kind = values.get("kind") or "joint"
    if kind not in MEETING_KINDS:
        errors["kind"] = _("请选择会议类型。")
    out["kind"] = kind
    out["description"] = _check_text(
        errors,
        "description",
        values.get("description") or "",
        _("会议说明"),
        required=False,
        limit=MAX_TEXT,
    )
    out["place_text"] = _check_text(
        errors,
        "place_text",
        values.get("place_text") or "",
        _("会议室或地点"),
        required=False,
        limit=256,
    )
    url = _check_text(
        errors,
        "online_url",
        values.get("online_url") or "",
        _("线上会议链接"),
        required=False,
        limit=512,
    )
    if url and "online_url" not in errors and not re.fullmatch(r"https?://\S+", url):
        errors["online_url"] = _("线上会议链接须以 http:// 或 https:// 开头，且不含空格。")
    out["online_url"] = url
    site_id = _int_or_none(values.get("site_id")) if values.get("site_id") else None
    out["site"] = None
    if values.get("site_id") and not site_id:
        errors["site_id"] = _("所选教学点不存在或已退出。")
    elif site_id:
        site = db.session.get(TeachingSite, site_id)
        if site is None or site.status == "retired":
            errors["site_id"] = _("所选教学点不存在或已退出。")
        out["site"] = site
    if not (site_id or out["place_text"] or out["online_url"]) and not {
        "site_id",
        "place_text",
        "online_url",
    } & set(errors):
        errors["place_text"] = _("请填写会议地点（教学点或会议室），或线上会议链接。")

    day, start, end = values.get("day"), values.get("start_time"), values.get("end_time")
    out["starts_at"] = out["ends_at"] = None
    if day is None and (start is not None or end is not None):
        errors["day"] = _("请填写会议日期。")
    elif day is not None:
        if not isinstance(day, date) or not 2000 <= day.year <= 2100:
            errors["day"] = _("请填写有效的日期。")
        if start is None:
            errors["start_time"] = _("请填写开始时间。")
        if end is None:
            errors["end_time"] = _("请填写结束时间。")
        elif start is not None and end <= start:
            errors["end_time"] = _("结束时间须晚于开始时间。")
        if not {"day", "start_time", "end_time"} & set(errors):
            out["starts_at"] = local_dt(day, start).astimezone(UTC)
            out["ends_at"] = local_dt(day, end).astimezone(UTC)
    duration = values.get("duration_minutes")
    if out["starts_at"] is not None:
        duration = int((out["ends_at"] - out["starts_at"]).total_seconds() // 60)
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not MIN_DURATION <= duration <= MAX_DURATION
    ):
        errors["duration_minutes"] = _(
            "会议时长须在 %(low)s 到 %(high)s 分钟之间。", low=MIN_DURATION, high=MAX_DURATION
        )
    out["duration_minutes"] = duration
    out["member_ids"] = _member_ids(errors, "member_ids", values.get("member_ids"), required=True)
    if errors:
        raise ValidationFailed(errors)
    return out


# ---------------------------------------------------------------- calling a meeting


def create_meeting(actor: Any, values: dict[str, Any]) -> Meeting:
    """The office calls a meeting and invites members (who are notified). The caller commits."""
    require_office(actor)
    clean = validate_meeting(values)
    meeting = Meeting(
        title=clean["title"],
        kind=clean["kind"],
        description=clean["description"],
        site=clean["site"],
        place_text=clean["place_text"],
        online_url=clean["online_url"],
        duration_minutes=clean["duration_minutes"],
        starts_at=clean["starts_at"],
        ends_at=clean["ends_at"],
        status="scheduled" if clean["starts_at"] is not None else "planning",
        created_by_id=actor.id,
    )
    for member_id in clean["member_ids"]:
        meeting.invitations.append(MeetingInvitation(member_id=member_id))
    db.session.add(meeting)
    db.session.flush()
    notify_invited(
        meeting,
        _("会议通知：%(title)s", title=meeting.title),
        describe(meeting) + "\n\n" + _("请登录门户回复参会人员或请假原因。"),
    )
    return meeting


def require_open(meeting: Meeting) -> None:
    if meeting.status == "cancelled":
        raise ServiceError(_("该会议已取消。"))


def update_meeting(meeting: Meeting, actor: Any, values: dict[str, Any]) -> bool:
    """The office edits a meeting; newly invited members and, when the time moves, everyone
    invited are notified. Returns whether anything changed. The caller commits."""
    require_office(actor)
    require_open(meeting)
    clean = validate_meeting(values)
    old_ids = set(meeting.member_ids)
    new_ids = set(clean["member_ids"])
    removed = old_ids - new_ids
    keep = {d.member_id for d in meeting.decisions} | {
        a.presenter_member_id for a in meeting.agenda if a.presenter_member_id
    }
    if removed & keep:
        raise ValidationFailed(
            {"member_ids": _("有议程或议定事项的成员单位不能取消邀请，请先删除相应议程或事项。")}
        )
    changed = False
    for field in ("title", "kind", "description", "place_text", "online_url", "duration_minutes"):
        if getattr(meeting, field) != clean[field]:
            setattr(meeting, field, clean[field])
            changed = True
    if meeting.site_id != (clean["site"].id if clean["site"] else None):
        meeting.site = clean["site"]
        changed = True
    for invitation in list(meeting.invitations):
        if invitation.member_id in removed:
            meeting.invitations.remove(invitation)
            changed = True
    for slot in meeting.slots:
        for answer in [a for a in slot.answers if a.member_id in removed]:
            slot.answers.remove(answer)
    for member_id in sorted(new_ids - old_ids):
        meeting.invitations.append(MeetingInvitation(member_id=member_id))
        changed = True
    moved = (meeting.starts_at, meeting.ends_at) != (clean["starts_at"], clean["ends_at"])
    if moved:
        meeting.starts_at, meeting.ends_at = clean["starts_at"], clean["ends_at"]
        meeting.sequence += 1
        if meeting.status in ("planning", "scheduled"):
            meeting.status = "scheduled" if meeting.starts_at is not None else "planning"
        changed = True
    db.session.flush()
    if new_ids - old_ids:
        notify_invited(
            meeting,
            _("会议通知：%(title)s", title=meeting.title),
            describe(meeting) + "\n\n" + _("请登录门户回复参会人员或请假原因。"),
            member_ids=sorted(new_ids - old_ids),
        )
    if moved and meeting.starts_at is not None:
        notify_invited(
            meeting,
            _("会议时间变更：%(title)s", title=meeting.title),
            member_ids=sorted(old_ids & new_ids),
        )
    return changed


def cancel_meeting(meeting: Meeting, actor: Any, reason: str) -> None:
    """The office cancels a meeting with a reason; the invited members are told."""
    require_office(actor)
    require_open(meeting)
    if meeting.status == "held":
        raise ServiceError(_("已召开的会议不能取消。"))
    errors: dict[str, str] = {}
    reason = _check_text(errors, "reason", reason, _("取消原因"), required=True, limit=MAX_REASON)
    if errors:
        raise ValidationFailed(errors)
    meeting.status = "cancelled"
    meeting.cancel_reason = reason
    meeting.sequence += 1
    notify_invited(
        meeting,
        _("会议取消：%(title)s", title=meeting.title),
        describe(meeting) + "\n\n" + _("取消原因：%(reason)s", reason=reason),
    )


# ---------------------------------------------------------------- agenda


def add_agenda_item(
    meeting: Meeting, actor: Any, title: str, presenter_member_id: Any = None, note: str = ""
) -> AgendaItem:
    """Append an item to the agenda, presented by an invited member (or the office)."""
    require_office(actor)
    require_open(meeting)
    errors: dict[str, str] = {}
    title = _check_text(errors, "title", title, _("议题"), required=True, limit=256)
    note = _check_text(errors, "note", note or "", _("说明"), required=False, limit=MAX_TEXT)
    presenter = _int_or_none(presenter_member_id) if presenter_member_id else None
    if presenter_member_id and (presenter is None or presenter not in meeting.member_ids):
        errors["presenter_member_id"] = _("汇报单位须是受邀的成员单位。")
    if errors:
        raise ValidationFailed(errors)
    position = max((a.position for a in meeting.agenda), default=0) + 1
    item = AgendaItem(title=title, presenter_member_id=presenter, note=note, position=position)
    meeting.agenda.append(item)
    db.session.flush()
    return item


def remove_agenda_item(item: AgendaItem, actor: Any) -> None:
    require_office(actor)
    require_open(item.meeting)
    item.meeting.agenda.remove(item)


def move_agenda_item(item: AgendaItem, actor: Any, step: int) -> None:
    """Move an agenda item one place up (-1) or down (+1)."""
    require_office(actor)
    items = list(item.meeting.agenda)
    index = items.index(item)
    other = index + (1 if step > 0 else -1)
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for position, entry in enumerate(items, 1):
        entry.position = position


# ---------------------------------------------------------------- replies and reminders


def reply(
    meeting: Meeting, actor: Any, response: str, attendees: str = "", reason: str = ""
) -> MeetingInvitation:
    """A member's staff answer for their own member: ``attend`` with the names of who comes,
    or ``decline`` with the reason."""
    invitation = own_invitation(meeting, actor)
    require_open(meeting)
    if meeting.status == "held":
        raise ServiceError(_("会议已召开，不能再修改回复。"))
    errors: dict[str, str] = {}
    if response not in ("attend", "decline"):
        raise ValidationFailed({"response": _("请选择出席或请假。")})
    if response == "attend":
        names = _clean_names(
            _check_text(
                errors, "attendees", attendees or "", _("参会人员"), required=True, limit=MAX_NAMES
            )
        )
        if not names and "attendees" not in errors:
            errors["attendees"] = _("请填写参会人员。")
        if errors:
            raise ValidationFailed(errors)
        invitation.response, invitation.attendees, invitation.decline_reason = "attend", names, ""
    else:
        reason = _check_text(
            errors, "reason", reason or "", _("请假原因"), required=True, limit=MAX_REASON
        )
        if errors:
            raise ValidationFailed(errors)
        invitation.response, invitation.attendees, invitation.decline_reason = "decline", "", reason
    invitation.replied_at = utcnow()
    invitation.replied_by_id = actor.id
    return invitation


def remind(meeting: Meeting, actor: Any) -> list[MeetingInvitation]:
    """Remind the members that have not answered (inbox and e-mail); returns their invitations."""
    require_office(actor)
    require_open(meeting)
    if meeting.status == "held":
        raise ServiceError(_("会议已召开，无需提醒。"))
    waiting = [i for i in meeting.invitations if i.response == "pending"]
    if not waiting:
        raise ServiceError(_("所有受邀单位都已回复。"))
    now = utcnow()
    for invitation in waiting:
        invitation.reminded_at = now
        invitation.remind_count += 1
    notify_invited(
        meeting,
        _("请回复会议通知：%(title)s", title=meeting.title),
        describe(meeting)
        + "\n\n"
        + _("贵单位尚未回复参会情况，请登录门户填写参会人员或请假原因。"),
        member_ids=[i.member_id for i in waiting],
    )
    return waiting


def reply_counts(meeting: Meeting) -> dict[str, int]:
    counts = {"pending": 0, "attend": 0, "decline": 0}
    for invitation in meeting.invitations:
        counts[invitation.response] = counts.get(invitation.response, 0) + 1
    return counts


# ---------------------------------------------------------------- scheduling assistant


@dataclass(frozen=True)
class Slot:
    """A candidate time; ``busy_members`` names the invited members busy then."""

    starts_at: datetime  # UTC
    ends_at: datetime
    busy_members: tuple[str, ...] = ()
    place_busy: bool = False

    @property
    def local_starts(self) -> datetime:
        return self.starts_at.astimezone(LOCAL_TZ)

    @property
    def local_ends(self) -> datetime:
        return self.ends_at.astimezone(LOCAL_TZ)

    @property
    def label(self) -> str:
        return when_label(self.starts_at, self.ends_at)

    @property
    def value(self) -> str:
        """The slot's start as a form value: ISO 8601 in Asia/Shanghai."""
        return self.local_starts.isoformat(timespec="minutes")

    @property
    def all_free(self) -> bool:
        return not self.busy_members and not self.place_busy


@dataclass(frozen=True)
class Suggestions:
    slots: list[Slot]
    all_free: bool
    message: str


def _busy_by_member(
    meeting: Meeting, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Busy periods of each invited member: declared busy times and its other meetings."""
    ids = meeting.member_ids
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for entry in db.session.scalars(
        select(MemberBusyTime).where(
            MemberBusyTime.member_id.in_(ids),
            MemberBusyTime.starts_at < end,
            MemberBusyTime.ends_at > start,
        )
    ):
        busy[entry.member_id].append((entry.starts_at, entry.ends_at))
    others = db.session.execute(
        select(MeetingInvitation.member_id, Meeting.starts_at, Meeting.ends_at)
        .join(Meeting, Meeting.id == MeetingInvitation.meeting_id)
        .where(
            MeetingInvitation.member_id.in_(ids),
            MeetingInvitation.response != "decline",
            Meeting.id != meeting.id,
            Meeting.status.in_(TAKES_TIME),
            Meeting.starts_at < end,
            Meeting.ends_at > start,
        )
    )
    for member_id, other_start, other_end in others:
        busy[member_id].append((other_start, other_end))
    return busy


def _place_busy(
    meeting: Meeting, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """When the chosen teaching site is taken: held reservations and other meetings there."""
    if meeting.site_id is None:
        return []
    rows = list(
        db.session.execute(
            select(Reservation.starts_at, Reservation.ends_at).where(
                Reservation.site_id == meeting.site_id,
                Reservation.status.in_(HOLDING),
                Reservation.starts_at < end,
                Reservation.ends_at > start,
            )
        )
    )
    rows += list(
        db.session.execute(
            select(Meeting.starts_at, Meeting.ends_at).where(
                Meeting.site_id == meeting.site_id,
                Meeting.id != meeting.id,
                Meeting.status.in_(TAKES_TIME),
                Meeting.starts_at < end,
                Meeting.ends_at > start,
            )
        )
    )
    return [(a, b) for a, b in rows]


def validate_search(values: dict[str, Any]) -> dict[str, Any]:
    """The assistant's search: a date range, a duration and the working hours."""
    errors: dict[str, str] = {}
    first, last = values.get("first_day"), values.get("last_day")
    if not isinstance(first, date):
        errors["first_day"] = _("请填写开始日期。")
    if not isinstance(last, date):
        errors["last_day"] = _("请填写结束日期。")
    elif isinstance(first, date):
        if last < first:
            errors["last_day"] = _("结束日期不能早于开始日期。")
        elif (last - first).days >= MAX_RANGE_DAYS:
            errors["last_day"] = _("日期范围不能超过 %(days)s 天。", days=MAX_RANGE_DAYS)
    for field in ("first_day", "last_day"):
        day = values.get(field)
        if isinstance(day, date) and not 2000 <= day.year <= 2100 and field not in errors:
            errors[field] = _("请填写有效的日期。")
    minutes = values.get("minutes")
    if (
        not isinstance(minutes, int)
        or isinstance(minutes, bool)
        or not MIN_DURATION <= minutes <= MAX_DURATION
    ):
        errors["minutes"] = _(
            "会议时长须在 %(low)s 到 %(high)s 分钟之间。", low=MIN_DURATION, high=MAX_DURATION
        )
    day_start = values.get("day_start") or DEFAULT_DAY_START
    day_end = values.get("day_end") or DEFAULT_DAY_END
    if not isinstance(day_start, time):
        errors["day_start"] = _("请填写有效的时间，如 08:30。")
    if not isinstance(day_end, time):
        errors["day_end"] = _("请填写有效的时间，如 17:30。")
    elif isinstance(day_start, time) and day_end <= day_start:
        errors["day_end"] = _("工作时间的结束须晚于开始。")
    elif isinstance(day_start, time) and "minutes" not in errors:
        span = (
            datetime.combine(date.min, day_end) - datetime.combine(date.min, day_start)
        ).total_seconds() / 60
        if span < minutes:
            errors["minutes"] = _("会议时长超过了每天的工作时间。")
    if errors:
        raise ValidationFailed(errors)
    return {
        "first_day": first,
        "last_day": last,
        "minutes": minutes,
        "day_start": day_start,
        "day_end": day_end,
    }


def candidate_starts(
    first: date, last: date, minutes: int, day_start: time, day_end: time, after: datetime
) -> list[datetime]:
    """Every start on weekdays, each 30 minutes, where the meeting fits the working hours."""
    starts = []
    day = first
    while day <= last:
        if day.isoweekday() <= 5:
            at = local_dt(day, day_start)
            close = local_dt(day, day_end)
            while at + timedelta(minutes=minutes) <= close:
                if at >= after:
                    starts.append(at.astimezone(UTC))
                at += timedelta(minutes=STEP_MINUTES)
        day += timedelta(days=1)
    return starts


def suggest_times(
    meeting: Meeting,
    actor: Any,
    values: dict[str, Any],
    *,
    now: datetime | None = None,
    limit: int = MAX_SUGGESTIONS,
) -> Suggestions:
    """Times when every invited member is free and the place has no held reservation.

    Up to ``limit`` slots, earliest first. When there is none, says so and proposes the
    slots where the fewest members are busy (the place being free first), naming them.
    """
    require_office(actor)
    search = validate_search(values)
    minutes = search["minutes"]
    now = now or utcnow()
    starts = candidate_starts(
        search["first_day"],
        search["last_day"],
        minutes,
        search["day_start"],
        search["day_end"],
        now,
    )
    if not starts:
        return Suggestions(
            [],
            False,
            _(
                "所选日期范围内没有可安排的时间（仅周一至周五 %(start)s–%(end)s，且须晚于现在）。",
                start=search["day_start"].strftime("%H:%M"),
                end=search["day_end"].strftime("%H:%M"),
            ),
        )
    window_start, window_end = starts[0], starts[-1] + timedelta(minutes=minutes)
    busy = _busy_by_member(meeting, window_start, window_end)
    place = _place_busy(meeting, window_start, window_end)
    names = {i.member_id: i.member.short_name for i in meeting.invitations}
    slots = []
    for start in starts:
        end = start + timedelta(minutes=minutes)
        who = tuple(
            names[m]
            for m in sorted(names)
            if any(overlaps(start, end, a, b) for a, b in busy.get(m, ()))
        )
        place_taken = any(overlaps(start, end, a, b) for a, b in place)
        slots.append(Slot(start, end, who, place_taken))
    free = [s for s in slots if s.all_free]
    if free:
        return Suggestions(
            free[:limit],
            True,
            _("以下时间所有受邀成员单位都有空，会议地点也未被占用。")
            if meeting.site_id
            else _("以下时间所有受邀成员单位都有空。"),
        )
    ranked = sorted(slots, key=lambda s: (s.place_busy, len(s.busy_members), s.starts_at))
    return Suggestions(
        ranked[:limit],
        False,
        _("没有所有成员都空闲的时间。以下是不便参加的成员单位最少的时间，供参考："),
    )


# ---------------------------------------------------------------- time poll


def parse_slot_value(value: str) -> datetime | None:
    """A form's slot value (ISO 8601 local time) as an aware UTC datetime, or None."""
    if not isinstance(value, str) or len(value) > 40 or "\x00" in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if not 2000 <= parsed.year <= 2100:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)


def require_planning(meeting: Meeting) -> None:
    require_open(meeting)
    if meeting.status != "planning":
        raise ServiceError(_("会议时间已确定，不能再征询时间。"))


def add_poll_slots(
    meeting: Meeting, actor: Any, starts: Sequence[datetime], *, now: datetime | None = None
) -> list[PollSlot]:
    """Put candidate times (at most five in all) to the invited members, who are notified."""
    require_office(actor)
    require_planning(meeting)
    now = now or utcnow()
    wanted = sorted({s.astimezone(UTC) for s in starts if s is not None})
    if not wanted:
        raise ValidationFailed({"slots": _("请至少选择一个候选时间。")})
    if any(s <= now for s in wanted):
        raise ValidationFailed({"slots": _("候选时间须晚于现在。")})
    existing = {s.starts_at for s in meeting.slots}
    new = [s for s in wanted if s not in existing]
    if not new:
        raise ValidationFailed({"slots": _("所选时间已在征询中。")})
    if len(existing) + len(new) > MAX_POLL_SLOTS:
        raise ValidationFailed(
            {"slots": _("时间征询最多 %(count)s 个候选时间。", count=MAX_POLL_SLOTS)}
        )
    added = []
    for start in new:
        slot = PollSlot(
            starts_at=start, ends_at=start + timedelta(minutes=meeting.duration_minutes)
        )
        meeting.slots.append(slot)
        added.append(slot)
    db.session.flush()
    lines = [_("候选时间：")] + [f"  {when_label(s.starts_at, s.ends_at)}" for s in meeting.slots]
    notify_invited(
        meeting,
        _("请回复会议时间征询：%(title)s", title=meeting.title),
        describe(meeting)
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _("请登录门户对每个候选时间选择可以、不行或待定。"),
    )
    return added


def remove_poll_slot(slot: PollSlot, actor: Any) -> None:
    require_office(actor)
    require_planning(slot.meeting)
    slot.meeting.slots.remove(slot)


def answer_poll(meeting: Meeting, actor: Any, answers: dict[Any, Any]) -> list[PollAnswer]:
    """A member's staff answer every candidate time for their own member: yes, no or maybe."""
    invitation = own_invitation(meeting, actor)
    require_planning(meeting)
    if not meeting.slots:
        raise ServiceError(_("该会议没有征询中的时间。"))
    by_id = {str(k): v for k, v in answers.items()}
    errors: dict[str, str] = {}
    chosen = {}
    for slot in meeting.slots:
        answer = by_id.get(str(slot.id))
        if answer not in POLL_ANSWERS:
            errors[f"slot-{slot.id}"] = _(
                "请为 %(when)s 选择可以、不行或待定。",
                when=when_label(slot.starts_at, slot.ends_at),
            )
        chosen[slot.id] = answer
    if errors:
        raise ValidationFailed(errors)
    saved = []
    now = utcnow()
    for slot in meeting.slots:
        found = next((a for a in slot.answers if a.member_id == invitation.member_id), None)
        if found is None:
            found = PollAnswer(member_id=invitation.member_id)
            slot.answers.append(found)
        found.answer = chosen[slot.id]
        found.answered_by_id = actor.id
        found.answered_at = now
        saved.append(found)
    db.session.flush()
    return saved


def fix_time(meeting: Meeting, actor: Any, slot: PollSlot) -> None:
    """The office fixes one candidate as the meeting's time; every invited member is told."""
    require_office(actor)
    require_planning(meeting)
    if slot.meeting_id != meeting.id:
        raise NotFound(_("没有找到该候选时间。"))
    meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
    meeting.status = "scheduled"
    meeting.sequence += 1
    notify_invited(
        meeting,
        _("会议时间已确定：%(title)s", title=meeting.title),
        describe(meeting) + "\n\n" + _("请登录门户回复参会人员或请假原因。"),
    )


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


# ---------------------------------------------------------------- busy times


def can_edit_busy(user: Any, member_id: int) -> bool:
    return bool(is_staff(user) and user.is_member_user and user.member_id == member_id)


def add_busy_time(actor: Any, values: dict[str, Any]) -> MemberBusyTime:
    """Member staff declare a busy period of their own member.

    ``starts_on``/``ends_on`` are dates and ``starts_time``/``ends_time`` optional times in
    Asia/Shanghai; without times the period covers the whole days.
    """
    if not is_staff(actor) or not actor.is_member_user:
        raise ServiceError(_("只有成员单位工作人员可以登记本单位的忙碌时间。"))
    errors: dict[str, str] = {}
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on") or values.get("starts_on")
    starts_time, ends_time = values.get("starts_time"), values.get("ends_time")
    if not isinstance(starts_on, date) or not 2000 <= starts_on.year <= 2100:
        errors["starts_on"] = _("请填写开始日期。")
    if not isinstance(ends_on, date) or not 2000 <= ends_on.year <= 2100:
        errors["ends_on"] = _("请填写有效的结束日期。")
    note = _check_text(
        errors, "note", values.get("note") or "", _("事由"), required=False, limit=256
    )
    if errors:
        raise ValidationFailed(errors)
    starts_at = local_dt(starts_on, starts_time or time(0))
    ends_at = (
        local_dt(ends_on, ends_time)
        if ends_time is not None
        else local_dt(ends_on + timedelta(days=1), time(0))
    )
    if ends_at <= starts_at:
        errors["ends_time" if ends_time is not None else "ends_on"] = _("结束时间须晚于开始时间。")
    elif ends_at - starts_at > timedelta(days=MAX_BUSY_DAYS):
        errors["ends_on"] = _("一次登记不能超过 %(days)s 天。", days=MAX_BUSY_DAYS)
    if errors:
        raise ValidationFailed(errors)
    entry = MemberBusyTime(
        member_id=actor.member_id,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        note=note,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def remove_busy_time(entry_id: int, actor: Any) -> None:
    entry = db.session.get(MemberBusyTime, entry_id)
    if entry is None or not can_edit_busy(actor, entry.member_id):
        raise NotFound(_("没有找到该条忙碌时间。"))
    db.session.delete(entry)


def busy_times(user: Any, *, after: datetime | None = None) -> list[MemberBusyTime]:
    """Busy periods the user sees: their own member's, or every member's for the office."""
    if not is_staff(user):
        return []
    query = (
        select(MemberBusyTime)
        .options(selectinload(MemberBusyTime.member))
        .order_by(MemberBusyTime.starts_at, MemberBusyTime.id)
    )
    if not user.is_office:
        query = query.where(MemberBusyTime.member_id == user.member_id)
    if after is not None:
        query = query.where(MemberBusyTime.ends_at > after)
    return list(db.session.scalars(query))


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


# ---------------------------------------------------------------- text export


def export_text(meeting: Meeting, markdown: bool = False) -> str:
    """The meeting as plain text (or Markdown) that pastes cleanly into Word."""

    def heading(number: str, text: str) -> str:
        return f"## {number}{text}" if markdown else f"{number}{text}"

    bullet = "- " if markdown else ""
    lines = [f"# {meeting.title}" if markdown else meeting.title, ""]
    facts = [
        (_("会议类型"), meeting.kind_label),
        (_("会议时间"), when_label(meeting.starts_at, meeting.ends_at)),
        (_("会议地点"), meeting.place_label or "—"),
    ]
    if meeting.online_url:
        facts.append((_("线上会议"), meeting.online_url))
    facts.append((_("会议状态"), meeting.status_label))
    for label, value in facts:
        lines.append(f"{bullet}{label}：{value}")
    if meeting.description:
        lines += ["", meeting.description]
    lines += ["", heading(_("一、"), _("议程")), ""]
    for number, item in enumerate(meeting.agenda, 1):
        presenter = item.presenter.short_name if item.presenter else _("环线办")
        lines.append(f"{number}. {item.title}（{_('汇报单位')}：{presenter}）")
        if item.note:
            lines.append(f"   {item.note}")
    if not meeting.agenda:
        lines.append(_("（暂无议程）"))
    lines += ["", heading(_("二、"), _("出席情况")), ""]
    for invitation in meeting.invitations:
        if invitation.attendance:
            state = invitation.attendance_label
            names = invitation.attended_names
        else:
            state = invitation.response_label
            names = invitation.attendees or invitation.decline_reason
        lines.append(
            f"{bullet}{invitation.member.name}：{state}" + (f"（{names}）" if names else "")
        )
    lines += ["", heading(_("三、"), _("会议纪要")), ""]
    lines.append(meeting.minutes or _("（尚未填写）"))
    lines += ["", heading(_("四、"), _("议定事项")), ""]
    today = today_local()
    for number, decision in enumerate(meeting.decisions, 1):
        state = decision.status_label
        if decision.overdue_on(today):
            state = _("已逾期")
        line = _(
            "%(number)s. %(text)s（承办单位：%(member)s；办理期限：%(day)s；%(state)s）",
            number=number,
            text=decision.text,
            member=decision.member.short_name,
            day=decision.due_on.isoformat(),
            state=state,
        )
        lines.append(line)
        if decision.done_note:
            lines.append("   " + _("办理情况：%(note)s", note=decision.done_note))
    if not meeting.decisions:
        lines.append(_("（暂无议定事项）"))
    return "\n".join(lines) + "\n"
