"""A site's calendar in the browser: the month grid from the site's page, then the week."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, check_accessibility, save_screenshot
from tests.browser.journeys import WEEKDAYS, open_menu, today

pytestmark = pytest.mark.browser

SITE = "国殇墓园"


def test_visitor_opens_a_site_calendar_by_month_and_by_week(page: Page, base_url: str):
    now = today()
    page.goto(base_url + "/")
    open_menu(page, "教学点")
    page.get_by_label("关键词", exact=True).fill(SITE)
    page.get_by_role("button", name="筛选", exact=True).click()
    page.locator("table tbody").get_by_role("link", name=SITE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SITE)
    site_url = page.url

    page.get_by_role("link", name="日程", exact=True).click()
    expect(page).to_have_url(re.compile(r"/calendar/site/\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"教学点日程：{SITE}")
    expect(page.get_by_role("navigation", name="位置").get_by_role("link")).to_have_attribute(
        "href", site_url.removeprefix(base_url)
    )
    period = page.locator("#period")
    expect(period).to_have_text(f"{now.year}年{now.month}月")
    month_view = page.get_by_role("link", name="月视图", exact=True)
    expect(month_view).to_have_attribute("aria-current", "page")
    grid = page.get_by_role("table", name=f"{now.year}年{now.month}月")
    expect(grid.locator("thead th")).to_have_text(list(WEEKDAYS))
    today_cell = grid.locator(f'td[data-day="{now.isoformat()}"]')
    expect(today_cell).to_have_class(re.compile(r"\btable-warning\b"))
    expect(today_cell).to_contain_text("今天")
    # Whole weeks, Monday to Sunday, around the month.
    page.wait_for_load_state("load")
    weeks = grid.locator("tbody tr").count()
    assert 4 <= weeks <= 6, f"{weeks} weeks in the month grid"
    expect(grid.locator("tbody td")).to_have_count(7 * weeks)
    first_day = date.fromisoformat(grid.locator("tbody td").first.get_attribute("data-day"))
    assert first_day.weekday() == 0, f"the grid starts on {first_day}, not a Monday"
    # Visitors see times and places only, and may subscribe to the public feed.
    expect(page.get_by_text("公开日程只显示时间和教学点")).to_be_visible()
    expect(page.get_by_label("公开订阅链接（只含时间和教学点）")).to_have_value(
        re.compile(r"\.ics$")
    )
    check_accessibility(page)
    save_screenshot(page, "calendar-month")

    page.get_by_role("link", name="周视图", exact=True).click()
    expect(page.get_by_role("link", name="周视图", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    monday = now - timedelta(days=now.weekday())
    sunday = monday + timedelta(days=6)
    expect(period).to_have_text(f"{monday.isoformat()} 至 {sunday.isoformat()}")
    days = page.locator("main section[data-day]")
    expect(days).to_have_count(7)
    for offset, label in enumerate(WEEKDAYS):
        day = monday + timedelta(days=offset)
        expect(days.nth(offset).get_by_role("heading")).to_contain_text(
            f"{day.isoformat()} {label}"
        )
    check_accessibility(page)
    save_screenshot(page, "calendar-week")

    page.get_by_role("link", name="下一周", exact=True).click()
    expect(period).to_have_text(
        f"{(monday + timedelta(days=7)).isoformat()} 至 {(sunday + timedelta(days=7)).isoformat()}"
    )
    page.get_by_role("link", name="今天", exact=True).click()
    expect(period).to_have_text(f"{monday.isoformat()} 至 {sunday.isoformat()}")
    assert_no_console_errors(page)
