"""Certificates as PDF: one A4 page each, in Chinese (the embedded CJK font of portal.pdf),
with the serial and a QR code (segno, drawn as vector squares) to the verification page."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import segno

from portal.certificates.models import Certificate
from portal.pdf import FontChoice, FontUnavailable, wrap_text
from portal.timeutil import LOCAL_TZ

RED = (170, 20, 20)


def _qr(pdf, data: str, x: float, y: float, size: float) -> None:
    code = segno.make(data, error="m")
    matrix = [list(row) for row in code.matrix]
    cell = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + c * cell, y + r * cell, cell, cell, style="F")


def certificates_pdf(
    certificates: Sequence[Certificate],
    *,
    verify_url: Callable[[str], str],
    texts: dict[str, str],
    font: FontChoice,
) -> bytes:
    """The certificates, one A4 page each. ``texts`` holds the translated wording:
    ``title``, ``body`` (with {name} {dates} {klass} {hours}), ``one_day`` (with {start}) or
    ``days`` (with {start} {end}) for {dates}, ``issuer``,
    ``date`` (with {date}), ``serial`` (with {serial}), ``scan``."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(texts["title"])
    pdf.set_creator("Ring Route Portal")
    try:
        pdf.add_font("cjk", "", font.path, collection_font_number=font.face)
    except Exception as exc:
        raise FontUnavailable(str(exc)) from exc
    for certificate in certificates:
        klass = certificate.training_class
        pdf.add_page()
        pdf.set_draw_color(*RED)
        pdf.set_line_width(1.2)
        pdf.rect(12, 12, 186, 273)
        pdf.set_line_width(0.4)
        pdf.rect(15, 15, 180, 267)
        pdf.set_text_color(*RED)
        pdf.set_font("cjk", size=34)
        pdf.set_xy(15, 48)
        pdf.cell(180, 18, texts["title"], align="C")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=16)
        start = f"{klass.starts_on.year}年{klass.starts_on.month}月{klass.starts_on.day}日"
        end = f"{klass.ends_on.year}年{klass.ends_on.month}月{klass.ends_on.day}日"
        dates = (
            texts["one_day"].format(start=start)
            if klass.starts_on == klass.ends_on
            else texts["days"].format(start=start, end=end)
        )
        body = texts["body"].format(
            name=certificate.name, dates=dates, klass=klass.name, hours=certificate.hours
        )
        pdf.set_xy(32, 95)
        for paragraph in body.split("\n"):
            lines = wrap_text(paragraph, 146 - 2 * pdf.c_margin - 0.6, pdf.get_string_width)
            pdf.set_x(32)
            pdf.multi_cell(146, 11, "\n".join(lines), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=15)
        pdf.set_xy(100, 200)
        pdf.cell(80, 9, texts["issuer"], align="C")
        issued = certificate.issued_at.astimezone(LOCAL_TZ)
        pdf.set_xy(100, 210)
        pdf.cell(
            80,
            9,
            texts["date"].format(date=f"{issued.year}年{issued.month}月{issued.day}日"),
            align="C",
        )
        _qr(pdf, verify_url(certificate.serial), 28, 232, 32)
        pdf.set_font("cjk", size=10)
        pdf.set_xy(64, 240)
        pdf.cell(120, 6, texts["serial"].format(serial=certificate.serial))
        pdf.set_xy(64, 248)
        pdf.set_text_color(100, 100, 100)
        pdf.cell(120, 6, texts["scan"])
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
