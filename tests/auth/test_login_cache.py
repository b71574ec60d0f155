"""Logins held in Redis (portal/auth/login_cache.py, issue 20).

A signed-in request checks its login in Redis instead of the database while no user and
no login changed; any change that could end or alter a login is seen by the very next
request, on every server. tests/auth/test_sessions.py and test_auth.py run every login,
logout, password, reset and deactivation case with Redis too (``redis_too``).
"""

from __future__ import annotations

import pickle

import pytest
import redis
from sqlalchemy import select, update

from portal import pagecache
from portal.auth.models import User, UserSession
from portal.extensions import db
from tests.conftest import demo_apps, login, recorded_statements

pytestmark = pytest.mark.db


@pytest.fixture
def servers(_schema: str, tmp_path, shared_redis):
    """Two portal apps (two servers) sharing the database and one Redis, demo loaded."""
    url, prefix = shared_redis
    yield from demo_apps(
        _schema, tmp_path, ("a", "b"), CACHE_REDIS_URL=url, PAGE_CACHE_KEY_PREFIX=prefix
    )


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def moved_to(client, app):
    """The same browser's next request going to another server (its cookies with it)."""
    other = app.test_client()
    with client.session_transaction() as kept, other.session_transaction() as moved:
        moved.update(dict(kept))
    return other


def on_both(servers, username: str, url: str):
    """``username``'s browser signed in on server A, and its next request going to B, where
    ``url`` opens (the login now held in Redis)."""
    a, b = servers
    client = signed_in(a, username)
    other = moved_to(client, b)
    with b.app_context():
        assert other.get(url).status_code == 200
    return client, other


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def held_entries(app) -> list[dict]:
    store = app.extensions[pagecache.EXTENSION]
    keys = list(store.client.scan_iter(f"{store.prefix}login:*"))
    return [pickle.loads(store.client.get(key)) for key in keys]


def logins_generation(app) -> bytes | None:
    store = app.extensions[pagecache.EXTENSION]
    return store.client.get(store.keys[pagecache.LOGINS])


def test_a_held_login_is_checked_without_the_database(servers):
    a, _ = servers
    organizer = signed_in(a, "organizer")
    assert organizer.get("/account/password").status_code == 200
    with recorded_statements() as statements:
        assert organizer.get("/account/password").status_code == 200
    assert not [s for s in statements if "user_sessions" in s or "FROM users" in s]
    # What is held: the user's row without its password hash, and the login's age.
    (entry,) = held_entries(a)
    assert entry["user"]["username"] == "organizer"
    assert "password_hash" not in entry["user"] and "created_at" in entry


def test_the_held_user_is_a_full_user_of_the_session(servers):
    """Attached to the request's session: its member loads, a change to it is saved."""
    a, _ = servers
    staff = signed_in(a, "party_school_staff")
    staff.get("/account/password")
    page = staff.get("/").get_data(as_text=True)
    assert "市委党校" in page  # current_user.member, loaded from the held user
    with a.test_request_context():
        from portal.auth.sessions import load_session_user

        with staff.session_transaction() as session:
            held = load_session_user(session["_user_id"])
        assert held in db.session and not db.session.dirty
        assert held.check_password("huanxian2026")  # the hash is read when needed
        held.display_name = "新名字"
        db.session.commit()
    assert user("party_school_staff").display_name == "新名字"


def test_a_login_elsewhere_keeps_what_is_held(servers):
    """At 08:30 hundreds log in: each login writes its own row and last-login time, and
    must not make everyone else's login be read again."""
    a, _ = servers
    organizer = signed_in(a, "organizer")
    organizer.get("/account/password")
    before = logins_generation(a)
    signed_in(a, "trainee")
    a.test_client().post("/login", data={"username": "trainee", "password": "wrong-one"})
    assert logins_generation(a) == before
    with recorded_statements() as statements:
        organizer.get("/account/password")
    assert not [s for s in statements if "FROM users" in s]


def test_logging_out_on_one_server_ends_the_login_on_the_other(servers):
    a, b = servers
    organizer, on_b = on_both(servers, "organizer", "/account/password")
    organizer.post("/logout")
    with b.app_context():
        response = on_b.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert held_entries(a) == []


@pytest.mark.parametrize("how", ["orm", "bulk"])
def test_a_role_changed_by_any_path_is_seen_on_the_next_request(servers, how):
    _, b = servers
    office, on_b = on_both(servers, "office", "/admin/users")
    if how == "orm":
        user("office").role = "organizer"
    else:
        db.session.execute(update(User).where(User.username == "office").values(role="organizer"))
    db.session.commit()
    assert office.get("/admin/users").status_code == 403
    with b.app_context():
        assert on_b.get("/admin/users").status_code == 403


def test_a_login_row_deleted_ends_the_held_login(servers):
    a, _ = servers
    organizer = signed_in(a, "organizer")
    assert organizer.get("/account/password").status_code == 200
    for row in db.session.scalars(select(UserSession)):
        db.session.delete(row)
    db.session.commit()
    assert organizer.get("/account/password").status_code == 302


def test_deactivation_by_the_office_ends_a_held_login_at_once(servers):
    a, b = servers
    _, on_b = on_both(servers, "organizer", "/account/password")
    office = signed_in(a, "office")
    target = user("organizer")
    response = office.post(f"/admin/users/{target.id}/active", data={"active": "0"})
    assert response.status_code in (200, 302)
    assert user("organizer").active is False
    with b.app_context():
        assert on_b.get("/account/password").status_code == 302


def test_without_redis_reachable_logins_are_checked_in_the_database(_schema, tmp_path, caplog):
    for (app,) in demo_apps(_schema, tmp_path, CACHE_REDIS_URL="redis://127.0.0.1:1/0"):
        client = signed_in(app, "organizer")
        assert client.get("/account/password").status_code == 200
        client.post("/logout")
        assert client.get("/account/password").status_code == 302
    assert "login cache unavailable" in caplog.text


def test_login_cache_off_asks_the_database(_schema, tmp_path, shared_redis):
    url, prefix = shared_redis
    config = {"CACHE_REDIS_URL": url, "PAGE_CACHE_KEY_PREFIX": prefix, "LOGIN_CACHE": False}
    for (app,) in demo_apps(_schema, tmp_path, **config):
        client = signed_in(app, "organizer")
        client.get("/account/password")
        with recorded_statements() as statements:
            assert client.get("/account/password").status_code == 200
        assert [s for s in statements if "user_sessions" in s]
        assert redis.Redis.from_url(url).keys(f"{prefix}login:*") == []
