"""Everyday pages on a phone (360 px): maps, photos, the class calendar in its week view, the
office's audit log; dates and times that read the same in an English browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import (
    assert_no_horizontal_scroll,
    book_custom_visit,
    heading,
    monday_ahead,
    open_menu,
    register_class,
    start_booking,
    unique,
)

pytestmark = pytest.mark.browser

ROUTE = "三点一线五日精品环线"


def test_maps_calendar_and_audit_fit_a_phone(phone_page: Page, base_url: str, new_page):
    page = phone_page
    # Anyone: a route with its map, a site with its neighbours and navigation links.
    page.goto(f"{base_url}/routes")
    page.get_by_role("link", name=ROUTE, exact=True).click()
    expect(heading(page)).to_have_text(ROUTE)
    page.wait_for_load_state("load")  # the stylesheet that fits the map to the column
    route_map = page.locator("svg.route-map")
    expect(route_map).to_be_visible()
    assert route_map.locator("g.stop").count() >= 10
    assert route_map.locator("text.leg-label").count() == route_map.locator("line.leg").count()
    width = route_map.evaluate("svg => svg.getBoundingClientRect().width")
    assert width <= 360, width
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "phone-route-map")

    page.locator("svg.route-map a").first.click()
    expect(page.get_by_role("heading", name="位置与周边")).to_be_visible()
    links = page.get_by_test_id("navigation-links")
    expect(links.get_by_role("link", name="高德地图导航")).to_be_visible()
    assert "uri.amap.com/marker" in (
        links.get_by_role("link", name="高德地图导航").get_attribute("href") or ""
    )
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "phone-site-map")

    # An organizer: a class with a booked stop, its map, its calendar opening on the week.
    login(page, base_url, "organizer")
    name = unique("地图测试班")
    start = monday_ahead(3) + timedelta(days=1)
    register_class(page, name, 20, start, start + timedelta(days=1))
    book_custom_visit(page, name, start, "国殇墓园（腾冲干部学院）", "10:00")
    open_menu(page, "培训班")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name="行程路线图")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="日程与订阅", exact=True).click()
    page.wait_for_url("**view=week**")
    expect(page.get_by_role("link", name="周视图", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    assert_no_horizontal_scroll(page)
    # The month, chosen on purpose, stays; its times are never broken.
    page.get_by_role("link", name="月视图", exact=True).click()
    page.wait_for_url("**view=month**")
    times = page.locator("table.calendar-month time")
    for index in range(times.count()):
        one = times.nth(index)
        rects = one.evaluate("t => t.getClientRects().length")
        assert rects == 1, one.inner_text()  # one box: the time is not broken over lines
    assert_no_horizontal_scroll(page)

    # The office: the audit log in words, page by page, as cards on a phone.
    office = new_page(phone=True)
    login(office, base_url, "office")
    office.goto(f"{base_url}/admin/audit")
    expect(heading(office)).to_have_text("审计日志")
    expect(office.get_by_test_id("audit-count")).to_contain_text("共")
    expect(office.locator("td[data-action='booking.create']").first).to_have_text("提交预约")
    assert_no_horizontal_scroll(office)
    save_screenshot(office, "phone-audit")
    assert_no_console_errors(page)
    assert_no_console_errors(office)


def test_dates_and_times_read_the_same_in_an_english_browser(browser: Browser, base_url: str):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        login(page, base_url, "organizer")
        open_menu(page, "培训班")
        page.get_by_role("link", name="登记培训班", exact=True).click()
        starts = page.get_by_label("开班日期", exact=True)
        assert starts.get_attribute("type") == "text"
        assert starts.get_attribute("placeholder") == "2026-12-14"
        starts.fill("2026/12/14")
        page.get_by_role("button", name="保存", exact=True).click()
        # The form comes back (other fields are missing) with the day as the portal writes it.
        expect(page.get_by_label("开班日期", exact=True)).to_have_value("2026-12-14")
        shown = page.get_by_label("开班日期", exact=True).evaluate("e => e.value")
        assert shown == "2026-12-14"

        # A class, then a custom route: its start time is a 24-hour text field.
        name = unique("英文浏览器班")
        day = monday_ahead(4) + timedelta(days=1)
        register_class(page, name, 20, day, day)
        start_booking(page, name)
        page.get_by_role("link", name="定制线路", exact=True).click()
        clock = page.get_by_label("第 1 行 开始时间", exact=True)
        assert clock.get_attribute("type") == "text"
        assert clock.get_attribute("placeholder") == "14:00"
        clock.fill("1400")
        page.get_by_label("开始日期", exact=True).fill(day.isoformat())
        page.get_by_role("button", name="检查", exact=True).click()
        page.wait_for_load_state()
        expect(page.get_by_label("第 1 行 开始时间", exact=True)).to_have_value("14:00")
        assert page.locator("input[type='date'], input[type='time']").count() == 0
    finally:
        context.close()
