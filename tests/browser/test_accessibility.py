"""The accessibility basics on every main page: title, one <h1>, labelled fields, visible focus.

With PORTAL_SCREENSHOTS=<dir> this is also where the pictures of the main pages are taken.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, check_accessibility, save_screenshot

pytestmark = pytest.mark.browser

# name (also the screenshot's): (path, needs the office logged in)
MAIN_PAGES = {
    "home": ("/", False),
    "sites": ("/sites", False),
    "site-detail": (None, False),  # the first site listed on /sites
    "members": ("/members", False),
    "login": ("/login", False),
    "password": ("/account/password", True),
    "users": ("/admin/users", True),
    "plugins": ("/admin/plugins", True),
    "meetings-list": ("/meetings/", True),
    "meeting-new": ("/meetings/new", True),
    "meetings-calendar": ("/meetings/calendar", True),
    "meetings-decisions": ("/meetings/decisions", True),
    "meetings-busy": ("/meetings/busy", True),
    "events": ("/events", False),
    "events-calendar": ("/events/calendar", False),
    "event-new": ("/events/new", True),
}
SCREENSHOTS = {
    "home",
    "sites",
    "site-detail",
    "members",
    "login",
    "users",
    "plugins",
    "meetings-calendar",
    "events",
    "events-calendar",
}


@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_main_page_accessibility_basics(new_page, office_state: dict, base_url: str, name):
    path, as_office = MAIN_PAGES[name]
    page: Page = new_page(storage_state=office_state if as_office else None)
    if path is None:
        page.goto(base_url + "/sites")
        path = page.locator("table tbody a").first.get_attribute("href")
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )
    expect(page).to_have_url(base_url + path)
    if as_office:
        expect(page.get_by_test_id("whoami")).to_contain_text("环线办")
    check_accessibility(page)
    if name in SCREENSHOTS:
        save_screenshot(page, name)
    assert_no_console_errors(page)
