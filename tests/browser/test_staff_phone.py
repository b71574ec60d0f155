"""Member staff on a phone (360 px): the 预约待办 inbox as cards, a class confirmed in one
action, the guide named, the day's guide sheet; nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import (
    assert_no_horizontal_scroll,
    fits,
    flash,
    monday_ahead,
    open_menu,
    register_class,
    start_booking,
    unique,
)

pytestmark = pytest.mark.browser

ONE_DAY_ROUTE = "杨善洲精神一日环线"
PHONE_WIDTH = 360

# Every table and card inside the viewport: its right edge no further than the page's width.
_OVERFLOWING_JS = """() => [...document.querySelectorAll('table, .card')]
  .filter(e => e.offsetParent !== null)
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.className)"""


def assert_fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert page.evaluate(_OVERFLOWING_JS) == []
    assert_no_horizontal_scroll(page)


def test_member_staff_confirm_on_a_phone(new_page, base_url: str):
    wednesday = monday_ahead(2) + timedelta(days=2)
    class_name = unique("手机确认测试班")
    organizer: Page = new_page()
    login(organizer, base_url, "organizer")
    register_class(organizer, class_name, 30, wednesday, wednesday)
    start_booking(organizer, class_name)
    organizer.get_by_label("线路", exact=True).select_option(label=f"{ONE_DAY_ROUTE}（1 天）")
    organizer.get_by_label("开始日期", exact=True).fill(wednesday.isoformat())
    organizer.get_by_role("button", name="检查", exact=True).click()
    fits(organizer)
    organizer.get_by_role("button", name="确认预约", exact=True).click()
    expect(flash(organizer, "预约已提交，等待各成员单位确认。")).to_be_visible()

    staff: Page = new_page(phone=True)
    login(staff, base_url, "yangshanzhou_college_staff")
    open_menu(staff, "预约待办")
    cards = staff.get_by_test_id("inbox-card").filter(has_text=class_name)
    expect(cards).to_have_count(3)
    expect(staff.locator("table.inbox-table").first).to_be_hidden()
    assert_fits(staff)
    # 确认 and 婉拒 are on screen in every card, without scrolling sideways.
    for index in range(3):
        card = cards.nth(index)
        for control in (
            card.get_by_role("button", name="确认", exact=True),
            card.locator("summary", has_text="婉拒"),
        ):
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    save_screenshot(staff, "phone-inbox")

    # Naming the guide of the first stop.
    first = cards.first
    first.locator("summary", has_text="安排讲解员").click()
    first.get_by_label("讲解员姓名", exact=True).fill("李讲解")
    first.get_by_role("button", name="保存", exact=True).click()
    expect(flash(staff, "已安排讲解员")).to_be_visible()
    assert_fits(staff)

    # All three stops of the class in one action.
    staff.get_by_test_id("confirm-by-class").get_by_role("listitem").filter(
        has_text=class_name
    ).get_by_role("button", name="全部确认（3 站）", exact=True).click()
    expect(flash(staff, "已确认 3 站")).to_be_visible()
    expect(staff.get_by_test_id("inbox-card").filter(has_text=class_name)).to_have_count(0)
    assert_fits(staff)

    # The day's guide sheet on the phone.
    staff.goto(f"{base_url}/inbox/guides?day={wednesday.isoformat()}")
    sheet = staff.get_by_test_id("guide-card").filter(has_text=class_name)
    expect(sheet).to_have_count(3)
    expect(sheet.filter(has_text="李讲解")).to_have_count(1)
    assert_fits(staff)
    save_screenshot(staff, "phone-guide-sheet")
    assert_no_console_errors(staff)


def test_the_inbox_columns_do_not_wrap_one_character_at_1366(new_page, base_url: str):
    """At 1366 px no header or short cell breaks into one character per line."""
    wednesday = monday_ahead(3) + timedelta(days=2)
    class_name = unique("宽屏测试班")
    organizer: Page = new_page()
    login(organizer, base_url, "organizer")
    register_class(organizer, class_name, 30, wednesday, wednesday)
    start_booking(organizer, class_name)
    organizer.get_by_label("线路", exact=True).select_option(label=f"{ONE_DAY_ROUTE}（1 天）")
    organizer.get_by_label("开始日期", exact=True).fill(wednesday.isoformat())
    organizer.get_by_role("button", name="检查", exact=True).click()
    fits(organizer)
    organizer.get_by_role("button", name="确认预约", exact=True).click()

    staff: Page = new_page()
    staff.set_viewport_size({"width": 1366, "height": 800})
    login(staff, base_url, "yangshanzhou_college_staff")
    staff.goto(f"{base_url}/inbox")
    # Every header and time/size/origin cell is one line (its text one box) inside its cell.
    broken = staff.evaluate(
        """() => [...document.querySelectorAll(
              'table.inbox-table th, table.inbox-table td.text-nowrap')]
          .filter(e => e.offsetParent !== null)
          .filter(e => {
            const text = [...e.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
            if (!text) return false;
            const range = document.createRange();
            range.selectNodeContents(text);
            return range.getClientRects().length > 1 || e.scrollWidth > e.clientWidth + 1;
          })
          .map(e => e.innerText)"""
    )
    assert broken == []
    # The columns have the same widths in every day's table.
    widths = staff.evaluate(
        """() => [...document.querySelectorAll('table.inbox-table')].filter(t => t.offsetParent)
          .map(t => [...t.querySelectorAll('thead th')].map(th => Math.round(th.getBoundingClientRect().width)).join(','))"""
    )
    assert len(set(widths)) == 1, widths


def test_a_declined_stop_is_replaced_on_a_phone(new_page, base_url: str):
    """Staff decline a stop from a card; the organizer, on a phone, replaces just that stop."""
    wednesday = monday_ahead(4) + timedelta(days=2)  # a week of its own: the route's teachers
    thursday = wednesday + timedelta(days=1)
    class_name = unique("替换站点测试班")
    organizer: Page = new_page(phone=True)
    login(organizer, base_url, "organizer")
    register_class(organizer, class_name, 30, wednesday, thursday)
    start_booking(organizer, class_name)
    organizer.get_by_label("线路", exact=True).select_option(label=f"{ONE_DAY_ROUTE}（1 天）")
    organizer.get_by_label("开始日期", exact=True).fill(wednesday.isoformat())
    organizer.get_by_role("button", name="检查", exact=True).click()
    fits(organizer)
    organizer.get_by_role("button", name="确认预约", exact=True).click()
    expect(flash(organizer, "预约已提交，等待各成员单位确认。")).to_be_visible()
    booking_url = organizer.url

    staff: Page = new_page(phone=True)
    login(staff, base_url, "yangshanzhou_college_staff")
    open_menu(staff, "预约待办")
    card = (
        staff.get_by_test_id("inbox-card")
        .filter(has_text=class_name)
        .filter(has_text="杨善洲事迹陈列室")
    )
    expect(card).to_have_count(1)
    card.locator("summary", has_text="婉拒").click()
    card.get_by_label("婉拒原因", exact=True).fill("当天布展")
    card.get_by_role("button", name="婉拒", exact=True).click()
    expect(flash(staff, "已婉拒：杨善洲事迹陈列室")).to_be_visible()
    assert_fits(staff)

    organizer.goto(booking_url)
    expect(organizer.get_by_test_id("next-step")).to_contain_text("只替换该站点")
    expect(organizer.get_by_test_id("stop-card")).to_have_count(3)
    assert_fits(organizer)
    organizer.get_by_role("link", name="替换被婉拒的站点").click()
    organizer.get_by_label("新的日期", exact=True).fill(thursday.isoformat())
    organizer.get_by_label("开始时间", exact=True).fill("10:00")
    organizer.get_by_role("button", name="替换该站点", exact=True).click()
    expect(flash(organizer, "已替换该站点")).to_be_visible()
    expect(organizer.get_by_test_id("next-step")).to_have_count(0)
    expect(organizer.get_by_role("heading", level=1).locator(".badge")).to_have_text("待确认")
    cards = organizer.get_by_test_id("stop-card")
    expect(cards).to_have_count(4)
    expect(cards.filter(has_text="已替换")).to_have_count(1)
    assert_fits(organizer)
    save_screenshot(organizer, "phone-replaced-stop")
    assert_no_console_errors(organizer)
