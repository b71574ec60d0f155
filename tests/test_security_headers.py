"""Security headers on every page, and no inline script or style that the CSP would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "portal"
TEMPLATES = sorted(ROOT.rglob("templates/**/*.html"))


def test_pages_send_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]


def test_session_cookie_flags(demo, client, app):
    from tests.conftest import login

    login(client, "office")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script> is blocked by the CSP"
    assert not re.search(r"\sstyle=\"", text), "inline style attributes are blocked by the CSP"
    assert not re.search(r"\son[a-z]+=\"", text), "inline event handlers are blocked by the CSP"
