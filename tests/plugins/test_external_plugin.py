"""A fifth member joins by installing its own package: no change to the core.

The example plugin under tests/example_plugin/ is a separate distribution. The test
pip-installs it into a folder of its own, puts that folder on sys.path (as an installed
package would be) and shows that a new portal discovers it through its entry point and
that its institution and sites appear after `sync`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import plugins
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins
from tests.conftest import empty_all_tables, make_test_app

pytestmark = pytest.mark.db

EXAMPLE = Path(__file__).resolve().parents[1] / "example_plugin"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(target))
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("portal_example_member", None)


def test_an_installed_fifth_member_appears_after_sync(installed_example, _schema, tmp_path):
    app = make_test_app(_schema, str(tmp_path))
    with app.app_context():
        empty_all_tables()
        installed = {p.name: p for p in plugins.installed_plugins()}
        assert installed["example_member"].distribution == "portal-example-member"
        assert installed["example_member"].version == "0.1.0"
        reports = {r.plugin: r for r in sync_plugins()}
        db.session.commit()
        assert reports["example_member"].problems == []
        member = db.session.scalar(select(Member).where(Member.plugin == "example_member"))
        assert member.name == "施甸县乡村振兴实训基地"
        sites = db.session.scalars(select(TeachingSite).where(TeachingSite.member_id == member.id))
        assert len(sites.all()) == 2
        page = app.test_client().get("/sites").get_data(as_text=True)
        assert "施甸县现代农业产业园" in page
        # The home page names the members taking part from the data: the fifth one too.
        home = app.test_client().get("/").get_data(as_text=True)
        lead = home.split('data-testid="founders">')[1].split("<")[0]
        assert "施甸实训基地" in lead and "腾冲干部学院" in lead
        db.session.remove()
