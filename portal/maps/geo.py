"""Coordinates: the datum the portal stores (WGS-84), the ones Chinese map apps use, links to them.

Sites store WGS-84 latitude and longitude (what GPS, OpenStreetMap and the plugins' specs
give). Chinese map apps do not: 高德 (AutoNavi) and Tencent take GCJ-02, 百度 takes BD-09,
both offset from WGS-84 by a few hundred metres in mainland China. Sending WGS-84 to them
puts the pin in the wrong street, so links convert first, with the ``coordTransform``
package (its published reference values are checked in tests/maps/test_geo.py). Points
outside China are the same in every datum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

import coordTransform

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class LatLon:
    lat: float
    lon: float


def wgs84_to_gcj02(lat: float, lon: float) -> LatLon:
    """WGS-84 → GCJ-02 (高德, 腾讯)."""
    lon2, lat2 = coordTransform.wgs84_to_gcj02(lon, lat)
    return LatLon(lat2, lon2)


def wgs84_to_bd09(lat: float, lon: float) -> LatLon:
    """WGS-84 → BD-09 (百度)."""
    lon2, lat2 = coordTransform.wgs84_to_bd09(lon, lat)
    return LatLon(lat2, lon2)


def gcj02_to_wgs84(lat: float, lon: float) -> LatLon:
    """GCJ-02 → WGS-84 (for coordinates copied from 高德; iterative, within a metre)."""
    lon2, lat2 = coordTransform.gcj02_to_wgs84(lon, lat)
    return LatLon(lat2, lon2)


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class NavigationLink:
    app: str  # "amap", "baidu", "geo"
    url: str


def navigation_links(lat: float, lon: float, name: str, address: str = "") -> list[NavigationLink]:
    """Links that open the place in 高德 and 百度 maps (app on a phone, web page elsewhere),
    and a ``geo:`` link (WGS-84) for any other map app."""
    gcj = wgs84_to_gcj02(lat, lon)
    bd = wgs84_to_bd09(lat, lon)
    amap = "https://uri.amap.com/marker?" + urlencode(
        {
            "position": f"{gcj.lon:.6f},{gcj.lat:.6f}",
            "name": name,
            "coordinate": "gaode",
            "callnative": "1",
            "src": "ring-route-portal",
        }
    )
    baidu = "https://api.map.baidu.com/marker?" + urlencode(
        {
            "location": f"{bd.lat:.6f},{bd.lon:.6f}",
            "title": name,
            "content": address or name,
            "coord_type": "bd09ll",
            "output": "html",
            "src": "webapp.ring-route-portal",
        }
    )
    geo = f"geo:{lat:.6f},{lon:.6f}?" + urlencode({"q": f"{lat:.6f},{lon:.6f}({name})"})
    return [
        NavigationLink("amap", amap),
        NavigationLink("baidu", baidu),
        NavigationLink("geo", geo),
    ]
