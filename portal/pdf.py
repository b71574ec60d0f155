"""PDF documents in Chinese: the CJK font Debian installs, embedded (subset) so any reader shows it.

Used for the class itinerary and a meeting's record. Texts arrive translated; nothing here
reads the database or the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# Fonts with Chinese glyphs that Debian installs, in order of preference: (path, face).
# The face of a collection (.ttc) is found by name when None (Simplified Chinese first).
DEFAULT_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)


@dataclass(frozen=True)
class FontChoice:
    path: str
    face: int = 0


def find_font(configured: str | Sequence[str] | None = None) -> FontChoice | None:
    """The first readable font among ``configured`` (a path or several), else the defaults.

    A configured path that does not exist is not silently replaced by another font: it
    gives None, so the deployment learns that its setting is wrong.
    """
    if configured:
        candidates = (configured,) if isinstance(configured, str | Path) else tuple(configured)
    else:
        candidates = DEFAULT_FONT_PATHS
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return FontChoice(str(path), collection_face(str(path)))
    return None


@lru_cache(maxsize=16)
def collection_face(path: str) -> int:
    """In a font collection, the face for Simplified Chinese (by its name); 0 otherwise."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    try:
        from fontTools.ttLib import TTCollection

        collection = TTCollection(path, lazy=True)
        names = [font["name"].getDebugName(1) or "" for font in collection.fonts]
    except Exception:  # an unreadable collection: let the PDF step report it
        return 0
    for preferred in (" SC", "Zen Hei", "Micro Hei"):
        for index, family in enumerate(names):
            if preferred in family and "Mono" not in family:
                return index
    return 0


class FontUnavailable(Exception):
    """The Chinese font cannot be used for the PDF (missing or unreadable)."""


# ---------------------------------------------------------------- Chinese line breaking

# Characters that may not begin a line (closing brackets, pause and stop marks …) and that
# may not end one (opening brackets), after the Chinese layout rules (W3C clreq, GB/T 15834).
NO_LINE_START = frozenset("、，。．：；？！）〕］｝〉》」』】〙〗〟’”｠…‥々〻ー・,.:;!?)]}%")
NO_LINE_END = frozenset("（〔［｛〈《「『【〘〖〝‘“｟([{")
_UNBREAKABLE = re.compile(r"[0-9A-Za-z@#&+\-/.:%_\u2013~'’]+")


def _units(text: str) -> list[str]:
    """Pieces a line may break between: a run of Latin letters, digits and the marks inside
    times, dates and numbers ("09:00–12:00", "0875-2120000") is one piece; any other
    character is one; a mark that may not start a line sticks to the piece before it, a
    mark that may not end one to the piece after it."""
    pieces: list[str] = []
    index = 0
    while index < len(text):
        found = _UNBREAKABLE.match(text, index)
        if found:
            pieces.append(found.group(0))
            index = found.end()
        else:
            pieces.append(text[index])
            index += 1
    units: list[str] = []
    carry = ""
    for piece in pieces:
        if carry:
            piece, carry = carry + piece, ""
        if piece[-1] in NO_LINE_END:
            carry = piece
            continue
        if units and piece[0] in NO_LINE_START and not piece.isspace():
            units[-1] += piece
        else:
            units.append(piece)
    if carry:
        units.append(carry)
    return units


def wrap_text(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` in lines no wider than ``width`` (as ``measure`` says), broken only where
    Chinese typesetting allows; a piece wider than a whole line is cut where it must."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for unit in _units(paragraph):
            if measure(line + unit) <= width:
                line += unit
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = unit.lstrip()
            while measure(line) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and measure(line[:cut]) > width:
                    cut -= 1
                # Even a forced cut leaves no closing mark at a line's start, no opening one
                # at its end.
                while cut > 1 and (line[cut] in NO_LINE_START or line[cut - 1] in NO_LINE_END):
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class PdfSection:
    """A heading, then paragraphs, then (optionally) a table whose first row is its header,
    or a figure (a map: ``portal.maps.drawing.MapSpec``) ``figure_width`` mm wide."""

    heading: str
    paragraphs: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()
    widths: Sequence[float] = ()
    empty: str = ""
    figure: Any = None
    figure_width: float = 120
    muted_rows: Sequence[int] = ()  # rows of the table (0: its header) printed in grey


def build_pdf(
    *,
    title: str,
    facts: Sequence[tuple[str, str]],
    sections: Sequence[PdfSection],
    footer: str,
    page_label: str,
    font: FontChoice,
) -> bytes:
    """An A4 PDF; ``page_label`` contains ``{page}`` for the page number."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("cjk", size=8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 6, footer, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 6, page_label.format(page=self.page_no()), align="R")

    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(title)
    pdf.set_creator("Ring Route Portal")
    try:
        pdf.add_font("cjk", "", font.path, collection_font_number=font.face)
    except Exception as exc:
        raise FontUnavailable(str(exc)) from exc
    pdf.add_page()
    width = pdf.epw

    def wrapped(text: str, cell_width: float) -> str:
        return "\n".join(wrap_text(text, cell_width - 0.6, pdf.get_string_width))

    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 10, wrapped(title, width), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=10.5)
    for label, value in facts:
        pdf.set_text_color(90, 90, 90)
        pdf.cell(24, 6.5, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 6.5, wrapped(value, width - 24), new_x="LMARGIN", new_y="NEXT")
    heading_style = FontFace(fill_color=(244, 230, 228))
    muted_style = FontFace(color=(120, 120, 120), fill_color=(240, 240, 240))
    padding = 1.5
    for section in sections:
        pdf.ln(3)
        # A heading stays with what follows it: the table's header and first rows.
        if pdf.will_page_break(42 if len(section.table) > 1 else 24):
            pdf.add_page()
        pdf.set_font("cjk", size=12.5)
        pdf.set_text_color(139, 26, 26)
        if section.heading:
            pdf.cell(0, 9, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=10.5)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 6.5, wrapped(paragraph, width), new_x="LMARGIN", new_y="NEXT")
        if section.figure is not None:
            from portal.maps.drawing import draw_on_pdf

            figure_height = section.figure.height * section.figure_width / section.figure.width
            if pdf.will_page_break(figure_height + 2):
                pdf.add_page()
            top = pdf.get_y()
            draw_on_pdf(pdf, section.figure, pdf.l_margin, top, section.figure_width)
            pdf.set_font("cjk", size=10.5)
            pdf.set_xy(pdf.l_margin, top + figure_height + 2)
        if len(section.table) > 1:
            pdf.set_font("cjk", size=9.5)
            ratios = tuple(section.widths) or (1,) * len(section.table[0])
            columns = [width * r / sum(ratios) for r in ratios]
            with pdf.table(
                col_widths=tuple(columns),
                width=width,
                headings_style=heading_style,
                line_height=5.5,
                padding=padding,
                text_align="LEFT",
                first_row_as_headings=True,
                repeat_headings=1,
            ) as table:
                for index, row in enumerate(section.table):
                    style = muted_style if index in section.muted_rows else None
                    cells = table.row()
                    for cell, column in zip(row, columns, strict=False):
                        cells.cell(wrapped(str(cell), column - 2 * padding), style=style)
        elif not section.paragraphs and section.figure is None and section.empty:
            pdf.set_text_color(110, 110, 110)
            pdf.multi_cell(0, 6.5, wrapped(section.empty, width), new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
