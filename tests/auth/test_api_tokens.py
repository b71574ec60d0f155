"""Members' systems read the API with tokens: hashed at rest, scoped to the member, revocable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.auth.models import ApiToken
from portal.catalog.models import Teacher
from portal.extensions import db
from tests.conftest import login

pytestmark = pytest.mark.db


def make_token(client, username: str, name: str = "腾冲教务") -> str:
    login(client, username)
    page = client.post("/account/api-tokens", data={"name": name}).get_data(as_text=True)
    return re.search(r'data-testid="new-token">([^<]+)<', page).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def private_teacher(member_key: str) -> Teacher:
    return db.session.scalars(
        select(Teacher)
        .join(Teacher.member)
        .where(Teacher.shared.is_(False))
        .where(Teacher.member.has(key=member_key))
    ).first()


def test_a_member_token_reads_what_its_staff_may_read(demo, client, app):
    token = make_token(client, "tengchong_college_admin")
    stored = db.session.scalar(select(ApiToken))
    assert token not in (stored.token_hash, stored.prefix) and stored.token_hash != token
    api = app.test_client()
    own = private_teacher("tengchong_college")
    other = private_teacher("party_school")
    assert api.get(f"/api/v1/teachers/{own.id}", headers=bearer(token)).status_code == 200
    assert api.get(f"/api/v1/teachers/{other.id}", headers=bearer(token)).status_code == 404
    assert api.get(f"/api/v1/teachers/{own.id}").status_code == 404  # without the token
    assert api.get("/api/v1/bookings", headers=bearer(token)).status_code == 200


def test_tokens_are_read_only_and_only_for_the_api(demo, client, app):
    token = make_token(client, "tengchong_college_admin")
    api = app.test_client()
    assert api.post("/api/v1/sites", headers=bearer(token)).status_code == 403
    assert api.get("/inbox", headers=bearer(token)).status_code == 302  # HTML pages ignore tokens


def test_revoking_takes_effect_at_once(demo, client, app):
    token = make_token(client, "tengchong_college_admin")
    api = app.test_client()
    own = private_teacher("tengchong_college")
    assert api.get(f"/api/v1/teachers/{own.id}", headers=bearer(token)).status_code == 200
    stored = db.session.scalar(select(ApiToken))
    client.post(f"/account/api-tokens/{stored.id}/revoke")
    assert api.get(f"/api/v1/teachers/{own.id}", headers=bearer(token)).status_code == 404
    assert api.get("/api/v1/bookings", headers=bearer(token)).status_code == 401


def test_garbage_tokens_are_ignored(demo, app):
    api = app.test_client()
    for value in (
        "Bearer hxp_nonsense",
        "Bearer " + "x" * 5000,
        "Bearer \u00e9\u00e9",
        "Basic abc",
    ):
        assert api.get("/api/v1/bookings", headers={"Authorization": value}).status_code == 401


def test_who_may_manage_tokens(demo, client, app):
    token_id = None
    make_token(client, "tengchong_college_admin")
    token_id = db.session.scalar(select(ApiToken.id))
    for username, status in (
        ("tengchong_college_staff", 403),
        ("organizer", 403),
        ("trainee", 403),
    ):
        login(client, username)
        assert client.get("/account/api-tokens").status_code == status
    login(client, "party_school_admin")
    assert "腾冲教务" not in client.get("/account/api-tokens").get_data(as_text=True)
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None
    login(client, "office")
    assert "腾冲教务" in client.get("/account/api-tokens").get_data(as_text=True)
    response = client.post("/account/api-tokens", data={"name": ""})
    assert response.status_code == 400 and "请填写密钥名称" in response.get_data(as_text=True)
