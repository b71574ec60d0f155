"""A broken plugin hurts only itself: refused alone, its faults kept, never holding a page.

- A plugin that cannot be loaded (a misspelt hook, a wrong argument name, an import error)
  is refused alone at start-up: the portal, the CLI and every other member keep working,
  and the plugins page and ``plugins list`` say why. The plugins here are throw-away
  distributions (a package and its ``.dist-info`` with an entry point) put on ``sys.path``
  by a fixture, found as any pip-installed plugin would be.
- ``flask portal sync`` records a plugin's fault on SQLite too (the sync's own transaction
  holds the write lock: the fault is written once it has ended), from the CLI and from the
  plugins page's button; each plugin keeps a short history of faults (time, hook, error).
- What a plugin adds to pages (menu entries, site fields) is asked at sync and kept.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import hookimpl, plugins
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import PluginError, PluginState
from portal.members.services import sync_plugins
from portal.scheduling.fitting import check_plan
from portal.specs import DetailField, InstitutionSpec
from tests.conftest import empty_all_tables, login, make_test_app
from tests.members.test_plugins import MEMBER_PLUGINS, registered

pytestmark = pytest.mark.db

MISSPELT = """
from portal import hookimpl
from portal.specs import InstitutionSpec


@hookimpl
def portal_institution():
    return InstitutionSpec(key="misspelt", name="拼错钩子的单位", short_name="拼错", kind="training_base")


@hookimpl
def portal_validate_reservaton(reservation, site):
    return []
"""
WRONG_ARGUMENT = """
from portal import hookimpl


@hookimpl
def portal_validate_reservation(booking, site):
    return []
"""
BROKEN_IMPORT = """
import a_module_that_is_not_installed
"""


def throwaway_plugin(root: Path, name: str, source: str) -> None:
    """A package ``name`` and its distribution's metadata, with a portal.plugins entry point."""
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    dist_name = name.replace("_", "-")
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[portal.plugins]\n{name} = {name}\n", encoding="utf-8")


BAD = {"misspelt": MISSPELT, "wrong_argument": WRONG_ARGUMENT, "broken_import": BROKEN_IMPORT}


@pytest.fixture
def bad_plugins_app(_schema, tmp_path, monkeypatch) -> Iterator:
    """The portal started with three unloadable plugins installed beside the four members."""
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    for name, source in BAD.items():
        throwaway_plugin(site_packages, name, source)
    monkeypatch.syspath_prepend(str(site_packages))
    try:
        app = make_test_app(_schema, str(tmp_path))
        with app.app_context():
            empty_all_tables()
            from portal.demo import load_demo

            load_demo()
            yield app
            db.session.remove()
    finally:
        for name in BAD:
            sys.modules.pop(name, None)


def test_a_plugin_with_a_misspelt_hook_is_refused_alone(bad_plugins_app):
    app = bad_plugins_app
    refused = {p.name: p for p in plugins.refused_plugins()}
    assert set(refused) == set(BAD)
    assert "portal_validate_reservaton" in refused["misspelt"].reason
    assert "booking" in refused["wrong_argument"].reason
    assert "a_module_that_is_not_installed" in refused["broken_import"].reason
    assert refused["misspelt"].distribution == "misspelt" and refused["misspelt"].version == "0.1"
    # Nothing of theirs is registered; the four members are, and work.
    assert not set(BAD) & set(plugins.plugin_names())
    assert set(plugins.plugin_names()) >= MEMBER_PLUGINS
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200 and "腾冲干部学院" in home.get_data(as_text=True)
    memorial = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "dianxi_memorial"))
    assert memorial is not None
    # The page and the CLI say which plugins were refused and why.
    login(client, "office")
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert 'data-testid="refused-plugins"' in page
    assert "portal_validate_reservaton" in page and "未加载" in page
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["portal", "plugins", "list"])
    assert listed.exit_code == 0
    assert (
        "misspelt 0.1  REFUSED" in listed.output and "portal_validate_reservaton" in listed.output
    )
    assert "tengchong_college" in listed.output and "enabled" in listed.output
    synced = runner.invoke(args=["portal", "sync"])
    assert synced.exit_code == 0 and "tengchong_college:" in synced.output
    assert "misspelt" not in synced.output


