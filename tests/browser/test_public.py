"""Anonymous visitors: the home page, the teaching sites, the members, the language switch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, check_accessibility, open_menu

pytestmark = pytest.mark.browser

MEMBER_NAMES = (
    "中共保山市委党校",
    "保山杨善洲干部学院",
    "腾冲干部教育培训学院",
    "松山干部教育培训基地",
)


def test_anonymous_visitor_browses_home_sites_and_members(page: Page, base_url: str):
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="成员单位", exact=True)).to_be_visible()
    cards = page.locator(".card")
    expect(cards).to_have_count(4)
    for name in MEMBER_NAMES:
        expect(cards.filter(has_text=name)).to_have_count(1)
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    check_accessibility(page)

    open_menu(page, "教学点")  # 目录 → 教学点
    expect(page).to_have_url(base_url + "/sites")
    expect(page.get_by_role("heading", level=1)).to_have_text("现场教学点")
    site_links = page.locator("table tbody a")
    assert site_links.count() > 4
    check_accessibility(page)

    site_name = site_links.first.inner_text()
    site_links.first.click()
    expect(page).to_have_url(re.compile(re.escape(base_url) + r"/sites/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(site_name)
    expect(page.locator("dt", has_text="每场容量")).to_be_visible()
    expect(page.locator("dt:has-text('每场容量') + dd")).to_contain_text("人")
    check_accessibility(page)

    open_menu(page, "成员单位")
    expect(page).to_have_url(base_url + "/members")
    expect(page.get_by_role("heading", level=1)).to_have_text("成员单位")
    for name in MEMBER_NAMES:
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    check_accessibility(page)
    assert_no_console_errors(page)


def test_language_switch_sets_the_page_language_and_back(page: Page, base_url: str):
    page.goto(base_url + "/sites")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(base_url + "/sites")

    page.get_by_role("button", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(base_url + "/sites")
    assert_no_console_errors(page)
