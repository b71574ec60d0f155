"""CSRF: with protection on (as in production), every state-changing route refuses a request
without the session's token (400, nothing changed), and the same forms work with it.

The other tests switch CSRF off (WTF_CSRF_ENABLED=False) to post forms directly; this file
builds its own app on the session's schema with it switched on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, IntegerConverter

from portal.extensions import db
from tests.conftest import empty_all_tables, make_test_app
from tests.security.support import Tracker, count
from tests.security.test_authorization_matrix import (
    ITEM_IDS,
    PARAMS,
    POST_DATA,
    RULES,
    build_url,
    variants,
)

pytestmark = pytest.mark.db

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def csrf_app(_schema: str, tmp_path) -> Iterator[Flask]:
    from portal.demo import load_demo
    from tests.security.support import build_world

    app = make_test_app(_schema, str(tmp_path), WTF_CSRF_ENABLED=True)
    with app.app_context():
        empty_all_tables()
        load_demo()
        app.config["WORLD"] = build_world()
        yield app
        db.session.remove()
        db.engine.dispose()


def token_of(page: str) -> str:
    found = TOKEN_INPUT.search(page)
    assert found, "no csrf_token input on the page"
    return found.group(1) or found.group(2)


def login_with_token(client: FlaskClient, username: str) -> None:
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": username, "password": "huanxian2026", "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def any_url(app: Flask, world: dict[str, Any], rule) -> str:
    """A URL of the rule: the declared objects where known, else any value of the right type."""
    if rule.endpoint in RULES:
        return build_url(app, world, rule.endpoint, variants(rule.endpoint)[0])
    values: dict[str, Any] = {}
    for name in rule.arguments - set(rule.defaults or {}):
        converter = rule._converters.get(name)
        if name in PARAMS and name != "item_id":
            values[name] = world.get(PARAMS[name], PARAMS[name])
        elif isinstance(converter, AnyConverter):
            values[name] = converter.items[0] if hasattr(converter, "items") else "x"
        elif isinstance(converter, IntegerConverter):
            values[name] = world.get(ITEM_IDS.get(name, ""), 1)
        else:
            values[name] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_every_state_changing_route_refuses_a_request_without_the_token(csrf_app):
    world = csrf_app.config["WORLD"]
    client = csrf_app.test_client()
    login_with_token(client, "office")
    refused = []
    failures = []
    tracker = Tracker()
    for rule in sorted(csrf_app.url_map.iter_rules(), key=lambda r: r.endpoint):
        methods = rule.methods & WRITE_METHODS
        if not methods:
            continue
        url = any_url(csrf_app, world, rule)
        data = POST_DATA.get(rule.endpoint, lambda w: {})(world)
        for method in sorted(methods):
            response = client.open(url, method=method, data=data)
            refused.append(f"{method} {url}")
            if response.status_code != 400:
                failures.append(f"{method} {url} [{rule.endpoint}]: {response.status_code}")
            elif "请求有误" not in response.get_data(as_text=True):
                failures.append(f"{method} {url}: the 400 page is not the portal's Chinese page")
            changed = tracker.changed()
            if changed:
                failures.append(f"{method} {url} [{rule.endpoint}] changed {changed}")
    assert len(refused) > 60
    assert not failures, "\n".join(failures)
    # Still logged in: the logout without a token was refused too.
    assert client.get("/admin/users").status_code == 200


def test_login_and_anonymous_posts_need_the_token(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "office", "password": "huanxian2026"})
    assert response.status_code == 400
    assert client.get("/admin/users").status_code == 302  # not logged in
    assert client.post("/locale", data={"locale": "en", "next": "/"}).status_code == 400


def test_a_token_from_another_session_is_refused(csrf_app):
    mallory = csrf_app.test_client()
    login_with_token(mallory, "organizer")
    stolen = token_of(mallory.get("/classes/new").get_data(as_text=True))
    victim = csrf_app.test_client()
    login_with_token(victim, "organizer")
    before = count_classes()
    response = victim.post("/classes/new", data={**class_form(), "csrf_token": stolen})
    assert response.status_code == 400
    assert count_classes() == before


def class_form() -> dict[str, str]:
    return {
        "name": "带令牌登记的培训班",
        "kind": "main",
        "origin": "province",
        "sending_unit": "某县委组织部",
        "size": "30",
        "starts_on": "2027-03-02",
        "ends_on": "2027-03-02",
        "theme": "乡村振兴",
        "contact_name": "王老师",
        "contact_phone": "0875-1234567",
    }


def count_classes() -> int:
    from portal.scheduling.models import TrainingClass

    return count(TrainingClass)


def test_forms_work_with_the_token(csrf_app):
    client = csrf_app.test_client()
    login_with_token(client, "organizer")
    page = client.get("/classes/new").get_data(as_text=True)
    before = count_classes()
    response = client.post("/classes/new", data={**class_form(), "csrf_token": token_of(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert count_classes() == before + 1
    # JavaScript sends the token of the <meta> tag in the X-CSRFToken header.
    meta = META_TOKEN.search(page)
    assert meta
    response = client.post("/messages/read", headers={"X-CSRFToken": meta.group(1)})
    assert response.status_code == 302
    # Logging out works with the token and ends the session.
    response = client.post("/logout", data={"csrf_token": token_of(page)})
    assert response.status_code == 302
    assert client.get("/classes").status_code == 302
