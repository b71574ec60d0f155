"""The catalogue in the browser: anyone browses and searches it; members add and suspend
their sites; the office records a site's yearly assessment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    save_screenshot,
)
from tests.browser.journeys import flash, open_menu, today, unique

pytestmark = pytest.mark.browser

# Sites of the demo consortium about 抗战 (in their name, theme or description), and one not.
WAR_SITES = ("滇西抗战纪念馆", "国殇墓园", "松山战役遗址")
NOT_A_WAR_SITE = "善洲墓园"


def site_rows(page: Page):
    return page.locator("table tbody tr")


def test_anyone_searches_sites_and_browses_teachers_and_courses(page: Page, base_url: str):
    page.goto(base_url + "/")
    open_menu(page, "教学点")
    expect(page.get_by_role("heading", level=1)).to_have_text("现场教学点")
    check_accessibility(page)

    search = page.get_by_role("search")
    search.get_by_label("关键词", exact=True).fill("抗战")
    search.get_by_role("button", name="筛选", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sites\?.*q=%E6%8A%97%E6%88%98"))
    expect(page.get_by_label("关键词", exact=True)).to_have_value("抗战")
    expect(page.get_by_text(re.compile(r"共 \d+ 个教学点"))).to_be_visible()
    for name in WAR_SITES:
        expect(site_rows(page).filter(has_text=name)).to_have_count(1)
    expect(site_rows(page).filter(has_text=NOT_A_WAR_SITE)).to_have_count(0)
    save_screenshot(page, "catalogue-sites-search")

    # The export keeps the filter and answers with a workbook.
    export = page.get_by_role("link", name="导出 Excel", exact=True)
    expect(export).to_be_visible()
    href = export.get_attribute("href") or ""
    assert "q=" in href, f"the export link drops the filter: {href}"
    response = page.request.get(base_url + href)
    assert response.status == 200, f"{href}: {response.status}"
    assert "spreadsheet" in response.headers.get("content-type", ""), response.headers

    site_rows(page).get_by_role("link", name="滇西抗战纪念馆", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sites/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("滇西抗战纪念馆")
    expect(page.get_by_text("腾冲干部学院 · 抗战历史")).to_be_visible()
    facts = {
        "每场容量": "100 人",
        "单场时长": "90 分钟",
        "开放日": "周一、周二、周三、周四、周五、周六、周日",
        "开放时间": "09:00–17:00",
        "讲解员": "需要",
    }
    for term, value in facts.items():
        expect(page.locator(f"dt:text-is('{term}') + dd")).to_have_text(value)
    courses = page.get_by_role("region", name="在此开设的课程")
    expect(courses.get_by_role("link")).not_to_have_count(0)
    # Visitors see neither the history nor the staff's forms.
    expect(page.get_by_role("heading", name="变更记录")).to_have_count(0)
    expect(page.get_by_role("button", name="更改状态")).to_have_count(0)
    check_accessibility(page)
    save_screenshot(page, "catalogue-site-detail")

    open_menu(page, "师资")
    expect(page.get_by_role("heading", level=1)).to_have_text("师资")
    expect(page.get_by_text("这里列出环线成员共享的师资。")).to_be_visible()
    expect(page.get_by_role("link", name="导出 Excel", exact=True)).to_be_visible()
    teachers = site_rows(page)
    expect(teachers.filter(has_text="寸海燕")).to_have_count(1)
    # Only the shared teachers are listed for visitors.
    expect(teachers.filter(has_not_text="共享")).to_have_count(0)
    check_accessibility(page)
    save_screenshot(page, "catalogue-teachers")
    teachers.get_by_role("link", name="寸海燕", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("寸海燕")
    expect(page.get_by_text("环线共享师资")).to_be_visible()
    expect(page.locator("dt:text-is('研究方向') + dd")).to_contain_text("滇西抗战史")
    check_accessibility(page)

    open_menu(page, "课程")
    expect(page.get_by_role("heading", level=1)).to_have_text("课程")
    expect(page.get_by_role("link", name="导出 Excel", exact=True)).to_be_visible()
    page.get_by_label("精品课程", exact=True).select_option(label="仅精品课程")
    page.get_by_role("button", name="筛选", exact=True).click()
    courses = site_rows(page)
    expect(courses.filter(has_text="滇西抗战历史与伟大抗战精神")).to_have_count(1)
    expect(courses.filter(has_not_text="精品课程")).to_have_count(0)
    check_accessibility(page)
    save_screenshot(page, "catalogue-courses")
    courses.get_by_role("link", name="滇西抗战历史与伟大抗战精神", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("滇西抗战历史与伟大抗战精神")
    expect(page.locator("dt:text-is('授课师资') + dd")).to_contain_text("寸海燕")
    check_accessibility(page)
    assert_no_console_errors(page)


def test_member_staff_adds_a_site_then_suspends_it(new_page, base_url: str):
    name = unique("和顺侨乡文化馆")
    reason = unique("展厅维修，暂停接待")
    page = new_page()
    login(page, base_url, "tengchong_college_staff")
    open_menu(page, "教学点")
    page.get_by_role("link", name="新建教学点", exact=True).click()
    expect(page).to_have_url(base_url + "/sites/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("新建教学点")
    check_accessibility(page)

    typed = {
        "名称": name,
        "主题": "乡村振兴",
        "每场容量（人）": "45",
        "单场时长（分钟）": "75",
        "开放时间": "17:00",
        "关闭时间": "09:00",  # before the opening time: refused
        "地址": "云南省保山市腾冲市和顺镇十字路",
        "纬度": "24.9983",
        "经度": "98.4571",
        "简介": "展示和顺侨乡历史与华侨文化的小型展馆。",
        "修改说明（可选）": "新馆开放",
    }
    for label, value in typed.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("周一", exact=True).uncheck()
    page.get_by_label("需要讲解员", exact=True).check()
    page.get_by_role("button", name="保存", exact=True).click()

    expect(page.get_by_text("关闭时间须晚于开放时间。")).to_be_visible()
    expect(page.get_by_label("关闭时间", exact=True)).to_have_class(re.compile(r"\bis-invalid\b"))
    for label, value in typed.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("周一", exact=True)).not_to_be_checked()
    for day in ("周二", "周日"):
        expect(page.get_by_label(day, exact=True)).to_be_checked()
    expect(page.get_by_label("需要讲解员", exact=True)).to_be_checked()
    check_accessibility(page)
    save_screenshot(page, "catalogue-site-new-refused")
    # The refused form answers 400, which Chromium logs for the document.
    assert_no_console_errors(page, expected_statuses=(400,))

    page.get_by_label("开放时间", exact=True).fill("09:00")
    page.get_by_label("关闭时间", exact=True).fill("17:00")
    page.get_by_role("button", name="保存", exact=True).click()
    # A site member staff create is proposed: it lands on its directory page, to be submitted.
    expect(page).to_have_url(re.compile(r"/directory/sites/\d+$"))
    expect(flash(page, f"已新建教学点：{name}")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_test_id("admission")).to_have_text("待审核")
    site_path = re.sub(r"^.*/directory", "", page.url)  # /sites/<id>
    check_accessibility(page)
    page.get_by_label("申报材料", exact=True).fill("侨乡历史展陈，可开设华侨文化现场教学。")
    page.get_by_label("安全说明", exact=True).fill("消防设施齐全，门前可停大巴两辆。")
    page.get_by_role("button", name="提交环线办审核", exact=True).click()
    expect(flash(page, "已提交环线办审核。")).to_be_visible()

    # The office admits it from its review list.
    office = new_page()
    login(office, base_url, "office")
    open_menu(office, "目录管理与督查")
    office.get_by_role("link", name="入录与变更审核", exact=True).click()
    office.get_by_role("link", name=name, exact=True).click()
    expect(office.get_by_role("heading", level=1)).to_have_text(name)
    office.get_by_role("button", name="审核通过，入录目录", exact=True).click()
    expect(flash(office, "已入录目录。")).to_be_visible()
    assert_no_console_errors(office)

    # Admitted, its catalogue page shows what the member typed.
    page.goto(base_url + site_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text("腾冲干部学院 · 乡村振兴 · 启用")).to_be_visible()
    facts = {
        "每场容量": "45 人",
        "单场时长": "75 分钟",
        "开放日": "周二、周三、周四、周五、周六、周日",
        "开放时间": "09:00–17:00",
        "讲解员": "需要",
    }
    for term, value in facts.items():
        expect(page.locator(f"dt:text-is('{term}') + dd")).to_have_text(value)
    expect(page.locator("dt:text-is('地址') + dd")).to_contain_text("和顺镇十字路")
    # The coordinates typed place it on the site's map and in the navigation links (geo: keeps
    # WGS-84; 高德 and 百度 get their own datums).
    expect(page.locator("svg.route-map g.stop").first).to_be_visible()
    expect(page.get_by_role("link", name="其他地图应用")).to_have_attribute(
        "href", re.compile(r"^geo:24\.998300,98\.457100")
    )
    expect(page.get_by_role("link", name="高德地图导航")).to_be_visible()
    history = page.get_by_role("region", name="变更记录")
    expect(history.locator("tbody tr").filter(has_text="新建")).to_have_count(1)

    status = page.get_by_role("region", name="启用、暂停或退出")
    status.get_by_label("新状态", exact=True).select_option(label="暂停")
    status.get_by_label("原因", exact=True).fill(reason)
    status.get_by_role("button", name="更改状态", exact=True).click()
    expect(flash(page, "状态已改为“暂停”。")).to_be_visible()
    expect(page.locator("main p.text-muted .badge").first).to_have_text("暂停")
    suspended = history.locator("tbody tr").filter(has_text=reason)
    expect(suspended).to_have_count(1)
    expect(suspended).to_contain_text("腾冲干部学院工作人员")
    expect(suspended).to_contain_text("启用")
    expect(suspended).to_contain_text("暂停")
    check_accessibility(page)
    save_screenshot(page, "catalogue-site-suspended")

    # The list shows it suspended (with every status, it is not among the active ones).
    open_menu(page, "教学点")
    page.get_by_label("关键词", exact=True).fill(name)
    page.get_by_label("状态", exact=True).select_option(label="全部状态")
    page.get_by_role("button", name="筛选", exact=True).click()
    row = site_rows(page).filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("暂停")
    assert_no_console_errors(page, expected_statuses=(400,))


def add_site(page: Page, base_url: str, name: str, note: str) -> bool:
    """As tengchong_college_staff: 新建教学点, open 周二 to 周日, with a note; ends on its
    catalogue page (the site is proposed, under review).

    Returns whether the form offered a field for the note.
    """
    login(page, base_url, "tengchong_college_staff")
    open_menu(page, "教学点")
    page.get_by_role("link", name="新建教学点", exact=True).click()
    page.get_by_label("名称", exact=True).fill(name)
    page.get_by_label("主题", exact=True).fill("乡村振兴")
    page.get_by_label("每场容量（人）", exact=True).fill("30")
    page.get_by_label("开放时间", exact=True).fill("09:00")
    page.get_by_label("关闭时间", exact=True).fill("17:00")
    page.get_by_label("周一", exact=True).uncheck()
    note_field = page.get_by_label("修改说明（可选）", exact=True)
    offered = note_field.count() == 1
    if offered:
        note_field.fill(note)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(flash(page, f"已新建教学点：{name}")).to_be_visible()
    # Proposed, it lands on its directory page; its catalogue page is one link away.
    page.get_by_role("link", name="目录页面与照片", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sites/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return offered


def created_entry(page: Page):
    """The 新建 row of the site's 变更记录."""
    rows = page.get_by_role("region", name="变更记录").locator("tbody tr")
    return rows.filter(has=page.locator("td:nth-child(3)", has_text="新建"))


