"""Browser journeys: a real portal server on a fresh SQLite database, driven by Chromium.

The server is started once per session (`flask db upgrade`, `flask portal load-demo`,
`flask run` on a free port of 127.0.0.1); the journeys use the sync Playwright API with
Debian's Chromium (/usr/bin/chromium). Without Chromium the journeys are skipped; with
CI=true they fail instead. On a failure the report shows, for every page the test opened,
its URL, its console errors and the path of a screenshot.

PORTAL_SCREENSHOTS=<dir> saves a full-page PNG of each main page into <dir>.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.helpers import (
    PROJECT_ROOT,
    console_errors,
    forget,
    login,
    watch,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
SERVER_START_TIMEOUT = 30
# Keep a broken journey from hanging: every wait of Playwright gives up after this.
ACTION_TIMEOUT_MS = 10_000


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "portal", *args]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str) -> dict[str, str]:
    # A defined configuration: none of the caller's PORTAL_*/FLASK_* settings leak in.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=database_url,
        PORTAL_SECRET_KEY="browser-journeys-secret",
        FLASK_DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


# The server's SQLite file, for journeys that must let time pass (a contest that is over).
SERVER_DATABASE: dict[str, Path] = {}


@pytest.fixture(scope="session")
def portal_database(portal_server: str) -> Path:
    """The running portal's SQLite database file."""
    return SERVER_DATABASE["path"]


@pytest.fixture(scope="session")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a portal running the demo consortium on a fresh SQLite database."""
    workdir = tmp_path_factory.mktemp("portal-server")
    SERVER_DATABASE["path"] = workdir / "portal.sqlite3"
    env = _server_env(f"sqlite:///{workdir / 'portal.sqlite3'}")
    for args in (("db", "upgrade"), ("portal", "load-demo")):
        done = subprocess.run(
            _flask(*args), cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            pytest.fail(
                f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            _flask("run", "--host", "127.0.0.1", "--port", str(port)),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"the portal server exited ({proc.returncode}):\n{log_path.read_text()}"
                )
            try:
                with urllib.request.urlopen(base_url + "/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the portal server did not answer within {SERVER_START_TIMEOUT} s:\n"
                    f"{log_path.read_text()}"
                )
            time.sleep(0.2)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def base_url(portal_server: str) -> str:
    return portal_server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install Debian's chromium (make browser)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI. {message}", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def failure_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-failures")


@pytest.fixture
def new_page(
    browser: Browser, base_url: str, request: pytest.FixtureRequest, failure_dir: Path
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context: new_page(phone=False, storage_state=None).

    Every page opened is watched for console errors and reported when the test fails.
    """
    contexts = []
    pages: list[Page] = []
    request.node._browser_pages = pages
    request.node._browser_failure_dir = failure_dir

    def open_page(phone: bool = False, storage_state=None) -> Page:
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
        context = browser.new_context(
            viewport=options.pop("viewport", DESKTOP),
            locale="zh-CN",
            storage_state=storage_state,
            **options,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch(page)
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        forget(page)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop page (1280x800) in a fresh context."""
    return new_page()


@pytest.fixture
def phone_page(new_page: Callable[..., Page]) -> Page:
    """A phone page (360x740, mobile, touch) in a fresh context."""
    return new_page(phone=True)


@pytest.fixture(scope="session")
def office_state(browser: Browser, base_url: str) -> dict:
    """The cookies of a logged-in office user, for pages that only need to be looked at."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    login(page, base_url, "office")
    assert page.get_by_test_id("whoami").count() == 1, "office could not log in"
    state = context.storage_state()
    context.close()
    return state


def _browser_report(item: pytest.Item) -> str:
    lines = []
    folder: Path = item._browser_failure_dir
    for number, page in enumerate(getattr(item, "_browser_pages", []), start=1):
        if page.is_closed():
            lines.append(f"page {number}: closed")
            continue
        lines.append(f"page {number}: {page.url}")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.name)
        shot = folder / f"{name}-page{number}.png"
        try:
            page.screenshot(path=str(shot), full_page=True, timeout=5_000)
            lines.append(f"  screenshot: {shot}")
        except Exception as exc:  # the report must not hide the failure itself
            lines.append(f"  screenshot failed: {exc}")
        errors = console_errors(page)
        lines.append(f"  console errors: {len(errors)}")
        lines += [f"    {error}" for error in errors]
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.when == "call" and report.failed and getattr(item, "_browser_pages", None):
        text = _browser_report(item)
        report.sections.append(("browser pages", text))
        # Also straight to the terminal, so it shows even with output capture quirks.
        sys.stderr.write(f"\n[browser] {item.nodeid} failed\n{text}\n")
