"""Realistic generated seasons for the planner's benchmark (bench/planner.py) and tests.

A season of N requests over the demo consortium's bookable sites and published routes:
classes of 25–60 trainees, most of them (60 %) wanting the season's first three weeks
(spring classes crowd before the May holidays), each free for 5–12 days, accepting one or
two routes and 3–8 start dates (the first preferred, 5; the others 1–4), squads allowed
for 70 % of them. Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.planner import services
from portal.planner.models import PlanSeason
from portal.scheduling.classes import register_class

ORIGINS = ("city", "province", "other_province")
SIZES = (25, 30, 35, 40, 46, 50, 60)


def generate_season(
    requests: int, *, seed: int = 1, starts_on: date | None = None, weeks: int = 12
) -> PlanSeason:
    """A new open season with ``requests`` requests of the demo organizer. Commits."""
    rng = random.Random(seed)
    office = db.session.scalar(select(User).where(User.role == "office").order_by(User.id))
    organizer = db.session.scalar(select(User).where(User.role == "organizer").order_by(User.id))
    templates = services.published_templates()
    if office is None or organizer is None or not templates:
        raise RuntimeError("load the demo first (an office, an organizer, published routes)")
    start = starts_on or services.today() + timedelta(days=30)
    start += timedelta(days=(7 - start.weekday()) % 7)  # a Monday
    season = services.create_season(
        office,
        {
            "name": f"生成的调训季（{requests} 个请求，种子 {seed}）",
            "starts_on": start,
            "ends_on": start + timedelta(weeks=weeks) - timedelta(days=1),
            "time_limit": 30,
        },
    )
    span = weeks * 7 - 14
    for number in range(requests):
        window = rng.randint(5, 12)
        first = start + timedelta(
            days=rng.randrange(0, 21) if rng.random() < 0.6 else rng.randrange(0, span)
        )
        size = rng.choice(SIZES)
        klass = register_class(
            organizer,
            {
                "name": f"生成班 {seed}-{number + 1:03d}",
                "kind": "commissioned",
                "origin": rng.choice(ORIGINS),
                "sending_unit": "生成单位",
                "size": size,
                "starts_on": first,
                "ends_on": first + timedelta(days=window - 1),
                "theme": "党性教育",
                "contact_name": "联系人",
                "contact_phone": "13800000000",
            },
        )
        db.session.flush()
        routes = rng.sample(templates, k=min(len(templates), rng.randint(1, 2)))
        longest = max(t.days for t in routes)
        offsets = list(range(max(1, window - longest + 1)))
        chosen = rng.sample(offsets, k=min(len(offsets), rng.randint(3, 8)))
        lines = [
            f"{(first + timedelta(days=offset)).isoformat()} {5 if i == 0 else rng.randint(1, 4)}"
            for i, offset in enumerate(chosen)
        ]
        services.submit_request(
            season,
            organizer,
            {
                "class_id": klass.id,
                "size": size,
                "dates_text": "\n".join(lines),
                "template_ids": [t.id for t in routes],
                "days": 0,
                "squads_allowed": rng.random() < 0.7,
            },
        )
    db.session.commit()
    return season
