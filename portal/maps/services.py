"""What the maps show: a route template's stops, a class's reservations, a site and its neighbours.

Each function returns a ``MapSpec`` (or None when fewer than one located site is there to
draw); the travel time of each leg is the portal's own estimate
(``scheduling.fitting.travel_minutes``, from the coordinates and the office's settings),
the same the booking checks use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.maps.drawing import MapLeg, MapSpec, MapStop
from portal.members.models import Member
from portal.scheduling.fitting import travel_minutes
from portal.scheduling.settings import all_settings

# Colours for members that declare none (distinct, readable on the map's light ground).
PALETTE = ("#b22222", "#1f6f8b", "#2e7d32", "#8e5b00", "#6a1b9a", "#c2185b", "#00695c", "#455a64")
# How many neighbours a site's small map shows, and how far they may be.
NEIGHBOUR_KM = 150
NEARBY_OWN = 2


def member_colour(member: Member | None) -> str:
    """The member's colour on maps: its own (``#rrggbb``) or one of the palette by its id."""
    if member is None:
        return PALETTE[-1]
    own = (member.colour or "").strip()
    if len(own) == 7 and own.startswith("#"):
        return own
    return PALETTE[(member.id - 1) % len(PALETTE)]


def _located(site: TeachingSite | None) -> bool:
    return site is not None and site.latitude is not None and site.longitude is not None


def _leg_label(minutes: int) -> str:
    return _("约 %(minutes)s 分钟", minutes=minutes)


def _legend(sites: Iterable[TeachingSite]) -> list[tuple[str, str]]:
    members: dict[int, Member] = {}
    for site in sites:
        members.setdefault(site.member_id, site.member)
    return [(m.short_name or m.name, member_colour(m)) for _id, m in sorted(members.items())]


def route_map(
    visits: Sequence[tuple[TeachingSite, bool]], title: str, site_url: Any = None
) -> MapSpec | None:
    """A route through ``visits`` (site, declined) in order: one numbered mark per stop (a site
    visited twice in a row is one stop), legs between the stops that are not declined."""
    stops: list[MapStop] = []
    sites: list[TeachingSite] = []
    for site, declined in visits:
        if not _located(site):
            continue
        if sites and sites[-1].id == site.id and stops[-1].declined == declined:
            continue
        sites.append(site)
        stops.append(
            MapStop(
                site_id=site.id,
                name=site.name,
                lat=site.latitude,
                lon=site.longitude,
                colour=member_colour(site.member),
                number=len(stops) + 1,
                declined=declined,
                url=site_url(site) if site_url else "",
            )
        )
    if not stops:
        return None
    settings = all_settings()
    legs: list[MapLeg] = []
    previous: int | None = None
    for index, stop in enumerate(stops):
        if stop.declined:
            continue
        if previous is not None and sites[previous].id != sites[index].id:
            minutes = travel_minutes(sites[previous], sites[index], settings)
            legs.append(MapLeg(previous, index, _leg_label(minutes)))
        previous = index
    return MapSpec(
        stops=stops,
        legs=legs,
        title=title,
        legend=_legend(sites),
        scale_label=_("%(km)s 公里"),
    )


def template_map(template: Any, site_url: Any = None) -> MapSpec | None:
    """A route template's sites in the order of its days and times."""
    visits = [(stop.site, False) for stop in template.stops if stop.site is not None]
    return route_map(visits, _("线路图：%(name)s", name=template.name), site_url)


def class_map(training_class: Any, site_url: Any = None) -> MapSpec | None:
    """A class's stops over all its live bookings, in time order; declined stops greyed."""
    from portal.scheduling.models import Booking, Reservation

    reservations = db.session.scalars(
        select(Reservation)
        .join(Booking, Booking.id == Reservation.booking_id)
        .where(
            Booking.class_id == training_class.id,
            Booking.status != "cancelled",
            Reservation.status != "cancelled",
        )
        .options(selectinload(Reservation.site).selectinload(TeachingSite.member))
        .order_by(Reservation.starts_at, Reservation.id)
    ).all()
    visits = [(r.site, r.status == "declined") for r in reservations]
    return route_map(visits, _("行程路线图：%(name)s", name=training_class.name), site_url)


def site_map(site: TeachingSite, site_url: Any = None) -> MapSpec | None:
    """A small map of ``site``, the nearest active site of each other member and up to two of
    its own member's sites close by, with the way to each."""
    if not _located(site):
        return None
    from portal.maps.geo import LatLon, distance_km

    here = LatLon(site.latitude, site.longitude)
    others = db.session.scalars(
        select(TeachingSite)
        .where(
            TeachingSite.id != site.id,
            TeachingSite.status == "active",
            TeachingSite.admission == "admitted",
            TeachingSite.latitude.is_not(None),
            TeachingSite.longitude.is_not(None),
        )
        .options(selectinload(TeachingSite.member))
    ).all()
    ranked = sorted((distance_km(here, LatLon(o.latitude, o.longitude)), o.id, o) for o in others)
    # The nearest site of every other member (where a ring route goes next), and the
    # member's own sites close by (a campus, a memorial park).
    near: list[tuple[float, int, TeachingSite]] = []
    members_seen: set[int] = {site.member_id}
    for item in ranked:
        km, _id, other = item
        if km > NEIGHBOUR_KM:
            break
        if other.member_id not in members_seen:
            members_seen.add(other.member_id)
            near.append(item)
    near += [item for item in ranked if item[2].member_id == site.member_id and item[0] <= 5][
        :NEARBY_OWN
    ]
    near.sort(key=lambda item: (item[0], item[1]))
    sites = [site] + [o for _d, _id, o in near]
    stops = [
        MapStop(
            site_id=s.id,
            name=s.name,
            lat=s.latitude,
            lon=s.longitude,
            colour=member_colour(s.member),
            highlight=s.id == site.id,
            url=site_url(s) if site_url and s.id != site.id else "",
        )
        for s in sites
    ]
    settings = all_settings()
    legs = [
        MapLeg(0, index, _leg_label(travel_minutes(site, other, settings)))
        for index, other in enumerate(sites[1:], start=1)
    ]
    return MapSpec(
        stops=stops,
        legs=legs,
        title=_("%(name)s及周边教学点", name=site.name),
        legend=_legend(sites),
        scale_label=_("%(km)s 公里"),
        width=420,
        height=300,
        compact=True,
    )
