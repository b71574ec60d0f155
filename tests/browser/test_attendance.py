"""Attendance journeys at 360 px: the trainee opens the sign-in QR's URL and asks for leave.

The demo (``flask portal load-demo``) gives the class under way its sessions; one of them is
moved to now in the server's database, so the journey does not depend on the time of day.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_console_errors, login, save_screenshot
from tests.browser.journeys import assert_no_horizontal_scroll, flash

pytestmark = pytest.mark.browser

DEMO_CLASS = "省外处级干部党性教育培训班（环线第3期）"


def open_a_session_now(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The id of a future session of the demo class, its sign-in moved to be open now."""
    database = next(Path(tmp_path_factory.getbasetemp()).glob("portal-server*/portal.sqlite3"))
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(database) as conn:
        (class_id,) = conn.execute(
            "SELECT id FROM training_classes WHERE name = ?", (DEMO_CLASS,)
        ).fetchone()
        (session_id,) = conn.execute(
            "SELECT id FROM attendance_sessions WHERE class_id = ? AND ends_at > ? "
            "ORDER BY starts_at DESC LIMIT 1",
            (class_id, now.isoformat(sep=" ")),
        ).fetchone()
        conn.execute(
            "UPDATE attendance_sessions SET opens_at = ?, starts_at = ?, ends_at = ? WHERE id = ?",
            (
                (now - timedelta(minutes=30)).isoformat(sep=" "),
                (now - timedelta(minutes=1)).isoformat(sep=" "),
                (now + timedelta(hours=2)).isoformat(sep=" "),
                session_id,
            ),
        )
    return session_id


def test_trainee_signs_in_by_the_qr_url_and_asks_for_leave_on_a_phone(
    new_page, base_url: str, tmp_path_factory
):
    session_id = open_a_session_now(tmp_path_factory)
    screen = new_page()
    login(screen, base_url, "banzhuren")
    screen.goto(f"{base_url}/attendance/sessions/{session_id}/qr")
    qr = screen.get_by_test_id("qr")
    expect(qr.locator("svg")).to_be_visible()
    expect(screen.get_by_test_id("typed-code")).to_have_text(re.compile(r"^\d{6}$"))
    url = qr.get_attribute("data-url")
    save_screenshot(screen, "attendance-qr")

    phone = new_page(phone=True)
    phone.goto(url)  # what the camera opens: not signed in yet, so the login page first
    phone.get_by_label("用户名", exact=True).fill("trainee")
    phone.get_by_label("密码", exact=True).fill("huanxian2026")
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(DEMO_CLASS)
    assert_no_horizontal_scroll(phone)
    phone.get_by_test_id("sign-in").click()
    expect(phone.get_by_test_id("signed-in")).to_contain_text("签到成功")
    save_screenshot(phone, "attendance-signed-in-phone")
    assert_no_horizontal_scroll(phone)

    phone.get_by_role("link", name="我的考勤").click()
    expect(phone.get_by_test_id("my-counts").first).to_contain_text("出勤")
    form = phone.get_by_test_id("leave-form").first
    form.get_by_role("button", name="提交请假申请").click()  # nothing chosen: told, kept
    expect(phone.get_by_text("请选择请假的半天。")).to_be_visible()
    form = phone.get_by_test_id("leave-form").first
    form.get_by_role("checkbox").first.check()
    form.get_by_label("请假事由").fill("单位临时通知参加视频会议")
    form.get_by_role("button", name="提交请假申请").click()
    expect(flash(phone, "请假申请已提交")).to_be_visible()
    expect(phone.get_by_test_id("my-leave").first).to_contain_text("待审批")
    save_screenshot(phone, "attendance-me-phone")
    assert_no_horizontal_scroll(phone)
    assert_no_console_errors(phone, expected_statuses=(422,))


def test_supervisor_pages_fit_a_phone(new_page, base_url: str):
    """The 班主任 runs the day from a phone: class page, a session's sheet, the board."""
    phone = new_page(phone=True)
    login(phone, base_url, "banzhuren")
    phone.goto(f"{base_url}/attendance/classes")
    phone.get_by_role("link", name=DEMO_CLASS).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(DEMO_CLASS)
    expect(phone.get_by_test_id("leave-pending").first).to_be_visible()
    save_screenshot(phone, "attendance-class-phone")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("link", name="考勤表").first.click()
    expect(phone.get_by_test_id("sheet-row").first).to_be_visible()
    assert_no_horizontal_scroll(phone)
    phone.go_back()
    phone.get_by_role("link", name="公示考勤").click()
    expect(phone.get_by_test_id("board-row").first).to_be_visible()
    assert_no_horizontal_scroll(phone)
    assert_no_console_errors(phone)
