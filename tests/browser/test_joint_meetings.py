"""Joint meetings (联席会议) in the browser: the office calls one with an agenda and invites
members, records who came, the minutes and the decisions; a member marks its decision done.

The portal opens the attendance record only once a meeting has begun, and a journey cannot
wait for a date to come, so the office records a meeting held yesterday afternoon.
"""

from __future__ import annotations

import re
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
    flash,
    heading,
    open_menu,
    section,
    today,
    unique,
    weekday_label,
)

pytestmark = pytest.mark.browser

# The invited members by their short names, in the order the portal lists them: a meeting's
# page names each member one way, the attendance form's groups included.
INVITED = ("市委党校", "腾冲干部学院", "杨善洲干部学院")
LEFT_OUT = "松山基地"
ROOM = "市委党校三楼第一会议室"


def test_office_calls_a_joint_meeting_and_records_its_decisions(new_page, base_url: str):
    title = unique("第四季度环线联席会议")
    held_on = today() - timedelta(days=1)
    due = today() + timedelta(days=30)
    decision = unique("各成员单位报送明年精品环线教学日程")
    minutes = (
        "会议通报了第四季度环线运行情况。\n\n"
        "会议议定：明年一季度前各成员单位报送精品环线教学日程，由环线办汇总。"
    )

    page: Page = new_page()
    login(page, base_url, "office")
    open_menu(page, "联席会议")
    expect(heading(page)).to_have_text("联席会议")
    check_accessibility(page)
    save_screenshot(page, "meetings")
    page.get_by_role("link", name="召集会议", exact=True).click()
    expect(heading(page)).to_have_text("召集会议")
    check_accessibility(page)

    # Everything is filled in, but the meeting ends before it starts: the form comes back
    # with the message and with everything typed, the members left out included.
    page.get_by_label("会议名称", exact=True).fill(title)
    page.get_by_label("会议类型", exact=True).select_option(label="联席会议")
    page.get_by_label("会议说明", exact=True).fill("通报第四季度环线运行情况，研究明年精品线路。")
    page.get_by_label("会议室或地点", exact=True).fill(ROOM)
    page.get_by_label("会议日期", exact=True).fill(held_on.isoformat())
    page.get_by_label("开始时间", exact=True).fill("14:30")
    page.get_by_label("结束时间", exact=True).fill("14:00")
    for member in INVITED:
        expect(page.get_by_label(member, exact=True)).to_be_checked()
    page.get_by_label(LEFT_OUT, exact=True).uncheck()
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("结束时间须晚于开始时间。")).to_be_visible()
    expect(heading(page)).to_have_text("召集会议")
    expect(page.get_by_label("会议名称", exact=True)).to_have_value(title)
    expect(page.get_by_label("会议类型", exact=True)).to_have_value("joint")
    expect(page.get_by_label("会议室或地点", exact=True)).to_have_value(ROOM)
    expect(page.get_by_label("会议日期", exact=True)).to_have_value(held_on.isoformat())
    expect(page.get_by_label("开始时间", exact=True)).to_have_value("14:30")
    for member in INVITED:
        expect(page.get_by_label(member, exact=True)).to_be_checked()
    expect(page.get_by_label(LEFT_OUT, exact=True)).not_to_be_checked()
    check_accessibility(page)
    page.get_by_label("结束时间", exact=True).fill("16:30")
    page.get_by_role("button", name="保存", exact=True).click()

    expect(flash(page, f"已发出会议通知：{title}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/meetings/\d+$"))
    meeting_url = page.url
    expect(heading(page)).to_contain_text(title)
    expect(heading(page).locator(".badge")).to_have_text("已定时间")
    expect(page.get_by_test_id("meeting-time")).to_have_text(
        f"{held_on.isoformat()}（{weekday_label(held_on)}）14:30–16:30"
    )
    expect(page.locator("dt:text-is('会议地点') + dd")).to_have_text(ROOM)
    expect(page.locator("dt:text-is('受邀单位') + dd")).to_have_text("、".join(INVITED))

    # The agenda, item by item, and the last one moved up.
    for item, presenter in (
        ("第四季度环线运行情况通报", "环线办"),
        ("明年精品环线教学日程编排", "杨善洲干部学院"),
        ("讲解员队伍建设经验交流", "腾冲干部学院"),
    ):
        section(page, "议程").locator("summary", has_text="添加议题").click()
        section(page, "议程").get_by_label("议题", exact=True).fill(item)
        section(page, "议程").get_by_label("汇报单位", exact=True).select_option(label=presenter)
        section(page, "议程").get_by_role("button", name="添加议题", exact=True).click()
        expect(flash(page, "已添加议题。")).to_be_visible()
    items = section(page, "议程").locator("ol > li")
    expect(items).to_have_count(3)
    section(page, "议程").get_by_role("button", name="上移：讲解员队伍建设经验交流").click()
    agenda = section(page, "议程").locator("ol > li")
    expect(agenda.nth(1)).to_contain_text("讲解员队伍建设经验交流")
    expect(agenda.nth(1)).to_contain_text("汇报单位：腾冲干部学院")
    expect(agenda.nth(2)).to_contain_text("明年精品环线教学日程编排")

    # Who came: two members present with their people, one absent.
    attendance = section(page, "出席情况")
    for short in INVITED:
        group = attendance.get_by_role("group", name=short, exact=True)
        present = short != "腾冲干部学院"
        group.get_by_label("出席情况", exact=True).select_option(
            label="出席" if present else "缺席"
        )
        if present:
            group.get_by_label("出席人员", exact=True).fill(f"{short}张常务、李主任")
    attendance.get_by_role("button", name="保存出席情况", exact=True).click()
    expect(flash(page, "已记录出席情况。")).to_be_visible()
    expect(heading(page).locator(".badge")).to_have_text("已召开")

    # The minutes, on their own page.
    page.get_by_role("link", name="填写纪要", exact=True).click()
    expect(heading(page)).to_have_text("会议纪要")
    check_accessibility(page)
    page.get_by_label("会议纪要", exact=True).fill(minutes)
    page.get_by_role("button", name="保存纪要", exact=True).click()
    expect(flash(page, "已保存会议纪要。")).to_be_visible()
    expect(page.get_by_test_id("minutes")).to_contain_text("会议通报了第四季度环线运行情况。")
    expect(page.get_by_test_id("minutes")).to_contain_text("由环线办汇总。")

    # A decision for two members, with a deadline: one row each.
    decisions = section(page, "议定事项")
    decisions.locator("summary", has_text="交办议定事项").click()
    decisions.get_by_label("议定事项", exact=True).fill(decision)
    decisions.get_by_label("市委党校", exact=True).check()
    decisions.get_by_label("杨善洲干部学院", exact=True).check()
    decisions.get_by_label("办理期限", exact=True).fill(due.isoformat())
    decisions.get_by_role("button", name="交办", exact=True).click()
    expect(flash(page, "已交办议定事项，已通知承办单位。")).to_be_visible()
    rows = section(page, "议定事项").locator("tbody tr")
    expect(rows).to_have_count(2)
    for row, member in zip(rows.all(), ("市委党校", "杨善洲干部学院"), strict=True):
        expect(row).to_contain_text(decision)
        expect(row.locator("td").nth(1)).to_have_text(member)
        expect(row.locator("td").nth(2)).to_have_text(due.isoformat())
        expect(row.locator("td").nth(3)).to_have_text("办理中")

    # The office's page keeps the attendance in its form, to be corrected if need be.
    attendance = section(page, "出席情况")
    for short in INVITED:
        group = attendance.get_by_role("group", name=short, exact=True)
        present = short != "腾冲干部学院"
        expect(group.get_by_label("出席情况", exact=True)).to_have_value(
            "present" if present else "absent"
        )
        expect(group.get_by_label("出席人员", exact=True)).to_have_value(
            f"{short}张常务、李主任" if present else ""
        )
    check_accessibility(page)
    save_screenshot(page, "meeting-detail")
    assert_no_console_errors(page, expected_statuses=(400,))

    # The party school's staff find the meeting and mark their decision done.
    staff: Page = new_page()
    login(staff, base_url, "party_school_staff")
    open_menu(staff, "联席会议")
    held = staff.get_by_role("region", name="已召开或已取消")
    held.get_by_role("link", name=title, exact=True).click()
    expect(heading(staff)).to_contain_text(title)
    expect(staff.get_by_test_id("minutes")).to_contain_text("由环线办汇总。")
    expect(section(staff, "出席情况").get_by_role("listitem")).to_have_text(
        [
            "市委党校：出席（市委党校张常务、李主任）",
            "腾冲干部学院：缺席",
            "杨善洲干部学院：出席（杨善洲干部学院张常务、李主任）",
        ]
    )
    expect(section(staff, "议程").locator("ol > li")).to_have_count(3)
    own = section(staff, "议定事项").locator("tbody tr")
    expect(own).to_have_count(1)  # only their own member's share
    expect(own).to_contain_text("市委党校")
    expect(own).to_contain_text(due.isoformat())
    own.locator("summary", has_text="标记办结").click()
    own.get_by_label("办理情况", exact=True).fill("已报送三日精品环线教学日程。")
    own.get_by_role("button", name="标记办结", exact=True).click()
    expect(flash(staff, "已标记办结。")).to_be_visible()
    expect(section(staff, "议定事项").locator("tbody tr")).to_contain_text("已办结")
    check_accessibility(staff)
    assert_no_console_errors(staff)

    # The office sees one decision done, with its note, and the other still open.
    page.goto(meeting_url)
    rows = section(page, "议定事项").locator("tbody tr")
    expect(rows.filter(has_text="市委党校")).to_contain_text("已办结")
    expect(rows.filter(has_text="市委党校")).to_contain_text("已报送三日精品环线教学日程。")
    expect(rows.filter(has_text="杨善洲干部学院")).to_contain_text("办理中")
    open_menu(page, "联席会议")
    page.get_by_role("link", name="议定事项", exact=True).click()
    expect(heading(page)).to_have_text("议定事项")
    expect(page.locator("tbody tr").filter(has_text=decision)).to_have_count(1)
    check_accessibility(page)
    save_screenshot(page, "meeting-decisions")
    assert_no_console_errors(page, expected_statuses=(400,))
