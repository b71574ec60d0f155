"""Written feedback to units: on a desktop the organizer goes from the finished class's
completion page to the units' reports, opens one and sends them all; at 360 px a unit's
report reads as cards without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, flash
from tests.browser.test_completion import finished_class_id

pytestmark = pytest.mark.browser


def test_the_organizer_reads_and_sends_the_units_reports(new_page, base_url: str, tmp_path_factory):
    class_id = finished_class_id(tmp_path_factory)
    page = new_page()
    login(page, base_url, "organizer")
    page.goto(f"{base_url}/certificates/classes/{class_id}")
    page.get_by_test_id("feedback-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("培训情况书面反馈")
    expect(page.get_by_test_id("unit-report")).to_have_count(12)
    card = page.get_by_test_id("unit-report").filter(has_text="某市应急管理局")
    card.get_by_role("link", name="查看").click()
    expect(page.get_by_test_id("trainee")).to_have_count(1)
    expect(page.get_by_test_id("trainee")).to_contain_text("请假超过总学时的七分之一")
    expect(page.get_by_test_id("evaluations")).to_contain_text("总平均分")
    save_screenshot(page, "feedback-report-desktop")
    page.go_back()
    page.get_by_role("button", name="向全部单位发送书面反馈").click()
    expect(flash(page, "没有联系人账号")).to_be_visible()
    assert_no_console_errors(page)

    phone = new_page(phone=True)
    login(phone, base_url, "organizer")
    phone.goto(f"{base_url}/feedback/classes/{class_id}")
    assert_no_horizontal_scroll(phone)
    phone.get_by_test_id("unit-report").first.get_by_role("link", name="查看").click()
    expect(phone.get_by_test_id("trainee")).to_have_count(1)
    assert_no_horizontal_scroll(phone)
    save_screenshot(phone, "feedback-report-phone")
    assert_no_console_errors(phone)
