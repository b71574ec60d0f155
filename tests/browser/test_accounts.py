"""Accounts in the browser: each role logs in and out, wrong passwords, new users, form errors."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    logout,
    open_menu,
)

pytestmark = pytest.mark.browser

# user name: (display name, role label, short name of the member it acts for)
ROLE_ACCOUNTS = {
    "office": ("环线办 王主任", "环线办", None),
    "party_school_admin": ("市委党校管理员", "成员单位管理员", "市委党校"),
    "tengchong_college_staff": ("腾冲干部学院工作人员", "成员单位工作人员", "腾冲干部学院"),
    "organizer": ("张联系人", "培训班联系人", None),
    "trainee": ("李学员", "学员", None),
}


@pytest.mark.parametrize("username", list(ROLE_ACCOUNTS))
def test_each_role_logs_in_sees_who_they_are_and_logs_out(page: Page, base_url: str, username):
    display_name, role_label, member = ROLE_ACCOUNTS[username]
    login(page, base_url, username)
    # A trainee lands on their own page (我的), everyone else on their dashboard (工作台).
    expect(page).to_have_url(base_url + ("/me" if username == "trainee" else "/dashboard"))
    expect(page.get_by_role("alert").filter(has_text=f"欢迎，{display_name}")).to_be_visible()
    whoami = page.get_by_test_id("whoami")
    expect(whoami).to_contain_text(display_name)
    expect(whoami.locator(".badge").first).to_have_text(role_label)
    if member:
        expect(whoami).to_contain_text(f"代表 {member}")
    else:
        expect(whoami).not_to_contain_text("代表")
    logout(page)
    expect(page).to_have_url(base_url + "/")
    assert_no_console_errors(page)


def test_wrong_password_is_refused_and_the_user_name_stays(page: Page, base_url: str):
    page.goto(base_url + "/login")
    check_accessibility(page)
    login(page, base_url, "office", "not-the-password1")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名", exact=True)).to_have_value("office")
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    # The refused login answers 401, which Chromium logs for the document.
    assert_no_console_errors(page, expected_statuses=(401,))


def test_office_creates_a_user_who_must_set_a_password_first(page: Page, base_url: str):
    username = f"tc_staff_{uuid.uuid4().hex[:6]}"
    display_name = "腾冲测试工作人员"
    first_password = "Start2026abc"
    new_password = "Ring2026route"

    login(page, base_url, "office")
    open_menu(page, "用户管理")  # 管理 → 用户管理
    expect(page).to_have_url(base_url + "/admin/users")
    check_accessibility(page)
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("姓名", exact=True).fill(display_name)
    page.get_by_label("角色", exact=True).select_option(label="成员单位工作人员")
    page.get_by_label("所属成员单位", exact=True).select_option(label="腾冲干部教育培训学院")
    page.get_by_label("初始密码", exact=True).fill(first_password)
    page.get_by_role("button", name="创建用户", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text=f"已创建用户 {username}")).to_be_visible()
    row = page.locator("table tbody tr").filter(has_text=username)
    expect(row).to_contain_text(display_name)
    expect(row).to_contain_text("成员单位工作人员")
    expect(row).to_contain_text("腾冲干部学院")
    logout(page)

    login(page, base_url, username, first_password)
    expect(page).to_have_url(base_url + "/account/password")
    expect(page.get_by_role("alert").filter(has_text="请先设置新密码")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改密码")
    check_accessibility(page)
    page.get_by_label("当前密码", exact=True).fill(first_password)
    page.get_by_label("新密码", exact=True).fill(new_password)
    page.get_by_label("确认新密码", exact=True).fill(new_password)
    page.get_by_role("button", name="修改密码", exact=True).click()

    expect(page).to_have_url(base_url + "/")
    expect(page.get_by_role("alert").filter(has_text="密码已修改")).to_be_visible()
    whoami = page.get_by_test_id("whoami")
    expect(whoami).to_contain_text(display_name)
    expect(whoami).to_contain_text("成员单位工作人员")
    expect(whoami).to_contain_text("代表 腾冲干部学院")
    # The home page is no longer redirected to the password form.
    page.goto(base_url + "/sites")
    expect(page).to_have_url(base_url + "/sites")
    assert_no_console_errors(page)


def test_a_refused_new_user_keeps_what_was_typed(page: Page, base_url: str):
    login(page, base_url, "office")
    open_menu(page, "用户管理")  # 管理 → 用户管理
    page.get_by_label("用户名", exact=True).fill("office")
    page.get_by_label("姓名", exact=True).fill("重名测试用户")
    page.get_by_label("角色", exact=True).select_option(label="学员")
    page.get_by_label("初始密码", exact=True).fill("Trainee2026x")
    page.get_by_role("button", name="创建用户", exact=True).click()

    expect(page.get_by_text("该用户名已被使用")).to_be_visible()
    expect(page.get_by_label("用户名", exact=True)).to_have_value("office")
    expect(page.get_by_label("姓名", exact=True)).to_have_value("重名测试用户")
    expect(page.get_by_label("角色", exact=True)).to_have_value("trainee")
    check_accessibility(page)
    # The refused form answers 400, which Chromium logs for the document.
    assert_no_console_errors(page, expected_statuses=(400,))
