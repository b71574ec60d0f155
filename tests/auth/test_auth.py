"""Accounts: log in and out per role, passwords, the office's user management, sessions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.auth.services import create_user, password_problems
from portal.errors import ServiceError
from portal.extensions import db
from tests.conftest import login

# Each test runs with the logins checked in the database, and held in Redis (login_cache).
pytestmark = [pytest.mark.db, pytest.mark.redis_too]

ROLE_ACCOUNTS = {
    "office": ("环线办", None),
    "party_school_admin": ("成员单位管理员", "市委党校"),
    "tengchong_college_staff": ("成员单位工作人员", "腾冲干部学院"),
    "organizer": ("培训班联系人", None),
    "trainee": ("学员", None),
}


@pytest.mark.parametrize("username", sorted(ROLE_ACCOUNTS))
def test_each_role_logs_in_and_sees_who_and_for_which_member(demo, client, username):
    role_label, member = ROLE_ACCOUNTS[username]
    page = login(client, username).get_data(as_text=True)
    who = re.search(r'data-testid="whoami">(.*?)</li>', page, re.S).group(1)
    assert role_label in who
    if member:
        assert f"代表 {member}" in who
    else:
        assert "代表" not in who
    assert client.post("/logout", follow_redirects=True).status_code == 200
    assert 'data-testid="whoami"' not in client.get("/").get_data(as_text=True)


def test_every_member_has_an_admin_and_staff_account(demo):
    users = db.session.scalars(select(User).where(User.member_id.is_not(None))).all()
    by_member: dict[str, set[str]] = {}
    for u in users:
        by_member.setdefault(u.member.key, set()).add(u.role)
    assert len(by_member) == 4
    assert all(roles == {"member_admin", "member_staff"} for roles in by_member.values())


def test_wrong_password_gets_one_generic_message_and_401(demo, client):
    for username in ("office", "nobody"):
        response = client.post("/login", data={"username": username, "password": "wrong-pass1"})
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.get_data(as_text=True)
    # What was typed is kept; the password is not echoed back.
    page = client.post("/login", data={"username": "office", "password": "x"}).get_data(
        as_text=True
    )
    assert 'value="office"' in page


def test_empty_login_form_says_what_is_missing(client):
    response = client.post("/login", data={})
    assert response.status_code == 400
    assert "请输入用户名" in response.get_data(as_text=True)


def test_passwords_are_hashed(demo):
    user = db.session.scalar(select(User).where(User.username == "office"))
    assert "huanxian2026" not in user.password_hash
    assert user.check_password("huanxian2026")


def test_password_rules():
    assert password_problems("short1")
    assert password_problems("lettersonly")
    assert password_problems("12345678901")
    assert password_problems("office123", "office123")
    assert password_problems("good-pass-2026") == []


def test_change_own_password_ends_other_sessions(demo, app):
    mine, other = app.test_client(), app.test_client()
    login(mine, "organizer")
    login(other, "organizer")
    response = mine.post(
        "/account/password",
        data={
            "current_password": "huanxian2026",
            "new_password": "new-pass-2026",
            "confirm": "new-pass-2026",
        },
        follow_redirects=True,
    )
    assert "密码已修改" in response.get_data(as_text=True)
    # This browser stays logged in, the other one is logged out.
    assert "whoami" in mine.get("/").get_data(as_text=True)
    assert "whoami" not in other.get("/").get_data(as_text=True)
    assert other.get("/account/password").status_code == 302
    fresh = app.test_client()
    assert login(fresh, "organizer", "new-pass-2026").status_code == 200
    assert "whoami" in fresh.get("/").get_data(as_text=True)


def test_change_password_explains_problems(demo, client):
    login(client, "trainee")
    response = client.post(
        "/account/password",
        data={"current_password": "wrong", "new_password": "abc", "confirm": "abd"},
    )
    assert response.status_code == 400
    assert "两次输入的新密码不一致" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "another-2026",
            "confirm": "another-2026",
        },
    )
    assert "当前密码不正确" in response.get_data(as_text=True)


def test_office_creates_a_user_who_must_change_password(demo, client, app):
    login(client, "office")
    party = next(m for m in db.session.scalars(select(User)) if m.member).member_id
    response = client.post(
        "/admin/users",
        data={
            "username": "new_staff",
            "display_name": "新同事",
            "role": "member_staff",
            "member_id": party,
            "password": "first-pass-2026",
        },
        follow_redirects=True,
    )
    assert "已创建用户 new_staff" in response.get_data(as_text=True)
    newcomer = app.test_client()
    page = login(newcomer, "new_staff", "first-pass-2026").get_data(as_text=True)
    assert "请先设置新密码" in page
    assert newcomer.get("/members").status_code == 302


def test_create_user_errors_keep_what_was_typed(demo, client):
    login(client, "office")
    response = client.post(
        "/admin/users",
        data={
            "username": "office",
            "display_name": "重名的人",
            "role": "organizer",
            "member_id": 0,
            "password": "first-pass-2026",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "该用户名已被使用" in page
    assert 'value="重名的人"' in page
    response = client.post(
        "/admin/users",
        data={
            "username": "staffer",
            "display_name": "某人",
            "role": "member_staff",
            "member_id": 0,
            "password": "first-pass-2026",
        },
    )
    assert "必须选择所属成员单位" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "staffer")) is None


def test_office_resets_a_password_and_old_sessions_end(demo, client, app):
    victim = app.test_client()
    login(victim, "trainee")
    login(client, "office")
    trainee = db.session.scalar(select(User).where(User.username == "trainee"))
    response = client.post(
        f"/admin/users/{trainee.id}",
        data={"reset-password": "temp-pass-2026", "reset-submit": "重置密码"},
        follow_redirects=True,
    )
    assert "已重置 trainee 的密码" in response.get_data(as_text=True)
    assert "whoami" not in victim.get("/").get_data(as_text=True)
    page = login(app.test_client(), "trainee", "temp-pass-2026").get_data(as_text=True)
    assert "请先设置新密码" in page


def test_deactivated_user_is_logged_out_and_cannot_log_in(demo, client, app):
    victim = app.test_client()
    login(victim, "organizer")
    login(client, "office")
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    client.post(f"/admin/users/{organizer.id}/active", data={"active": "0"})
    assert "whoami" not in victim.get("/").get_data(as_text=True)
    assert login(app.test_client(), "organizer").status_code == 401


@pytest.mark.parametrize("username", ["party_school_admin", "organizer", "trainee"])
def test_only_the_office_manages_users(demo, client, username):
    login(client, username)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/1").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_remember_me_sets_a_long_lived_cookie(demo, client):
    login(client, "office", remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.expires is not None


def test_remember_cookie_alone_logs_in_until_the_password_changes(demo, app):
    browser = app.test_client()
    login(browser, "organizer", remember="y")
    remember = browser.get_cookie("remember_token").value
    restarted = app.test_client()
    restarted.set_cookie("remember_token", remember)
    assert "whoami" in restarted.get("/").get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "organizer"))
    user.session_version += 1
    db.session.commit()
    again = app.test_client()
    again.set_cookie("remember_token", remember)
    assert "whoami" not in again.get("/").get_data(as_text=True)


def test_session_is_permanent_and_expires(demo, client, app):
    login(client, "office")
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600


def test_login_redirects_only_to_local_pages(demo, client):
    response = client.post(
        "/login?next=https://evil.example/", data={"username": "office", "password": "huanxian2026"}
    )
    assert response.headers["Location"] == "/dashboard"


def test_cli_creates_the_first_office_account(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--username",
            "chief",
            "--name",
            "主任",
            "--password",
            "chief-pass-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "chief"))
    assert user.role == "office" and user.check_password("chief-pass-2026")
    bad = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--username",
            "chief",
            "--name",
            "x",
            "--password",
            "chief-pass-2026",
        ]
    )
    assert bad.exit_code != 0 and "已被使用" in bad.output


def test_database_refuses_a_member_role_without_member(app):
    with pytest.raises(ServiceError, match="必须选择所属成员单位"):
        create_user(username="lost", display_name="x", role="member_staff", password="pass-2026-ok")
    db.session.rollback()
    db.session.add(User(username="lost", display_name="x", role="member_staff", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_account_locks_after_repeated_failures(demo, client, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, "organizer", "wrong-pass-1").status_code == 401
    # Locked: even the right password is refused, with the same generic message.
    response = login(client, "organizer")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    assert organizer.locked_until is not None
    organizer.locked_until = None
    db.session.commit()
    assert login(client, "organizer").status_code == 200


def test_failed_logins_from_one_address_are_rate_limited(demo, client, app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    statuses = [
        client.post("/login", data={"username": f"nobody{i}", "password": "x"}).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    page = client.post("/login", data={"username": "office", "password": "huanxian2026"})
    assert page.status_code == 429 and "操作过于频繁" in page.get_data(as_text=True)


def test_successful_logins_do_not_count_towards_the_limit(demo, client, app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(5):
        assert login(client, "office").status_code == 200


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%5C/evil.example", "/%0d%0aSet-Cookie:x=1", "//evil.example"]
)
def test_login_never_redirects_off_site(demo, client, target):
    response = client.post(
        f"/login?next={target}", data={"username": "office", "password": "huanxian2026"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_ids_beyond_the_database_answer_404(client):
    assert client.get("/sites/" + "9" * 30).status_code == 404
    assert client.get("/sites/2147483648").status_code == 404
