"""A trainee on a phone (360x740): the collapsed menu and no sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    nav_entry,
    save_screenshot,
)

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"{page.url} scrolls sideways: scrollWidth {width}"


def test_trainee_on_a_phone_uses_the_collapsed_menu(phone_page: Page, base_url: str):
    page = phone_page
    login(page, base_url, "trainee")
    expect(page).to_have_url(base_url + "/me")  # a trainee lands on their own page
    toggler = page.get_by_role("button", name="展开菜单")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    change_password = page.get_by_role("link", name="修改密码", exact=True)
    log_out = page.get_by_role("button", name="退出", exact=True)
    expect(change_password).to_be_hidden()
    expect(log_out).to_be_hidden()
    assert_no_horizontal_scroll(page)
    check_accessibility(page)

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    whoami = page.get_by_test_id("whoami")
    expect(whoami).to_be_visible()
    expect(whoami).to_contain_text("学员")
    expect(page.get_by_role("button", name="目录", exact=True)).to_be_visible()
    # 修改密码 and 退出 are in the user menu, whose toggle is the whoami element.
    expect(change_password).to_be_hidden()
    nav_entry(page, "修改密码")
    expect(whoami).to_have_attribute("aria-expanded", "true")
    expect(log_out).to_be_visible()
    assert_no_horizontal_scroll(page)
    # Wait for the collapse transition to end before the picture.
    expect(page.locator("#mainnav.collapse.show")).to_be_visible()
    page.wait_for_function("!document.querySelector('#mainnav.collapsing')")
    save_screenshot(page, "trainee-phone")

    page.goto(base_url + "/sites")
    expect(page.get_by_role("heading", level=1)).to_have_text("现场教学点")
    assert_no_horizontal_scroll(page)
    check_accessibility(page)
    assert_no_console_errors(page)
