"""`flask portal sync`: idempotent upserts keyed by (plugin, key); retire, never delete."""

from __future__ import annotations

from datetime import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal import hookimpl
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins
from portal.specs import CourseSpec, EventTypeSpec, InstitutionSpec, SiteSpec, TeacherSpec
from tests.members.test_plugins import registered

pytestmark = pytest.mark.db

CATALOG = (Member, TeachingSite, Teacher, Course, EventType)


def snapshot() -> dict[str, list[tuple]]:
    """Every catalogue row as plain values, to compare two states of the database."""
    db.session.expire_all()
    state = {}
    for model in CATALOG:
        table = model.__table__
        rows = db.session.execute(sa.select(table).order_by(table.c.id)).all()
        state[table.name] = [tuple(row) for row in rows]
    state["course_teachers"] = sorted(
        db.session.execute(sa.text("SELECT * FROM course_teachers")).all()
    )
    return state


class Fifth:
    """A small member whose catalogue a test changes between syncs."""

    def __init__(self) -> None:
        self.sites = [
            SiteSpec(key="a", name="甲教学点", theme="乡村振兴", capacity=40),
            SiteSpec(
                key="b",
                name="乙教学点",
                theme="生态文明",
                capacity=30,
                opens=time(9),
                closes=time(17),
            ),
        ]
        self.teachers = [TeacherSpec(key="t", name="赵老师", kind="part_time", shared=True)]
        self.courses = [
            CourseSpec(key="c", name="振兴之路", kind="onsite", teacher_keys=("t",), site_key="a")
        ]

    @hookimpl
    def portal_institution(self):
        return InstitutionSpec(
            key="fifth", name="第五成员单位", short_name="第五", kind="training_base"
        )

    @hookimpl
    def portal_teaching_sites(self):
        return self.sites

    @hookimpl
    def portal_teachers(self):
        return self.teachers

    @hookimpl
    def portal_courses(self):
        return self.courses

    @hookimpl
    def portal_event_types(self):
        return [EventTypeSpec(key="e", name="联合集训")]


def test_sync_twice_changes_nothing(app):
    first = sync_plugins()
    db.session.commit()
    assert all(r.created for r in first)
    before = snapshot()
    second = sync_plugins()
    db.session.commit()
    assert not any(r.changed for r in second)
    assert snapshot() == before


def test_cli_sync_runs_and_reports(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "sync"])
    assert result.exit_code == 0, result.output
    assert "party_school:" in result.output and "created" in result.output
    again = runner.invoke(args=["portal", "sync"])
    assert " 0 created, 0 updated, 0 retired" in again.output
    assert runner.invoke(args=["portal", "sync", "nope"]).exit_code != 0


def test_a_dropped_site_is_retired_and_comes_back(app):
    fifth = Fifth()
    with registered(app, fifth, "fifth"):
        sync_plugins()
        db.session.commit()
        site_b = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "b"))
        fifth.sites = fifth.sites[:1]
        report = next(r for r in sync_plugins() if r.plugin == "fifth")
        db.session.commit()
        assert report.retired == 1
        db.session.refresh(site_b)
        assert site_b.status == "retired"
        assert db.session.get(TeachingSite, site_b.id) is not None
        fifth.sites = Fifth().sites
        sync_plugins()
        db.session.commit()
        db.session.refresh(site_b)
        assert site_b.status == "active"


def test_changed_values_update_and_portal_edits_are_kept(app):
    fifth = Fifth()
    with registered(app, fifth, "fifth"):
        sync_plugins()
        db.session.commit()
        a = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "a"))
        b = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "b"))
        b.capacity, b.edited_locally = 55, True
        db.session.commit()
        fifth.sites = [
            SiteSpec(key="a", name="甲教学点（新馆）", theme="乡村振兴", capacity=80),
            SiteSpec(key="b", name="乙教学点", theme="生态文明", capacity=99),
        ]
        report = next(r for r in sync_plugins() if r.plugin == "fifth")
        db.session.commit()
        assert (report.updated, report.kept_local) == (1, 1)
        db.session.refresh(a)
        db.session.refresh(b)
        assert (a.name, a.capacity) == ("甲教学点（新馆）", 80)
        assert b.capacity == 55


def test_courses_link_teachers_and_sites_of_the_same_plugin(app):
    with registered(app, Fifth(), "fifth"):
        sync_plugins()
        db.session.commit()
        course = db.session.scalar(select(Course).where(Course.plugin == "fifth"))
        assert course.site.key == "a"
        assert [t.key for t in course.teachers] == ["t"]
        assert course.member.key == "fifth"


def test_invalid_specs_are_reported_and_skipped_not_retired(app):
    fifth = Fifth()
    with registered(app, fifth, "fifth"):
        sync_plugins()
        db.session.commit()
        fifth.sites = [
            SiteSpec(key="a", name="甲教学点", theme="乡村振兴", capacity=-5),
            SiteSpec(
                key="b",
                name="乙教学点",
                theme="生态文明",
                capacity=30,
                opens=time(18),
                closes=time(9),
            ),
            SiteSpec(key="", name="", theme="", capacity=1),
        ]
        fifth.courses = [
            CourseSpec(key="c", name="振兴之路", kind="onsite", teacher_keys=("ghost",))
        ]
        report = next(r for r in sync_plugins() if r.plugin == "fifth")
        db.session.commit()
        assert any("容量须为正数" in p for p in report.problems)
        assert any("开放时间须早于关闭时间" in p for p in report.problems)
        assert any("ghost" in p for p in report.problems)
        assert report.retired == 0
        statuses = db.session.scalars(
            select(TeachingSite.status).where(TeachingSite.plugin == "fifth")
        )
        assert set(statuses) == {"active"}


def test_a_member_key_taken_by_another_plugin_is_refused(app):
    class Impostor:
        @hookimpl
        def portal_institution(self):
            return InstitutionSpec(
                key="party_school", name="冒名", short_name="冒名", kind="party_school"
            )

    sync_plugins()
    db.session.commit()
    with registered(app, Impostor(), "impostor"):
        reports = {r.plugin: r for r in sync_plugins()}
        db.session.commit()
    assert any("已被插件" in p for p in reports["impostor"].problems)
    assert db.session.scalar(select(Member).where(Member.key == "party_school")).name != "冒名"
