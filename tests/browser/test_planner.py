"""The season planner on a phone: the office reads the demo season's plan and its week
calendar, runs the planner again (a "规划中…" notice while it works); the organizer sees
their requests. No page scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, heading, open_menu

pytestmark = pytest.mark.browser

SEASON = "2027年春季统筹调训"


def test_planner_on_a_phone(new_page: Callable[..., Page], base_url: str):
    page = new_page(phone=True)
    login(page, base_url, "office")
    open_menu(page, "统筹调训")
    expect(heading(page)).to_have_text("统筹调训")
    page.get_by_role("link", name=SEASON).click()
    expect(heading(page)).to_have_text(SEASON)
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="查看最近一次方案").click()
    expect(page.get_by_text("已证明最优").first).to_be_visible()
    expect(page.get_by_role("button", name="接受方案并逐一预约")).to_be_visible()
    expect(page.get_by_role("heading", name="按周、按教学点查看")).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "phone-planner-plan")

    page.go_back()
    page.get_by_label("求解时限（秒）").fill("3")
    notice = page.get_by_text("规划中……最多需要")
    expect(notice).to_be_hidden()
    # While the form is being posted (forms.js marks it busy) the notice shows; the demo
    # season is solved too fast to catch it in flight, so mark the form as forms.js does.
    page.locator("form.planner-run").evaluate("f => f.setAttribute('aria-busy', 'true')")
    expect(notice).to_be_visible()
    page.locator("form.planner-run").evaluate("f => f.removeAttribute('aria-busy')")
    page.get_by_role("button", name="运行规划").click()
    # The run page: 规划中 with a progress bar while the solver works in the background,
    # refreshing itself until the plan is there.
    expect(heading(page)).to_contain_text("规划方案")
    expect(page.get_by_role("button", name="接受方案并逐一预约")).to_be_visible(timeout=30_000)
    assert_no_console_errors(page)

    page = new_page(phone=True)
    login(page, base_url, "organizer")
    open_menu(page, "统筹调训")
    page.get_by_role("link", name=SEASON).click()
    expect(page.get_by_text("浙江省处级干部党性教育专题班")).to_be_visible()
    expect(page.get_by_role("button", name="运行规划")).to_have_count(0)
    assert_no_horizontal_scroll(page)
