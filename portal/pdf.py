"""PDF documents in Chinese: the CJK font Debian installs, embedded (subset) so any reader shows it.

Used for the class itinerary and a meeting's record. Texts arrive translated; nothing here
reads the database or the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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


@dataclass(frozen=True)
class PdfSection:
    """A heading, then paragraphs, then (optionally) a table whose first row is its header."""

    heading: str
    paragraphs: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()
    widths: Sequence[float] = ()
    empty: str = ""


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
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=10.5)
    for label, value in facts:
        pdf.set_text_color(90, 90, 90)
        pdf.cell(24, 6.5, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 6.5, value, new_x="LMARGIN", new_y="NEXT")
    heading_style = FontFace(fill_color=(244, 230, 228))
    for section in sections:
        pdf.ln(3)
        if pdf.will_page_break(24):
            pdf.add_page()
        pdf.set_font("cjk", size=12.5)
        pdf.set_text_color(139, 26, 26)
        pdf.cell(0, 9, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=10.5)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 6.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        if len(section.table) > 1:
            pdf.set_font("cjk", size=9.5)
            with pdf.table(
                col_widths=tuple(section.widths) or None,
                headings_style=heading_style,
                line_height=5.5,
                padding=1.5,
                text_align="LEFT",
                first_row_as_headings=True,
                repeat_headings=1,
            ) as table:
                for row in section.table:
                    table.row([str(cell) for cell in row])
        elif not section.paragraphs and section.empty:
            pdf.set_text_color(110, 110, 110)
            pdf.multi_cell(0, 6.5, section.empty, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
