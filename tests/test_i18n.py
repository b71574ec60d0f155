"""The UI in Simplified Chinese by default and in English on request, and a complete catalogue.

Message ids are the Chinese text, so Chinese needs no catalogue; English comes from
portal/translations/en/LC_MESSAGES/messages.po, compiled to messages.mo (``make translations``,
or the fixture below when the .mo is missing or older than the .po).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
# The same keywords as `make messages`: gettext's defaults plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _read_catalog():
    with PO_FILE.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalog() -> Path:
    """Compile the English .po to its .mo when the .mo is missing or out of date."""
    if not MO_FILE.exists() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        catalog = _read_catalog()
        fd, tmp = tempfile.mkstemp(dir=MO_FILE.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, MO_FILE)
        # Flask-Babel caches loaded catalogues per process (in its domain, a cached_property):
        # forget any loaded before the .mo existed.
        from portal.extensions import babel

        domain = vars(babel).get("domain_instance")
        if domain is not None:
            domain.cache.clear()
    return MO_FILE


def _switch(client, locale: str, next_path: str = "/login"):
    return client.post("/locale", data={"locale": locale, "next": next_path})


def test_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert '<h1 class="h3 mb-3">登录</h1>' in page
    assert "首页" in page and "教学点" in page
    assert "Log in" not in page


def test_switch_to_english_and_back(client):
    response = _switch(client, "en")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")

    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page
    # The navbar: core menu, brand and the switch back to Chinese.
    assert "Home" in page and "Teaching sites" in page and "Members" in page
    assert "Ring Route Portal" in page
    assert 'value="zh_Hans_CN"' in page
    # Form labels come from lazy strings, translated at render time.
    assert "Username" in page and "Password" in page
    for chinese in ("登录", "首页", "教学点", "用户名", "环线培训门户"):
        assert chinese not in page

    _switch(client, "zh_Hans_CN")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "用户名" in page
    assert "Log in" not in page


def test_invalid_locale_is_refused(client):
    assert client.post("/locale", data={"locale": "fr"}).status_code == 400
    assert client.post("/locale", data={}).status_code == 400
    # Nothing changed: still Chinese.
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_english_for_a_logged_in_user(client, demo):
    _switch(client, "en")
    page = login(client, "office").get_data(as_text=True)
    assert "Welcome, " in page
    assert "Log out" in page and "Change password" in page
    assert "User management" in page and "Plugins" in page
    # Role labels are lazy: shown in the user's language.
    assert "Ring Route Office" in page

    page = client.get("/sites").get_data(as_text=True)
    assert "On-site teaching sites" in page and "Capacity per session" in page
    assert "Active" in page

    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)


def test_outside_a_request_messages_stay_chinese(app):
    """Services may run without a request (the CLI): the default locale applies, no error."""
    from portal.auth.services import password_problems

    assert password_problems("short") == ["密码至少需要 8 个字符。", "密码须同时包含字母和数字。"]


def test_catalogue_is_complete():
    catalog = _read_catalog()
    messages = [m for m in catalog if m.id]
    assert messages, "the English catalogue is empty"
    untranslated = [m.id for m in messages if not m.string]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy (check and remove the flag): {fuzzy}"
    # Placeholders such as %(name)s must match between the Chinese id and the English text.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems


def test_catalogue_is_up_to_date():
    """Every string marked in portal/ is in the .po; if not, run `make messages` and translate."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = {
        (context, message if isinstance(message, str) else message[0])
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    assert len(extracted) > 100, "extraction found too little: check babel.cfg"
    in_catalog = {(m.context, m.id) for m in _read_catalog() if m.id}
    missing = sorted(extracted - in_catalog, key=str)
    assert not missing, f"not in messages.po (run `make messages`): {missing}"
