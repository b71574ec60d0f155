"""The consortium office switches a member plugin off and on again in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    assert_no_console_errors,
    check_accessibility,
    login,
    open_menu,
)

pytestmark = pytest.mark.browser

PLUGINS = ("party_school", "yangshanzhou_college", "tengchong_college", "songshan_base")


def open_plugins_page(page: Page) -> None:
    open_menu(page, "插件")  # 管理 → 插件
    expect(page.get_by_role("heading", level=1)).to_have_text("插件")


def songshan_site_rows(page: Page):
    open_menu(page, "教学点")  # 目录 → 教学点
    expect(page.get_by_role("heading", level=1)).to_have_text("现场教学点")
    rows = page.locator("table tbody tr").filter(
        has=page.locator("td:nth-child(2)", has_text="松山基地")
    )
    assert rows.count() > 0, "no 松山基地 sites listed"
    return rows


def test_office_disables_and_enables_a_member_plugin(page: Page, base_url: str):
    login(page, base_url, "office")
    open_plugins_page(page)
    check_accessibility(page)
    rows = page.locator("tr[data-plugin]")
    expect(rows).to_have_count(len(PLUGINS))
    for name in PLUGINS:
        expect(page.locator(f'tr[data-plugin="{name}"]')).to_contain_text("已启用")

    songshan = page.locator('tr[data-plugin="songshan_base"]')
    songshan.get_by_role("button", name="停用").click()
    expect(page.get_by_role("alert").filter(has_text="已停用插件 songshan_base")).to_be_visible()
    songshan = page.locator('tr[data-plugin="songshan_base"]')
    expect(songshan).to_contain_text("已停用")
    expect(songshan.get_by_role("button", name="启用")).to_be_visible()
    for name in PLUGINS[:-1]:
        expect(page.locator(f'tr[data-plugin="{name}"]')).to_contain_text("已启用")

    try:
        rows = songshan_site_rows(page)
        for row in rows.all():
            expect(row).to_contain_text("暂不接受预约")
        # Sites of enabled members still take bookings.
        expect(
            page.locator("table tbody tr")
            .filter(has_text="腾冲干部学院")
            .filter(has_text="暂不接受预约")
        ).to_have_count(0)
    finally:
        open_plugins_page(page)
        page.locator('tr[data-plugin="songshan_base"]').get_by_role("button", name="启用").click()

    expect(page.get_by_role("alert").filter(has_text="已启用插件 songshan_base")).to_be_visible()
    expect(page.locator('tr[data-plugin="songshan_base"]')).to_contain_text("已启用")
    rows = songshan_site_rows(page)
    for row in rows.all():
        expect(row).not_to_contain_text("暂不接受预约")
    assert_no_console_errors(page)
