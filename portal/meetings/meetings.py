"""Calling a meeting (create, edit, cancel), its agenda, the members' replies and reminders.

Only the office calls, edits and cancels; member staff reply for their own member. The
caller commits.
"""

from __future__ import annotations

import re
from datetime import UTC, date
from typing import Any

from flask_babel import gettext as _

from portal.catalog.models import TeachingSite
from portal.catalog.services import require_office
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.access import describe, notify_invited, own_invitation, require_open
from portal.meetings.models import MEETING_KINDS, AgendaItem, Meeting, MeetingInvitation
from portal.meetings.times import local_dt
from portal.meetings.validation import (
    MAX_DURATION,
    MAX_NAMES,
    MAX_REASON,
    MAX_TEXT,
    MIN_DURATION,
    _check_text,
    _clean_names,
    _int_or_none,
    _member_ids,
)
from portal.timeutil import utcnow


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
