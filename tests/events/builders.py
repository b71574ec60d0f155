"""Small builders shared by the joint-event tests."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.events.contests import appoint_judge, record_scores, set_criteria, submit_entry
from portal.events.events import add_session, create_event, publish_event
from portal.events.models import JointEvent
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ

TYPE_OF = {
    "guide_contest": "guide_contest",
    "course_contest": "course_contest",
    "training": "joint_training",
}
CRITERIA = (("内容设计", 40), ("讲授表达", 30), ("教学效果", 30))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member(key: str) -> Member:
    return db.session.scalar(select(Member).where(Member.key == key))


def event_type(key: str) -> EventType:
    return db.session.scalar(select(EventType).where(EventType.key == key))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def teacher(key: str) -> Teacher:
    return db.session.scalar(select(Teacher).where(Teacher.key == key))


def first_site(member_key: str) -> TeachingSite:
    return db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.member_id == member(member_key).id)
        .order_by(TeachingSite.id)
    ).first()


def courses_of(member_key: str, excellent: bool | None = None) -> list[Course]:
    query = select(Course).where(Course.member_id == member(member_key).id).order_by(Course.id)
    if excellent is not None:
        query = query.where(Course.excellent.is_(excellent))
    return list(db.session.scalars(query))


def future_day(days: int = 30) -> date:
    return datetime.now(LOCAL_TZ).date() + timedelta(days=days)


def session_values(day: date | None = None, start: int = 9, end: int = 12, **extra) -> dict:
    values = {
        "title": "开班式与专题讲座",
        "day": day or future_day(),
        "starts": time(start),
        "ends": time(end),
        "site_id": first_site("party_school").id,
        "place": "",
        "teacher_id": None,
    }
    values.update(extra)
    return values


def make_event(
    category: str = "training",
    *,
    title: str = "",
    capacity: int | None = None,
    open_to_all: bool = True,
    invited: tuple[str, ...] = (),
    publish: bool = True,
    type_key: str | None = None,
    extra: dict | None = None,
    deadline: date | None = None,
    day: date | None = None,
) -> JointEvent:
    office = user("office")
    kind = event_type(type_key or TYPE_OF[category])
    event = create_event(
        office,
        kind.id,
        {
            "title": title or f"测试活动（{category}）",
            "description": "",
            "category": category,
            "open_to_all": open_to_all,
            "invited_member_ids": [member(k).id for k in invited],
            "capacity": capacity,
            "registration_deadline": deadline,
            "extra": extra or {},
        },
    )
    add_session(event, office, session_values(day))
    if publish:
        publish_event(event, office)
    db.session.commit()
    return event


def make_contest(category: str = "course_contest", criteria=CRITERIA, **kwargs) -> JointEvent:
    event = make_event(category, **kwargs)
    if criteria:
        set_criteria(event, user("office"), list(criteria))
        db.session.commit()
    return event


def end_contest(event: JointEvent, days_ago: int = 2) -> JointEvent:
    """The contest as if it were over: its sessions ``days_ago`` days ago (moved in the
    database, as time would), its entry deadline the day before. Results may be published."""
    day = datetime.now(LOCAL_TZ).date() - timedelta(days=days_ago)
    for session in event.sessions:
        shift = day - session.starts_at.astimezone(LOCAL_TZ).date()
        session.starts_at += shift
        session.ends_at += shift
    event.registration_deadline = day - timedelta(days=1)
    db.session.commit()
    return event


def enter_course(event: JointEvent, member_key: str, course: Course | None = None):
    staff = user(f"{member_key}_staff")
    course = course or courses_of(member_key, excellent=False)[0]
    entry = submit_entry(event.id, staff, {"course_id": course.id})
    db.session.commit()
    return entry


def appoint(event: JointEvent, username: str):
    appointment = appoint_judge(event, user("office"), user(username).id)
    db.session.commit()
    return appointment


def score(entry, username: str, *values) -> object:
    criteria = entry.event.criteria
    total = record_scores(
        entry, user(username), {c.id: v for c, v in zip(criteria, values, strict=True)}
    )
    db.session.commit()
    return total


# ---------------------------------------------------------------- page checks


class _FormControls(HTMLParser):
    """Collects the form controls of a page, the labels' targets and the h1 count."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.h1 = 0
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea"):
            kind = (attrs.get("type") or "").lower()
            if kind in ("hidden", "submit", "button"):
                return
            attrs["_wrapped"] = self._label_depth > 0
            self.controls.append(attrs)

    def handle_endtag(self, tag):
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def unlabelled_controls(page: str) -> list[str]:
    parser = _FormControls()
    parser.feed(page)
    missing = []
    for control in parser.controls:
        if control["_wrapped"] or control.get("aria-label") or control.get("aria-labelledby"):
            continue
        if control.get("id") and control["id"] in parser.label_for:
            continue
        missing.append(control.get("name") or control.get("id") or "?")
    return missing


def h1_count(page: str) -> int:
    parser = _FormControls()
    parser.feed(page)
    return parser.h1


def text_of(page: str) -> str:
    """The page without tags, for "is this shown" checks."""
    return re.sub(r"<[^>]+>", " ", page)
