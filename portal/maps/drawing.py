"""A map of stops and legs, laid out once and drawn as SVG (pages) or on a PDF page.

No tiles, no network: sites are placed by their coordinates with an equirectangular
projection (longitudes shrunk by the cosine of the middle latitude, which at this scale —
one prefecture — is as good as Mercator), joined in route order, each leg labelled with
its travel time, each stop coloured by its member, with a scale bar and a legend.
Pure functions: the words arrive translated, nothing reads the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

KM_PER_DEGREE = 111.32
NICE_KM = (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)
LEG_COLOUR = "#5a5a5a"
DECLINED_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class MapStop:
    """A mark: a site at a position in the route (``number`` 0 for an unnumbered site)."""

    site_id: int
    name: str
    lat: float
    lon: float
    colour: str
    number: int = 0
    highlight: bool = False
    declined: bool = False
    url: str = ""


@dataclass(frozen=True)
class MapLeg:
    """The way from stop ``start`` to stop ``end`` (indexes into the stops) and its label."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class MapSpec:
    stops: Sequence[MapStop]
    legs: Sequence[MapLeg] = ()
    title: str = ""
    legend: Sequence[tuple[str, str]] = ()  # (member, colour)
    scale_label: str = "%(km)s km"  # with %(km)s
    width: int = 640
    height: int = 440
    compact: bool = False  # a small map: smaller marks, no legend


@dataclass
class Layout:
    width: float
    height: float
    points: list[tuple[float, float]]
    scale_px: float  # the scale bar's length
    scale_km: float
    font: float
    radius: float
    labels: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, anchor
    leg_labels: list[tuple[float, float]] = field(default_factory=list)


Box = tuple[float, float, float, float]  # left, top, right, bottom


def _nice_km(max_km: float) -> float:
    fitting = [km for km in NICE_KM if km <= max_km]
    return fitting[-1] if fitting else NICE_KM[0]


def text_width(text: str, font: float) -> float:
    """About how wide ``text`` is: a CJK character is one em, anything else about half."""
    return sum(font if ord(ch) > 0x2E7F else font * 0.58 for ch in text)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(box: Box, width: float, height: float) -> bool:
    return box[0] >= 2 and box[1] >= 2 and box[2] <= width - 2 and box[3] <= height - 2


def _spread(points: list[list[float]], minimum: float, width: float, height: float) -> None:
    """Push marks apart until none covers another (sites a few hundred metres apart fall on
    one pixel at the scale of a whole route); each stays near its place."""
    for _round in range(80):
        moved = False
        for i in range(len(points)):
            for j in range(i + 1, len(points)):
                dx = points[j][0] - points[i][0]
                dy = points[j][1] - points[i][1]
                gap = math.hypot(dx, dy)
                if gap >= minimum:
                    continue
                if gap < 1e-6:  # the same place: fan out in a fixed direction per index
                    angle = 2.4 * j
                    dx, dy, gap = math.cos(angle), math.sin(angle), 1.0
                push = (minimum - gap) / 2 + 0.5
                ux, uy = dx / gap, dy / gap
                points[i][0] -= ux * push
                points[i][1] -= uy * push
                points[j][0] += ux * push
                points[j][1] += uy * push
                moved = True
        for point in points:
            point[0] = min(max(point[0], minimum), width - minimum)
            point[1] = min(max(point[1], minimum), height - minimum)
        if not moved:
            return


