"""QR codes as inline SVG (segno): shown in pages and printed sheets, no image request needed."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(data: str, scale: int = 3, title: str = "") -> Markup:
    """An <svg> of ``data`` (error correction M), safe to put in a template."""
    code = segno.make(data, error="m")
    svg = code.svg_inline(scale=scale, border=2, title=title or None, svgclass="qr-code")
    return Markup(svg)  # noqa: S704  (segno's own markup; the data is escaped in it)
