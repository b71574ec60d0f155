"""What the catalogue, booking, calendar and phone journeys share: the menu, names, dates.

The journeys share one live server and its database for the whole session, so each one
makes its own data under a unique name and books on dates no other journey uses.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

# The portal's dates are Beijing dates (portal.timeutil.LOCAL_TZ).
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
PHONE_WIDTH = 360
# Bootstrap's lg breakpoint: the navbar (navbar-expand-lg) collapses below it.
LG_BREAKPOINT = 992


def unique(prefix: str) -> str:
    """A name no other journey (or earlier run of this one) uses."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="主导航")


def open_menu(page: Page, label: str) -> None:
    """Follow a link of the main navbar; on a phone, open the collapsed menu first."""
    page.wait_for_load_state("load")  # Bootstrap's script opens the collapsed menu
    nav = main_nav(page)
    # The navbar collapses below Bootstrap's lg breakpoint. Decide by the viewport, not by
    # what is visible now: before the stylesheet has loaded, the toggler shows everywhere.
    viewport = page.viewport_size or {"width": 1280}
    if viewport["width"] < LG_BREAKPOINT:
        toggler = nav.get_by_role("button", name="展开菜单")
        if toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
        expect(page.locator("#mainnav.collapse.show")).to_be_visible()
    # 消息 carries the number of unread messages in its name: "消息 2 条未读".
    nav.get_by_role("link", name=re.compile(rf"^{re.escape(label)}(\s|$)")).click()


def flash(page: Page, text: str) -> Locator:
    """The flashed message (role alert) containing ``text``."""
    return page.get_by_role("alert").filter(has_text=text)


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
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"{page.url} scrolls sideways: scrollWidth {width}"
