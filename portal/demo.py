"""The demo consortium: the four members (from their plugins) and a user for every role."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module

from sqlalchemy import select

from portal.auth import services as auth_services
from portal.auth.models import User
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins

DEMO_PASSWORD = "huanxian2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    member_key: str | None = None
    unit_name: str | None = None


def demo_accounts(member_keys: list[str]) -> list[DemoAccount]:
    accounts = [DemoAccount("office", "环线办 王主任", "office")]
    staff_names = {"admin": "管理员", "staff": "工作人员"}
    for key in member_keys:
        for suffix, label in staff_names.items():
            role = "member_admin" if suffix == "admin" else "member_staff"
            accounts.append(DemoAccount(f"{key}_{suffix}", label, role, key))
    accounts.append(DemoAccount("organizer", "张联系人", "organizer", unit_name="某省委组织部"))
    accounts.append(DemoAccount("trainee", "李学员", "trainee", unit_name="某县发展改革局"))
    return accounts


# The living part of the demo, one loader per area, run in this order: each adds what a demo
# account of that area should see after `make run` (a class under way with its roster, an open
# run, ...). A loader is "module:function", takes no argument, is idempotent and may flush.
SEASON_PARTS: dict[str, str] = {
    "trainees": "portal.trainees.demo:load_demo_trainees",
    "attendance": "portal.attendance.demo:load_demo_attendance",
    "evaluations": "portal.evaluations.demo:load_demo_evaluations",
    "certificates": "portal.certificates.demo:load_demo_certificates",
    "planner": "portal.planner.demo:load_demo_planner",
    "reports": "portal.reports.demo:load_demo_reports",
    "directory": "portal.directory.demo:load_demo_directory",
    "scheduling": "portal.scheduling.demo:load_demo_bookings",
    "meetings": "portal.meetings.demo:load_demo_meetings",
    "events": "portal.events.demo:load_demo_events",
}


def _season_loader(part: str) -> Callable[[], object]:
    module, _, function = SEASON_PARTS[part].partition(":")
    return getattr(import_module(module), function)


def load_demo(*, season: bool | Iterable[str] = False) -> list[DemoAccount]:
    """Sync the plugins and create the demo accounts that do not exist yet. Commits.

    ``season=True`` (what ``flask portal load-demo`` and so ``make run`` do) also loads every
    part of the living season (SEASON_PARTS); a list names only some parts (tests). Tests that
    need an otherwise empty schedule leave it out.
    """
    sync_plugins()
    db.session.flush()
    members = {m.key: m for m in db.session.scalars(select(Member))}
    accounts = demo_accounts(sorted(members))
    existing = set(db.session.scalars(select(User.username)))
    for account in accounts:
        if account.username in existing:
            continue
        member = members.get(account.member_key) if account.member_key else None
        display = f"{member.short_name}{account.display_name}" if member else account.display_name
        auth_services.create_user(
            username=account.username,
            display_name=display,
            role=account.role,
            password=DEMO_PASSWORD,
            member_id=member.id if member else None,
            unit_name=account.unit_name,
        )
    load_demo_routes()
    db.session.commit()
    parts = list(SEASON_PARTS) if season is True else list(season or ())
    for part in SEASON_PARTS:
        if part in parts:
            _season_loader(part)()
            db.session.commit()
    return accounts


# Route templates of the demo consortium: (name, theme, days, description, stops), where a
# stop is (day, "HH:MM", minutes, kind, site key or None, course key or None, title).
DEMO_ROUTES = [
    (
        "杨善洲精神一日环线",
        "党性教育",
        1,
        "走进大亮山林场，学习杨善洲同志“一生为民、清廉一生”的崇高精神。",
        [
            (1, "09:00", 180, "course", "spirit_base", "daliangshan_onsite", ""),
            (1, "12:00", 60, "meal", None, None, "午餐（林场职工食堂）"),
            (1, "13:30", 60, "course", "exhibition_room", "exhibition_onsite", ""),
            (1, "14:50", 60, "visit", "cemetery", None, ""),
        ],
    ),
    (
        "滇西抗战精神三日环线",
        "党性教育",
        3,
        "市委党校专题辅导，腾冲滇西抗战纪念馆、国殇墓园、和顺，松山战役遗址现场教学。",
        [
            (1, "09:00", 180, "course", "main_hall", "theory_lecture", ""),
            (1, "12:00", 60, "meal", None, None, "午餐（党校食堂）"),
            (1, "14:00", 150, "travel", None, None, "乘车前往腾冲"),
            (2, "09:00", 90, "course", "dianxi_memorial", "memorial_onsite", ""),
            (2, "10:50", 60, "visit", "guoshang_cemetery", None, ""),
            (2, "12:00", 60, "meal", None, None, "午餐"),
            (2, "13:30", 60, "course", "aisiqi_residence", "aisiqi_onsite", ""),
            (2, "15:50", 30, "visit", "heshun_library", None, ""),
            (3, "08:00", 120, "travel", None, None, "乘车前往龙陵松山"),
            (3, "10:00", 180, "course", "battlefield", "battlefield_onsite", ""),
            (3, "13:00", 60, "meal", None, None, "午餐"),
            (3, "14:30", 90, "visit", "battle_museum", None, ""),
        ],
    ),
    (
        "三点一线五日精品环线",
        "党性教育",
        5,
        "党校理论教学、杨善洲精神、滇西抗战、民族团结与乡村振兴，五天走完环线三点一线。",
        [
            (1, "09:00", 180, "course", "main_hall", "theory_lecture", ""),
            (1, "14:00", 120, "course", "multi_hall", "grassroots_case", ""),
            (2, "09:00", 180, "course", "spirit_base", "daliangshan_onsite", ""),
            (2, "13:30", 60, "course", "exhibition_room", "exhibition_onsite", ""),
            (2, "14:50", 60, "visit", "cemetery", None, ""),
            (3, "10:00", 180, "course", "battlefield", "battlefield_onsite", ""),
            (3, "14:30", 90, "visit", "battle_museum", None, ""),
            (4, "09:00", 90, "course", "dianxi_memorial", "memorial_onsite", ""),
            (4, "10:50", 60, "visit", "guoshang_cemetery", None, ""),
            (4, "14:00", 60, "course", "aisiqi_residence", "aisiqi_onsite", ""),
            (5, "09:00", 180, "course", "simola_village", "simola_case", ""),
        ],
    ),
]


def load_demo_routes() -> int:
    """Publish the demo route templates if the office has none yet. Returns how many were added."""
    from datetime import time

    from portal.catalog.models import Course, TeachingSite
    from portal.scheduling.models import RouteStop, RouteTemplate

    if db.session.scalar(select(RouteTemplate.id).limit(1)) is not None:
        return 0
    sites = {
        s.key: s
        for s in db.session.scalars(select(TeachingSite).where(TeachingSite.key.is_not(None)))
    }
    courses = {c.key: c for c in db.session.scalars(select(Course).where(Course.key.is_not(None)))}
    for name, theme, days, description, stops in DEMO_ROUTES:
        template = RouteTemplate(
            name=name, theme=theme, days=days, description=description, status="published"
        )
        for day, at, minutes, kind, site_key, course_key, title in stops:
            hour, minute = map(int, at.split(":"))
            template.stops.append(
                RouteStop(
                    day=day,
                    starts=time(hour, minute),
                    minutes=minutes,
                    kind=kind,
                    site=sites.get(site_key) if site_key else None,
                    course=courses.get(course_key) if course_key else None,
                    title=title,
                )
            )
        db.session.add(template)
    return len(DEMO_ROUTES)
