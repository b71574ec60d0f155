"""One test per catalogue hook: what a plugin returns is what the portal stores."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal import hookimpl
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins
from portal.scheduling.fitting import PlannedStop, check_plan, member_rule_problems
from portal.specs import (
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReservationRequest,
    SiteSpec,
    Squad,
    TeacherSpec,
)
from portal.timeutil import LOCAL_TZ
from tests.members.test_plugins import registered

pytestmark = pytest.mark.db


class Sixth:
    @hookimpl
    def portal_institution(self):
        return InstitutionSpec(
            key="sixth",
            name="第六成员单位",
            short_name="六号",
            kind="cadre_college",
            phone="0875-1",
        )

    @hookimpl
    def portal_teaching_sites(self):
        return [
            SiteSpec(
                key="hall",
                name="六号展厅",
                theme="廉政教育",
                capacity=45,
                session_minutes=60,
                open_weekdays=(5, 1, 3),
                opens=time(9),
                closes=time(16, 30),
                needs_guide=True,
            )
        ]

    @hookimpl
    def portal_teachers(self):
        return [
            TeacherSpec(
                key="t1", name="周老师", kind="full_time", title="副教授", topics=("廉政", "法治")
            )
        ]

    @hookimpl
    def portal_courses(self):
        return [
            CourseSpec(
                key="c1",
                name="以案为鉴",
                kind="case",
                teacher_keys=("t1",),
                site_key="hall",
                hours=2.5,
            )
        ]

    @hookimpl
    def portal_event_types(self):
        return [EventTypeSpec(key="contest", name="课程评比大赛", description="每年一次")]

    @hookimpl
    def portal_validate_reservation(self, reservation, site):
        return ["六号展厅不接待超过 40 人的团组。"] if reservation.group_size > 40 else []


@pytest.fixture
def sixth(app):
    with registered(app, Sixth(), "sixth"):
        sync_plugins(only="sixth")
        db.session.commit()
        yield db.session.scalar(select(Member).where(Member.key == "sixth"))


def test_hook_portal_institution(sixth):
    assert (sixth.name, sixth.short_name, sixth.kind, sixth.phone) == (
        "第六成员单位",
        "六号",
        "cadre_college",
        "0875-1",
    )
    assert sixth.plugin == "sixth"


def test_the_home_page_names_the_members_that_take_part(sixth, client):
    from portal import plugins

    lead = re.search(r'data-testid="founders">([^<]*)<', client.get("/").get_data(as_text=True))[1]
    assert "六号" in lead  # a member that joins is named, from the data
    plugins.set_enabled("sixth", False, by="test")
    db.session.commit()
    lead = re.search(r'data-testid="founders">([^<]*)<', client.get("/").get_data(as_text=True))[1]
    assert "六号" not in lead


def test_hook_portal_teaching_sites(sixth):
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.member_id == sixth.id))
    assert (site.key, site.name, site.capacity, site.session_minutes) == (
        "hall",
        "六号展厅",
        45,
        60,
    )
    assert site.open_weekdays == "135"
    assert site.open_days_label == "周一、周三、周五"
    assert (site.opens, site.closes, site.needs_guide) == (time(9), time(16, 30), True)


def test_hook_portal_teachers(sixth):
    teacher = db.session.scalar(select(Teacher).where(Teacher.member_id == sixth.id))
    assert (teacher.name, teacher.kind_label, teacher.title, teacher.topics) == (
        "周老师",
        "专职",
        "副教授",
        "廉政、法治",
    )
    assert teacher.shared is False


def test_hook_portal_courses(sixth):
    course = db.session.scalar(select(Course).where(Course.member_id == sixth.id))
    assert (course.name, course.kind_label, course.hours) == ("以案为鉴", "案例教学", 2.5)
    assert course.site.key == "hall"
    assert [t.key for t in course.teachers] == ["t1"]


def test_hook_portal_event_types(sixth):
    kind = db.session.scalar(select(EventType).where(EventType.member_id == sixth.id))
    assert (kind.key, kind.name, kind.description) == ("contest", "课程评比大赛", "每年一次")


def test_hook_portal_validate_reservation(sixth):
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.member_id == sixth.id))
    now = datetime.now(LOCAL_TZ)

    def ask(size: int) -> list[str]:
        request = ReservationRequest(
            site_id=site.id,
            starts_at=now + timedelta(days=7),
            ends_at=now + timedelta(days=7, hours=1),
            group_size=size,
            requested_at=now,
        )
        return member_rule_problems(request, site)

    assert ask(46) == ["六号展厅不接待超过 40 人的团组。"]
    assert ask(40) == []


class Recorder(Sixth):
    """The sixth member, keeping every reservation its rule is asked about."""

    def __init__(self) -> None:
        self.asked: list[ReservationRequest] = []

    @hookimpl
    def portal_validate_reservation(self, reservation, site):
        self.asked.append(reservation)
        return []


def test_hook_portal_validate_reservation_sees_each_squad(app):
    recorder = Recorder()
    with registered(app, recorder, "sixth"):
        sync_plugins(only="sixth")
        db.session.commit()
        hall = db.session.scalar(select(TeachingSite).where(TeachingSite.plugin == "sixth"))
        day = datetime.now(LOCAL_TZ).date() + timedelta(days=14)
        while day.isoweekday() != 5:
            day += timedelta(days=1)
        nine = datetime.combine(day, time(9), tzinfo=LOCAL_TZ)
        plan = [PlannedStop(0, "visit", nine, 60, site=hall, squads=2, guide_requested=True)]
        assert check_plan(plan, 80, class_name="某班") == []
    (asked,) = recorder.asked
    assert (asked.group_size, asked.class_name, asked.squad_count, asked.largest_squad) == (
        80,
        "某班",
        2,
        40,
    )
    assert asked.squads == (
        Squad(1, nine, nine + timedelta(hours=1), 40),
        Squad(2, nine + timedelta(hours=1), nine + timedelta(hours=2), 40),
    )
    assert (asked.starts_at, asked.ends_at) == (nine, nine + timedelta(hours=2))
