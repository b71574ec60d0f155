"""Exports of meetings: the record as PDF and as Word (agenda, attendance, minutes,
decisions) and the consortium's meeting calendar as iCalendar. Pure functions: no database,
no request.

The PDF is built by ``portal.pdf`` (as the class itinerary is), the Word document from the
same sections with python-docx. Texts arrive translated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.pdf import FontUnavailable, PdfSection, build_pdf
from portal.scheduling.calendars import _shanghai_vtimezone
from portal.timeutil import LOCAL_TZ

__all__ = ["FontUnavailable", "IcsEntry", "PdfSection", "build_docx", "build_ics", "build_pdf"]

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
