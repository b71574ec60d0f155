"""Coordinates: WGS-84 stored, GCJ-02 for 高德 and BD-09 for 百度, checked on reference points."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portal.maps import geo

# Reference values published with the coordTransform algorithm (its README's examples,
# the same as the widely used JavaScript version): 天安门 area, Beijing.
BEIJING_WGS = (39.915, 116.404)
BEIJING_GCJ = (39.91640428150164, 116.41024449916938)
# gcj02 → bd09 of the point (116.404, 39.915) taken as GCJ-02.
BEIJING_AS_GCJ_TO_BD = (39.92133699351021, 116.41036949371029)


def test_wgs84_to_gcj02_reference_point():
    found = geo.wgs84_to_gcj02(*BEIJING_WGS)
    assert found.lat == pytest.approx(BEIJING_GCJ[0], abs=1e-9)
    assert found.lon == pytest.approx(BEIJING_GCJ[1], abs=1e-9)


def test_bd09_is_gcj02_shifted_again():
    import coordTransform

    lon, lat = coordTransform.gcj02_to_bd09(BEIJING_WGS[1], BEIJING_WGS[0])
    assert (lat, lon) == pytest.approx(BEIJING_AS_GCJ_TO_BD, abs=1e-9)
    bd = geo.wgs84_to_bd09(*BEIJING_WGS)
    gcj = geo.wgs84_to_gcj02(*BEIJING_WGS)
    expected_lon, expected_lat = coordTransform.gcj02_to_bd09(gcj.lon, gcj.lat)
    assert (bd.lat, bd.lon) == pytest.approx((expected_lat, expected_lon), abs=1e-12)


def test_offsets_in_china_are_hundreds_of_metres_and_invert():
    # 松山战役遗址 (龙陵), as stored.
    wgs = geo.LatLon(24.8049, 98.8623)
    gcj = geo.wgs84_to_gcj02(wgs.lat, wgs.lon)
    offset_m = geo.distance_km(wgs, gcj) * 1000
    assert 100 < offset_m < 800
    back = geo.gcj02_to_wgs84(gcj.lat, gcj.lon)
    assert geo.distance_km(wgs, back) * 1000 < 5
    bd = geo.wgs84_to_bd09(wgs.lat, wgs.lon)
    assert geo.distance_km(gcj, bd) * 1000 > 300  # BD-09 is another shift on top


def test_outside_china_nothing_moves():
    paris = geo.wgs84_to_gcj02(48.8566, 2.3522)
    assert (paris.lat, paris.lon) == (48.8566, 2.3522)


def test_navigation_links_carry_the_converted_coordinates():
    links = {link.app: link.url for link in geo.navigation_links(24.8049, 98.8623, "松山战役遗址")}
    gcj = geo.wgs84_to_gcj02(24.8049, 98.8623)
    bd = geo.wgs84_to_bd09(24.8049, 98.8623)
    amap = parse_qs(urlsplit(links["amap"]).query)
    assert urlsplit(links["amap"]).netloc == "uri.amap.com"
    assert amap["position"] == [f"{gcj.lon:.6f},{gcj.lat:.6f}"] and amap["name"] == ["松山战役遗址"]
    baidu = parse_qs(urlsplit(links["baidu"]).query)
    assert baidu["location"] == [f"{bd.lat:.6f},{bd.lon:.6f}"]
    assert baidu["coord_type"] == ["bd09ll"]
    assert links["geo"].startswith("geo:24.804900,98.862300")
