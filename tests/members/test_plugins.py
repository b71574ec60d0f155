"""The plugin system: discovery, the plugins page and CLI, enable/disable, fault isolation."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import Blueprint
from sqlalchemy import select

from portal import hookimpl, plugins
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import Member, PluginState
from portal.members.services import sync_plugins
from portal.scheduling.fitting import bookable_sites_query, member_rule_problems
from portal.specs import NavItem, ReservationRequest
from portal.timeutil import LOCAL_TZ
from tests.conftest import login

pytestmark = pytest.mark.db

MEMBER_PLUGINS = {"party_school", "yangshanzhou_college", "tengchong_college", "songshan_base"}


@contextmanager
def registered(app, plugin: object, name: str) -> Iterator[None]:
    pm = app.extensions["portal.plugins"]
    pm.register(plugin, name=name)
    try:
        yield
    finally:
        pm.unregister(name=name)


class Broken:
    """A plugin whose every hook raises."""

    @hookimpl
    def portal_institution(self):
        raise RuntimeError("institution service down")

    @hookimpl
    def portal_teaching_sites(self):
        raise RuntimeError("sites service down")

    @hookimpl
    def portal_nav_items(self, user):
        raise RuntimeError("menu exploded")

    @hookimpl
    def portal_validate_reservation(self, reservation, site):
        raise RuntimeError("rules exploded")


class Garbage:
    """A plugin whose hooks return values of the wrong type."""

    @hookimpl
    def portal_institution(self):
        return {"key": "garbage"}

    @hookimpl
    def portal_nav_items(self, user):
        return "not a list"


def test_the_four_members_are_discovered_through_entry_points(app):
    installed = {p.name: p for p in plugins.installed_plugins()}
    assert set(installed) >= MEMBER_PLUGINS
    for name in MEMBER_PLUGINS:
        assert installed[name].distribution == "ring-route-portal"
        assert installed[name].version
        assert "portal_institution" in installed[name].hooks
        assert "portal_validate_reservation" in installed[name].hooks


def test_a_plugin_with_a_misspelt_hook_fails_loudly_with_its_name(app):
    class Misspelt:
        @hookimpl
        def portal_teaching_site(self):
            return []

    pm = app.extensions["portal.plugins"]
    pm.register(Misspelt(), name="misspelt")
    try:
        with pytest.raises(Exception, match="portal_teaching_site"):
            pm.check_pending()
    finally:
        pm.unregister(name="misspelt")


def test_plugins_page_shows_each_plugin_with_contributions(demo, client):
    login(client, "office")
    page = client.get("/admin/plugins").get_data(as_text=True)
    for name in MEMBER_PLUGINS:
        assert f'data-plugin="{name}"' in page
    assert "中共保山市委党校" in page
    assert "已启用" in page
    assert "教学点 " in page


@pytest.mark.parametrize("username", [None, "party_school_admin", "organizer", "trainee"])
def test_plugins_page_is_for_the_office_only(demo, client, username):
    if username:
        login(client, username)
    expected = 302 if username is None else 403
    assert client.get("/admin/plugins").status_code == expected
    assert client.post("/admin/plugins/party_school/disable").status_code == expected
    assert (
        db.session.get(PluginState, "party_school") is None
        or db.session.get(PluginState, "party_school").enabled
    )


def test_disable_and_enable_from_the_page(demo, client):
    login(client, "office")
    page = client.post("/admin/plugins/tengchong_college/disable", follow_redirects=True)
    assert "已停用插件 tengchong_college" in page.get_data(as_text=True)
    assert not plugins.is_enabled("tengchong_college")
    client.post("/admin/plugins/tengchong_college/enable")
    db.session.expire_all()
    assert db.session.get(PluginState, "tengchong_college").enabled
    assert client.post("/admin/plugins/nope/disable").status_code == 404


def test_cli_lists_enables_and_disables(demo):
    runner = demo.test_cli_runner()
    listed = runner.invoke(args=["portal", "plugins", "list"])
    assert listed.exit_code == 0
    assert "songshan_base" in listed.output and "enabled" in listed.output
    assert "sites=" in listed.output
    off = runner.invoke(args=["portal", "plugins", "disable", "songshan_base"])
    assert off.exit_code == 0
    assert "songshan_base" in runner.invoke(args=["portal", "plugins", "list"]).output
    assert "DISABLED" in runner.invoke(args=["portal", "plugins", "list"]).output
    assert runner.invoke(args=["portal", "plugins", "enable", "songshan_base"]).exit_code == 0
    missing = runner.invoke(args=["portal", "plugins", "disable", "nope"])
    assert missing.exit_code != 0 and "没有安装插件" in missing.output


def test_a_disabled_member_keeps_its_history_but_takes_no_new_bookings(demo):
    plugins.set_enabled("songshan_base", False, by="test")
    db.session.commit()
    member = db.session.scalar(select(Member).where(Member.plugin == "songshan_base"))
    sites = db.session.scalars(
        select(TeachingSite).where(TeachingSite.member_id == member.id)
    ).all()
    assert sites and all(s.status == "active" for s in sites)
    bookable = set(db.session.scalars(bookable_sites_query()))
    assert not bookable & set(sites)
    assert bookable
    now = datetime.now(LOCAL_TZ)
    request = ReservationRequest(
        site_id=sites[0].id,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=1),
        group_size=20,
        requested_at=now,
        guide_requested=True,
    )
    assert any("暂停参与环线" in p for p in member_rule_problems(request, sites[0]))
    # A disabled plugin is not synced: nothing of its data changes or disappears.
    reports = {r.plugin for r in sync_plugins()}
    assert "songshan_base" not in reports


def test_a_hook_that_raises_is_recorded_and_the_page_still_works(demo, client, app):
    with registered(app, Broken(), "broken"):
        login(client, "office")
        page = client.get("/")
        assert page.status_code == 200
        assert "教学点" in page.get_data(as_text=True)
        # Sync goes on for the others and says what failed for the broken one; its menu
        # is asked then (not on every page), and fails too.
        reports = {r.plugin: r for r in sync_plugins()}
        db.session.commit()
        assert reports["broken"].problems
        assert not reports["party_school"].problems
        state = db.session.get(PluginState, "broken")
        assert state.last_error_hook == "portal_nav_items"
        assert "menu exploded" in state.last_error
        listing = client.get("/admin/plugins").get_data(as_text=True)
        assert "menu exploded" in listing
        assert "institution service down" in listing  # the history keeps the earlier fault
        output = app.test_cli_runner().invoke(args=["portal", "plugins", "list"]).output
        assert "last error" in output and "menu exploded" in output


def test_a_hook_that_returns_garbage_is_isolated(demo, client, app):
    with registered(app, Garbage(), "garbage"):
        reports = {r.plugin: r for r in sync_plugins()}
        db.session.commit()
        assert reports["garbage"].problems
        assert db.session.scalar(select(Member).where(Member.plugin == "garbage")) is None
        state = db.session.get(PluginState, "garbage")
        assert "返回值应为" in state.last_error
        assert client.get("/").status_code == 200


def test_a_failing_rule_hook_refuses_rather_than_lets_through(demo, app):
    site = db.session.scalars(bookable_sites_query()).first()
    now = datetime.now(LOCAL_TZ)
    request = ReservationRequest(
        site_id=site.id,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=1),
        group_size=20,
        requested_at=now,
    )
    owner = site.member.plugin
    pm = app.extensions["portal.plugins"]
    module = pm.get_plugin(owner)
    pm.unregister(name=owner)
    try:
        with registered(app, Broken(), owner):
            problems = member_rule_problems(request, site)
    finally:
        pm.register(module, name=owner)
    assert problems == [f"{site.member.short_name}的预约规则暂时无法检查，请稍后再试或联系环线办。"]


class Hanging:
    """A plugin whose hooks wait far longer than any request may (a member system that hangs)."""

    def __init__(self, seconds: float = 30) -> None:
        self.seconds = seconds
        self.calls: list[str] = []

    @hookimpl
    def portal_nav_items(self, user):
        self.calls.append("portal_nav_items")
        time.sleep(self.seconds)
        return []

    @hookimpl
    def portal_validate_reservation(self, reservation, site):
        self.calls.append("portal_validate_reservation")
        time.sleep(self.seconds)
        return []


@pytest.fixture
def short_hook_bound(app) -> Iterator[None]:
    saved = {k: app.config[k] for k in ("PLUGIN_HOOK_TIMEOUT", "PLUGIN_TIMEOUT_COOLDOWN")}
    app.config.update(PLUGIN_HOOK_TIMEOUT=0.5, PLUGIN_TIMEOUT_COOLDOWN=60)
    try:
        yield
    finally:
        app.config.update(saved)
        app.extensions.pop("portal.plugin_cooldown", None)


def test_a_hanging_menu_never_holds_a_page_and_is_cut_off_at_sync(
    demo, client, app, short_hook_bound
):
    hanging = Hanging()
    with registered(app, hanging, "hanging"):
        for url in ("/", "/sites", "/routes"):
            assert client.get(url).status_code == 200
        login(client, "office")
        assert client.get("/").status_code == 200
        # Pages read the menus kept at the last sync: the plugin is never asked.
        assert hanging.calls == []
        sync_plugins()
        db.session.commit()
        # Asked at sync for the first kind of user, cut off, then skipped by this worker
        # for every other kind instead of waiting again.
        assert hanging.calls == ["portal_nav_items"]
        state = db.session.get(PluginState, "hanging")
        assert state.last_error_hook == "portal_nav_items"
        assert "秒内未响应" in state.last_error
        assert "秒内未响应" in client.get("/admin/plugins").get_data(as_text=True)
        assert hanging.calls == ["portal_nav_items"]


def test_a_hook_that_hangs_in_a_worker_thread_is_cut_off_too(demo, app, short_hook_bound):
    """A threaded server runs requests outside the main thread, where no alarm can be set."""
    answers: dict[str, object] = {}

    def request_in_a_thread() -> None:
        with app.test_request_context("/"):
            started = time.monotonic()
            answers["result"] = plugins.call_each("portal_nav_items", user=None)
            answers["seconds"] = time.monotonic() - started

    with registered(app, Hanging(), "hanging"):
        worker = threading.Thread(target=request_in_a_thread)
        worker.start()
        worker.join(20)
    assert answers["seconds"] < 10
    assert "hanging" not in {name for name, _ in answers["result"]}
    assert "秒内未响应" in db.session.get(PluginState, "hanging").last_error


def test_a_hanging_rule_hook_refuses_its_sites_and_others_still_book(demo, app, short_hook_bound):
    sites = db.session.scalars(bookable_sites_query()).all()
    hanging_site = sites[0]
    other_site = next(s for s in sites if s.member.plugin != hanging_site.member.plugin)
    now = datetime.now(LOCAL_TZ)

    def request_for(site: TeachingSite) -> ReservationRequest:
        return ReservationRequest(
            site_id=site.id,
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=10, hours=1),
            group_size=20,
            requested_at=now,
        )

    owner = hanging_site.member.plugin
    pm = app.extensions["portal.plugins"]
    module = pm.get_plugin(owner)
    pm.unregister(name=owner)
    try:
        with registered(app, Hanging(), owner):
            started = time.monotonic()
            refused = member_rule_problems(request_for(hanging_site), hanging_site)
            assert time.monotonic() - started < 10
            allowed = member_rule_problems(request_for(other_site), other_site)
    finally:
        pm.register(module, name=owner)
    assert refused == [
        f"{hanging_site.member.short_name}的预约规则暂时无法检查，请稍后再试或联系环线办。"
    ]
    # The other member's own rules were asked and answered as usual.
    assert not any("暂时无法检查" in problem for problem in allowed)
    assert allowed == member_rule_problems(request_for(other_site), other_site)


def test_checking_a_route_outside_a_request_reads_the_plugin_state_once(demo, app):
    """The CLI, timers and worker threads check long routes: one state read, not one a stop."""
    from sqlalchemy import event

    from portal.scheduling.fitting import check_plan, plan_from_template
    from tests.scheduling.helpers import future_weekday, template

    route = template("三点一线五日精品环线")
    plan = plan_from_template(route, future_weekday(1, at_least_days=60))
    assert len([stop for stop in plan if stop.site is not None]) >= 5
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        check_plan(plan, 20)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert sum("plugin_states" in s for s in statements) == 1


def test_the_hook_time_bound_restores_an_earlier_alarm(demo, app, short_hook_bound):
    """A caller's own SIGALRM timer (a test runner's timeout, say) survives a hook call."""
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with app.test_request_context("/"):
            plugins.call_each("portal_nav_items", user=None)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 20 < left <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired


def test_hook_portal_nav_items(demo, client, app):
    class Menu:
        @hookimpl
        def portal_nav_items(self, user):
            return [NavItem("党校简介", "/m/intro")] if user.is_authenticated else []

    with registered(app, Menu(), "menu"):
        sync_plugins()  # menus are asked at sync, once per kind of user, and kept
        db.session.commit()
        assert "党校简介" not in client.get("/").get_data(as_text=True)
        login(client, "trainee")
        assert "党校简介" in client.get("/").get_data(as_text=True)
        plugins.set_enabled("menu", False, by="test")
        db.session.commit()
        assert "党校简介" not in client.get("/").get_data(as_text=True)


def test_hook_portal_blueprints_pages_answer_404_while_disabled(_schema, tmp_path):
    """Blueprints are registered at start-up, so this builds an app with the plugin in place."""
    from tests.conftest import empty_all_tables, make_test_app

    bp = Blueprint("intro_pages", __name__, url_prefix="/m/intro")
    bp.add_url_rule("/", "index", lambda: "本单位简介")

    class Pages:
        @hookimpl
        def portal_blueprints(self):
            return [bp]

    original = plugins.make_plugin_manager

    def with_pages():
        found = original()
        found.pm.register(Pages(), name="pages")
        return found

    plugins.make_plugin_manager = with_pages
    try:
        app = make_test_app(_schema, str(tmp_path))
    finally:
        plugins.make_plugin_manager = original
    with app.app_context():
        empty_all_tables()
        client = app.test_client()
        assert client.get("/m/intro/").get_data(as_text=True) == "本单位简介"
        plugins.set_enabled("pages", False, by="test")
        db.session.commit()
        assert client.get("/m/intro/").status_code == 404
        db.session.remove()


def test_asking_one_plugin_in_a_request_leaves_the_others_enabled(demo, app):
    """Regression: call_each narrowed the request's cached set of enabled plugins in place."""
    with app.test_request_context("/"):
        plugins.call_each(
            "portal_validate_reservation", plugins={"party_school"}, reservation=None, site=None
        )
        assert plugins.enabled_plugin_names() >= MEMBER_PLUGINS
