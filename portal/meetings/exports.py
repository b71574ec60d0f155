"""Exports of meetings: the record as text or Markdown and as PDF (agenda, attendance,
minutes, decisions), and the consortium's meeting calendar as iCalendar. No request.

The PDF is built by ``portal.pdf`` (as the class itinerary is); its texts and the
calendar's arrive translated, ``export_text`` writes its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from portal.meetings.models import Meeting
from portal.meetings.times import today_local, when_label
from portal.pdf import FontUnavailable, PdfSection, build_pdf
from portal.scheduling.calendars import _shanghai_vtimezone
from portal.timeutil import LOCAL_TZ

__all__ = ["FontUnavailable", "IcsEntry", "PdfSection", "build_ics", "build_pdf", "export_text"]


# ---------------------------------------------------------------- iCalendar


@dataclass(frozen=True)
class IcsEntry:
    """One meeting as a calendar event; times are aware datetimes (any zone)."""

    uid: str
    starts: datetime
    ends: datetime
    summary: str
    location: str
    description: str
    status: str  # CONFIRMED or CANCELLED
    sequence: int
    modified: datetime | None = None
    url: str = ""


def build_ics(entries: Iterable[IcsEntry], *, name: str, now: datetime | None = None) -> bytes:
    """An iCalendar feed that calendar apps subscribe to (refreshed hourly).

    Times carry TZID=Asia/Shanghai with its VTIMEZONE; UIDs come from the meeting ids, so
    every fetch gives the same UIDs, and SEQUENCE grows when a meeting moves or is cancelled.
    """
    import icalendar

    now = (now or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ring Route Portal//Meetings//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(timedelta(hours=1)))
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("dtstart", entry.starts.astimezone(LOCAL_TZ))
        event.add("dtend", entry.ends.astimezone(LOCAL_TZ))
        event.add("summary", entry.summary)
        if entry.location:
            event.add("location", entry.location)
        event.add("description", entry.description)
        event.add("status", entry.status)
        event.add("sequence", entry.sequence)
        if entry.modified is not None:
            event.add("last-modified", entry.modified.astimezone(UTC))
        if entry.url:
            event.add("url", entry.url)
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    else:  # icalendar < 6.1
        cal.add_component(_shanghai_vtimezone(icalendar))
    return cal.to_ical()


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
