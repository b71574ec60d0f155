"""Joint events (联动活动) in the browser.

A guide contest (讲解员大赛): the office creates it, gives it a programme, publishes it, sets
the weighted criteria and appoints two judges; two members enter a guide each; the judges
score the other members' guides; the office publishes the ranking and names the winner, and
the members see it.

A joint training (联合集训) with places: members register their people, the last one goes
on the waiting list, and a cancellation moves them up.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

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

CRITERIA = (("讲解内容", 40), ("语言表达", 30), ("仪态形象", 30))
JUDGES = {  # username: the judge's option in the 评委 select
    "party_school_staff": "市委党校工作人员（市委党校，party_school_staff）",
    "songshan_base_staff": "松山基地工作人员（松山基地，songshan_base_staff）",
}


def enter_guide(new_page, base_url: str, username: str, title: str, guide: str, site: str):
    """A member's staff enter one of their guides, at one of their sites."""
    staff: Page = new_page()
    login(staff, base_url, username)
    open_menu(staff, "联动活动")
    card = staff.get_by_test_id("events").locator("li").filter(has_text=title)
    expect(card.get_by_text("本单位可参加")).to_be_visible()
    card.get_by_role("link", name=title, exact=True).click()
    entries = section(staff, "本单位参赛项目")
    expect(entries).to_contain_text("暂无参赛项目。")
    entries.get_by_label("讲解员姓名", exact=True).fill(guide)
    entries.get_by_label("所在教学点", exact=True).select_option(label=site)
    entries.get_by_label("说明（可选）", exact=True).fill("从事现场讲解工作八年。")
    entries.get_by_role("button", name="报送", exact=True).click()
    expect(flash(staff, f"已报送：{guide}（{site}）")).to_be_visible()
    own = section(staff, "本单位参赛项目").get_by_role("listitem")
    expect(own).to_have_count(1)  # only their own member's entries
    expect(own).to_contain_text(f"{guide}（{site}）")
    check_accessibility(staff)
    assert_no_console_errors(staff)
    return staff


def score(new_page, base_url: str, username: str, title: str, sheets: dict[str, tuple]):
    """A judge scores each entry named in ``sheets`` (label: one score per criterion)."""
    judge: Page = new_page()
    login(judge, base_url, username)
    open_menu(judge, "联动活动")
    judging = section(judge, "我担任评委的大赛")
    judging.get_by_role("link", name=title, exact=True).click()
    expect(heading(judge)).to_have_text(f"评委评分：{title}")
    for label, marks in sheets.items():
        row = judge.locator("li[data-entry]").filter(has_text=label)
        expect(row).to_contain_text("未评分")
        # The link says 评分 and, to screen readers, which entry (a visually hidden part).
        row.get_by_role("link", name=re.compile(rf"^评分\s*：{re.escape(label)}$")).click()
        expect(heading(judge)).to_have_text(f"评分：{label}")
        for (criterion, weight), mark in zip(CRITERIA, marks, strict=True):
            judge.get_by_label(f"{criterion}（权重 {weight}%）", exact=True).fill(str(mark))
        judge.get_by_role("button", name="提交评分", exact=True).click()
        total = (
            sum(weight * mark for (_name, weight), mark in zip(CRITERIA, marks, strict=True)) / 100
        )
        expect(flash(judge, f"已提交评分：{label}，加权得分 {total:.2f}。")).to_be_visible()
        expect(judge.locator("li[data-entry]").filter(has_text=label)).to_contain_text(
            f"已评 {total:.2f} 分"
        )
    check_accessibility(judge)
    assert_no_console_errors(judge)


def contest_is_over(database: Path, title: str) -> None:
    """Let time pass for one contest: its sessions two days ago, its deadline before them."""
    with sqlite3.connect(database) as connection:
        (event_id,) = connection.execute(
            "SELECT id FROM joint_events WHERE title = ?", (title,)
        ).fetchone()
        (days,) = connection.execute(  # the last session two days before today
            "SELECT julianday(date('now')) - julianday(date(max(ends_at))) - 2"
            " FROM event_sessions WHERE event_id = ?",
            (event_id,),
        ).fetchone()
        shift = f"{int(days):+d} days"
        connection.execute(
            "UPDATE event_sessions SET starts_at = datetime(starts_at, ?),"
            " ends_at = datetime(ends_at, ?) WHERE event_id = ?",
            (shift, shift, event_id),
        )
        connection.execute(
            "UPDATE joint_events SET registration_deadline = date('now', '-10 days') WHERE id = ?",
            (event_id,),
        )


