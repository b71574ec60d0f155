"""The guide corps on a phone (360 px): member staff open their roster, a guide's record and
groups, and the day's guide sheet. No page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, open_menu

pytestmark = pytest.mark.browser


def test_member_staff_keep_their_guides_on_a_phone(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "party_school_staff")
    open_menu(page, "讲解员队伍")
    expect(page.get_by_role("heading", name="讲解员队伍")).to_be_visible()
    expect(page.get_by_test_id("guide-row")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="李红梅").click()
    expect(page.get_by_test_id("guide-entry").first).to_be_visible()
    expect(page.get_by_test_id("guide-group")).to_have_count(1)
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "guides-guide")
    page.goto(f"{base_url}/inbox/guides")
    assert_no_horizontal_scroll(page)
    # The inbox's guide chooser (roster or a typed name) fits the card too.
    page.goto(f"{base_url}/inbox?status=confirmed")
    chooser = page.locator("details:visible").first
    chooser.locator("summary").click()
    expect(chooser.locator("select[name=guide_id]")).to_be_visible()
    assert_no_horizontal_scroll(page)
