"""Small builders shared by the scheduling tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.scheduling.classes import register_class
from portal.scheduling.fitting import PlannedStop, Problem
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def course(key: str) -> Course:
    return db.session.scalar(select(Course).where(Course.key == key))


def teacher(key: str) -> Teacher:
    return db.session.scalar(select(Teacher).where(Teacher.key == key))


def template(name: str) -> RouteTemplate:
    return db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == name))


def future_weekday(isoweekday: int, at_least_days: int = 14) -> date:
    """The first given weekday (1 = Monday) at least ``at_least_days`` from today."""
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=at_least_days)
    while day.isoweekday() != isoweekday:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def stop(
    site_key: str,
    starts_at: datetime,
    minutes: int = 60,
    *,
    index: int = 0,
    course_key: str | None = None,
    teacher_key: str | None = None,
    squads: int = 1,
    guide: bool = False,
) -> PlannedStop:
    chosen_course = course(course_key) if course_key else None
    chosen_teacher = teacher(teacher_key) if teacher_key else None
    if chosen_teacher is None and chosen_course is not None and chosen_course.teachers:
        chosen_teacher = chosen_course.teachers[0]
    return PlannedStop(
        index=index,
        kind="course" if chosen_course else "visit",
        starts_at=starts_at,
        minutes=minutes,
        site=site(site_key),
        course=chosen_course,
        teacher=chosen_teacher,
        squads=squads,
        guide_requested=guide,
    )


def new_class(
    size: int = 30,
    *,
    organizer: str = "organizer",
    days: int = 2,
    theme: str = "乡村振兴",
    start: date | None = None,
    **extra,
) -> TrainingClass:
    start = start or future_weekday(2)
    values = {
        "name": extra.pop("name", f"测试班{size}人"),
        "kind": "commissioned",
        "origin": "other_province",
        "sending_unit": "某省委组织部",
        "size": size,
        "starts_on": start,
        "ends_on": start + timedelta(days=days - 1),
        "theme": theme,
        "contact_name": "张联系人",
        "contact_phone": "13800000000",
        **extra,
    }
    created = register_class(user(organizer), values)
    db.session.commit()
    return created


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]