def test_office_runs_a_guide_contest_from_entries_to_the_ranking(
    new_page, base_url: str, portal_database: Path
):
    title = unique("第三届环线讲解员大赛")
    final_day = today() + timedelta(days=21)
    guides = {
        "tengchong_college_staff": (unique("段讲解员"), "国殇墓园"),
        "yangshanzhou_college_staff": (unique("杨讲解员"), "善洲墓园"),
    }
    tengchong, yangshanzhou = (f"{name}（{site}）" for name, site in guides.values())

    page: Page = new_page()
    login(page, base_url, "office")
    create_event(page, "讲解员大赛（杨善洲干部学院）", title, "各现场教学点讲解员同台比赛。")
    expect(page.get_by_label("活动形式", exact=True)).to_have_value("guide_contest")
    expect(page.get_by_label("向全体成员单位开放", exact=True)).to_be_checked()
    page.get_by_label("报名或报送截止日期（可选）", exact=True).fill(
        (final_day - timedelta(days=7)).isoformat()
    )
    check_accessibility(page)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(flash(page, f"已新建活动（草稿）：{title}。添加日程后即可发布。")).to_be_visible()
    expect(heading(page).locator(".badge")).to_have_text("草稿")

    add_session(
        page,
        "决赛：现场讲解",
        final_day,
        "09:00",
        "12:00",
        "杨善洲事迹陈列室（杨善洲干部学院）",
    )
    page.get_by_role("button", name="发布活动", exact=True).click()
    expect(flash(page, "活动已发布。")).to_be_visible()
    expect(heading(page).locator(".badge")).to_have_count(0)
    expect(section(page, "日程安排").locator("li[data-session]")).to_contain_text("决赛：现场讲解")

    # Weighted criteria: weights that do not add up are refused, and nothing typed is lost.
    page.get_by_role("link", name="设置评分标准", exact=True).click()
    expect(heading(page)).to_have_text("评分标准")
    for n, (name, weight) in enumerate(CRITERIA, start=1):
        page.get_by_label(f"第 {n} 项名称", exact=True).fill(name)
        page.get_by_label(f"第 {n} 项权重", exact=True).fill(str(weight - 10 * (n == 3)))
    page.get_by_role("button", name="保存评分标准", exact=True).click()
    expect(page.get_by_text("各项权重之和须为 100，现为 90。")).to_be_visible()
    for n, (name, _weight) in enumerate(CRITERIA, start=1):
        expect(page.get_by_label(f"第 {n} 项名称", exact=True)).to_have_value(name)
    expect(page.get_by_label("第 3 项权重", exact=True)).to_have_value("20")
    check_accessibility(page)
    page.get_by_label("第 3 项权重", exact=True).fill("30")
    page.get_by_role("button", name="保存评分标准", exact=True).click()
    expect(flash(page, "评分标准已保存。")).to_be_visible()
    criteria = section(page, "评分标准").locator("tbody tr")
    expect(criteria).to_have_text([f"{name}{weight}%" for name, weight in CRITERIA])

    judges = section(page, "评委")
    for username, option in JUDGES.items():
        section(page, "评委").get_by_label("评委（成员单位工作人员）", exact=True).select_option(
            label=option
        )
        section(page, "评委").get_by_role("button", name="聘请评委", exact=True).click()
        expect(flash(page, "已聘请评委：")).to_be_visible()
        expect(page.locator(f'li[data-judge="{username}"]')).to_be_visible()
    judges = section(page, "评委").locator("li[data-judge]")
    expect(judges).to_have_count(2)
    check_accessibility(page)
    save_screenshot(page, "event-contest")
    assert_no_console_errors(page, expected_statuses=(400,))

    # Two members enter a guide each.
    for username, (guide, site) in guides.items():
        enter_guide(new_page, base_url, username, title, guide, site)

    # Each judge scores both guides (neither judge's member entered one).
    score(
        new_page,
        base_url,
        "party_school_staff",
        title,
        {tengchong: (90, 85, 88), yangshanzhou: (85, 80, 82)},
    )
    score(
        new_page,
        base_url,
        "songshan_base_staff",
        title,
        {tengchong: (92, 88, 90), yangshanzhou: (86, 84, 80)},
    )

    # The office ranks by the judges' mean weighted score, publishes, and names the winner.
    page.reload()
    section(page, "评分标准").get_by_role("link", name="评比结果", exact=True).click()
    expect(heading(page)).to_have_text(f"评比结果：{title}")
    expect(page.get_by_role("status")).to_contain_text("尚未公布")
    ranking = page.get_by_test_id("ranking").locator("tbody tr")
    expect(ranking).to_have_count(2)
    expect(ranking.nth(0)).to_have_attribute("data-rank", "1")
    expect(ranking.nth(0)).to_contain_text(tengchong)
    expect(ranking.nth(0)).to_contain_text("89.05")
    expect(ranking.nth(1)).to_have_attribute("data-rank", "2")
    expect(ranking.nth(1)).to_contain_text(yangshanzhou)
    expect(ranking.nth(1)).to_contain_text("83.10")
    # Not before the contest is over; then with a confirmation.
    expect(page.get_by_test_id("publish-problem")).to_contain_text("才能公布成绩")
    expect(page.get_by_role("button", name="公布成绩")).to_have_count(0)
    page.get_by_label("前几名获奖（并列同名次一并获奖）", exact=True).fill("1")
    page.get_by_role("button", name="按名次评定", exact=True).click()
    expect(flash(page, "已评定获奖项目 1 个。")).to_be_visible()
    page.get_by_label(f"{tengchong} 获奖等次", exact=True).select_option(label="一等奖")
    page.get_by_role("button", name="保存获奖等次", exact=True).click()
    expect(flash(page, "已评定获奖项目 1 个。")).to_be_visible()
    expect(page.get_by_label(f"{tengchong} 获奖等次", exact=True)).to_have_value("first")
    expect(page.get_by_label(f"{yangshanzhou} 获奖等次", exact=True)).to_have_value("")
    contest_is_over(portal_database, title)
    page.reload()
    page.get_by_role("button", name="公布成绩", exact=True).click()
    expect(page.get_by_role("checkbox", name=re.compile("确认公布"))).to_be_visible()
    page.get_by_role("checkbox", name=re.compile("确认公布")).check()
    page.get_by_role("button", name="公布成绩", exact=True).click()
    expect(flash(page, "成绩已公布。")).to_be_visible()
    expect(page.get_by_role("link", name="获奖证书")).to_have_count(1)
    check_accessibility(page)
    save_screenshot(page, "event-results")
    assert_no_console_errors(page, expected_statuses=(400,))

    # The members see the published ranking and who won.
    member: Page = new_page()
    login(member, base_url, "yangshanzhou_college_staff")
    open_menu(member, "联动活动")
    card = member.get_by_test_id("events").locator("li").filter(has_text=title)
    expect(card.get_by_text("成绩已公布")).to_be_visible()
    open_event(member, title)
    member.get_by_role("link", name="评比结果", exact=True).click()
    expect(heading(member)).to_have_text(f"评比结果：{title}")
    ranking = member.get_by_test_id("ranking").locator("tbody tr")
    expect(ranking.nth(0)).to_contain_text(tengchong)
    expect(ranking.nth(0)).to_contain_text("一等奖")
    expect(ranking.nth(1)).to_contain_text(yangshanzhou)
    expect(ranking.nth(1)).not_to_contain_text("获奖")
    expect(ranking.nth(1)).not_to_contain_text("等奖")
    expect(member.get_by_role("button", name="公布成绩")).to_have_count(0)
    check_accessibility(member)
    assert_no_console_errors(member)


