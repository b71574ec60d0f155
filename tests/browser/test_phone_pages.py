"""An organizer on a phone (360x740): routes, an itinerary, the classes and the messages, all
without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    save_screenshot,
)
from tests.browser.journeys import assert_no_horizontal_scroll, open_menu

pytestmark = pytest.mark.browser

ROUTE = "滇西抗战精神三日环线"


def test_organizer_on_a_phone_reads_an_itinerary_and_the_messages(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "organizer")
    expect(page).to_have_url(base_url + "/")

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
