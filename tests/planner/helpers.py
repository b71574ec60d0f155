"""Small hand-made seasons whose best plan is known."""

from __future__ import annotations

from datetime import time, timedelta

from portal.extensions import db
from portal.planner import services
from portal.scheduling.models import RouteStop, RouteTemplate
from tests.scheduling.helpers import future_weekday, new_class, site, user


def one_stop_template(
    site_key: str, name: str = "测试单站线路", at: time = time(9)
) -> RouteTemplate:
    """A published one-day route with one two-hour session at a site (no teacher)."""
    template = RouteTemplate(
        name=name,
        theme="党性教育",
        days=1,
        status="published",
        class_kinds="main,commissioned,adhoc",
        stops=[RouteStop(day=1, starts=at, minutes=120, kind="course", site_id=site(site_key).id)],
    )
    db.session.add(template)
    db.session.commit()
    return template


def season(weeks: int = 8):
    start = future_weekday(1, at_least_days=10)
    made = services.create_season(
        user("office"),
        {
            "name": "测试调训季",
            "starts_on": start,
            "ends_on": start + timedelta(weeks=weeks),
            "time_limit": 30,
        },
    )
    db.session.commit()
    return made


def request_for(season_obj, size, dates, template_ids, *, squads=False, organizer="organizer"):
    """A class over the requested dates and its request (dates: {day: preference})."""
    days = sorted(dates)
    klass = new_class(size, organizer=organizer, start=days[0], days=(days[-1] - days[0]).days + 1)
    text = "\n".join(f"{d.isoformat()} {p}" for d, p in dates.items())
    made = services.submit_request(
        season_obj,
        user(organizer),
        {
            "class_id": klass.id,
            "size": size,
            "dates_text": text,
            "template_ids": template_ids,
            "days": 0,
            "squads_allowed": squads,
        },
    )
    db.session.commit()
    return made
