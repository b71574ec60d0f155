"""Test fixtures: a real database per test session (SQLite by default, PostgreSQL on request).

Set PORTAL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run the
data tests (marked ``db``) on PostgreSQL: a throw-away database is created beside ``test``
and dropped at the end. With CI=true a missing PostgreSQL fails the run loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def _postgres_database() -> Iterator[str]:
    """Create a fresh PostgreSQL database for this session and drop it afterwards."""
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.exit(f"PostgreSQL is required in CI and is not reachable: {exc}", returncode=3)
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        yield from _postgres_database()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal.sqlite3")


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production.

    Tests keep an app context pushed for their own database work; without this, requests
    would share its ``g`` (and so Flask-Login's cached user) and its database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_test_app(database_url: str, instance_path: str, **overrides) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # A planner run is computed within its request: a background thread would write
        # after the test (or the next test) has looked. The planner's own test turns it on.
        "PLANNER_BACKGROUND": False,
        **overrides,
    }
    app = create_app(config)
    app.instance_path = instance_path
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    app = make_test_app(database_url, str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return database_url


def empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """Redis as the page cache's store (database 14) and a key prefix of this test's own,
    whose keys are removed afterwards. Skipped without Redis; a failure in CI."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI: {error}")
        pytest.skip(f"Redis not reachable: {error}")
    prefix = f"portal-test-{uuid.uuid4().hex[:8]}:"
    yield url, prefix
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``pytest.mark.redis_too``: a test using the app runs with the page cache in the worker
    and logins checked in the database, and again with both in Redis (auth/login_cache.py)."""
    if metafunc.definition.get_closest_marker("redis_too") and "app" in metafunc.fixturenames:
        metafunc.parametrize("app", ["database", "redis"], indirect=True)


def demo_apps(
    schema: str, tmp_path, names: Iterable[str] = ("a",), season: Iterable[str] = (), **config
) -> Iterator[list[Flask]]:
    """Portal apps (servers) on one database with the demo (and ``season``'s parts) loaded,
    each with ``config``; the first one's app context is pushed while they are used."""
    apps = [make_test_app(schema, str(tmp_path / name), **config) for name in names]
    with apps[0].app_context():
        empty_all_tables()
        from portal.demo import load_demo

        load_demo(season=list(season))
        db.session.commit()
        yield apps
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(_schema: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The portal on an empty schema; the app context is pushed for the test."""
    overrides = {}
    if getattr(request, "param", None) == "redis":
        url, prefix = request.getfixturevalue("shared_redis")
        overrides = {"CACHE_REDIS_URL": url, "PAGE_CACHE_KEY_PREFIX": prefix}
    app = make_test_app(_schema, str(tmp_path), **overrides)
    with app.app_context():
        empty_all_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The demo consortium loaded: the four members synced and a user for every role."""
    from portal.demo import load_demo

    load_demo()
    return app


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def login(client: FlaskClient, username: str, password: str = "huanxian2026", **extra):
    """Log ``client`` in as ``username`` (logging out whoever was logged in before)."""
    client.post("/logout")
    return client.post(
        "/login", data={"username": username, "password": password, **extra}, follow_redirects=True
    )


def fresh_database_url(tmp_path) -> Iterator[str]:
    """A new, empty database of the kind under test (for migrations and restores)."""
    if PG_URL:
        yield from _postgres_database()
    else:
        yield "sqlite:///" + str(tmp_path / "fresh.sqlite3")
