"""The site directory on a phone (360 px): a member's staff submit a proposed site and see
the open fix of a supervision visit; the office reviews, warns and reads the yearly
directory. No page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, open_menu, today

pytestmark = pytest.mark.browser

PROPOSED = "由旺镇木榔村乡村振兴示范点"


def test_member_staff_follow_their_sites_on_a_phone(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "songshan_base_staff")
    open_menu(page, "目录管理与督查")
    expect(page.get_by_role("heading", name="目录管理与督查")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name=PROPOSED).click()
    expect(page.get_by_test_id("admission")).to_have_text("待审核")
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "directory-member-site")
    page.goto(f"{base_url}/directory/visits")
    assert_no_horizontal_scroll(page)


def test_office_reviews_and_reads_the_yearly_directory_on_a_phone(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "office")
    page.goto(f"{base_url}/directory/review")
    expect(page.get_by_role("link", name=PROPOSED)).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name=PROPOSED).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROPOSED)
    assert_no_horizontal_scroll(page)
    page.goto(f"{base_url}/directory/")
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="松山战役遗址").first.click()
    expect(page.get_by_text("整改期限").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "directory-office-site")
    page.goto(f"{base_url}/directory/years/{today().year}")
    expect(page.get_by_role("heading", name=f"{today().year} 年度现场教学点目录")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.goto(f"{base_url}/directory/visits")
    page.get_by_role("link", name="和顺片区现场教学点调研督查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("和顺片区现场教学点调研督查")
    assert_no_horizontal_scroll(page)