def test_the_history_names_the_opening_days_of_a_new_site(page: Page, base_url: str):
    add_site(page, base_url, unique("侨乡书院"), "")
    expect(page.locator("dt:text-is('开放日') + dd")).to_have_text(
        "周二、周三、周四、周五、周六、周日"
    )
    expect(created_entry(page).locator("td").nth(3)).to_contain_text(
        "开放日：周二、周三、周四、周五、周六、周日", timeout=1_000
    )


def test_the_note_typed_on_a_new_site_is_kept(page: Page, base_url: str):
    note = unique("新馆开放，")
    if not add_site(page, base_url, unique("侨乡书院"), note):
        return  # the form no longer offers a note: nothing typed can be lost
    expect(created_entry(page).locator("td").nth(4)).to_have_text(note, timeout=1_000)


def test_office_records_a_yearly_assessment(page: Page, base_url: str):
    remarks = unique("讲解规范，接待有序，")
    year = str(today().year)
    login(page, base_url, "office")
    open_menu(page, "教学点")
    page.get_by_label("关键词", exact=True).fill("故居")
    page.get_by_role("button", name="筛选", exact=True).click()
    site_rows(page).get_by_role("link", name="善洲故居", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("善洲故居")
    check_accessibility(page)

    assessments = page.get_by_role("region", name="年度考核")
    assessments.get_by_text("记录考核（环线办）").click()
    expect(assessments.get_by_label("年度", exact=True)).to_have_value(year)
    assessments.get_by_label("考核分数（0–100）", exact=True).fill("92.5")
    assessments.get_by_label("评语", exact=True).fill(remarks)
    assessments.get_by_role("button", name="记录考核", exact=True).click()

    expect(page).to_have_url(re.compile(r"/sites/\d+#assessments$"))
    expect(flash(page, f"已记录 {year} 年度考核。")).to_be_visible()
    row = assessments.locator("tbody tr").filter(has_text=remarks)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(year)
    expect(row.locator("td").nth(1)).to_have_text("92.5")
    history = page.get_by_role("region", name="变更记录").locator("tbody tr")
    expect(history.filter(has_text=remarks)).to_contain_text("环线办 王主任")
    save_screenshot(page, "catalogue-site-assessed")

    # The list shows the latest score.
    page.get_by_role("link", name="现场教学点", exact=True).click()
    page.get_by_label("关键词", exact=True).fill("善洲故居")
    page.get_by_role("button", name="筛选", exact=True).click()
    expect(site_rows(page).filter(has_text="善洲故居")).to_contain_text("92.5")
    assert_no_console_errors(page)
