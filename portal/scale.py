"""`flask portal demo --scale N`: a large, realistic consortium for benchmarks and load tests.

Scale 1 is the demo consortium (`load-demo`). Scale N adds, in bulk, about N times the
demo's worth of everything, so that scale 100 is a consortium of 400 members' sites,
5,000 teachers, 20,000 classes and about 200,000 reservations over 5 years:

=================  ==================================================================
members            4 × N (the 4 plugin members, then ``scale_member_005`` …)
sites              4–5 per new member
teachers           50 × N, courses 40 × N (with their teachers), yearly assessments
users              an admin and a staff account per new member, 10 × N organizers
classes            200 × N, 92 % with a booking of a 1–5-day route (about 2,000 × N
                   reservations), from 1 January three years ago to the end of next year
=================  ==================================================================

Members beyond the four have no installed plugin: they are listed, their catalogue is
searchable and their calendars show their reservations, but their sites take no new
bookings (``bookable_sites_query`` keeps the sites of enabled plugins only).

Reservations are laid on a grid: every open day of a site is cut into whole sessions from
opening to closing time, and a session holds one squad at most, so no window is ever over
capacity (nor out of guides, since every site has at least one). A teacher teaches at most
one session a day. Most bookings are confirmed; future ones may still be pending; a few are
cancelled or declined. Every account's password is the demo's.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from portal.auth.models import User
from portal.catalog.models import (
    CatalogChange,
    Course,
    SiteAssessment,
    Teacher,
    TeacherUnavailability,
    TeachingSite,
    course_teachers,
)
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling.models import Booking, BookingEvent, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ

SCALE_PREFIX = "scale_member_"
BATCH = 5000

# ---------------------------------------------------------------- words to combine

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文寸字"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰春建国志红文海云飞宏波鹏辉"
    "林翔宇晨浩然思源子涵佳怡嘉欣雨萱梓轩俊杰晓东立新德胜永福正清世昌兴旺"
)
COUNTIES = (
    "隆阳",
    "施甸",
    "龙陵",
    "昌宁",
    "腾冲",
    "芒市",
    "瑞丽",
    "盈江",
    "陇川",
    "梁河",
    "大理",
    "祥云",
    "宾川",
    "弥渡",
    "巍山",
    "永平",
    "云龙",
    "洱源",
    "剑川",
    "鹤庆",
    "漾濞",
    "南涧",
    "临翔",
    "凤庆",
    "云县",
    "永德",
    "镇康",
    "双江",
    "耿马",
    "沧源",
    "泸水",
    "福贡",
    "兰坪",
    "香格里拉",
    "德钦",
    "维西",
    "玉龙",
    "永胜",
    "华坪",
    "宁蒗",
    "思茅",
    "宁洱",
    "墨江",
    "景东",
    "景谷",
    "镇沅",
    "江城",
    "孟连",
    "澜沧",
    "西盟",
    "景洪",
    "勐海",
    "勐腊",
)
TOWNS = (
    "城关",
    "东山",
    "西山",
    "南华",
    "北门",
    "金鸡",
    "板桥",
    "水寨",
    "河湾",
    "瓦渡",
    "杨柳",
    "丙麻",
    "酒房",
    "姚关",
    "旧城",
    "万兴",
    "太平",
    "蒲缥",
    "芒宽",
    "潞江",
    "和顺",
    "清水",
    "界头",
    "曲石",
    "固东",
    "猴桥",
    "勐糯",
    "碧寨",
    "平达",
    "木城",
    "象达",
    "腊勐",
)
SITE_KINDS = (
    ("革命烈士纪念馆", "革命传统"),
    ("抗战遗址", "抗战历史"),
    ("党性教育基地", "党性教育"),
    ("廉政教育馆", "廉政教育"),
    ("乡村振兴示范村", "乡村振兴"),
    ("民族团结进步示范村", "民族团结"),
    ("生态文明教育基地", "生态文明"),
    ("红色村史馆", "党性教育"),
    ("党建示范社区", "党性教育"),
    ("边境抵边村", "民族团结"),
    ("退耕还林示范区", "生态文明"),
    ("茶产业示范园", "乡村振兴"),
)
MEMBER_KINDS = (
    ("县委党校", "party_school"),
    ("干部学院", "cadre_college"),
    ("干部教育培训基地", "training_base"),
)
TITLES = ("教授", "副教授", "讲师", "研究员", "副研究员", "高级讲解员", "主任", "")
TOPICS = (
    "党的创新理论",
    "党史党建",
    "基层治理",
    "边疆治理",
    "廉政建设",
    "党纪党规",
    "乡村振兴",
    "生态文明",
    "民族团结",
    "滇西抗战史",
    "杨善洲精神",
    "群众路线",
    "产业发展",
    "应急管理",
)
COURSE_FORMS = (
    ("专题讲座", "lecture"),
    ("现场教学", "onsite"),
    ("案例教学", "case"),
    ("研讨交流", "seminar"),
)
UNITS = (
    "省委组织部",
    "州委组织部",
    "市委组织部",
    "县委组织部",
    "省发展改革委",
    "省教育厅",
    "市纪委监委",
    "省国资委",
    "县人民政府",
    "省总工会",
    "团省委",
    "市卫生健康委",
)
PROVINCES = ("云南", "四川", "贵州", "广西", "重庆", "广东", "浙江", "江苏", "上海", "北京")
CLASS_KINDS_WEIGHTED = ("main", "main", "commissioned", "commissioned", "commissioned", "adhoc")
ORIGINS_WEIGHTED = (
    "city",
    "province",
    "province",
    "other_province",
    "other_province",
    "international",
)
CLASS_THEMES = ("党性教育", "党性教育", "党性教育", "乡村振兴", "民族团结", "生态文明", "廉政教育")


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


# ---------------------------------------------------------------- what is generated


@dataclass
class Counts:
    """Rows inserted, by table."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, table: str, n: int) -> None:
        self.rows[table] += n

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in self.rows.items()) or "the demo only"


