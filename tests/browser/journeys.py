"""What the catalogue, booking, calendar and phone journeys share: the menu, names, dates.

The journeys share one live server and its database for the whole session, so each one
makes its own data under a unique name and books on dates no other journey uses.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page

# The navbar helpers live with login/logout; the journeys take them from here too.
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
