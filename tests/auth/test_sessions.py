"""Logging out ends the session on the server (ASVS 3.3.1), not only in the browser.

The session and remember cookies are signed, not stored; each login also has a row in
``user_sessions`` that logging out deletes, so a cookie copied before the logout no longer
opens anything, while the user's other devices stay logged in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.auth.models import User, UserSession
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import login

# Each test runs with the logins checked in the database, and held in Redis (login_cache).
pytestmark = [pytest.mark.db, pytest.mark.redis_too]


def copy_of(client, name: str):
    """Another browser holding the cookie ``name`` of ``client`` as it is now (a copy)."""
    value = client.get_cookie(name).value
    thief = client.application.test_client()
    thief.set_cookie(name, value)
    return thief


def logins_of(username: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(UserSession).join(User).where(User.username == username)
    )


def test_a_session_cookie_kept_from_before_logout_is_refused(demo, client):
    login(client, "organizer")
    assert client.get("/account/password").status_code == 200
    kept = copy_of(client, "session")
    assert kept.get("/account/password").status_code == 200  # the copy works… until
    client.post("/logout")
    assert client.get("/account/password").status_code == 302
    response = kept.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "whoami" not in kept.get("/").get_data(as_text=True)


def test_a_remember_cookie_kept_from_before_logout_is_refused(demo, client):
    login(client, "organizer", remember="y")
    kept = copy_of(client, "remember_token")
    assert kept.get("/account/password").status_code == 200
    client.post("/logout")
    other = copy_of(kept, "remember_token")  # a fresh browser, only the remember cookie
    assert other.get("/account/password").status_code == 302


def test_logging_out_on_one_device_keeps_the_others(demo, app):
    phone, desk = app.test_client(), app.test_client()
    login(phone, "organizer")
    login(desk, "organizer")
    assert logins_of("organizer") == 2
    phone.post("/logout")
    assert logins_of("organizer") == 1
    assert phone.get("/account/password").status_code == 302
    assert desk.get("/account/password").status_code == 200


def test_a_password_change_ends_every_login_but_this_one(demo, app):
    mine, other = app.test_client(), app.test_client()
    login(mine, "organizer")
    login(other, "organizer")
    mine.post(
        "/account/password",
        data={
            "current_password": "huanxian2026",
            "new_password": "new-pass-2026",
            "confirm": "new-pass-2026",
        },
    )
    assert logins_of("organizer") == 1
    assert mine.get("/account/password").status_code == 200
    assert other.get("/account/password").status_code == 302


def test_a_login_older_than_the_longest_session_is_refused(demo, app, client):
    login(client, "organizer", remember="y")
    assert client.get("/account/password").status_code == 200
    longest = max(app.config["PERMANENT_SESSION_LIFETIME"], app.config["REMEMBER_COOKIE_DURATION"])
    db.session.execute(
        update(UserSession).values(created_at=utcnow() - longest - timedelta(minutes=1))
    )
    db.session.commit()
    assert client.get("/account/password").status_code == 302


@pytest.mark.parametrize(
    "forged",
    ["1:1", "1:1:", "x:1:abc", "1:x:abc", "1:1:" + "a" * 500, "::", ""],
)
def test_forged_session_ids_log_nobody_in(demo, app, forged):
    from portal.auth.sessions import load_session_user

    with app.test_request_context():
        assert load_session_user(forged) is None
