"""Exports of meetings: the record as PDF and as Word (agenda, attendance, minutes,
decisions), as text or Markdown (``export_text``), and the consortium's meeting calendar
as iCalendar. No request.

The PDF is built by ``portal.pdf`` (as the class itinerary is), the Word document from the
same sections with python-docx. Texts arrive translated; ``export_text`` writes its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from portal.meetings.models import Meeting
from portal.meetings.times import today_local, when_label
from portal.pdf import FontUnavailable, PdfSection, build_pdf
from portal.scheduling.calendars import _shanghai_vtimezone
from portal.timeutil import LOCAL_TZ

__all__ = [
    "FontUnavailable",
    "IcsEntry",
    "PdfSection",
    "build_docx",
    "build_ics",
    "build_pdf",
    "export_text",
]

# The Chinese font Word uses for the document (any Windows or WPS install has it).
DOCX_FONT = "宋体"
DOCX_HEADING_FONT = "黑体"


# ---------------------------------------------------------------- Word


def _chinese_font(run_or_style, name: str) -> None:
    from docx.oxml.ns import qn

    run_or_style.font.name = name
    properties = run_or_style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def build_docx(
    *,
    title: str,
    facts: Sequence[tuple[str, str]],
    sections: Sequence[PdfSection],
    footer: str,
) -> bytes:
    """The same record as the PDF, as a Word document the office can edit and file."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    document = Document()
    normal = document.styles["Normal"]
    _chinese_font(normal, DOCX_FONT)
    normal.font.size = Pt(11)
    for level in (1, 2):
        style = document.styles[f"Heading {level}"]
        _chinese_font(style, DOCX_HEADING_FONT)
        style.font.color.rgb = RGBColor(0x8B, 0x1A, 0x1A)
    heading = document.add_heading(title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    facts_table = document.add_table(rows=0, cols=2)
    for label, value in facts:
        cells = facts_table.add_row().cells
        cells[0].text = label
        cells[1].text = value
    for section in sections:
        document.add_heading(section.heading, level=2)
        for paragraph in section.paragraphs:
            for line in paragraph.split("\n\n"):
                document.add_paragraph(line)
        if len(section.table) > 1:
            table = document.add_table(rows=0, cols=len(section.table[0]))
            table.style = "Table Grid"
            for index, row in enumerate(section.table):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=False):
                    cell.text = str(value)
                    if index == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        elif not section.paragraphs and section.empty:
            document.add_paragraph(section.empty)
    closing = document.add_paragraph(footer)
    closing.runs[0].font.size = Pt(9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


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
    # One decision assigned to several members is one row per member; the record lists it
    # once, naming every member (and each one's state where they differ).
    groups: dict[tuple[str, Any], list[Any]] = {}
    for decision in meeting.decisions:
        groups.setdefault((decision.text, decision.due_on), []).append(decision)
    for number, ((text, due_on), decisions) in enumerate(groups.items(), 1):
        states = [_("已逾期") if d.overdue_on(today) else d.status_label for d in decisions]
        names = [d.member.short_name for d in decisions]
        if len(set(states)) == 1:
            state = states[0]
        else:
            state = "、".join(f"{name}{s}" for name, s in zip(names, states, strict=True))
        line = _(
            "%(number)s. %(text)s（承办单位：%(member)s；办理期限：%(day)s；%(state)s）",
            number=number,
            text=text,
            member="、".join(names),
            day=due_on.isoformat(),
            state=state,
        )
        lines.append(line)
        for decision in decisions:
            if decision.done_note:
                note = decision.done_note
                if len(decisions) > 1:
                    note = f"{decision.member.short_name}：{note}"
                lines.append("   " + _("办理情况：%(note)s", note=note))
    if not meeting.decisions:
        lines.append(_("（暂无议定事项）"))
    return "\n".join(lines) + "\n"
