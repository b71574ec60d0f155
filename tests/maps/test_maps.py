"""Maps drawn on the server: one mark per stop, one label per leg, members in their colours."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from portal.extensions import db
from portal.maps import drawing
from portal.maps import services as maps
from portal.scheduling.booking import book, decide
from portal.scheduling.fitting import travel_minutes
from portal.scheduling.settings import all_settings
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, template, user

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def stops_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "stop"]


def leg_labels(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "leg-label"]


def legs(root: ET.Element) -> list[ET.Element]:
    return [line for line in root.iter(f"{SVG}line") if line.get("class") == "leg"]


def test_layout_keeps_north_up_and_east_right():
    spec = drawing.MapSpec(
        stops=[
            drawing.MapStop(1, "西", 25.0, 98.5, "#111111", 1),
            drawing.MapStop(2, "东", 25.0, 99.2, "#222222", 2),
            drawing.MapStop(3, "北", 25.3, 98.9, "#333333", 3),
        ],
        legs=[drawing.MapLeg(0, 1, "a"), drawing.MapLeg(1, 2, "b")],
    )
    lay = drawing.layout(spec)
    (wx, wy), (ex, ey), (nx, ny) = lay.points
    assert wx < nx < ex and ny < wy and wy == pytest.approx(ey)
    # The scale bar: its length in pixels is its kilometres at the map's scale.
    km_per_px = drawing.KM_PER_DEGREE * 0.7 * 0.9063 / (ex - wx)
    assert lay.scale_km == pytest.approx(lay.scale_px * km_per_px, rel=0.01)
    for x, y in lay.points:
        assert 0 < x < spec.width and 0 < y < spec.height


def test_marks_of_sites_next_door_do_not_cover_each_other():
    spec = drawing.MapSpec(
        stops=[
            drawing.MapStop(i, f"站{i}", 25.0 + i * 0.0001, 99.0, "#111111", i + 1)
            for i in range(4)
        ]
        + [drawing.MapStop(9, "远处", 24.5, 98.5, "#222222", 5)]
    )
    lay = drawing.layout(spec)
    for i, (x1, y1) in enumerate(lay.points):
        for x2, y2 in lay.points[i + 1 :]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= lay.radius * 2


@pytest.mark.db
def test_a_template_map_has_one_mark_per_stop_and_one_label_per_leg(demo):
    route = template("三点一线五日精品环线")
    spec = maps.template_map(route)
    root = parse(drawing.render_svg(spec))
    sites = [s.site for s in route.stops if s.site is not None]
    expected_stops = [s for i, s in enumerate(sites) if i == 0 or sites[i - 1].id != s.id]
    marks = stops_of(root)
    assert [int(g.get("data-site-id")) for g in marks] == [s.id for s in expected_stops]
    # Numbered in route order, each in its member's colour.
    numbers = [
        next(t.text for t in g.iter(f"{SVG}text") if t.get("class") != "stop-label") for g in marks
    ]
    assert numbers == [str(n) for n in range(1, len(marks) + 1)]
    colours = {g.find(f"{SVG}circle").get("fill") for g in marks}
    assert colours == {maps.member_colour(s.member) for s in expected_stops}
    assert len(colours) == 4  # the five-day route crosses all four members
    # One line and one label per leg, the label being the portal's own travel estimate.
    settings = all_settings()
    expected = [
        f"约 {travel_minutes(a, b, settings)} 分钟"
        for a, b in zip(expected_stops, expected_stops[1:], strict=False)
    ]
    assert leg_labels(root) == expected and len(legs(root)) == len(expected)
    # A legend of the members, a scale bar in kilometres.
    assert root.find(f".//{SVG}g[@class='scale-bar']") is not None
    assert re.search(r">\d+(\.\d+)? 公里<", drawing.render_svg(spec))
    assert "松山基地" in drawing.render_svg(spec)


@pytest.mark.db
def test_a_class_map_greys_a_declined_stop_and_routes_around_it(demo):
    day = future_weekday(3)
    booking = book(
        new_class(20),
        [
            stop("main_hall", at(day, 9), 90, index=0),
            stop("heshun_library", at(day, 14), 60, index=1),
            stop("guoshang_cemetery", at(day, 16), 60, index=2),
        ],
        user("organizer"),
    )
    db.session.commit()
    heshun = next(r for r in booking.reservations if r.site.key == "heshun_library")
    decide(heshun, user("tengchong_college_staff"), confirm=False, reason="闭馆")
    db.session.commit()
    root = parse(drawing.render_svg(maps.class_map(booking.training_class)))
    marks = stops_of(root)
    assert len(marks) == 3
    declined = [g for g in marks if g.get("data-declined") == "1"]
    assert [int(g.get("data-site-id")) for g in declined] == [heshun.site_id]
    labels = leg_labels(root)
    minutes = travel_minutes(site("main_hall"), site("guoshang_cemetery"), all_settings())
    assert labels == [f"约 {minutes} 分钟"]  # main hall → 国殇墓园, not via the declined stop


@pytest.mark.db
def test_pages_show_the_maps_and_navigation(demo, client):
    route = template("三点一线五日精品环线")
    page = client.get(f"/routes/{route.id}").get_data(as_text=True)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="route-map"') == 1
    assert "线路图" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>")[0]

    songshan = site("battlefield")
    page = client.get(f"/sites/{songshan.id}").get_data(as_text=True)
    root = parse(re.search(r"<svg .*?</svg>", page, re.S).group(0))
    marks = stops_of(root)
    assert int(marks[0].get("data-site-id")) == songshan.id
    assert len(leg_labels(root)) == len(marks) - 1 >= 3  # one leg to each neighbour
    assert "uri.amap.com/marker" in page and "api.map.baidu.com/marker" in page
    assert "（24.8049, 98.8623）" not in page

    booking_day = future_weekday(2)
    booking = book(new_class(20), [stop("main_hall", at(booking_day, 9), 90)], user("organizer"))
    db.session.commit()
    login(client, "organizer")
    page = client.get(f"/classes/{booking.class_id}").get_data(as_text=True)
    assert "行程路线图" in page and 'class="stop"' in page
