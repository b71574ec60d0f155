"""A double click on a form's button posts it once (portal/static/forms.js).

The server recognises a repeated booking or class registration by its one-time key
(tests/security/test_double_submit.py); in the browser the second click of a double
click does not even leave the page, for every form.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.helpers import assert_no_console_errors, login
from tests.browser.journeys import flash, monday_ahead, open_menu, unique

pytestmark = pytest.mark.browser


def test_a_second_click_while_saving_posts_the_class_form_once(page: Page, base_url: str):
    """A slow network: the first post is still under way when the user clicks 保存 again."""
    held: list[Route] = []

    def hold_posts(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    login(page, base_url, "organizer")
    open_menu(page, "培训班")
    page.get_by_role("link", name="登记培训班", exact=True).click()
    name = unique("双击的班")
    starts = monday_ahead(9)
    page.get_by_label("班级名称", exact=True).fill(name)
    page.get_by_label("班次类型", exact=True).select_option(label="主体班")
    page.get_by_label("生源", exact=True).select_option(label="市外省内")
    page.get_by_label("选派单位", exact=True).fill("某省委组织部")
    page.get_by_label("人数", exact=True).fill("30")
    page.get_by_label("开班日期", exact=True).fill(starts.isoformat())
    page.get_by_label("结业日期", exact=True).fill((starts + timedelta(days=1)).isoformat())
    page.get_by_label("联系人", exact=True).fill("张联系人")
    page.get_by_label("联系电话", exact=True).fill("13800000000")
    page.route("**/classes/new", hold_posts)
    save = page.get_by_role("button", name="保存", exact=True)
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # Plain mouse clicks: the page is busy navigating, as it is for an impatient user.
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    assert len(held) == 1, f"the form was posted {len(held)} times"
    for route in held:
        route.continue_()
    expect(flash(page, f"已登记培训班：{name}")).to_be_visible()
    open_menu(page, "培训班")
    expect(page.get_by_role("link", name=name, exact=True)).to_have_count(1)
    assert_no_console_errors(page)


def test_a_form_that_came_back_with_errors_can_be_sent_again(page: Page, base_url: str):
    """The guard holds only while a post is under way: a corrected form is sent as usual."""
    login(page, base_url, "organizer")
    open_menu(page, "培训班")
    page.get_by_role("link", name="登记培训班", exact=True).click()
    name = unique("改正后的班")
    starts = monday_ahead(9)
    page.get_by_label("班级名称", exact=True).fill(name)
    page.get_by_label("班次类型", exact=True).select_option(label="主体班")
    page.get_by_label("生源", exact=True).select_option(label="市外省内")
    page.get_by_label("选派单位", exact=True).fill("某省委组织部")
    page.get_by_label("人数", exact=True).fill("0")
    page.get_by_label("开班日期", exact=True).fill(starts.isoformat())
    page.get_by_label("结业日期", exact=True).fill(starts.isoformat())
    page.get_by_label("联系人", exact=True).fill("张联系人")
    page.get_by_label("联系电话", exact=True).fill("13800000000")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_label("人数", exact=True)).to_have_value("0")
    page.get_by_label("人数", exact=True).fill("25")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(flash(page, f"已登记培训班：{name}")).to_be_visible()
