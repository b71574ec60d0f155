"""Trainee journeys, at 360 px and on a desktop: roster import, activation, 我的, runs, electives.

The organizer imports a roster and prints the activation sheet; a new trainee activates
their account from its link on a phone; the demo trainee reads a notice, acknowledges the
rules, chooses an elective, subscribes to the calendar and books a seat in an open run,
all on a 360 px phone with nothing scrolling sideways.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, login, logout, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, flash

pytestmark = pytest.mark.browser

DEMO_CLASS = "省外处级干部党性教育培训班（环线第3期）"
DEMO_RUN = "杨善洲精神一日环线 · 开放班次"


def roster_file(tmp_path) -> str:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "单位", "职务", "职级", "手机号", "民族", "政治面貌"])
    ws.append(
        ["欧阳明", "男", "某县审计局", "局长", "县处级正职", "13977770001", "汉族", "中共党员"]
    )
    ws.append(["白雪", "女", "某县妇联", "主席", "县处级正职", "13977770002", "白族", "中共党员"])
    path = tmp_path / "学员名单.xlsx"
    out = io.BytesIO()
    wb.save(out)
    path.write_bytes(out.getvalue())
    return str(path)


def open_roster(page: Page, base_url: str) -> None:
    page.goto(base_url + "/classes")
    page.get_by_role("link", name=DEMO_CLASS).first.click()
    page.get_by_role("link", name="学员名单", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("学员名单")


def test_organizer_imports_a_roster_and_a_trainee_activates_on_a_phone(
    new_page, base_url: str, tmp_path
):
    page = new_page()
    login(page, base_url, "organizer")
    open_roster(page, base_url)
    expect(page.get_by_test_id("ack-status")).to_contain_text("未确认学前纪律")
    page.get_by_role("link", name="从 Excel 导入").click()
    page.get_by_label("名单文件（.xlsx 或 .csv）").set_input_files(roster_file(tmp_path))
    page.get_by_role("button", name="上传并预览").click()
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("欧阳明")
    expect(preview).to_contain_text("共 2 行：新增 2")
    save_screenshot(page, "roster-import-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(flash(page, "导入完成：新增 2 人")).to_be_visible()
    expect(page.get_by_test_id("roster")).to_contain_text("白雪")
    page.get_by_role("link", name="打印激活单（二维码）").click()
    card = page.get_by_test_id("sheet").locator("div.border", has_text="欧阳明")
    expect(card.locator("svg.qr-code")).to_be_visible()
    save_screenshot(page, "activation-sheet")
    link = card.get_by_test_id("activation-link").get_attribute("href")
    assert link and "/activate/" in link
    assert_no_console_errors(page)

    # The trainee scans the code with their phone.
    phone = new_page(phone=True)
    phone.goto(link if link.startswith("http") else base_url + link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("激活学员账号")
    phone.get_by_label("设置密码").fill("short")
    phone.get_by_label("再次输入密码").fill("short")
    phone.get_by_role("button", name="激活账号").click()
    expect(phone.get_by_text("密码至少需要")).to_be_visible()
    phone.get_by_label("设置密码").fill("ouyang2026")
    phone.get_by_label("再次输入密码").fill("ouyang2026")
    phone.get_by_role("button", name="激活账号").click()
    expect(phone).to_have_url(base_url + "/me")
    expect(flash(phone, "账号已激活")).to_be_visible()
    expect(phone.get_by_test_id("my-class")).to_contain_text(DEMO_CLASS)
    assert_no_horizontal_scroll(phone)
    # The link works once.
    phone.goto(link if link.startswith("http") else base_url + link)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("链接无效")

    # On a phone the roster is a pile of cards, not a table to scroll.
    organizer_phone = new_page(phone=True)
    login(organizer_phone, base_url, "organizer")
    open_roster(organizer_phone, base_url)
    assert_no_horizontal_scroll(organizer_phone)
    save_screenshot(organizer_phone, "roster-phone")


def test_trainee_on_a_phone_reads_acknowledges_chooses_and_books(new_page, base_url: str):
    page = new_page(phone=True)
    login(page, base_url, "trainee")
    expect(page).to_have_url(base_url + "/me")
    card = page.get_by_test_id("my-class").filter(has_text=DEMO_CLASS)
    expect(card.get_by_test_id("next-stop")).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "trainee-me")

    card.get_by_role("link", name="完整行程").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_CLASS)
    expect(page.get_by_test_id("notice").filter(has_text="明日集合时间调整")).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "trainee-class")

    page.get_by_role("button", name="我已阅读并承诺遵守").click()
    expect(flash(page, "已确认阅读学前纪律")).to_be_visible()
    expect(page.get_by_test_id("rules-acknowledged")).to_be_visible()

    page.get_by_label(re.compile("司莫拉佤族村")).check()
    page.get_by_role("button", name="确认选择").click()
    expect(flash(page, "已选择")).to_be_visible()
    expect(page.get_by_label(re.compile("司莫拉佤族村"))).to_be_checked()

    feed = page.locator("#feed-url")
    expect(feed).to_have_value(re.compile(r"/me/calendar/.+\.ics$"))
    expect(page.locator("svg.qr-code")).to_be_visible()
    page.get_by_role("button", name="复制").click()
    assert_no_horizontal_scroll(page)

    page.get_by_role("link", name="培训手册", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("培训手册")
    expect(page.get_by_text("学前纪律").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "trainee-handbook")

    # A route with an open run: 报名 instead of 预约此线路.
    page.goto(base_url + "/runs")
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name=DEMO_RUN).click()
    route = page.get_by_role("link", name="杨善洲精神一日环线", exact=True)
    route.click()
    expect(page.get_by_role("link", name="预约此线路")).to_have_count(0)
    page.get_by_test_id("open-run-link").first.click()
    left = page.get_by_test_id("seats-left").inner_text()
    page.get_by_test_id("book-seat").click()
    expect(flash(page, "报名成功")).to_be_visible()
    expect(page.get_by_test_id("my-seat-status")).to_contain_text("已报名")
    assert page.get_by_test_id("seats-left").inner_text() != left
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "trainee-open-run")
    assert_no_console_errors(page)


def test_the_organizer_sees_who_acknowledged_and_posts_a_notice(page: Page, base_url: str):
    login(page, base_url, "organizer")
    open_roster(page, base_url)
    page.get_by_role("link", name="通知", exact=True).click()
    page.get_by_label("标题").fill("返程安排")
    page.get_by_label("内容").fill("结业当天 15:00 统一乘车返回保山。")
    page.get_by_role("button", name="发布通知").click()
    expect(flash(page, "通知已发布")).to_be_visible()
    logout(page)
    login(page, base_url, "trainee")
    page.get_by_role("link", name="返程安排").click()
    expect(page.get_by_test_id("notice").first).to_contain_text("15:00")


def test_every_page_of_the_area_fits_a_phone(new_page, base_url: str):
    """At 360 px nothing scrolls sideways: the organizer's, the office's and a host's pages."""
    organizer = new_page(phone=True)
    login(organizer, base_url, "organizer")
    open_roster(organizer, base_url)
    roster_url = organizer.url
    class_id = re.search(r"/classes/(\d+)/trainees", roster_url).group(1)
    pages = [
        roster_url,
        f"{base_url}/classes/{class_id}/trainees/import",
        f"{base_url}/classes/{class_id}/trainees/sheet",
        f"{base_url}/classes/{class_id}/trainees/summary",
        f"{base_url}/classes/{class_id}/notices",
        f"{base_url}/classes/{class_id}/trainees/profile",
        f"{base_url}/classes/{class_id}/electives",
        f"{base_url}/me/classes/{class_id}/handbook",
        f"{base_url}/runs",
    ]
    for url in pages:
        organizer.goto(url)
        assert_no_horizontal_scroll(organizer)
    office = new_page(phone=True)
    login(office, base_url, "office")
    office.goto(base_url + "/runs/manage")
    assert_no_horizontal_scroll(office)
    office.get_by_role("link", name=DEMO_RUN).click()
    expect(office.get_by_role("heading", level=1)).to_contain_text(DEMO_RUN)
    assert_no_horizontal_scroll(office)
    office.goto(base_url + "/runs/new")
    assert_no_horizontal_scroll(office)
    host = new_page(phone=True)
    login(host, base_url, "tengchong_college_staff")
    host.goto(base_url + "/hosting/electives")
    assert_no_horizontal_scroll(host)
    host.get_by_role("link", name=DEMO_CLASS).first.click()
    expect(host.get_by_test_id("summary")).to_be_visible()
    assert_no_horizontal_scroll(host)
