"""The planner's part of the demo consortium: an open spring 2027 season with requests.

Idempotent (the season is looked up by its name). Eleven classes of the demo ``organizer``
ask for places in spring 2027 on the published demo routes, with preferred and acceptable
dates; the office's plan for them is computed once (a few seconds, one solver thread),
so that after ``make run`` the office sees a proposed plan and its calendar, ready to be
accepted, and the organizer sees their requests.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.planner import services
from portal.planner.models import PlanSeason
from portal.scheduling.classes import register_class
from portal.scheduling.models import RouteTemplate

DEMO_SEASON = "2027年春季统筹调训"
SEASON_START, SEASON_END = date(2027, 3, 1), date(2027, 5, 28)

# (class name, origin, size, first day the class is here, days it stays, route names,
#  preferred start offsets in days from its first day (preference 5), acceptable ones (2))
DEMO_REQUESTS = [
    (
        "浙江省处级干部党性教育专题班",
        "other_province",
        46,
        date(2027, 3, 8),
        10,
        ["滇西抗战精神三日环线"],
        [1],
        [2, 3, 7],
    ),
    (
        "广东省年轻干部理想信念教育班",
        "other_province",
        52,
        date(2027, 3, 8),
        10,
        ["滇西抗战精神三日环线", "三点一线五日精品环线"],
        [1],
        [2, 7],
    ),
    (
        "保山市乡村振兴专题培训班",
        "city",
        38,
        date(2027, 3, 15),
        5,
        ["杨善洲精神一日环线"],
        [1],
        [0, 2, 3],
    ),
    (
        "大理州基层党组织书记示范培训班",
        "province",
        60,
        date(2027, 3, 15),
        5,
        ["杨善洲精神一日环线"],
        [1],
        [2],
    ),
    (
        "江苏省纪检监察干部廉政教育班",
        "other_province",
        40,
        date(2027, 3, 22),
        12,
        ["三点一线五日精品环线"],
        [0],
        [1, 7],
    ),
    (
        "德宏州民族团结进步教育班",
        "province",
        35,
        date(2027, 4, 5),
        7,
        ["滇西抗战精神三日环线"],
        [1],
        [2, 3],
    ),
    (
        "北京市国企领导人员党性教育班",
        "other_province",
        48,
        date(2027, 4, 12),
        10,
        ["三点一线五日精品环线", "滇西抗战精神三日环线"],
        [0],
        [1, 2, 7],
    ),
    (
        "临沧市新任科级干部培训班",
        "province",
        55,
        date(2027, 4, 12),
        5,
        ["杨善洲精神一日环线"],
        [1],
        [2, 3],
    ),
    (
        "上海市宣传干部专题研修班",
        "other_province",
        30,
        date(2027, 4, 19),
        8,
        ["滇西抗战精神三日环线"],
        [0],
        [1, 2],
    ),
    (
        "保山市市直机关党务干部班",
        "city",
        45,
        date(2027, 4, 19),
        5,
        ["杨善洲精神一日环线"],
        [1],
        [1, 2],
    ),
    # Submitted last and free on one day only, the day earlier requests like best.
    (
        "昆明市青年干部专题培训班",
        "province",
        40,
        date(2027, 3, 16),
        1,
        ["杨善洲精神一日环线"],
        [0],
        [],
    ),
]


def load_demo_planner() -> None:
    """The spring 2027 season with its requests and a proposed plan (see module docstring)."""
    if db.session.scalar(select(PlanSeason).where(PlanSeason.name == DEMO_SEASON)):
        return
    office = db.session.scalar(select(User).where(User.username == "office"))
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    routes = {
        t.name: t
        for t in db.session.scalars(
            select(RouteTemplate).where(RouteTemplate.status == "published")
        )
    }
    if office is None or organizer is None or not routes:
        return
    season = PlanSeason(
        name=DEMO_SEASON,
        starts_on=SEASON_START,
        ends_on=SEASON_END,
        time_limit=30,
        created_by_id=office.id,
    )
    db.session.add(season)
    db.session.flush()
    for name, origin, size, first, days, route_names, preferred, acceptable in DEMO_REQUESTS:
        klass = register_class(
            organizer,
            {
                "name": name,
                "kind": "commissioned",
                "origin": origin,
                "sending_unit": name[:3] + "委组织部",
                "size": size,
                "starts_on": first,
                "ends_on": first + timedelta(days=days - 1),
                "theme": "党性教育",
                "contact_name": "张联系人",
                "contact_phone": "13800000000",
            },
        )
        db.session.flush()
        lines = [f"{(first + timedelta(days=d)).isoformat()} 5" for d in preferred]
        lines += [f"{(first + timedelta(days=d)).isoformat()} 2" for d in acceptable]
        services.submit_request(
            season,
            organizer,
            {
                "class_id": klass.id,
                "size": size,
                "dates_text": "\n".join(lines),
                "template_ids": [routes[r].id for r in route_names if r in routes],
                "days": 0,
                "squads_allowed": True,
                "note": "",
            },
        )
    db.session.commit()
    services.run_planner(db.session.get(PlanSeason, season.id), office, time_limit=5, workers=1)
