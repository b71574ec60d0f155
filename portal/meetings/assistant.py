"""Finding a time: the scheduling assistant (free slots of the invited) and the time poll.

The assistant proposes slots in working hours (Asia/Shanghai) on weekdays, every 30
minutes, when no invited member is busy (their busy times and meetings) and the place is
free; the office may also put a few times to a poll, the members answer it, and the office
fixes one. The caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.services import require_office
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings.access import describe, notify_invited, own_invitation, require_open
from portal.meetings.models import (
    POLL_ANSWERS,
    Meeting,
    MeetingInvitation,
    MemberBusyTime,
    PollAnswer,
    PollSlot,
)
from portal.meetings.times import local_dt, overlaps, when_label
from portal.meetings.validation import MAX_DURATION, MIN_DURATION
from portal.scheduling.models import HOLDING, Reservation
from portal.timeutil import LOCAL_TZ, utcnow

MAX_POLL_SLOTS = 5
# The scheduling assistant: working hours (Asia/Shanghai), weekdays, a slot every 30 minutes.
DEFAULT_DAY_START = time(8, 30)
DEFAULT_DAY_END = time(17, 30)
STEP_MINUTES = 30
MAX_SUGGESTIONS = 5
MAX_RANGE_DAYS = 92
# Statuses in which a meeting takes its invited members' time.
TAKES_TIME = ("scheduled", "held")


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
