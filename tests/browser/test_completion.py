"""Evaluations and certificates at 360 px: the trainee answers the stop left to evaluate in the
finished demo class, opens their certificate and verifies it; anyone verifies a serial. On a
desktop: the office withholds a certificate and its verification page says so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, flash

pytestmark = pytest.mark.browser

FINISHED_CLASS = "某州科级干部党性教育培训班（环线第2期）"


def test_trainee_evaluates_a_stop_and_verifies_a_certificate_on_a_phone(new_page, base_url: str):
    phone = new_page(phone=True)
    login(phone, base_url, "trainee")
    phone.get_by_role("link", name=FINISHED_CLASS).first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(FINISHED_CLASS)
    phone.get_by_role("link", name="教学评估").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("教学评估")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("link", name="去评价").first.click()
    form = phone.get_by_test_id("evaluation-form")
    form.get_by_role("button", name="提交评价").click()  # nothing chosen: told, in Chinese
    expect(phone.get_by_text("打 1 到 5 分").first).to_be_visible()
    phone.get_by_label("意见建议（选填）").fill("讲解生动，时间再充裕些更好")
    groups = phone.get_by_role("radiogroup")
    for i in range(groups.count()):
        groups.nth(i).locator("label", has_text="4").click()
    assert_no_horizontal_scroll(phone)
    save_screenshot(phone, "evaluation-phone")
    phone.get_by_role("button", name="提交评价").click()
    expect(flash(phone, "感谢您的评价")).to_be_visible()
    expect(phone.get_by_role("link", name="去评价")).to_have_count(0)
    assert_no_horizontal_scroll(phone)

    phone.goto(f"{base_url}/certificates/mine")
    card = phone.get_by_test_id("certificate").filter(has_text=FINISHED_CLASS)
    expect(card).to_be_visible()
    assert_no_horizontal_scroll(phone)
    card.get_by_role("link", name="查验页面").click()
    expect(phone.get_by_test_id("verify-genuine")).to_be_visible()
    save_screenshot(phone, "certificate-verify-phone")
    assert_no_horizontal_scroll(phone)
    assert_no_console_errors(phone, expected_statuses=(400,))  # the unanswered form

    # Someone without an account types a forged serial: not found, said so.
    visitor = new_page(phone=True)
    visitor.goto(f"{base_url}/verify")
    visitor.get_by_label("证书编号").fill("HX2026-FAKE2-34567")
    visitor.get_by_role("button", name="查验").click()
    expect(visitor.get_by_test_id("verify-unknown")).to_be_visible()
    assert_no_horizontal_scroll(visitor)
    assert_no_console_errors(visitor, expected_statuses=(404,))


def finished_class_id(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The finished demo class's id, read from the journeys' server database."""
    database = next(Path(tmp_path_factory.getbasetemp()).glob("portal-server*/portal.sqlite3"))
    with sqlite3.connect(database) as conn:
        (class_id,) = conn.execute(
            "SELECT id FROM training_classes WHERE name = ?", (FINISHED_CLASS,)
        ).fetchone()
    return class_id


def test_the_office_withholds_a_certificate_and_its_page_says_so(
    new_page, base_url: str, tmp_path_factory
):
    page = new_page()
    login(page, base_url, "office")
    page.goto(f"{base_url}/certificates/classes/{finished_class_id(tmp_path_factory)}")
    expect(page.get_by_test_id("standing")).to_have_count(12)
    row = page.get_by_test_id("standing").filter(has_text="王建国")
    serial = row.get_by_role("link").first.inner_text()
    row.get_by_text("暂缓发放或撤销").click()
    row.get_by_label("原因").fill("派出单位反映情况，待核实")
    row.get_by_role("button", name="暂缓发放").click()
    expect(flash(page, "已处理")).to_be_visible()
    page.goto(f"{base_url}/verify/{serial}")
    expect(page.get_by_test_id("verify-withheld")).to_be_visible()
    expect(page.get_by_text("王建国")).to_have_count(0)
    assert_no_console_errors(page)
