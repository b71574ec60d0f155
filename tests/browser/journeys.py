"""What the catalogue, booking, calendar and phone journeys share: the menu, names, dates.

The journeys share one live server and its database for the whole session, so each one
makes its own data under a unique name and books on dates no other journey uses.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

# The navbar helpers live with login/logout; the journeys take them from here too.
from tests.browser.helpers import check_accessibility, save_screenshot
from tests.browser.helpers import main_nav as main_nav
from tests.browser.helpers import nav_entry as nav_entry
from tests.browser.helpers import open_menu as open_menu

# The portal's dates are Beijing dates (portal.timeutil.LOCAL_TZ).
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
PHONE_WIDTH = 360


def unique(prefix: str) -> str:
    """A name no other journey (or earlier run of this one) uses."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def flash(page: Page, text: str) -> Locator:
    """The flashed message (role alert) containing ``text``."""
    return page.get_by_role("alert").filter(has_text=text)


def heading(page: Page) -> Locator:
    """The page's <h1>."""
    return page.get_by_role("heading", level=1)


def section(page: Page, name: str) -> Locator:
    """The region (a <section> labelled by its heading) called ``name``."""
    return page.get_by_role("region", name=name, exact=True)


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def monday_ahead(weeks_later: int = 0) -> date:
    """The first Monday at least 14 days ahead, plus ``weeks_later`` weeks.

    Each booking journey takes its own week, so no journey's bookings (teachers, guides,
    seats) get in the way of another's, whatever order they run in.
    """
    day = today() + timedelta(days=14)
    day += timedelta(days=(7 - day.weekday()) % 7)
    return day + timedelta(weeks=weeks_later)


def weekday_label(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def assert_no_horizontal_scroll(page: Page) -> None:
    """The page fits the phone's width. After a click that navigates, the caller first waits
    for the new page (its heading): measuring in between reads a document that is going away.
    """
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"{page.url} scrolls sideways: scrollWidth {width}"


# ---------------------------------------------------------------- classes and bookings


def register_class(
    page: Page,
    name: str,
    size: int,
    starts: date,
    ends: date,
    theme: str = "党性教育",
    refused_first: bool = False,
) -> None:
    """培训班 → 登记培训班 → fill every field → 保存; lands on the class's page.

    With ``refused_first``, the first 保存 has the end date before the start date: the form
    comes back (400) with the message and everything typed kept.
    """
    open_menu(page, "培训班")
    expect(page.get_by_role("heading", level=1)).to_have_text("培训班")
    page.get_by_role("link", name="登记培训班", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记培训班")
    page.get_by_label("班级名称", exact=True).fill(name)
    page.get_by_label("班次类型", exact=True).select_option(label="主体班")
    page.get_by_label("生源", exact=True).select_option(label="市外省内")
    page.get_by_label("选派单位", exact=True).fill("某省委组织部")
    page.get_by_label("人数", exact=True).fill(str(size))
    page.get_by_label("开班日期", exact=True).fill(starts.isoformat())
    page.get_by_label("结业日期", exact=True).fill(
        (starts - timedelta(days=1) if refused_first else ends).isoformat()
    )
    page.get_by_label("培训主题", exact=True).fill(theme)
    page.get_by_label("联系人", exact=True).fill("张联系人")
    page.get_by_label("联系电话", exact=True).fill("13800000000")
    page.get_by_role("button", name="保存", exact=True).click()
    if refused_first:
        expect(page.get_by_text("结业日期不能早于开班日期。")).to_be_visible()
        kept = {
            "班级名称": name,
            "班次类型": "main",
            "生源": "province",
            "选派单位": "某省委组织部",
            "人数": str(size),
            "开班日期": starts.isoformat(),
            "结业日期": (starts - timedelta(days=1)).isoformat(),
            "培训主题": theme,
            "联系人": "张联系人",
            "联系电话": "13800000000",
        }
        for label, value in kept.items():
            expect(page.get_by_label(label, exact=True)).to_have_value(value)
        check_accessibility(page)
        save_screenshot(page, "class-new-refused")
        page.get_by_label("结业日期", exact=True).fill(ends.isoformat())
        page.get_by_role("button", name="保存", exact=True).click()
    expect(flash(page, f"已登记培训班：{name}")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("dt:text-is('人数') + dd")).to_have_text(f"{size} 人")


def start_booking(page: Page, class_name: str) -> None:
    """From the class's page: 预约线路."""
    page.get_by_role("link", name="预约线路", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"预约线路：{class_name}")


def check_result(page: Page):
    return page.get_by_test_id("check-result")


def fits(page: Page) -> None:
    expect(check_result(page).get_by_text("所有站点均满足条件，可以提交预约。")).to_be_visible()
    expect(page.get_by_role("button", name="确认预约", exact=True)).to_be_visible()


def inbox_rows(scope, class_name: str):
    return scope.locator("table tbody tr").filter(has_text=class_name)


def book_custom_visit(
    page: Page, class_name: str, day: date, site_label: str, starts: str, squads: int = 1
) -> None:
    """From the class's page: a custom route of one 60-minute visit, checked and booked."""
    start_booking(page, class_name)
    page.get_by_role("link", name="定制线路", exact=True).click()
    page.get_by_label("开始日期", exact=True).fill(day.isoformat())
    page.get_by_label("第 1 行 第几天", exact=True).fill("1")
    page.get_by_label("第 1 行 开始时间", exact=True).fill(starts)
    page.get_by_label("第 1 行 时长（分钟）", exact=True).fill("60")
    page.get_by_label("第 1 行 教学点", exact=True).select_option(label=site_label)
    page.get_by_label("第 1 行 分组数", exact=True).fill(str(squads))
    page.get_by_role("button", name="检查", exact=True).click()
    fits(page)
    page.get_by_role("button", name="确认预约", exact=True).click()
    expect(flash(page, "预约已提交，等待各成员单位确认。")).to_be_visible()


# ---------------------------------------------------------------- joint events


def create_event(page: Page, kind: str, title: str, description: str) -> None:
    """联动活动 → 新建活动 → the kind → 下一步 → name and description → 保存 (a draft)."""
    open_menu(page, "联动活动")
    page.get_by_role("link", name="新建活动", exact=True).click()
    expect(heading(page)).to_have_text("新建活动")
    page.get_by_label("活动类型", exact=True).select_option(label=kind)
    page.get_by_role("button", name="下一步", exact=True).click()
    expect(page.get_by_text(f"活动类型：{kind}")).to_be_visible()
    page.get_by_label("活动名称", exact=True).fill(title)
    page.get_by_label("活动简介", exact=True).fill(description)


def add_session(page: Page, title: str, day: date, starts: str, ends: str, site: str) -> None:
    """On an event's page (the office): 添加日程 at a teaching site."""
    programme = section(page, "日程安排")
    programme.locator("summary", has_text="添加日程").click()
    programme.get_by_label("日程内容", exact=True).fill(title)
    programme.get_by_label("日期", exact=True).fill(day.isoformat())
    programme.get_by_label("开始时间", exact=True).fill(starts)
    programme.get_by_label("结束时间", exact=True).fill(ends)
    programme.get_by_label("教学点", exact=True).select_option(label=site)
    programme.get_by_role("button", name="添加日程", exact=True).click()
    expect(flash(page, "已添加日程。")).to_be_visible()


def open_event(page: Page, title: str) -> None:
    """目录 → 联动活动 → the event's card."""
    open_menu(page, "联动活动")
    expect(heading(page)).to_have_text("联动活动")
    page.get_by_test_id("events").get_by_role("link", name=title, exact=True).click()
    expect(heading(page)).to_contain_text(title)