def test_members_register_for_a_joint_training_with_a_waiting_list(new_page, base_url: str):
    title = unique("环线讲解员联合集训")
    day = today() + timedelta(days=28)
    people = [unique(name) for name in ("赵", "钱", "孙")]

    page: Page = new_page()
    login(page, base_url, "office")
    create_event(page, "联合集训（腾冲干部学院）", title, "统一环线教学标准的集中培训。")
    expect(page.get_by_label("活动形式", exact=True)).to_have_value("training")
    page.get_by_label("名额（人，不限请留空）", exact=True).fill("2")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(flash(page, f"已新建活动（草稿）：{title}。")).to_be_visible()
    add_session(page, "讲解规范与礼仪", day, "09:00", "11:30", "滇西抗战纪念馆（腾冲干部学院）")
    page.get_by_role("button", name="发布活动", exact=True).click()
    expect(flash(page, "活动已发布。")).to_be_visible()
    expect(page.get_by_test_id("places")).to_have_text("共 2 人，已报名 0 人，候补 0 人")
    assert_no_console_errors(page)

    # A member's staff register three people for two places: the third waits.
    staff: Page = new_page()
    login(staff, base_url, "songshan_base_staff")
    open_event(staff, title)
    for n, person in enumerate(people):
        registrations = section(staff, "报名")
        registrations.get_by_label("姓名", exact=True).fill(person)
        registrations.get_by_label("职务", exact=True).fill("讲解员")
        registrations.get_by_label("联系电话", exact=True).fill(f"1390000000{n}")
        registrations.get_by_role("button", name="报名", exact=True).click()
        if n < 2:
            expect(flash(staff, f"{person} 报名成功。")).to_be_visible()
        else:
            expect(flash(staff, f"名额已满，{person} 已进入候补名单")).to_be_visible()
    rows = section(staff, "报名").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text=people[2])).to_contain_text("候补")
    expect(rows.filter(has_text=people[2])).to_contain_text("第 1 位")
    expect(staff.get_by_test_id("places")).to_have_text("共 2 人，已报名 2 人，候补 1 人")
    check_accessibility(staff)
    save_screenshot(staff, "event-training")

    # One cancels: the one waiting moves up.
    section(staff, "报名").get_by_role("button", name=f"取消 {people[0]} 的报名").click()
    expect(flash(staff, "已取消报名。")).to_be_visible()
    expect(flash(staff, f"候补人员 {people[2]} 已自动递补。")).to_be_visible()
    expect(section(staff, "报名").locator("tbody tr").filter(has_text=people[2])).to_contain_text(
        "已报名"
    )
    expect(staff.get_by_test_id("places")).to_have_text("共 2 人，已报名 2 人，候补 0 人")
    assert_no_console_errors(staff)

    # The office sees every member's registrations.
    page.reload()
    rows = section(page, "报名").locator("tbody tr")
    expect(rows.filter(has_text=people[2])).to_contain_text("松山基地")
    expect(rows.filter(has_text=people[0])).to_contain_text("已取消")
    assert_no_console_errors(page)