def test_the_other_members_rules_still_run_beside_a_refused_plugin(bad_plugins_app):
    from tests.scheduling.helpers import at, future_weekday, stop

    monday = future_weekday(1)
    planned = stop("spirit_base", at(monday, 9), 180)
    # Open on Mondays as far as the core rule knows: only the member's own rule refuses.
    planned.site.open_weekdays = "1234567"
    problems = check_plan([planned], 20)
    assert any("每周一闭馆" in p.message for p in problems)  # 杨善洲干部学院's own rule


# ---------------------------------------------------------------- faults recorded at sync


class FailingSync:
    """A member whose catalogue hook fails: sync records the fault."""

    @hookimpl
    def portal_institution(self):
        return InstitutionSpec(
            key="failing", name="同步出错的单位", short_name="出错", kind="training_base"
        )

    @hookimpl
    def portal_teaching_sites(self):
        raise RuntimeError("catalogue service down")


def faults(name: str) -> list[PluginError]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(PluginError).where(PluginError.plugin == name).order_by(PluginError.id)
        )
    )


def test_sync_from_the_cli_records_the_fault(demo, app):
    with registered(app, FailingSync(), "failing"):
        result = app.test_cli_runner().invoke(args=["portal", "sync"])
        assert result.exit_code == 0, result.output
    hooks = [f.hook for f in faults("failing")]
    assert "portal_teaching_sites" in hooks and "sync" in hooks
    assert any("catalogue service down" in f.error for f in faults("failing"))
    state = db.session.get(PluginState, "failing")
    assert state.last_error and state.last_error_at is not None


def test_sync_from_the_plugins_page_records_the_fault(demo, app, client):
    with registered(app, FailingSync(), "failing"):
        login(client, "office")
        response = client.post("/admin/plugins/sync", follow_redirects=True)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "catalogue service down" in page  # shown at once, not a stale fault
    assert any(f.hook == "portal_teaching_sites" for f in faults("failing"))


class RuleAndMenuFaults:
    """Two hooks failing one after the other: both faults are kept, the newest first."""

    @hookimpl
    def portal_validate_reservation(self, reservation, site):
        raise RuntimeError("rule down")

    @hookimpl
    def portal_nav_items(self, user):
        raise RuntimeError("menu down")


def test_each_plugin_keeps_a_short_history_of_faults(demo, app):
    with registered(app, RuleAndMenuFaults(), "twice"):
        plugins.call_each(
            "portal_validate_reservation", plugins={"twice"}, reservation=None, site=None
        )
        db.session.commit()
        for _ in range(plugins.ERRORS_KEPT + 5):
            plugins.call_each("portal_nav_items", plugins={"twice"}, user=None)
        db.session.commit()
        kept = faults("twice")
        assert len(kept) == plugins.ERRORS_KEPT
        assert {f.hook for f in kept} == {"portal_nav_items"}  # the oldest went first
        plugins.call_each(
            "portal_validate_reservation", plugins={"twice"}, reservation=None, site=None
        )
        db.session.commit()
        newest = plugins.recent_errors(["twice"])["twice"]
        assert newest[0].hook == "portal_validate_reservation" and "rule down" in newest[0].error
        assert newest[1].hook == "portal_nav_items"
        assert db.session.scalar(select(func.count()).select_from(PluginError)) == len(newest)


def test_a_fault_is_kept_when_the_callers_transaction_rolls_back(demo, app):
    with registered(app, RuleAndMenuFaults(), "twice"):
        db.session.execute(select(1))  # the caller is inside a transaction
        plugins.call_each("portal_nav_items", plugins={"twice"}, user=None)
        db.session.rollback()
    assert [f.hook for f in faults("twice")] == ["portal_nav_items"]


# ---------------------------------------------------------------- page parts asked at sync


class SiteNotes:
    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def portal_site_detail_fields(self, site):
        self.asked += 1
        return [DetailField("交通提示", "请乘坐景区摆渡车")] if site.key == "battlefield" else []


def test_site_fields_are_asked_at_sync_and_shown_from_what_was_kept(demo, app, client):
    notes = SiteNotes()
    with registered(app, notes, "notes"):
        battlefield = db.session.scalar(
            select(TeachingSite).where(TeachingSite.key == "battlefield")
        )
        assert "交通提示" not in client.get(f"/sites/{battlefield.id}").get_data(as_text=True)
        sync_plugins()
        db.session.commit()
        asked = notes.asked
        assert asked >= 1
        login(client, "office")  # not served from the anonymous page cache
        for _ in range(3):
            page = client.get(f"/sites/{battlefield.id}").get_data(as_text=True)
            assert "交通提示" in page and "请乘坐景区摆渡车" in page
        assert notes.asked == asked  # pages never ask the plugin
