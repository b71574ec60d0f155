"""Routes and bookings in the browser: the office publishes a route; an organizer registers a
class and books (a closed Monday moved to a suggested date, a waiting list, a cancellation);
the hosting member confirms or declines the stops in its inbox.

Each journey books in a week of its own (journeys.monday_ahead), so they do not meet.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    save_screenshot,
)
from tests.browser.journeys import (
    check_result,
    fits,
    flash,
    inbox_rows,
    monday_ahead,
    open_menu,
    register_class,
    start_booking,
    unique,
)

pytestmark = pytest.mark.browser

ONE_DAY_ROUTE = "杨善洲精神一日环线"
# The stops of ONE_DAY_ROUTE: all three sites are 杨善洲干部学院's; the first two close on Mondays.
ONE_DAY_SITES = ("杨善洲精神教育基地（大亮山林场）", "杨善洲事迹陈列室", "善洲墓园")
CLOSED_ON_MONDAYS = ONE_DAY_SITES[:2]
SMALL_SITE = "和顺图书馆"  # 腾冲干部学院: 40 seats a session


def book_one_day_route(page: Page, day: date) -> None:
    """On the booking page: the one-day route on ``day``, checked and booked."""
    page.get_by_label("线路", exact=True).select_option(label=f"{ONE_DAY_ROUTE}（1 天）")
    page.get_by_label("开始日期", exact=True).fill(day.isoformat())
    page.get_by_role("button", name="检查", exact=True).click()
    fits(page)
    page.get_by_role("button", name="确认预约", exact=True).click()
    expect(flash(page, "预约已提交，等待各成员单位确认。")).to_be_visible()


def stop_rows(page: Page):
    return page.get_by_role("region", name="站点").locator("tbody tr")


def test_office_publishes_a_new_route(new_page, base_url: str):
    name = unique("和顺侨乡半日线路")
    page: Page = new_page()
    login(page, base_url, "office")
    open_menu(page, "环线线路")
    page.get_by_role("link", name="新建线路", exact=True).click()
    expect(page).to_have_url(base_url + "/routes/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("新建线路")
    check_accessibility(page)
    page.get_by_label("线路名称", exact=True).fill(name)
    page.get_by_label("培训主题", exact=True).fill("革命传统")
    page.get_by_label("天数", exact=True).fill("1")
    page.get_by_label("线路简介", exact=True).fill("国殇墓园现场参观，和顺午餐。")
    page.get_by_label("临时班", exact=True).uncheck()
    save_screenshot(page, "route-new")
    page.get_by_role("button", name="保存", exact=True).click()

    expect(flash(page, f"已新建线路“{name}”（草稿），请添加站点。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"编辑站点 {name}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("草稿")
    expect(page.get_by_role("status")).to_contain_text(
        "线路须至少包含一个在教学点进行的课程或现场参观"
    )

    add = page.get_by_role("region", name="添加站点")
    add.get_by_label("第几天", exact=True).select_option(label="第1天")
    add.get_by_label("开始时间", exact=True).fill("09:00")
    add.get_by_label("时长（分钟）", exact=True).fill("90")
    add.get_by_label("类型", exact=True).select_option(label="现场参观")
    add.get_by_label("备注（可选）", exact=True).fill("请着深色服装")
    # A visit without its site is refused, and what was typed stays.
    add.get_by_role("button", name="保存站点", exact=True).click()
    add = page.get_by_role("region", name="添加站点")
    expect(add.get_by_text("现场参观须选择教学点。")).to_be_visible()
    expect(add.get_by_label("开始时间", exact=True)).to_have_value("09:00")
    expect(add.get_by_label("时长（分钟）", exact=True)).to_have_value("90")
    expect(add.get_by_label("类型", exact=True)).to_have_value("visit")
    expect(add.get_by_label("备注（可选）", exact=True)).to_have_value("请着深色服装")
    check_accessibility(page)
    add.get_by_label("教学点", exact=True).select_option(label="国殇墓园")
    add.get_by_role("button", name="保存站点", exact=True).click()
    expect(flash(page, "已添加站点：国殇墓园")).to_be_visible()

    add = page.get_by_role("region", name="添加站点")
    # The next stop starts where the last one ended.
    expect(add.get_by_label("开始时间", exact=True)).to_have_value("10:30")
    add.get_by_label("开始时间", exact=True).fill("12:00")
    add.get_by_label("时长（分钟）", exact=True).fill("60")
    add.get_by_label("类型", exact=True).select_option(label="用餐")
    add.get_by_label("说明", exact=True).fill("午餐（和顺古镇）")
    add.get_by_role("button", name="保存站点", exact=True).click()
    expect(flash(page, "已添加站点：午餐（和顺古镇）")).to_be_visible()

    stops = page.get_by_role("region", name="站点", exact=True).locator("tbody tr")
    expect(stops).to_have_count(2)
    expect(stops.nth(0)).to_contain_text("09:00–10:30")
    expect(stops.nth(0)).to_contain_text("国殇墓园")
    expect(stops.nth(0)).to_contain_text("请着深色服装")
    expect(stops.nth(1)).to_contain_text("12:00–13:00")
    expect(stops.nth(1)).to_contain_text("用餐")
    expect(page.get_by_role("status")).to_have_count(0)
    check_accessibility(page)
    save_screenshot(page, "route-stops")

    page.get_by_role("button", name="发布", exact=True).click()
    expect(flash(page, "线路状态已改为“已发布”。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已发布")
    assert_no_console_errors(page, expected_statuses=(400,))

    # Anyone now finds it among the published routes, with its itinerary.
    visitor: Page = new_page()
    visitor.goto(base_url + "/")
    open_menu(visitor, "环线线路")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("环线线路")
    card = visitor.get_by_role("article", name=name)
    expect(card).to_contain_text("革命传统 · 1 天 · 2 个站点")
    expect(card).to_contain_text("主体班、委托班")
    expect(card).to_contain_text("腾冲干部学院")
    check_accessibility(visitor)
    save_screenshot(visitor, "routes")
    card.get_by_role("link", name=name, exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(name)
    day_one = visitor.get_by_role("table", name="第1天").locator("tbody tr")
    expect(day_one).to_have_count(2)
    expect(day_one.nth(0)).to_contain_text("国殇墓园")
    expect(day_one.nth(1)).to_contain_text("午餐（和顺古镇）")
    check_accessibility(visitor)
    assert_no_console_errors(visitor)


def test_organizer_moves_a_closed_monday_and_the_member_confirms(new_page, base_url: str):
    monday = monday_ahead(0)
    tuesday = monday + timedelta(days=1)
    class_name = unique("青年干部党性教育班")
    page: Page = new_page()
    login(page, base_url, "organizer")
    register_class(page, class_name, 30, monday, tuesday, refused_first=True)
    expect(page.get_by_role("region", name="环线预约")).to_contain_text("尚未预约线路。")
    check_accessibility(page)
    save_screenshot(page, "class-detail")

    start_booking(page, class_name)
    page.get_by_label("线路", exact=True).select_option(label=f"{ONE_DAY_ROUTE}（1 天）")
    page.get_by_label("开始日期", exact=True).fill(monday.isoformat())
    page.get_by_role("button", name="检查", exact=True).click()

    # Both indoor sites of 杨善洲干部学院 close on Mondays: the page says so, stop by stop.
    problems = check_result(page).locator("tbody tr")
    for site in CLOSED_ON_MONDAYS:
        expect(problems.filter(has_text=site).filter(has_text="不开放")).to_have_count(1)
        # One row per closed stop: the member's own rule does not say it again.
        expect(problems.filter(has_text=f"{site}每周一闭馆")).to_have_count(0)
    expect(problems.filter(has_text=ONE_DAY_SITES[2])).to_have_count(0)
    expect(page.get_by_role("button", name="确认预约")).to_have_count(0)
    suggested = page.get_by_test_id("suggested-dates")
    expect(suggested).to_contain_text("以下日期整条线路都可以安排：")
    tuesday_button = suggested.get_by_role("button", name=f"改为 {tuesday.isoformat()}（周二）")
    expect(tuesday_button).to_be_visible()
    check_accessibility(page)
    save_screenshot(page, "booking-closed-monday")

    tuesday_button.click()
    expect(page.get_by_label("开始日期", exact=True)).to_have_value(tuesday.isoformat())
    fits(page)
    expect(page.get_by_role("region", name="行程")).to_contain_text(f"{tuesday.isoformat()} 周二")
    # Check again with the date the button filled in, then book.
    page.get_by_role("button", name="检查", exact=True).click()
    fits(page)
    page.get_by_role("button", name="确认预约", exact=True).click()

    expect(flash(page, "预约已提交，等待各成员单位确认。")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    booking_url = page.url
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(ONE_DAY_ROUTE)
    expect(heading.locator(".badge")).to_have_text("待确认")
    expect(page.locator("dt:text-is('开始日期') + dd")).to_have_text(
        f"{tuesday.isoformat()}（周二）"
    )
    expect(stop_rows(page)).to_have_count(3)
    for site in ONE_DAY_SITES:
        expect(stop_rows(page).filter(has_text=site)).to_contain_text("待确认")
    check_accessibility(page)
    save_screenshot(page, "booking-pending")
    assert_no_console_errors(page, expected_statuses=(400,))

    # The hosting member confirms every stop from its inbox.
    staff: Page = new_page()
    login(staff, base_url, "yangshanzhou_college_staff")
    open_menu(staff, "预约待办")
    expect(staff.get_by_role("heading", level=1)).to_have_text("预约待办")
    day = staff.get_by_role("region", name=f"{tuesday.isoformat()} 周二")
    rows = inbox_rows(day, class_name)
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("30")
    expect(rows.first).to_contain_text("市外省内")
    check_accessibility(staff)
    save_screenshot(staff, "inbox")
    for left in (2, 1, 0):
        rows.first.get_by_role("button", name="确认", exact=True).click()
        expect(flash(staff, "已确认：")).to_be_visible()
        expect(inbox_rows(staff, class_name)).to_have_count(left)
    staff.get_by_role("link", name="已处理：已确认", exact=True).click()
    done = inbox_rows(staff, class_name)
    expect(done).to_have_count(3)
    expect(done.filter(has_not_text="已确认")).to_have_count(0)
    assert_no_console_errors(staff)

    page.goto(booking_url)
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("已确认")
    expect(stop_rows(page)).to_have_count(3)
    expect(stop_rows(page).filter(has_not_text="已确认")).to_have_count(0)
    history = page.get_by_role("region", name="处理记录").locator("tbody tr")
    for site in ONE_DAY_SITES:
        expect(history.filter(has_text=f"确认（{site}）")).to_have_count(1)
    save_screenshot(page, "booking-confirmed")
    open_menu(page, "消息")
    expect(page.get_by_role("heading", level=1)).to_have_text("消息")
    expect(page.get_by_role("link", name=f"“善洲墓园”已确认接待{class_name}")).to_be_visible()
    assert_no_console_errors(page, expected_statuses=(400,))


# Links of the main navbar whose own text breaks over more than one line.
_WRAPPED_NAV_LINKS_JS = """
() => [...document.querySelectorAll('nav[aria-label="主导航"] .nav-link')]
  .filter(el => el.getClientRects().length)
  .filter(el => [...el.childNodes].some(node => {
    if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) return false;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return tops.size > 1;
  }))
  .map(el => el.textContent.trim().replace(/\\s+/g, ' '))
