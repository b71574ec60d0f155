"""统计报表 and the dashboards in a browser: the office reads the report and opens the records
of a figure; a member's staff read theirs on a phone; an organizer sees what each class needs.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser


def test_office_reads_the_report_and_opens_a_figure(new_page, base_url: str):
    page = new_page()
    login(page, base_url, "office")
    expect(page).to_have_url(base_url + "/dashboard")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("环线办工作台")
    save_screenshot(page, "dashboard-office")
    page.goto(base_url + "/reports/")
    text = page.get_by_test_id("report-text")
    expect(text).to_contain_text("举办干部教育培训总班次")
    figure = page.get_by_test_id("figure-classes")
    count = figure.inner_text()
    assert int(count) > 0
    expect(page.locator("img.chart").first).to_be_visible()
    save_screenshot(page, "reports-office")
    figure.click()
    expect(page.get_by_test_id("figure-value")).to_have_text(count)
    expect(page.locator("tbody tr")).to_have_count(int(count))
    save_screenshot(page, "reports-figure-records")
    page.goto(base_url + "/reports/plan")
    expect(page.get_by_test_id("plan-table")).to_contain_text("党性教育培训班")
    save_screenshot(page, "reports-plan")
    assert_no_console_errors(page)


def test_member_reads_its_figures_on_a_phone(new_page, base_url: str):
    page = new_page(phone=True)
    login(page, base_url, "party_school_staff")
    expect(page).to_have_url(base_url + "/dashboard")
    expect(page.get_by_test_id("pending-count")).to_be_visible()
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "dashboard-member-phone")
    page.goto(base_url + "/reports/")
    expect(page.get_by_test_id("report-title")).to_contain_text("中共保山市委党校")
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "reports-member-phone")
    page.get_by_test_id("figure-visit_groups").click()
    expect(page.get_by_test_id("figure-value")).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert_no_console_errors(page)


def test_organizer_sees_what_each_class_needs(new_page, base_url: str):
    page = new_page()
    login(page, base_url, "organizer")
    expect(page).to_have_url(base_url + "/dashboard")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("我的培训班")
    expect(page.locator("tr[data-next]").first).to_be_visible()
    save_screenshot(page, "dashboard-organizer")
    assert_no_console_errors(page)


def test_organizer_answers_the_needs_survey_and_reads_its_classes_on_a_phone(
    new_page, base_url: str
):
    page = new_page(phone=True)
    login(page, base_url, "organizer")
    page.goto(base_url + "/reports/surveys")
    page.get_by_test_id("surveys").get_by_role("link").first.click()
    page.get_by_label("乡村振兴").check()
    page.get_by_label("县处级").fill("12")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="提交需求").click()
    expect(page.locator(".alert-success")).to_contain_text("已提交培训需求")
    page.goto(base_url + "/classes?state=finished")
    expect(page.get_by_test_id("class-list")).to_contain_text("已结业")
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "classes-organizer-phone")
    assert_no_console_errors(page)


def test_office_reviews_plans_and_reads_the_survey_on_a_phone(new_page, base_url: str):
    page = new_page(phone=True)
    login(page, base_url, "office")
    page.goto(base_url + "/reports/plan-reviews")
    expect(page.get_by_test_id("plan-reviews")).to_contain_text("须安排环线教学")
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "plan-reviews-phone")
    page.get_by_test_id("plan-reviews").get_by_role("link").first.click()
    expect(page.get_by_test_id("ring-rule")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.goto(base_url + "/reports/surveys")
    page.get_by_test_id("surveys").get_by_role("link").first.click()
    expect(page.get_by_test_id("by-topic")).to_contain_text("党性教育")
    assert_no_horizontal_scroll(page)
    save_screenshot(page, "survey-summary-phone")
    assert_no_console_errors(page)
