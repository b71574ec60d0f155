"""Query budgets: the number of SQL statements a page costs must not grow with the data.

Every main page and API is requested on the demo consortium (scale 1), then again after
bulk-inserting many more members, sites, teachers, courses, routes, users, classes,
bookings and reservations — aimed at what each page shows (courses at the page's site,
reservations in the calendar's month, stops of the booking shown, …). A page whose
statement count grows has an N+1 query: the failure lists the statements that repeat.

The statements are counted with a ``before_cursor_execute`` listener on ``db.engine``;
each page is requested once before it is counted, so one-time work (first connection,
caches) is not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, insert, select

from portal.auth.models import User
from portal.catalog.models import (
    Course,
    SiteAssessment,
    Teacher,
    TeachingSite,
    course_teachers,
)
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling.booking import book
from portal.scheduling.classes import register_class
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import (
    Booking,
    BookingEvent,
    Reservation,
    RouteStop,
    RouteTemplate,
    TrainingClass,
)
from portal.timeutil import LOCAL_TZ
from tests.conftest import empty_all_tables, login, make_test_app

pytestmark = pytest.mark.db

# The booked route's first site (杨善洲干部学院): its pages, calendar and inbox are measured.
SITE_KEY = "spirit_base"
MEMBER_KEY = "yangshanzhou_college"
ROUTE = "三点一线五日精品环线"
BOOKED_ROUTE = "杨善洲精神一日环线"

# How much more data the large run has than the demo.
EXTRA_MEMBERS = 20
EXTRA_SITES = 200
EXTRA_TEACHERS = 200
EXTRA_COURSES = 200
EXTRA_RESERVATIONS = 500


@dataclass(frozen=True)
class Case:
    """One page: its address (formatted with the ids of ``Targets``) and who asks for it."""

    name: str
    url: str
    user: str | None = None


CASES = [
    Case("home", "/"),
    Case("sites", "/sites"),
    Case("sites_search", "/sites?q=%E7%BA%AA%E5%BF%B5&sort=score"),  # q=纪念
    Case("site_detail", "/sites/{site_id}"),
    Case("site_detail_office", "/sites/{site_id}", "office"),
    Case("teachers", "/teachers"),
    Case("courses", "/courses"),
    Case("routes", "/routes"),
    Case("route_detail", "/routes/{template_id}"),
    Case("members", "/members"),
    Case("site_calendar", "/calendar/site/{site_id}?date={day}"),
    Case("site_calendar_office", "/calendar/site/{site_id}?date={day}", "office"),
    Case("site_calendar_week", "/calendar/site/{site_id}?date={day}&view=week", "office"),
    Case("api_sites", "/api/v1/sites?per_page=100"),
    Case("api_availability", "/api/v1/availability?site={site_id}&from={window}&to={window_end}"),
    Case("classes", "/classes", "organizer"),
    Case("booking_detail", "/bookings/{booking_id}", "organizer"),
    Case("inbox_member", "/inbox", "yangshanzhou_college_staff"),
    Case("inbox_office", "/inbox", "office"),
    Case("admin_plugins", "/admin/plugins", "office"),
    Case("admin_users", "/admin/users", "office"),
]


@dataclass
class Targets:
    site_id: int
    member_id: int
    template_id: int
    booking_id: int
    day: str  # the booked day: the calendar shows its month, availability 60 days around it
    window: str
    window_end: str


@dataclass
class Measured:
    small: dict[str, int] = field(default_factory=dict)
    large: dict[str, int] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)


def _ids(model, rows: list[dict]) -> list[int]:
    """Bulk-insert ``rows`` and return their new ids, in order."""
    if not rows:
        return []
    return list(
        db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    )


def _by_key(model, key: str):
    return db.session.scalar(select(model).where(model.key == key))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _future_tuesday() -> date:
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=14)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def _scale_one() -> Targets:
    """The demo consortium and one booking of the one-day route, as a class would make it."""
    from portal.demo import load_demo

    load_demo()
    organizer = _user("organizer")
    day = _future_tuesday()
    training_class = register_class(
        organizer,
        {
            "name": "保山市第七期中青年干部培训班",
            "kind": "main",
            "origin": "province",
            "sending_unit": "某州委组织部",
            "size": 30,
            "starts_on": day,
            "ends_on": day,
            "theme": "党性教育",
            "contact_name": "张联系人",
            "contact_phone": "13800000000",
        },
    )
    db.session.commit()
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == BOOKED_ROUTE))
    booking = book(training_class, plan_from_template(template, day), organizer, template=template)
    return Targets(
        site_id=_by_key(TeachingSite, SITE_KEY).id,
        member_id=db.session.scalar(select(Member.id).where(Member.key == MEMBER_KEY)),
        template_id=db.session.scalar(select(RouteTemplate.id).where(RouteTemplate.name == ROUTE)),
        booking_id=booking.id,
        day=day.isoformat(),
        window=(day - timedelta(days=20)).isoformat(),
        window_end=(day + timedelta(days=40)).isoformat(),
    )


def _grow(t: Targets) -> None:
    """Bulk-insert many more rows of every kind, aimed at what each measured page shows."""
    demo_members = list(db.session.scalars(select(Member.id).order_by(Member.id)))
    new_members = _ids(
        Member,
        [
            {
                "key": f"perf_member_{i:03}",
                "plugin": f"perf_member_{i:03}",
                "name": f"第{i}干部教育基地",
                "short_name": f"基地{i}",
                "kind": "training_base",
            }
            for i in range(1, EXTRA_MEMBERS + 1)
        ],
    )
    members = demo_members + new_members
    site_rows = []
    for i in range(EXTRA_SITES):
        # A quarter of the new sites belong to the measured member (its inbox grows).
        member = t.member_id if i % 4 == 0 else members[i % len(members)]
        site_rows.append(
            {
                "plugin": "perf",
                "key": f"site_{i:04}",
                "member_id": member,
                "name": f"纪念教学点{i:04}",
                "theme": ("抗战历史", "党性教育", "乡村振兴", "民族团结")[i % 4],
                "description": "现场教学点",
                "capacity": 40 + i % 5 * 20,
                "session_minutes": 60,
                "open_weekdays": "1234567",
                "opens": time(8, 0),
                "closes": time(18, 0),
                "needs_guide": i % 3 == 0,
                "address": f"云南省保山市第{i}号",
                "latitude": 25.0 + i / 1000,
                "longitude": 99.0 + i / 1000,
            }
        )
    sites = _ids(TeachingSite, site_rows)
    _ids(
        SiteAssessment,
        [
            {"site_id": s, "year": year, "score": 70 + (s + year) % 30}
            for s in sites
            for year in (2024, 2025)
        ],
    )
    teachers = _ids(
        Teacher,
        [
            {
                "plugin": "perf",
                "key": f"teacher_{i:04}",
                "member_id": members[i % len(members)],
                "name": f"测试教师{i:04}",
                "kind": ("full_time", "part_time")[i % 2],
                "title": ("教授", "副教授", "讲师", "研究员")[i % 4],
                "topics": "党史、抗战历史",
                "shared": i % 2 == 0,
            }
            for i in range(EXTRA_TEACHERS)
        ],
    )
    courses = _ids(
        Course,
        [
            {
                "plugin": "perf",
                "key": f"course_{i:04}",
                "member_id": members[i % len(members)],
                "name": f"现场教学课程{i:04}",
                "kind": ("lecture", "onsite", "case", "seminar")[i % 4],
                # One in ten is taught at the measured site (its page lists them).
                "site_id": t.site_id if i % 10 == 0 else sites[i % len(sites)],
                "hours": 1.5,
                "excellent": i % 7 == 0,
            }
            for i in range(EXTRA_COURSES)
        ],
    )
    db.session.execute(
        insert(course_teachers),
        [
            {"course_id": c, "teacher_id": teachers[(i + k) % len(teachers)]}
            for i, c in enumerate(courses)
            for k in (0, 1)
        ],
    )
    # Ten more published routes of six stops each, and six more stops on the measured route.
    templates = _ids(
        RouteTemplate,
        [
            {"name": f"测试环线{i}", "theme": "党性教育", "days": 2, "status": "published"}
            for i in range(10)
        ],
    )
    stop_rows = [
        {
            "template_id": template,
            "day": 1 + k // 3,
            "starts": time(9 + 2 * (k % 3), 0),
            "minutes": 90,
            "kind": "course",
            "site_id": sites[(i * 6 + k) % len(sites)],
            "course_id": courses[(i * 6 + k) % len(courses)],
        }
        for i, template in enumerate([*templates, t.template_id])
        for k in range(6)
    ]
    db.session.execute(insert(RouteStop), stop_rows)
    # Users: organizers, and staff of the new members.
    _ids(
        User,
        [
            {
                "username": f"perf_user_{i:03}",
                "display_name": f"测试用户{i}",
                "role": "member_staff" if i % 2 else "organizer",
                "member_id": new_members[i % len(new_members)] if i % 2 else None,
                "password_hash": "!",
            }
            for i in range(80)
        ],
    )
    # Classes of the demo organizer, one booking each.
    organizer = _user("organizer").id
    start = datetime.now(LOCAL_TZ).date().replace(day=1)
    classes = _ids(
        TrainingClass,
        [
            {
                "name": f"测试培训班{i}",
                "kind": "commissioned",
                "origin": "province",
                "sending_unit": "某市委组织部",
                "size": 20,
                "starts_on": start + timedelta(days=i),
                "ends_on": start + timedelta(days=i + 2),
                "theme": "党性教育",
                "contact_name": "联系人",
                "contact_phone": "13800000000",
                "organizer_id": organizer,
            }
            for i in range(30)
        ],
    )
    bookings = _ids(
        Booking,
        [
            {
                "class_id": c,
                "name": "定制线路",
                "start_date": start + timedelta(days=i),
                "status": "pending",
                "created_by_id": organizer,
            }
            for i, c in enumerate(classes)
        ],
    )
    member_sites = [s for i, s in enumerate(sites) if i % 4 == 0]
    rows = []

    def reservation(booking, site, day, hour, status, n):
        rows.append(
            {
                "booking_id": booking,
                "site_id": site,
                "course_id": courses[n % len(courses)],
                "teacher_id": teachers[n % len(teachers)],
                "starts_at": _at(day, hour),
                "ends_at": _at(day, hour) + timedelta(minutes=60),
                "group_size": 20,
                "status": status,
            }
        )

    # 100 at the measured site in the four weeks around the booked day (calendar, availability).
    booked_day = date.fromisoformat(t.day)
    for n in range(100):
        day = booked_day + timedelta(days=n % 28 - 14)
        reservation(bookings[n % 30], t.site_id, day, 9 + n % 8, "confirmed", n)
    # 150 pending at the measured member's sites (its inbox).
    for n in range(150):
        day = start + timedelta(days=30 + n % 60)
        site = member_sites[n % len(member_sites)]
        reservation(bookings[n % 30], site, day, 9 + n % 8, "pending", n)
    # 50 more stops of the measured booking, at different sites, courses and teachers.
    for n in range(50):
        day = booked_day + timedelta(days=1 + n // 8)
        reservation(t.booking_id, sites[n], day, 9 + n % 8, "confirmed", n)
    # The rest anywhere over the next year.
    for n in range(EXTRA_RESERVATIONS - 300):
        day = start + timedelta(days=(n * 7) % 365)
        reservation(bookings[n % 30], sites[n % len(sites)], day, 9 + n % 8, "confirmed", n)
    new_reservations = _ids(Reservation, rows)
    mine = new_reservations[250:300]
    db.session.execute(
        insert(BookingEvent),
        [
            {
                "booking_id": t.booking_id,
                "reservation_id": r,
                "action": "confirm",
                "from_status": "pending",
                "to_status": "confirmed",
                "actor_name": "测试",
            }
            for r in mine
        ],
    )
    db.session.commit()


def _count(client, url: str) -> tuple[int, list[str], int]:
    client.get(url)  # warm up: first connection, caches
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        status = client.get(url).status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements), statements, status


def _measure(app: Flask, targets: Targets, into: dict[str, int], measured: Measured) -> None:
    clients = {}
    for case in CASES:
        if case.user not in clients:
            clients[case.user] = app.test_client()
            if case.user:
                login(clients[case.user], case.user)
        url = case.url.format(**targets.__dict__)
        count, statements, status = _count(clients[case.user], url)
        into[case.name] = count
        measured.statements[case.name] = statements
        measured.status[case.name] = status


@pytest.fixture(scope="module")
def measured(_schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    """Statement counts of every case on the demo, then on the grown data (measured once)."""
    # Without the page cache, so that each page's own statements are counted (a cache hit
    # costs one: tests/perf/test_page_cache.py).
    app = make_test_app(_schema, str(tmp_path_factory.mktemp("budgets")), PAGE_CACHE=False)
    with app.app_context():
        empty_all_tables()
        result = Measured()
        targets = _scale_one()
        _measure(app, targets, result.small, result)
        small_status = dict(result.status)
        _grow(targets)
        _measure(app, targets, result.large, result)
        for name, status in small_status.items():
            assert status == 200, f"{name} answered {status} on the demo"
        yield result
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


def _normalise(statement: str) -> str:
    return re.sub(r"\s+", " ", statement)[:160]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_statements_do_not_grow_with_the_data(measured: Measured, case: Case) -> None:
    assert measured.status[case.name] == 200, f"{case.url} answered {measured.status[case.name]}"
    small, large = measured.small[case.name], measured.large[case.name]
    repeated = Counter(_normalise(s) for s in measured.statements[case.name]).most_common(3)
    assert large <= small, (
        f"{case.url}: {small} statements on the demo, {large} with more data; "
        f"most repeated: {repeated}"
    )
