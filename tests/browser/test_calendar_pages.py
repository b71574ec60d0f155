"""A site's calendar in the browser: the month grid from the site's page, then the week; a
member's staff prints a week of one of its sites."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    main_nav,
    save_pdf,
    save_screenshot,
)
from tests.browser.journeys import (
    WEEKDAYS,
    book_custom_visit,
    flash,
    inbox_rows,
    monday_ahead,
    open_menu,
    register_class,
    today,
    unique,
)

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


PRINT_SITE = "和顺图书馆"  # 腾冲干部学院's: 40 seats a session, no guide needed
# The week the print journey books in: no other journey's (journeys.monday_ahead).
PRINT_WEEK = 3


def open_site_week(page: Page, site: str, monday: date) -> None:
    """目录 → 教学点 → the site → 日程 → 周视图, then 下一周 until the week of ``monday``."""
    open_menu(page, "教学点")
    page.get_by_label("关键词", exact=True).fill(site)
    page.get_by_role("button", name="筛选", exact=True).click()
    page.locator("table tbody").get_by_role("link", name=site, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(site)
    page.get_by_role("link", name="日程", exact=True).click()
    page.get_by_role("link", name="周视图", exact=True).click()
    period = page.locator("#period")
    wanted = f"{monday.isoformat()} 至 {(monday + timedelta(days=6)).isoformat()}"
    for _week in range(10):
        if period.inner_text().strip() == wanted:
            break
        page.get_by_role("link", name="下一周", exact=True).click()
        page.wait_for_load_state()
    expect(period).to_have_text(wanted)


def test_member_staff_prints_a_week_of_its_site(new_page, base_url: str, tmp_path: Path):
    monday = monday_ahead(PRINT_WEEK)
    wednesday, friday = monday + timedelta(days=2), monday + timedelta(days=4)
    big_class = unique("省外处级干部党性教育班")
    small_class = unique("侨乡文化研修班")

    # An organizer books two classes at the site: 46 trainees in two squads, then 20.
    organizer: Page = new_page()
    login(organizer, base_url, "organizer")
    site_label = f"{PRINT_SITE}（腾冲干部学院）"
    register_class(organizer, big_class, 46, wednesday, wednesday, theme="革命传统")
    book_custom_visit(organizer, big_class, wednesday, site_label, "10:00", squads=2)
    register_class(organizer, small_class, 20, friday, friday, theme="乡村振兴")
    book_custom_visit(organizer, small_class, friday, site_label, "14:30")
    assert_no_console_errors(organizer)

    # The hosting member's staff confirm both squads of the big class, then open the week.
    page: Page = new_page()
    login(page, base_url, "tengchong_college_staff")
    open_menu(page, "预约待办")
    for left in (1, 0):
        inbox_rows(page, big_class).first.get_by_role("button", name="确认", exact=True).click()
        expect(flash(page, "已确认：")).to_be_visible()
        expect(inbox_rows(page, big_class)).to_have_count(left)

    open_site_week(page, PRINT_SITE, monday)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"教学点日程：{PRINT_SITE}")
    on_wednesday = page.locator(f'main section[data-day="{wednesday.isoformat()}"] li')
    expect(on_wednesday).to_have_count(2)
    expect(on_wednesday.nth(0)).to_contain_text("10:00–11:00")
    expect(on_wednesday.nth(0)).to_contain_text("第 1 组 · 23 人")
    expect(on_wednesday.nth(1)).to_contain_text("11:00–12:00")
    expect(on_wednesday.nth(1)).to_contain_text("第 2 组 · 23 人")
    print_button = page.get_by_role("button", name="打印", exact=True)
    expect(print_button).to_be_visible()
    # On paper only: the table stays off the screen.
    expect(page.get_by_test_id("print-week")).to_be_hidden()
    check_accessibility(page)

    # 打印 opens the browser's print dialog (counted here instead: headless has none).
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    print_button.click()
    assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")
    expect(main_nav(page)).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(print_button).to_be_hidden()
    for name in ("位置", "翻页", "视图"):
        expect(page.get_by_role("navigation", name=name, include_hidden=True)).to_be_hidden()
    expect(page.get_by_role("heading", name="订阅链接", include_hidden=True)).to_be_hidden()
    expect(page.locator("main section[data-day]").first).to_be_hidden()
    table = page.get_by_test_id("print-week")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(
        ["日期", "时间", "培训班（选派单位）", "安排", "联系人", "人数", "状态"]
    )
    expect(table.locator("tbody")).to_have_count(7)
    squads = table.locator(f'tbody[data-print-day="{wednesday.isoformat()}"] tr')
    expect(squads).to_have_count(2)
    for number, (time_range, row) in enumerate(
        zip(("10:00–11:00", "11:00–12:00"), squads.all(), strict=True), start=1
    ):
        expect(row).to_contain_text(time_range)
        expect(row).to_contain_text(f"{big_class}（某省委组织部）")
        expect(row).to_contain_text("张联系人 13800000000")
        expect(row).to_contain_text(f"23 人第 {number} 组，全班 46 人")
        expect(row).to_contain_text("已确认")
    expect(squads.first.locator("th")).to_have_text(f"{wednesday.isoformat()}周三")
    later = table.locator(f'tbody[data-print-day="{friday.isoformat()}"] tr')
    expect(later).to_have_count(1)
    expect(later).to_contain_text("14:30–15:30")
    expect(later).to_contain_text(small_class)
    expect(later).to_contain_text("20 人")
    expect(later).to_contain_text("待确认")
    expect(table.locator(f'tbody[data-print-day="{monday.isoformat()}"]')).to_contain_text("无安排")
    save_screenshot(page, "calendar-week-print")

    # It prints: one A4 landscape sheet with every reservation on it.
    pdf = save_pdf(page, "calendar-week-print", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo") and shutil.which("pdftotext"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), info
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
        assert size and (round(float(size[1])), round(float(size[2]))) == (842, 595), info
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
        ).stdout
        for expected in (
            f"教学点日程：{PRINT_SITE}",
            big_class,
            small_class,
            "第 2 组，全班 46 人",
            "13800000000",
            "已确认",
            "待确认",
        ):
            assert expected in text, f"{expected!r} not in the printed week:\n{text}"
        assert "订阅链接" not in text and "下一周" not in text

    page.emulate_media(media="screen")
    expect(main_nav(page)).to_be_visible()
    expect(print_button).to_be_visible()
    assert_no_console_errors(page)
