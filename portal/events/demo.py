"""The joint events' part of the demo consortium (called from portal.demo.load_demo).

Relative to the day it is loaded, through the area's services (so members are notified):

* a guide contest (讲解员大赛) under way: its programme began yesterday, criteria, two
  judges appointed, an entry from every member;
* a joint training (联合集训) in three weeks, open for registration, some places taken.

Idempotent: each event is looked up by its title.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import EventType, TeachingSite
from portal.events import contests, events, registrations
from portal.events.models import JointEvent
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ

CONTEST = "第三届环线讲解员大赛"
TRAINING = "环线教师和讲解员联合集训（冬季）"
CRITERIA = [("讲解内容", 40), ("语言表达", 30), ("仪表仪态", 20), ("现场效果", 10)]
JUDGES = ["party_school_admin", "tengchong_college_staff"]
# (member key, guide name, site key)
ENTRIES = [
    ("yangshanzhou_college", "杨晓红", "spirit_base"),
    ("songshan_base", "李晓梅", "battlefield"),
    ("tengchong_college", "寸海燕", "dianxi_memorial"),
    ("party_school", "陈思远", "clean_gov_base"),
]
# (member key, participant, title)
PARTICIPANTS = [
    ("party_school", "张红", "教研室主任"),
    ("songshan_base", "周军", "讲解员"),
    ("yangshanzhou_college", "字艳红", "教师"),
]


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _event_type(key: str) -> EventType | None:
    return db.session.scalar(select(EventType).where(EventType.key == key))


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def load_demo_events() -> None:
    """Add the demo contest and training if they are not there yet. The caller commits."""
    office = _user("office")
    if office is None:
        return
    titles = set(db.session.scalars(select(JointEvent.title)))
    members = {m.key: m for m in db.session.scalars(select(Member))}
    sites = {
        s.key: s
        for s in db.session.scalars(select(TeachingSite).where(TeachingSite.key.is_not(None)))
    }
    if CONTEST not in titles and (kind := _event_type("guide_contest")) is not None:
        _contest(office, kind, members, sites)
    if TRAINING not in titles and (kind := _event_type("joint_training")) is not None:
        _training(office, kind, members, sites)
    db.session.flush()


def _contest(office, kind, members, sites) -> None:
    event = events.create_event(
        office,
        kind.id,
        {
            "title": CONTEST,
            "description": "各成员单位选派讲解员同台比赛，评委现场评分。",
            "category": "guide_contest",
            "open_to_all": True,
            "capacity": None,
            "registration_deadline": today(),
        },
    )
    for offset, title in ((-1, "初赛：现场讲解"), (2, "决赛与颁奖")):
        events.add_session(
            event,
            office,
            {
                "title": title,
                "day": today() + timedelta(days=offset),
                "starts": time(9, 0),
                "ends": time(12, 0),
                "site_id": sites["spirit_base"].id if "spirit_base" in sites else None,
                "place": "杨善洲干部学院报告厅",
            },
        )
    contests.set_criteria(event, office, CRITERIA)
    events.publish_event(event, office)
    for username in JUDGES:
        if (judge := _user(username)) is not None:
            contests.appoint_judge(event, office, judge.id)
    for key, guide, site_key in ENTRIES:
        if key in members and site_key in sites:
            contests.submit_entry(
                event.id,
                office,
                {"guide_name": guide, "site_id": sites[site_key].id, "note": ""},
                member_id=members[key].id,
            )


def _training(office, kind, members, sites) -> None:
    starts = today() + timedelta(days=21)
    event = events.create_event(
        office,
        kind.id,
        {
            "title": TRAINING,
            "description": "统一环线教学标准，集中研讨现场教学和讲解方法。",
            "category": "training",
            "open_to_all": True,
            "capacity": 30,
            "registration_deadline": today() + timedelta(days=14),
        },
    )
    for offset, title in ((0, "报到、开班"), (1, "现场教学观摩与研讨")):
        events.add_session(
            event,
            office,
            {
                "title": title,
                "day": starts + timedelta(days=offset),
                "starts": time(9, 0),
                "ends": time(17, 0),
                "site_id": sites["dianxi_memorial"].id if "dianxi_memorial" in sites else None,
                "place": "腾冲干部学院",
            },
        )
    events.publish_event(event, office)
    db.session.commit()
    for key, name, title in PARTICIPANTS:
        if key in members:
            registrations.register(
                event.id,
                office,
                {"participant_name": name, "participant_title": title, "phone": ""},
                member_id=members[key].id,
            )