"""


# Entries of the main navbar (the brand and the top-level items) that are not on the first row
# or stick out of the bar's container.
_NAVBAR_OVERFLOW_JS = """
() => {
  const nav = document.querySelector('nav[aria-label="主导航"]');
  const box = nav.querySelector('.container').getBoundingClientRect();
  const entries = [...nav.querySelectorAll('.navbar-brand, .navbar-nav > .nav-item')]
    .filter(el => el.getClientRects().length);
  const firstRowBottom = Math.min(...entries.map(el => el.getBoundingClientRect().bottom));
  return entries
    .filter(el => {
      const r = el.getBoundingClientRect();
      return r.top >= firstRowBottom || r.left < box.left - 1 || r.right > box.right + 1;
    })
    .map(el => el.textContent.trim().replace(/\\s+/g, ' '));
}
"""


@pytest.mark.parametrize(
    "username", ["office", "yangshanzhou_college_staff", "party_school_admin", "organizer"]
)
def test_the_navbar_fits_on_one_line_on_a_desktop(page: Page, base_url: str, username):
    login(page, base_url, username)
    open_menu(page, "消息")  # a navbar entry of its own: every one of these users has it
    expect(page.get_by_role("heading", level=1)).to_have_text("消息")
    expect(page.get_by_role("button", name="展开菜单")).to_be_hidden()
    wrapped = page.evaluate(_WRAPPED_NAV_LINKS_JS)
    assert not wrapped, f"navbar links broken over two lines at 1280 px: {wrapped}"
    overflow = page.evaluate(_NAVBAR_OVERFLOW_JS)
    assert not overflow, f"navbar entries not on its one line at 1280 px: {overflow}"


def test_the_member_declines_a_stop_with_a_reason(new_page, base_url: str):
    tuesday = monday_ahead(1) + timedelta(days=1)
    class_name = unique("乡镇党委书记培训班")
    reason = unique("陈列室当天布展，无法接待")
    page: Page = new_page()
    login(page, base_url, "organizer")
    register_class(page, class_name, 25, tuesday, tuesday)
    start_booking(page, class_name)
    book_one_day_route(page, tuesday)
    booking_url = page.url

    staff: Page = new_page()
    login(staff, base_url, "yangshanzhou_college_staff")
    open_menu(staff, "预约待办")
    row = inbox_rows(staff, class_name).filter(has_text="杨善洲事迹陈列室")
    expect(row).to_have_count(1)
    row.locator("summary", has_text="婉拒").click()
    row.get_by_label("婉拒原因", exact=True).fill(reason)
    row.get_by_role("button", name="婉拒", exact=True).click()
    expect(flash(staff, "已婉拒：杨善洲事迹陈列室")).to_be_visible()
    expect(inbox_rows(staff, class_name)).to_have_count(2)
    staff.get_by_role("link", name="已处理：已婉拒", exact=True).click()
    expect(inbox_rows(staff, class_name)).to_contain_text(reason)
    assert_no_console_errors(staff)

    page.goto(booking_url)
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("有站点被婉拒")
    declined = stop_rows(page).filter(has_text="杨善洲事迹陈列室")
    expect(declined).to_contain_text("已婉拒")
    expect(declined).to_contain_text(f"婉拒原因：{reason}")
    expect(stop_rows(page).filter(has_text="善洲墓园")).to_contain_text("待确认")
    assert_no_console_errors(page)


def book_small_site(page: Page, class_name: str, day: date) -> None:
    """From the class's page: a custom route of one visit to SMALL_SITE at 10:00, checked."""
    start_booking(page, class_name)
    page.get_by_role("link", name="定制线路", exact=True).click()
    expect(page.get_by_role("link", name="定制线路", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("开始日期", exact=True).fill(day.isoformat())
    page.get_by_label("第 1 行 第几天", exact=True).fill("1")
    page.get_by_label("第 1 行 开始时间", exact=True).fill("10:00")
    page.get_by_label("第 1 行 时长（分钟）", exact=True).fill("60")
    page.get_by_label("第 1 行 教学点", exact=True).select_option(
        label=f"{SMALL_SITE}（腾冲干部学院）"
    )
    page.get_by_label("第 1 行 分组数", exact=True).fill("1")
    page.get_by_role("button", name="检查", exact=True).click()


def test_a_full_stop_takes_a_waiting_list_and_a_cancellation_frees_it(new_page, base_url: str):
    day = monday_ahead(2) + timedelta(days=1)
    first_class = unique("侨乡文化研修班")
    second_class = unique("乡村振兴专题班")
    reason = unique("培训计划调整，改期举办")
    page: Page = new_page()
    login(page, base_url, "organizer")

    # A class of 40 fills 和顺图书馆's 10:00 session.
    register_class(page, first_class, 40, day, day, theme="乡村振兴")
    book_small_site(page, first_class, day)
    fits(page)
    page.get_by_role("button", name="确认预约", exact=True).click()
    expect(flash(page, "预约已提交，等待各成员单位确认。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("定制线路")
    first_booking = page.url

    # A second class finds it full and joins the waiting list.
    register_class(page, second_class, 20, day, day, theme="乡村振兴")
    book_small_site(page, second_class, day)
    problem = check_result(page).locator("tbody tr").filter(has_text=SMALL_SITE)
    expect(problem).to_contain_text("这一场已满（剩余 0 个名额）")
    expect(problem).to_contain_text("可加入候补")
    expect(page.get_by_role("button", name="确认预约")).to_have_count(0)
    join = page.get_by_role("button", name="加入候补并预约其余站点", exact=True)
    expect(join).to_be_visible()
    expect(page.get_by_text("已满的场次将加入候补")).to_be_visible()
    check_accessibility(page)
    save_screenshot(page, "booking-full-waitlist")
    join.click()
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    second_booking = page.url
    expect(stop_rows(page).filter(has_text=SMALL_SITE)).to_contain_text("候补中")
    assert_no_console_errors(page)

    # The first class cancels, with a reason: the place goes to the waiting list.
    open_menu(page, "培训班")
    page.locator("tbody tr").filter(has_text=first_class).get_by_role(
        "link", name="定制线路", exact=True
    ).click()
    expect(page).to_have_url(first_booking)
    check_accessibility(page)
    cancel = page.get_by_role("region", name="取消预约")
    cancel.get_by_label("取消原因", exact=True).fill(reason)
    cancel.get_by_role("button", name="取消预约", exact=True).click()
    expect(flash(page, "预约已取消。")).to_be_visible()
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("已取消")
    expect(page.locator("dt:text-is('取消原因') + dd")).to_contain_text(reason)
    expect(stop_rows(page)).to_contain_text("已取消")
    expect(page.get_by_role("region", name="处理记录")).to_contain_text(reason)
    expect(page.get_by_role("region", name="取消预约")).to_have_count(0)
    save_screenshot(page, "booking-cancelled")

    open_menu(page, "消息")
    expect(
        page.get_by_role("link", name=f"候补名额：“{SMALL_SITE}”有空位了，请在 24 小时内接受").first
    ).to_be_visible()

    page.goto(second_booking)
    offered = stop_rows(page).filter(has_text=SMALL_SITE)
    expect(offered).to_contain_text("候补待接受")
    expect(offered).to_contain_text("前接受")
    offered.get_by_role("button", name="接受候补名额", exact=True).click()
    expect(flash(page, "已接受候补名额。")).to_be_visible()
    expect(stop_rows(page).filter(has_text=SMALL_SITE)).to_contain_text("待确认")
    assert_no_console_errors(page)
