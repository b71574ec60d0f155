"""Migrations: `flask db upgrade` from empty gives exactly the models' schema, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from tests.conftest import fresh_database_url, make_test_app

pytestmark = pytest.mark.db


@pytest.fixture
def empty_app(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models(empty_app):
    upgrade()
    assert schema_differences() == []


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(empty_app):
    upgrade()
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert schema_differences() == []


def test_the_demo_loads_on_a_migrated_database(empty_app):
    from portal.demo import load_demo

    upgrade()
    accounts = load_demo()
    assert {a.role for a in accounts} == {
        "office",
        "member_admin",
        "member_staff",
        "organizer",
        "trainee",
    }