def targets(scale: int) -> dict[str, int]:
    """How many of each the consortium has at this scale (at least the demo's)."""
    return {
        "members": 4 * scale,
        "teachers": 50 * scale,
        "courses": 40 * scale,
        "organizers": 10 * scale,
        "classes": 200 * scale,
    }


class ScaleError(click.ClickException):
    pass


# ---------------------------------------------------------------- the grid that keeps capacity


@dataclass
class SiteInfo:
    id: int
    member_id: int
    capacity: int
    session: int
    weekdays: str
    opens: time
    closes: time
    needs_guide: bool
    auto_confirm: bool
    slots: int = 0

    def __post_init__(self) -> None:
        span = (self.closes.hour * 60 + self.closes.minute) - (
            self.opens.hour * 60 + self.opens.minute
        )
        self.slots = max(0, span // self.session)

    def slot_start(self, day: date, slot: int) -> datetime:
        start = datetime.combine(day, self.opens, tzinfo=LOCAL_TZ)
        return start + timedelta(minutes=slot * self.session)


class Grid:
    """Sessions taken per site and day (one squad per session), and teachers' busy days."""

    def __init__(self) -> None:
        self.taken: dict[tuple[int, date], set[int]] = defaultdict(set)
        self.teacher_days: set[tuple[int, date]] = set()

    def place(self, site: SiteInfo, day: date, not_before: datetime, squads: int) -> int | None:
        """The first slot from which ``squads`` consecutive free sessions start, or None."""
        if str(day.isoweekday()) not in site.weekdays or squads > site.slots:
            return None
        used = self.taken[(site.id, day)]
        for first in range(site.slots - squads + 1):
            if site.slot_start(day, first) < not_before:
                continue
            if all(s not in used for s in range(first, first + squads)):
                used.update(range(first, first + squads))
                return first
        return None


# ---------------------------------------------------------------- the generator


class Generator:
    def __init__(self, scale: int, seed: int, advance: Callable[[int], None]) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.advance = advance
        self.counts = Counts()
        self.now = datetime.now(UTC)
        today = self.now.astimezone(LOCAL_TZ).date()
        self.today = today
        self.first_day = date(today.year - 3, 1, 1)
        self.last_day = date(today.year + 1, 12, 31)
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        from portal.demo import DEMO_PASSWORD

        self.password_hash = generate_password_hash(DEMO_PASSWORD, method=method)
        self.grid = Grid()

    # -- helpers

    def insert(self, model: Any, rows: list[dict], returning: bool = False) -> list[int]:
        """Insert ``rows`` in batches; with ``returning``, the new ids in the rows' order.

        Rows are sent grouped by which of their values are NULL: a multi-row INSERT needs
        the same columns in every row (mixing them makes one statement per row on psycopg).
        """
        table = model if hasattr(model, "c") else model.__table__
        order = sorted(range(len(rows)), key=lambda i: tuple(v is None for v in rows[i].values()))
        found: list[int] = []
        for first in range(0, len(rows), BATCH):
            chunk = [rows[i] for i in order[first : first + BATCH]]
            if returning:
                statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
                found.extend(db.session.scalars(statement, chunk))
            else:
                db.session.execute(insert(table), chunk)
            self.counts.add(table.name, len(chunk))
            self.advance(len(chunk))
        ids = [0] * len(found)
        for position, i in enumerate(order[: len(found)]):
            ids[i] = found[position]
        return ids

    def past(self, days_back: int = 1500) -> datetime:
        return self.now - timedelta(
            days=self.rng.randint(30, days_back), minutes=self.rng.randint(0, 1440)
        )

    # -- the catalogue

    def members(self) -> list[int]:
        existing = db.session.scalar(select(func.count()).select_from(Member))
        wanted = targets(self.scale)["members"] - existing
        rows = []
        for n in range(existing + 1, existing + 1 + max(0, wanted)):
            county = COUNTIES[n % len(COUNTIES)]
            label, kind = MEMBER_KINDS[n % len(MEMBER_KINDS)]
            key = f"{SCALE_PREFIX}{n:03}"
            rows.append(
                {
                    "key": key,
                    "plugin": key,
                    "name": f"{county}{label}"
                    + (f"（{n // len(COUNTIES)}分院）" if n >= len(COUNTIES) else ""),
                    "short_name": f"{county}{label}"[:64],
                    "kind": kind,
                    "address": f"云南省{county}县{self.rng.choice(TOWNS)}镇",
                    "phone": f"0875-{self.rng.randint(1000000, 9999999)}",
                    "contact_person": f"培训科 {self.rng.choice(SURNAMES)}老师",
                    "email": f"{key}@consortium.example",
                    "website": "",
                    "description": f"{county}的成员单位，承接干部教育培训和现场教学。",
                    "created_at": self.past(),
                    "updated_at": self.now,
                }
            )
        return self.insert(Member, rows, returning=True)

    def users(self, new_members: list[tuple[int, str]]) -> None:
        rows = []
        for member_id, key in new_members:
            for suffix, role, label in (
                ("admin", "member_admin", "管理员"),
                ("staff", "member_staff", "工作人员"),
            ):
                rows.append(
                    self.user_row(f"{key}_{suffix}", person_name(self.rng) + label, role, member_id)
                )
        for n in range(1, targets(self.scale)["organizers"]):
            unit = self.rng.choice(PROVINCES) + self.rng.choice(UNITS)
            row = self.user_row(f"scale_organizer_{n:04}", person_name(self.rng), "organizer", None)
            row["unit_name"] = unit
            rows.append(row)
        self.insert(User, rows)

    def user_row(self, username: str, name: str, role: str, member_id: int | None) -> dict:
        return {
            "username": username,
            "display_name": name[:64],
            "role": role,
            "member_id": member_id,
            "password_hash": self.password_hash,
            "email": f"{username}@consortium.example",
            "active": True,
            "must_change_password": False,
            "session_version": 1,
            "failed_logins": 0,
            "created_at": self.past(),
        }

    def sites(self, new_members: list[tuple[int, str]]) -> None:
        rows = []
        for member_id, key in new_members:
            county = COUNTIES[int(key.removeprefix(SCALE_PREFIX)) % len(COUNTIES)]
            for n in range(self.rng.choice((4, 4, 5, 5, 5))):
                kind, theme = self.rng.choice(SITE_KINDS)
                town = self.rng.choice(TOWNS)
                opens = self.rng.choice((time(8, 0), time(8, 30), time(9, 0)))
                closes = self.rng.choice((time(17, 0), time(17, 30), time(18, 0)))
                rows.append(
                    self.catalog_row(key, f"s{n + 1}", member_id)
                    | {
                        "name": f"{county}{town}{kind}",
                        "theme": theme,
                        "description": f"位于{county}县{town}镇的{kind}，开展{theme}现场教学。",
                        "capacity": self.rng.choice((30, 40, 50, 60, 80, 100, 120, 150, 200)),
                        "session_minutes": self.rng.choice((45, 60, 60, 90, 90, 120)),
                        "open_weekdays": self.rng.choice(
                            ("1234567", "1234567", "234567", "123456", "12345")
                        ),
                        "opens": opens,
                        "closes": closes,
                        "needs_guide": self.rng.random() < 0.5,
                        "guide_count": self.rng.choice((1, 2, 2, 3)),
                        "auto_confirm": self.rng.random() < 0.2,
                        "address": f"云南省{county}县{town}镇",
                        "latitude": round(self.rng.uniform(22.0, 27.5), 4),
                        "longitude": round(self.rng.uniform(97.5, 101.5), 4),
                    }
                )
        self.insert(TeachingSite, rows)

    def catalog_row(self, plugin: str | None, key: str | None, member_id: int) -> dict:
        created = self.past()
        return {
            "plugin": plugin,
            "key": key,
            "member_id": member_id,
            "status": "active" if self.rng.random() < 0.96 else "suspended",
            "edited_locally": False,
            "created_at": created,
            "updated_at": created,
        }

    def teachers(self, member_plugins: dict[int, str | None]) -> list[tuple[int, int]]:
        existing = db.session.scalar(select(func.count()).select_from(Teacher))
        member_ids = list(member_plugins)
        rows = []
        for n in range(max(0, targets(self.scale)["teachers"] - existing)):
            member_id = member_ids[n % len(member_ids)]
            plugin = member_plugins[member_id]
            topics = self.rng.sample(TOPICS, self.rng.choice((1, 2, 2, 3)))
            rows.append(
                self.catalog_row(plugin, f"t{n}" if plugin else None, member_id)
                | {
                    "name": person_name(self.rng),
                    "kind": "full_time" if self.rng.random() < 0.6 else "part_time",
                    "title": self.rng.choice(TITLES),
                    "topics": "、".join(topics),
                    "shared": self.rng.random() < 0.6,
                    "bio": f"长期从事{topics[0]}教学与研究。",
                }
            )
        ids = self.insert(Teacher, rows, returning=True)
        return [(i, r["member_id"]) for i, r in zip(ids, rows, strict=True)]

    def courses(
        self, member_plugins: dict[int, str | None], teachers: list[tuple[int, int]]
    ) -> None:
        sites_by_member: dict[int, list[int]] = defaultdict(list)
        for site_id, member_id in db.session.execute(
            select(TeachingSite.id, TeachingSite.member_id).order_by(TeachingSite.id)
        ):
            sites_by_member[member_id].append(site_id)
        teachers_by_member: dict[int, list[int]] = defaultdict(list)
        for teacher_id, member_id in db.session.execute(
            select(Teacher.id, Teacher.member_id).order_by(Teacher.id)
        ):
            teachers_by_member[member_id].append(teacher_id)
        all_teachers = [t for t, _m in teachers] or [
            t for ts in teachers_by_member.values() for t in ts
        ]
        existing = db.session.scalar(select(func.count()).select_from(Course))
        member_ids = list(member_plugins)
        rows, links = [], []
        for n in range(max(0, targets(self.scale)["courses"] - existing)):
            member_id = member_ids[n % len(member_ids)]
            plugin = member_plugins[member_id]
            form, kind = self.rng.choice(COURSE_FORMS)
            topic = self.rng.choice(TOPICS)
            site = None
            if kind in ("onsite", "case") and sites_by_member[member_id]:
                site = self.rng.choice(sites_by_member[member_id])
            rows.append(
                self.catalog_row(plugin, f"c{n}" if plugin else None, member_id)
                | {
                    "name": f"{topic}{form}（{n + 1}）",
                    "kind": kind,
                    "site_id": site,
                    "hours": self.rng.choice((1.5, 2, 3, 4)),
                    "description": f"围绕{topic}开展{form}。",
                    "excellent": self.rng.random() < 0.05,
                }
            )
        ids = self.insert(Course, rows, returning=True)
        for course_id, row in zip(ids, rows, strict=True):
            own = teachers_by_member[row["member_id"]] or all_teachers
            for teacher_id in set(self.rng.sample(own, min(len(own), self.rng.choice((1, 1, 2))))):
                links.append({"course_id": course_id, "teacher_id": teacher_id})
        self.insert(course_teachers, links)

    def assessments_and_history(self, new_site_ids: list[int]) -> None:
        rows = [
            {
                "site_id": site_id,
                "year": year,
                "score": round(self.rng.uniform(70, 99), 1),
                "remarks": "",
                "created_at": datetime(year, 12, 20, tzinfo=UTC),
            }
            for site_id in new_site_ids
            for year in range(self.today.year - 3, self.today.year)
        ]
        self.insert(SiteAssessment, rows)
        history = []
        for model, kind in ((TeachingSite, "site"), (Teacher, "teacher"), (Course, "course")):
            found = db.session.execute(
                select(model.id, model.member_id, model.created_at)
                .where(model.plugin.is_(None) | model.plugin.like(f"{SCALE_PREFIX}%"))
                .order_by(model.id)
            )
            for item_id, member_id, created in found:
                history.append(
                    {
                        "item_type": kind,
                        "item_id": item_id,
                        "member_id": member_id,
                        "action": "import",
                        "actor_name": "批量导入",
                        "changes": {},
                        "reason": "",
                        "created_at": created,
                    }
                )
        self.insert(CatalogChange, history)

    # -- classes, bookings and reservations

    def load_sites(
        self,
    ) -> tuple[dict[int, list[SiteInfo]], list[int], dict[int, list[tuple[int, int]]]]:
        by_member: dict[int, list[SiteInfo]] = defaultdict(list)
        for row in db.session.execute(
            select(
                TeachingSite.id,
                TeachingSite.member_id,
                TeachingSite.capacity,
                TeachingSite.session_minutes,
                TeachingSite.open_weekdays,
                TeachingSite.opens,
                TeachingSite.closes,
                TeachingSite.needs_guide,
                TeachingSite.auto_confirm,
            )
            .where(TeachingSite.status == "active")
            .order_by(TeachingSite.id)
        ):
            info = SiteInfo(*row)
            if info.slots:
                by_member[info.member_id].append(info)
        plugin_members = list(
            db.session.scalars(
                select(Member.id).where(~Member.plugin.like(f"{SCALE_PREFIX}%")).order_by(Member.id)
            )
        )
        courses_by_site: dict[int, list[tuple[int, int]]] = defaultdict(list)
        first_teacher = (
            select(course_teachers.c.course_id, func.min(course_teachers.c.teacher_id))
            .group_by(course_teachers.c.course_id)
            .subquery()
        )
        for course_id, site_id, teacher_id in db.session.execute(
            select(Course.id, Course.site_id, first_teacher.c[1])
            .join(first_teacher, first_teacher.c.course_id == Course.id)
            .where(Course.site_id.is_not(None), Course.status == "active")
            .order_by(Course.id)
        ):
            courses_by_site[site_id].append((course_id, teacher_id))
        return by_member, plugin_members, courses_by_site

    def organizers(self) -> list[int]:
        return list(
            db.session.scalars(select(User.id).where(User.role == "organizer").order_by(User.id))
        )

    def classes(self) -> None:
        by_member, plugin_members, courses_by_site = self.load_sites()
        members = [m for m in by_member if by_member[m]]
        plugin_members = [m for m in plugin_members if m in by_member]
        organizers = self.organizers()
        grid = self.grid
        total = targets(self.scale)["classes"]
        span = (self.last_day - self.first_day).days
        chunk = 1000
        for first in range(0, total, chunk):
            plans = []
            for n in range(first, min(total, first + chunk)):
                plans.append(
                    self.one_class(
                        n,
                        organizers,
                        span,
                        members,
                        plugin_members,
                        by_member,
                        courses_by_site,
                        grid,
                    )
                )
            class_rows = [p["class"] for p in plans]
            class_ids = self.insert(TrainingClass, class_rows, returning=True)
            booked = [(cid, p) for cid, p in zip(class_ids, plans, strict=True) if p["booking"]]
            for cid, p in booked:
                p["booking"]["class_id"] = cid
            booking_ids = self.insert(Booking, [p["booking"] for _c, p in booked], returning=True)
            reservations, events = [], []
            for bid, (_cid, p) in zip(booking_ids, booked, strict=True):
                for r in p["reservations"]:
                    r["booking_id"] = bid
                    reservations.append(r)
                for e in p["events"]:
                    e["booking_id"] = bid
                    events.append(e)
            self.insert(Reservation, reservations)
            self.insert(BookingEvent, events)

    def one_class(
        self, n, organizers, span, members, plugin_members, by_member, courses_by_site, grid
    ) -> dict:
        rng = self.rng
        days = rng.choice((1, 2, 3, 3, 4, 5, 5, 5, 5))
        start = self.first_day + timedelta(days=rng.randrange(span - days))
        size = rng.choice((15, 20, 25, 30, 30, 40, 45, 50, 60, 80, 120))
        theme = rng.choice(CLASS_THEMES)
        unit = rng.choice(PROVINCES) + rng.choice(UNITS)
        created = min(
            self.now,
            datetime.combine(start, time(10), tzinfo=LOCAL_TZ)
            - timedelta(days=rng.randint(14, 120)),
        )
        klass = {
            "name": f"{unit}第{n % 40 + 1}期{theme}培训班",
            "kind": rng.choice(CLASS_KINDS_WEIGHTED),
            "origin": rng.choice(ORIGINS_WEIGHTED),
            "sending_unit": unit,
            "size": size,
            "starts_on": start,
            "ends_on": start + timedelta(days=days - 1),
            "theme": theme,
            "contact_name": person_name(rng),
            "contact_phone": f"138{rng.randint(10000000, 99999999)}",
            "is_study_visit": rng.random() < 0.08,
            "organizer_id": organizers[n % len(organizers)],
            "cancelled": False,
            "created_at": created,
        }
        plan = {"class": klass, "booking": None, "reservations": [], "events": []}
        if rng.random() >= 0.92:
            return plan
        # Where the class goes: the four plugin members' ring route a third of the time.
        if plugin_members and rng.random() < 0.35:
            cluster = plugin_members
        else:
            cluster = rng.sample(members, min(len(members), rng.choice((1, 2, 2, 3))))
        candidates = [s for m in cluster for s in by_member[m]]
        stops = []
        for d in range(days):
            day = start + timedelta(days=d)
            not_before = datetime.combine(day, time(8, 0), tzinfo=LOCAL_TZ)
            for _stop in range(rng.choice((2, 2, 3, 3))):
                for site in rng.sample(candidates, min(len(candidates), 4)):
                    squads = math.ceil(size / site.capacity)
                    slot = grid.place(site, day, not_before, squads)
                    if slot is None:
                        continue
                    course = teacher = None
                    options = courses_by_site.get(site.id, [])
                    if options:
                        course, teacher = rng.choice(options)
                        if (teacher, day) in grid.teacher_days:
                            course = teacher = None
                        else:
                            grid.teacher_days.add((teacher, day))
                    stops.append((site, day, slot, squads, course, teacher))
                    not_before = site.slot_start(day, slot + squads) + timedelta(minutes=30)
                    break
        if not stops:
            return plan
        future = start > self.today
        roll = rng.random()
        if future:
            status = (
                "confirmed"
                if roll < 0.6
                else "pending"
                if roll < 0.9
                else "cancelled"
                if roll < 0.97
                else "declined"
            )
        else:
            status = "confirmed" if roll < 0.88 else "cancelled" if roll < 0.96 else "declined"
        decided = min(self.now, created + timedelta(days=rng.randint(1, 10)))
        declined_one = rng.randrange(len(stops)) if status == "declined" else -1
        for i, (site, day, slot, squads, course, teacher) in enumerate(stops):
            per_squad = math.ceil(size / squads)
            for squad in range(squads):
                begins = site.slot_start(day, slot + squad)
                if status == "pending":
                    r_status = "confirmed" if site.auto_confirm or rng.random() < 0.4 else "pending"
                elif status == "declined":
                    r_status = "declined" if i == declined_one else "confirmed"
                else:
                    r_status = status
                plan["reservations"].append(
                    {
                        "site_id": site.id,
                        "course_id": course,
                        "teacher_id": teacher,
                        "starts_at": begins,
                        "ends_at": begins + timedelta(minutes=site.session),
                        "group_size": per_squad if squads > 1 else size,
                        "squad": squad + 1,
                        "guide_requested": site.needs_guide,
                        "status": r_status,
                        "decided_at": decided if r_status in ("confirmed", "declined") else None,
                        "decline_reason": "当天另有接待任务" if r_status == "declined" else "",
                    }
                )
        plan["booking"] = {
            "name": "定制线路",
            "start_date": start,
            "status": status,
            "created_by_id": klass["organizer_id"],
            "created_at": created,
            "cancelled_at": decided if status == "cancelled" else None,
            "cancel_reason": "培训计划调整" if status == "cancelled" else "",
        }
        plan["events"].append(self.event("create", "", "pending", created))
        if status != "pending":
            plan["events"].append(self.event("status", "pending", status, decided))
        return plan

    @staticmethod
    def event(action: str, old: str, new: str, when: datetime) -> dict:
        return {
            "action": action,
            "from_status": old,
            "to_status": new,
            "actor_name": "系统",
            "reason": "",
            "created_at": when,
            "reservation_id": None,
        }

    def unavailability(self) -> None:
        """Days off of some teachers in the coming year, never on a day they teach."""
        teachers = list(db.session.scalars(select(Teacher.id).order_by(Teacher.id)))
        rows = []
        for _n in range(10 * self.scale):
            teacher = self.rng.choice(teachers)
            first = self.today + timedelta(days=self.rng.randint(1, 300))
            days = [first + timedelta(days=d) for d in range(self.rng.randint(1, 5))]
            if any((teacher, day) in self.grid.teacher_days for day in days):
                continue
            rows.append(
                {
                    "teacher_id": teacher,
                    "starts_on": days[0],
                    "ends_on": days[-1],
                    "reason": "外出学习",
                }
            )
        self.insert(TeacherUnavailability, rows)

    # -- all of it

    def run(self) -> Counts:
        new_members = self.members()
        member_rows = db.session.execute(
            select(Member.id, Member.plugin, Member.key).order_by(Member.id)
        ).all()
        fresh = [(m, k) for m, p, k in member_rows if m in set(new_members)]
        # Items of the plugin members are created "in the portal" (no plugin/key), so a
        # later `flask portal sync` never retires them; the new members' carry their plugin.
        member_plugins = {
            m: (p if p.startswith(SCALE_PREFIX) else None) for m, p, _k in member_rows
        }
        self.users(fresh)
        before_sites = set(db.session.scalars(select(TeachingSite.id)))
        self.sites(fresh)
        new_sites = [
            s
            for s in db.session.scalars(select(TeachingSite.id).order_by(TeachingSite.id))
            if s not in before_sites
        ]
        teachers = self.teachers(member_plugins)
        self.courses(member_plugins, teachers)
        self.assessments_and_history(new_sites)
        self.classes()
        self.unavailability()
        return self.counts


def estimate_rows(scale: int) -> int:
    """Rough number of rows a run inserts, for the progress bar."""
    return 3_000 * scale


def generate(
    scale: int, *, seed: int = 2026, advance: Callable[[int], None] | None = None
) -> Counts:
    """Load the demo, then (scale > 1) add the scaled consortium in bulk. Commits."""
    from portal.demo import load_demo

    load_demo()
    if scale <= 1:
        return Counts()
    if db.session.scalar(select(Member.id).where(Member.plugin.like(f"{SCALE_PREFIX}%")).limit(1)):
        raise ScaleError(
            "这个数据库已经生成过大规模数据；请用一个新的数据库（flask db upgrade 之后）。"
        )
    counts = Generator(scale, seed, advance or (lambda n: None)).run()
    db.session.commit()
    analyse()
    return counts


def analyse() -> None:
    """Refresh the planner's statistics after a bulk load."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("ANALYZE"))


def _row_counts(tables: Iterable[Any]) -> list[tuple[str, int]]:
    return [
        (t.__tablename__, db.session.scalar(select(func.count()).select_from(t))) for t in tables
    ]


@click.command("demo")
@click.option(
    "--scale",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="1 = the demo; 100 ≈ 400 members, 5,000 teachers, 20,000 classes, 200,000 reservations.",
)
@click.option(
    "--seed",
    type=int,
    default=2026,
    show_default=True,
    help="Random seed (same seed on the same day, same data).",
)
@with_appcontext
def demo_command(scale: int, seed: int) -> None:
    """Load the demo consortium, or a large one generated in bulk at --scale N."""
    from portal.demo import DEMO_PASSWORD

    started = datetime.now(UTC)
    with click.progressbar(
        length=estimate_rows(scale), label=f"scale {scale}", show_pos=True
    ) as bar:

        def advance(n: int) -> None:
            bar.update(min(n, max(0, bar.length - bar.pos - 1)))

        counts = generate(scale, seed=seed, advance=advance)
        bar.update(bar.length - bar.pos)
    seconds = (datetime.now(UTC) - started).total_seconds()
    click.echo(f"inserted in {seconds:.0f} s: {counts}")
    for table, n in _row_counts(
        (Member, TeachingSite, Teacher, Course, User, TrainingClass, Booking, Reservation)
    ):
        click.echo(f"  {table:<18} {n:>9,}")
    click.echo(f"Every account's password: {DEMO_PASSWORD}")
    if scale > 1:
        click.echo(
            f"Members {SCALE_PREFIX}… have no installed plugin: their sites are listed and searchable "
            "but take no new bookings."
        )


def integrity_problems(site_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Windows over capacity, out of guides, and teachers in two places: all should be 0.

    For every holding reservation, everything holding that overlaps it at the same site (or
    for the same teacher) is added up: a conservative test (it never misses an overbooked
    window) that is exact for sessions on a grid.
    """
    holding = "('pending','confirmed','offered')"
    only = ""
    if site_ids is not None:
        only = " AND r.site_id IN (" + ",".join(str(int(i)) for i in site_ids) + ")"
    over = f"""
        SELECT COUNT(*) FROM (
          SELECT r.id FROM reservations r
          JOIN teaching_sites s ON s.id = r.site_id
          JOIN reservations o ON o.site_id = r.site_id AND o.status IN {holding}
               AND o.starts_at < r.ends_at AND o.ends_at > r.starts_at
          WHERE r.status IN {holding}{only}
          GROUP BY r.id, s.capacity, s.guide_count
          HAVING SUM(o.group_size) > s.capacity
              OR SUM(CASE WHEN o.guide_requested OR s.needs_guide THEN 1 ELSE 0 END)
                 > s.guide_count
        ) AS bad"""
    teacher = f"""
        SELECT COUNT(*) FROM reservations r
        JOIN reservations o ON o.teacher_id = r.teacher_id AND o.id <> r.id
             AND o.booking_id <> r.booking_id AND o.status IN {holding}
             AND o.starts_at < r.ends_at AND o.ends_at > r.starts_at
        WHERE r.status IN {holding} AND r.teacher_id IS NOT NULL{only}"""
    return {
        "windows_over_capacity_or_guides": db.session.scalar(text(over)),
        "teacher_clashes": db.session.scalar(text(teacher)),
    }
