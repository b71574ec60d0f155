"""Phones (360x740): an organizer reads routes, an itinerary, the classes and the messages; a
member's staff answer a meeting and register for a joint event. No page scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    save_screenshot,
)
from tests.browser.journeys import (
    add_session,
    assert_no_horizontal_scroll,
    create_event,
    flash,
    heading,
    open_event,
    open_menu,
    section,
    today,
    unique,
)

pytestmark = pytest.mark.browser

ROUTE = "滇西抗战精神三日环线"


def test_organizer_on_a_phone_reads_an_itinerary_and_the_messages(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "organizer")
    expect(page).to_have_url(base_url + "/dashboard")
    assert_no_horizontal_scroll(page)

    open_menu(page, "环线线路")
    expect(page.get_by_role("heading", level=1)).to_have_text("环线线路")
    card = page.get_by_role("article", name=ROUTE)
    expect(card).to_contain_text("3 天")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-routes")

    card.get_by_role("link", name=ROUTE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUTE)
    itinerary = page.get_by_role("region", name="日程安排")
    for day in ("第1天", "第2天", "第3天"):
        expect(itinerary.get_by_role("heading", name=day, exact=True)).to_be_visible()
    expect(itinerary.get_by_role("table", name="第2天")).to_contain_text("和顺图书馆")
    expect(page.get_by_role("link", name="预约此线路", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-route-detail")

    open_menu(page, "培训班")
    expect(page.get_by_role("heading", level=1)).to_have_text("培训班")
    expect(page.get_by_role("link", name="登记培训班", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_accessibility(page)

    open_menu(page, "消息")
    expect(page).to_have_url(base_url + "/messages")
    expect(page.get_by_role("heading", level=1)).to_have_text("消息")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-messages")
    assert_no_console_errors(page)


def test_member_staff_on_a_phone_answer_a_meeting_and_register_for_an_event(
    new_page, base_url: str
):
    """The office calls a meeting on a phone; a member's staff answer it and register someone
    for a joint training on theirs. Every page fits 360 px without sideways scrolling."""
    title = unique("环线工作推进会")
    event = unique("环线教学标准集训")
    day = today() + timedelta(days=10)

    office: Page = new_page(phone=True)
    login(office, base_url, "office")
    open_menu(office, "联席会议")
    expect(heading(office)).to_have_text("联席会议")
    assert_no_horizontal_scroll(office)
    office.get_by_role("link", name="召集会议", exact=True).click()
    expect(heading(office)).to_have_text("召集会议")
    assert_no_horizontal_scroll(office)
    office.get_by_label("会议名称", exact=True).fill(title)
    office.get_by_label("会议室或地点", exact=True).fill("腾冲干部学院二楼会议室")
    office.get_by_label("会议日期", exact=True).fill(day.isoformat())
    office.get_by_label("开始时间", exact=True).fill("09:00")
    office.get_by_label("结束时间", exact=True).fill("11:00")
    office.get_by_role("button", name="保存", exact=True).click()
    expect(flash(office, f"已发出会议通知：{title}")).to_be_visible()
    agenda = section(office, "议程")
    agenda.locator("summary", has_text="添加议题").click()
    agenda.get_by_label("议题", exact=True).fill("明年环线培训计划")
    agenda.get_by_role("button", name="添加议题", exact=True).click()
    expect(flash(office, "已添加议题。")).to_be_visible()
    assert_no_horizontal_scroll(office)
    check_accessibility(office)
    assert_no_console_errors(office)

    desk: Page = new_page()
    login(desk, base_url, "office")
    create_event(desk, "联合集训（腾冲干部学院）", event, "讲解员集中培训。")
    desk.get_by_role("button", name="保存", exact=True).click()
    add_session(desk, "讲解规范", day, "14:00", "17:00", "国殇墓园（腾冲干部学院）")
    desk.get_by_role("button", name="发布活动", exact=True).click()
    expect(flash(desk, "活动已发布。")).to_be_visible()

    page: Page = new_page(phone=True)
    login(page, base_url, "yangshanzhou_college_staff")
    open_menu(page, "联席会议")
    expect(heading(page)).to_have_text("联席会议")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-meetings")
    page.get_by_test_id("pending-replies").get_by_role("link", name=title, exact=True).click()
    expect(heading(page)).to_contain_text(title)
    page.get_by_label("出席", exact=True).check()
    page.get_by_label("参会人员", exact=True).fill("杨善洲干部学院王副院长、赵主任")
    page.get_by_role("button", name="提交回复", exact=True).click()
    expect(flash(page, "已提交回复。")).to_be_visible()
    expect(page.get_by_text("杨善洲干部学院已回复：出席")).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-meeting")
    for link, title_text in (("议定事项", "议定事项"), ("会议日程", "会议日程")):
        open_menu(page, "联席会议")
        page.get_by_role("link", name=link, exact=True).click()
        expect(heading(page)).to_have_text(title_text)
        assert_no_horizontal_scroll(page)
        check_accessibility(page)

    open_event(page, event)
    registrations = section(page, "报名")
    registrations.get_by_label("姓名", exact=True).fill("杨讲解员")
    registrations.get_by_label("职务", exact=True).fill("讲解员")
    registrations.get_by_role("button", name="报名", exact=True).click()
    expect(flash(page, "杨讲解员 报名成功。")).to_be_visible()
    expect(section(page, "报名").locator("tbody tr")).to_contain_text("已报名")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    save_screenshot(page, "phone-event")
    open_menu(page, "联动活动")
    page.get_by_role("link", name="活动日历", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("联动活动日历")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    assert_no_console_errors(page)
