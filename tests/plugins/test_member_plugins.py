"""The four member plugins: installed, synced into the catalogue, and each member's own rule."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal import plugins
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member, PluginState
from portal.scheduling.fitting import member_rule_problems
from portal.specs import (
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReservationRequest,
    SiteSpec,
    Squad,
    TeacherSpec,
)

pytestmark = pytest.mark.db

LOCAL = ZoneInfo("Asia/Shanghai")
MEMBER_PLUGINS = ["party_school", "yangshanzhou_college", "tengchong_college", "songshan_base"]

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)


def site_of(plugin: str, key: str) -> TeachingSite:
    site = db.session.scalar(
        select(TeachingSite).where(TeachingSite.plugin == plugin, TeachingSite.key == key)
    )
    assert site is not None, f"{plugin}/{key} was not synced"
    return site


def booking(
    site: TeachingSite,
    day: date,
    *,
    start: time = time(9, 0),
    group_size: int = 46,
    days_ahead: int = 14,
    guide: bool = True,
    groups_already: int = 0,
) -> ReservationRequest:
    """A reservation of one session of ``site`` on ``day``, asked ``days_ahead`` days before."""
    starts_at = datetime.combine(day, start, tzinfo=LOCAL)
    return ReservationRequest(
        site_id=site.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=site.session_minutes),
        group_size=group_size,
        requested_at=(starts_at - timedelta(days=days_ahead)).replace(hour=16, minute=30),
        guide_requested=guide,
        class_name="省外党性教育专题培训班",
        groups_already_that_day=groups_already,
    )


def count(model: type, plugin: str, **where) -> int:
    query = select(func.count()).select_from(model).where(model.plugin == plugin)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


def test_the_four_member_plugins_are_installed(app):
    assert set(MEMBER_PLUGINS) <= set(plugins.plugin_names())
    for name in MEMBER_PLUGINS:
        assert plugins.implements(name, "portal_validate_reservation")


@pytest.mark.parametrize("plugin", MEMBER_PLUGINS)
def test_each_member_brings_its_catalogue(demo, plugin):
    member = db.session.scalar(select(Member).where(Member.plugin == plugin))
    assert member is not None
    assert member.key == plugin
    assert member.name and member.short_name and member.address and member.description

    assert count(TeachingSite, plugin, status="active") >= 3
    assert count(Teacher, plugin, status="active") >= 3
    assert count(Teacher, plugin, status="active", shared=True) >= 1
    assert count(Course, plugin, status="active") >= 2
    assert count(EventType, plugin, status="active") >= 1

    # Every course was synced with its teachers, and the sync found nothing to complain of.
    courses = db.session.scalars(select(Course).where(Course.plugin == plugin)).all()
    assert all(course.teachers for course in courses)
    assert all(c.site is None or c.site.member_id == member.id for c in courses)
    state = db.session.get(PluginState, plugin)
    assert state is not None and state.last_error is None


def test_the_members_are_the_expected_institutions(demo):
    kinds = dict(db.session.execute(select(Member.plugin, Member.kind)).all())
    assert kinds["party_school"] == "party_school"
    assert kinds["yangshanzhou_college"] == "cadre_college"
    assert kinds["tengchong_college"] == "cadre_college"
    assert kinds["songshan_base"] == "training_base"
    names = set(db.session.scalars(select(TeachingSite.name)))
    for expected in ("善洲墓园", "滇西抗战纪念馆", "国殇墓园", "和顺图书馆", "松山战役遗址"):
        assert expected in names


# --- 市委党校: lecture halls are booked at least three days ahead ---------------------------


def test_party_school_lecture_hall_needs_three_days_notice(demo):
    hall = site_of("party_school", "main_hall")
    problems = member_rule_problems(booking(hall, TUESDAY, days_ahead=2), hall)
    assert len(problems) == 1
    assert "党校主报告厅须至少提前3天预约" in problems[0]
    assert "2026年11月25日" in problems[0]

    assert member_rule_problems(booking(hall, TUESDAY, days_ahead=3), hall) == []
    assert member_rule_problems(booking(hall, TUESDAY, days_ahead=30), hall) == []


def test_party_school_lead_time_counts_days_in_shanghai(demo):
    hall = site_of("party_school", "multi_hall")
    reservation = booking(hall, TUESDAY)
    # 01:00 on 11-22 in Shanghai is still 11-21 in UTC: only two local days before the 24th.
    late = datetime(2026, 11, 22, 1, 0, tzinfo=LOCAL).astimezone(UTC)
    assert member_rule_problems(replace(reservation, requested_at=late), hall) != []
    in_time = datetime(2026, 11, 21, 23, 30, tzinfo=LOCAL).astimezone(UTC)
    assert member_rule_problems(replace(reservation, requested_at=in_time), hall) == []


def test_party_school_lead_time_spares_its_other_sites_and_other_members(demo):
    base = site_of("party_school", "clean_gov_base")
    assert member_rule_problems(booking(base, TUESDAY, days_ahead=1), base) == []
    memorial = site_of("tengchong_college", "dianxi_memorial")
    assert member_rule_problems(booking(memorial, TUESDAY, days_ahead=1), memorial) == []


# --- 杨善洲干部学院: the base and the exhibition room are closed on Mondays -------------------


@pytest.mark.parametrize("key", ["spirit_base", "exhibition_room"])
def test_yangshanzhou_halls_are_closed_on_monday(demo, key):
    site = site_of("yangshanzhou_college", key)
    problems = member_rule_problems(booking(site, MONDAY), site)
    assert problems == [f"{site.name}每周一闭馆，请改选其他日期。"]
    assert member_rule_problems(booking(site, TUESDAY), site) == []


def test_yangshanzhou_monday_closing_spares_other_sites(demo):
    cemetery = site_of("yangshanzhou_college", "cemetery")
    assert member_rule_problems(booking(cemetery, MONDAY), cemetery) == []
    residence = site_of("yangshanzhou_college", "former_residence")
    assert member_rule_problems(booking(residence, MONDAY), residence) == []
    hall = site_of("party_school", "main_hall")
    assert member_rule_problems(booking(hall, MONDAY), hall) == []


# --- 腾冲干部学院: at most two groups a day at the memorial hall and 艾思奇故居 --------------


@pytest.mark.parametrize("key", ["dianxi_memorial", "aisiqi_residence"])
def test_tengchong_takes_at_most_two_groups_a_day(demo, key):
    site = site_of("tengchong_college", key)
    problems = member_rule_problems(booking(site, TUESDAY, groups_already=2), site)
    assert len(problems) == 1
    assert f"{site.name}每天最多接待2批培训班" in problems[0]
    assert member_rule_problems(booking(site, TUESDAY, groups_already=1), site) == []
    assert member_rule_problems(booking(site, TUESDAY), site) == []


def test_tengchong_daily_limit_spares_other_sites(demo):
    cemetery = site_of("tengchong_college", "guoshang_cemetery")
    assert member_rule_problems(booking(cemetery, TUESDAY, groups_already=5), cemetery) == []
    statues = site_of("songshan_base", "expedition_statues")
    assert member_rule_problems(booking(statues, TUESDAY, groups_already=5), statues) == []


# --- 松山基地: a guide on the battlefield, and big groups in squads ---------------------------


def test_songshan_battlefield_needs_a_guide(demo):
    site = site_of("songshan_base", "battlefield")
    assert member_rule_problems(booking(site, TUESDAY, guide=False), site) == [
        "松山战役遗址现场教学须配备讲解员，请勾选“需要讲解员”。"
    ]
    assert member_rule_problems(booking(site, TUESDAY, guide=True), site) == []


def test_songshan_battlefield_splits_big_groups_into_squads(demo):
    site = site_of("songshan_base", "battlefield")
    problems = member_rule_problems(booking(site, TUESDAY, group_size=80), site)
    assert len(problems) == 1
    assert "每批不超过60人" in problems[0] and "80人" in problems[0]
    assert member_rule_problems(booking(site, TUESDAY, group_size=60), site) == []
    both = member_rule_problems(booking(site, TUESDAY, group_size=80, guide=False), site)
    assert len(both) == 2


def test_songshan_battlefield_judges_each_squad_of_a_split_class(demo):
    site = site_of("songshan_base", "battlefield")
    nine = datetime.combine(TUESDAY, time(9), tzinfo=LOCAL)
    squads = tuple(
        Squad(n + 1, nine + timedelta(hours=n), nine + timedelta(hours=n + 1), 20) for n in range(4)
    )
    split = replace(booking(site, TUESDAY, group_size=80), squads=squads)
    assert member_rule_problems(split, site) == []
    two = replace(split, squads=(replace(squads[0], size=70), replace(squads[1], size=10)))
    assert "本次70人" in member_rule_problems(two, site)[0]


def test_songshan_guide_rule_spares_other_sites(demo):
    statues = site_of("songshan_base", "expedition_statues")
    assert member_rule_problems(booking(statues, TUESDAY, guide=False), statues) == []
    base = site_of("yangshanzhou_college", "spirit_base")
    assert base.needs_guide
    assert member_rule_problems(booking(base, TUESDAY, guide=False, group_size=80), base) == []


# --- the external example plugin (tests/example_plugin), checked without installing it ----


def load_example_plugin():
    path = Path(__file__).parents[1] / "example_plugin" / "portal_example_member" / "__init__.py"
    spec = importlib.util.spec_from_file_location("portal_example_member_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_plugin_contributes_valid_specs():
    from portal.members.services import spec_problems

    module = load_example_plugin()
    institution = module.portal_institution()
    assert isinstance(institution, InstitutionSpec)
    assert institution.key == "example_member" and institution.kind == "training_base"
    sites = module.portal_teaching_sites()
    teachers = module.portal_teachers()
    courses = module.portal_courses()
    event_types = module.portal_event_types()
    assert len(sites) == 2 and all(isinstance(s, SiteSpec) for s in sites)
    assert len(teachers) == 1 and isinstance(teachers[0], TeacherSpec)
    assert len(courses) == 1 and isinstance(courses[0], CourseSpec)
    assert len(event_types) == 1 and isinstance(event_types[0], EventTypeSpec)
    for spec in [*sites, *teachers, *courses, *event_types]:
        assert spec_problems(spec) == []
    assert set(courses[0].teacher_keys) <= {t.key for t in teachers}
    assert courses[0].site_key in {s.key for s in sites}


def test_example_plugin_rule_limits_home_visits():
    module = load_example_plugin()
    village = SimpleNamespace(
        id=1, key="model_village", name="摆榔乡民族团结示范村", session_minutes=90
    )
    park = SimpleNamespace(id=2, key="agri_park", name="施甸县现代农业产业园", session_minutes=120)
    big = booking(village, TUESDAY, group_size=46)
    problems = module.portal_validate_reservation(reservation=big, site=village)
    assert len(problems) == 1 and "不超过30人" in problems[0]
    small = booking(village, TUESDAY, group_size=30)
    assert module.portal_validate_reservation(reservation=small, site=village) == []
    assert module.portal_validate_reservation(reservation=booking(park, TUESDAY), site=park) == []