def _overlap_area(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _place(candidates: list[Box], taken: list[Box], width: float, height: float) -> int:
    """The first candidate box inside the map that overlaps nothing taken; else the one inside
    that overlaps least."""
    best, best_cost = 0, math.inf
    for index, box in enumerate(candidates):
        if not _inside(box, width, height):
            continue
        cost = sum(_overlap_area(box, t) for t in taken)
        if cost == 0:
            return index
        if cost < best_cost:
            best, best_cost = index, cost
    return best


def layout(spec: MapSpec, width: float | None = None, height: float | None = None) -> Layout:
    """Where each stop, name and leg label goes in a ``width`` × ``height`` box; the scale bar."""
    width = width or spec.width
    height = height or spec.height
    font = 11.0 if spec.compact else 13.0
    radius = 7.0 if spec.compact else 10.0
    pad = radius + 6
    pad_bottom = 30.0  # room for the scale bar
    if not spec.stops:
        return Layout(width, height, [], 0, 0, font, radius)
    lats = [s.lat for s in spec.stops]
    lons = [s.lon for s in spec.stops]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [lon * shrink for lon in lons]
    ys = [-lat for lat in lats]
    # At least about 300 m across: one site alone is not stretched over the whole box.
    span_x = max(max(xs) - min(xs), 0.003)
    span_y = max(max(ys) - min(ys), 0.003)
    # Room for names beside the marks: a fifth of the width on each side.
    usable_w = width - 2 * pad - width * 0.4
    usable_h = height - pad - pad_bottom - font
    scale = min(usable_w / span_x, usable_h / span_y)
    centre_x = (max(xs) + min(xs)) / 2
    centre_y = (max(ys) + min(ys)) / 2
    origin_x = width / 2
    origin_y = pad + font + usable_h / 2
    moving = [
        [origin_x + (x - centre_x) * scale, origin_y + (y - centre_y) * scale]
        for x, y in zip(xs, ys, strict=True)
    ]
    _spread(moving, radius * 2.5, width, height - pad_bottom + radius)
    points = [(x, y) for x, y in moving]
    km_per_px = KM_PER_DEGREE / scale
    scale_km = _nice_km(km_per_px * width * 0.3)
    lay = Layout(width, height, points, scale_km / km_per_px, scale_km, font, radius)
    # Names, then leg labels, each where it covers no mark and no other text.
    taken: list[Box] = [(x - radius, y - radius, x + radius, y + radius) for x, y in points]
    taken.append((0, height - pad_bottom + 4, width * 0.45, height))  # the scale bar
    if spec.legend and not spec.compact:
        widest = max(text_width(name, font - 2) for name, _c in spec.legend) + 24
        taken.append((width - widest, 0, width, 8 + len(spec.legend) * (font + 3)))
    for (x, y), stop in zip(points, spec.stops, strict=True):
        w = text_width(stop.name, font)
        gap = radius + 3
        options = [
            (x + gap, y + font * 0.35, "start"),
            (x - gap, y + font * 0.35, "end"),
            (x - w / 2, y - gap - 2, "start"),
            (x - w / 2, y + gap + font, "start"),
            (x + gap, y - gap, "start"),
            (x + gap, y + gap + font * 0.7, "start"),
            (x - gap, y - gap, "end"),
            (x - gap, y + gap + font * 0.7, "end"),
        ]
        boxes = [
            (
                lx - (w if anchor == "end" else 0),
                ly - font,
                lx + (0 if anchor == "end" else w),
                ly + 3,
            )
            for lx, ly, anchor in options
        ]
        chosen = _place(boxes, taken, width, height)
        lay.labels.append(options[chosen])
        taken.append(boxes[chosen])
    for leg in spec.legs:
        (x1, y1), (x2, y2) = points[leg.start], points[leg.end]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        w = text_width(leg.label, font - 1)
        options = []
        for along in (0.5, 0.35, 0.65, 0.2, 0.8):
            mx, my = x1 + (x2 - x1) * along, y1 + (y2 - y1) * along
            for side in (1, -1):
                for distance in (font * 0.9, font * 1.8, font * 2.8, font * 3.8):
                    options.append(
                        (mx + nx * distance * side, my + ny * distance * side + font * 0.35)
                    )
        boxes = [(lx - w / 2, ly - font + 1, lx + w / 2, ly + 3) for lx, ly in options]
        chosen = _place(boxes, taken, width, height)
        lay.leg_labels.append(options[chosen])
        taken.append(boxes[chosen])
    return lay


def _km_text(km: float) -> str:
    return f"{km:g}"


def render_svg(spec: MapSpec, *, css_class: str = "route-map") -> str:
    """The map as an inline ``<svg>`` (no style attributes: the CSP allows none)."""
    lay = layout(spec)
    w, h = lay.width, lay.height
    title = escape(spec.title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {w:g} {h:g}"'
        f' width="{w:g}" height="{h:g}" role="img" aria-label="{title}"'
        ' font-family="Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei,'
        ' sans-serif">',
        f"<title>{title}</title>",
        f'<rect class="map-background" x="0" y="0" width="{w:g}" height="{h:g}" fill="#f7f4ee"'
        ' stroke="#d8d0c0"/>',
    ]
    for leg in spec.legs:
        (x1, y1), (x2, y2) = lay.points[leg.start], lay.points[leg.end]
        out.append(
            f'<line class="leg" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
            f' stroke="{LEG_COLOUR}" stroke-width="2.5" stroke-linecap="round"/>'
        )
    for leg, (lx, ly) in zip(spec.legs, lay.leg_labels, strict=True):
        out.append(
            f'<text class="leg-label" x="{lx:.1f}" y="{ly:.1f}" font-size="{lay.font - 1:g}"'
            f' text-anchor="middle" fill="#333" stroke="#f7f4ee" stroke-width="3"'
            f' paint-order="stroke">{escape(leg.label)}</text>'
        )
    for index, stop in enumerate(spec.stops):
        x, y = lay.points[index]
        fill = DECLINED_COLOUR if stop.declined else stop.colour
        ring = (
            ' stroke="#111" stroke-width="3"'
            if stop.highlight
            else ' stroke="#fff" stroke-width="2"'
        )
        declined = ' data-declined="1"' if stop.declined else ""
        mark = (
            f'<g class="stop" data-site-id="{stop.site_id}"{declined}>'
            f"<title>{escape(stop.name)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{lay.radius:g}" fill="{fill}"{ring}/>'
        )
        if stop.number:
            mark += (
                f'<text x="{x:.1f}" y="{y + lay.font * 0.36:.1f}" font-size="{lay.font - 1:g}"'
                f' text-anchor="middle" fill="#fff" font-weight="bold">{stop.number}</text>'
            )
        lx, ly, anchor = lay.labels[index]
        mark += (
            f'<text class="stop-label" x="{lx:.1f}" y="{ly:.1f}" font-size="{lay.font:g}"'
            f' text-anchor="{anchor}" fill="#222" stroke="#f7f4ee" stroke-width="3"'
            f' paint-order="stroke">{escape(stop.name)}</text></g>'
        )
        if stop.url:
            mark = f'<a href="{escape(stop.url)}">{mark}</a>'
        out.append(mark)
    if lay.scale_px:
        sx, sy = 12.0, h - 14.0
        ex = sx + lay.scale_px
        label = escape(spec.scale_label % {"km": _km_text(lay.scale_km)})
        out.append(
            f'<g class="scale-bar"><path d="M{sx:.1f} {sy - 5:.1f}V{sy:.1f}H{ex:.1f}V{sy - 5:.1f}"'
            f' fill="none" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{ex + 5:.1f}" y="{sy:.1f}" font-size="{lay.font - 2:g}" fill="#333">'
            f"{label}</text></g>"
        )
    if spec.legend and not spec.compact:
        y = 16.0
        out.append('<g class="legend">')
        for member, colour in spec.legend:
            out.append(
                f'<circle cx="{w - 10:.1f}" cy="{y - 4:.1f}" r="5" fill="{colour}"/>'
                f'<text x="{w - 19:.1f}" y="{y:.1f}" font-size="{lay.font - 2:g}"'
                f' text-anchor="end" fill="#333">{escape(member)}</text>'
            )
            y += lay.font + 3
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    if len(value) != 6:
        return (90, 90, 90)
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def draw_on_pdf(pdf: Any, spec: MapSpec, x: float, y: float, width_mm: float) -> float:
    """Draw the map on an fpdf2 page at (x, y), ``width_mm`` wide; returns its height in mm.

    The same layout as the SVG, in millimetres (1 layout unit = width_mm / spec.width).
    The page's font (the CJK font) must already be set.
    """
    unit = width_mm / spec.width
    lay = layout(spec)
    height_mm = lay.height * unit

    def at(px: float, py: float) -> tuple[float, float]:
        return x + px * unit, y + py * unit

    pdf.set_fill_color(247, 244, 238)
    pdf.set_draw_color(216, 208, 192)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, width_mm, height_mm, style="DF")
    pdf.set_draw_color(*_rgb(LEG_COLOUR))
    pdf.set_line_width(2.5 * unit)
    for leg in spec.legs:
        pdf.line(*at(*lay.points[leg.start]), *at(*lay.points[leg.end]))
    size_pt = lambda px: px * unit / 0.3528  # noqa: E731  (layout px → points)
    pdf.set_text_color(51, 51, 51)
    pdf.set_font(size=size_pt(lay.font - 1))
    for leg, (lx, ly) in zip(spec.legs, lay.leg_labels, strict=True):
        text_w = pdf.get_string_width(leg.label)
        px, py = at(lx, ly)
        pdf.set_fill_color(247, 244, 238)
        pdf.rect(
            px - text_w / 2 - 0.4,
            py - size_pt(lay.font) * 0.3528 * 0.8,
            text_w + 0.8,
            size_pt(lay.font) * 0.3528,
            style="F",
        )
        pdf.text(px - text_w / 2, py, leg.label)
    r = lay.radius * unit
    for index, stop in enumerate(spec.stops):
        cx, cy = at(*lay.points[index])
        pdf.set_fill_color(*_rgb(DECLINED_COLOUR if stop.declined else stop.colour))
        pdf.set_draw_color(255, 255, 255)
        pdf.set_line_width(0.4)
        pdf.ellipse(cx - r, cy - r, 2 * r, 2 * r, style="DF")
        if stop.number:
            pdf.set_font(size=size_pt(lay.font - 2))
            pdf.set_text_color(255, 255, 255)
            label = str(stop.number)
            pdf.text(cx - pdf.get_string_width(label) / 2, cy + r * 0.4, label)
        pdf.set_font(size=size_pt(lay.font))
        pdf.set_text_color(34, 34, 34)
        lx, ly, anchor = lay.labels[index]
        px, py = at(lx, ly)
        if anchor == "end":
            px -= pdf.get_string_width(stop.name)
        pdf.text(px, py, stop.name)
    if lay.scale_px:
        sx, sy = at(12, lay.height - 14)
        ex = sx + lay.scale_px * unit
        pdf.set_draw_color(51, 51, 51)
        pdf.set_line_width(0.3)
        tick = 5 * unit
        pdf.line(sx, sy - tick, sx, sy)
        pdf.line(sx, sy, ex, sy)
        pdf.line(ex, sy, ex, sy - tick)
        pdf.set_font(size=size_pt(lay.font - 2))
        pdf.set_text_color(51, 51, 51)
        pdf.text(ex + 1.5, sy, spec.scale_label % {"km": _km_text(lay.scale_km)})
    if spec.legend and not spec.compact:
        pdf.set_font(size=size_pt(lay.font - 2))
        ly = 16.0
        for member, colour in spec.legend:
            cx, cy = at(lay.width - 10, ly - 4)
            pdf.set_fill_color(*_rgb(colour))
            pdf.ellipse(cx - 5 * unit, cy - 5 * unit, 10 * unit, 10 * unit, style="F")
            tx, ty = at(lay.width - 19, ly)
            pdf.set_text_color(51, 51, 51)
            pdf.text(tx - pdf.get_string_width(member), ty, member)
            ly += lay.font + 3
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.2)
    return height_mm
