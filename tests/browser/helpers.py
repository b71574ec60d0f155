"""Helpers shared by the browser journeys: the main navbar, logging in and out, console errors,
accessibility."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

DEMO_PASSWORD = "huanxian2026"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Bootstrap's xl breakpoint: the navbar (navbar-expand-xl) collapses below it.
NAVBAR_BREAKPOINT = 1200

# Console errors of every watched page, by id(page); filled by watch().
_CONSOLE_ERRORS: dict[int, list[str]] = {}


def watch(page: Page) -> None:
    """Collect the page's console errors and uncaught exceptions."""
    errors = _CONSOLE_ERRORS.setdefault(id(page), [])

    def on_console(msg) -> None:
        if msg.type == "error":
            location = msg.location or {}
            where = location.get("url", "")
            if location.get("lineNumber"):
                where += f":{location['lineNumber']}"
            errors.append(f"console: {msg.text}" + (f" ({where})" if where else ""))

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))


def console_errors(page: Page) -> list[str]:
    return list(_CONSOLE_ERRORS.get(id(page), []))


def forget(page: Page) -> None:
    _CONSOLE_ERRORS.pop(id(page), None)


# Chromium logs an HTTP error status of the document itself as a console error. Pages that
# answer a refused form with 400/401 on purpose say so with expected_statuses.
_STATUS_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


def assert_no_console_errors(page: Page, expected_statuses: tuple[int, ...] = ()) -> None:
    unexpected = []
    for error in console_errors(page):
        # Chromium asks for /favicon.ico by itself; the portal has none (yet). Not a page error.
        if "/favicon.ico" in error:
            continue
        status = _STATUS_ERROR.search(error)
        if status and int(status.group(1)) in expected_statuses:
            continue
        unexpected.append(error)
    assert not unexpected, "console errors:\n" + "\n".join(unexpected)


def login(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form (the caller checks where it lands)."""
    page.goto(f"{base_url}/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="主导航")


def _expand_navbar(page: Page) -> None:
    """Below the xl breakpoint, open the collapsed menu with the 展开菜单 toggler."""
    # Decide by the viewport, not by what is visible now: before the stylesheet has loaded,
    # the toggler shows everywhere.
    viewport = page.viewport_size or {"width": 1280}
    if viewport["width"] >= NAVBAR_BREAKPOINT:
        return
    toggler = main_nav(page).get_by_role("button", name="展开菜单")
    if toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
    expect(page.locator("#mainnav.collapse.show")).to_be_visible()


# The dropdown an entry of the navbar sits in (目录, 管理, the user menu), if any, and its toggle.
_DROPDOWN_MENU = "xpath=ancestor::ul[contains(@class, 'dropdown-menu')][1]"
_DROPDOWN_TOGGLE = "xpath=preceding-sibling::*[@data-bs-toggle='dropdown'][1]"


def nav_entry(page: Page, label: str, role: str = "link") -> Locator:
    """The main navbar's link (or with role="button", button) ``label``, made visible.

    On a phone the collapsed menu is opened first; an entry in a dropdown (目录, 管理, or the
    user menu, whose toggle is the whoami element: 修改密码, API 密钥, 退出) has its
    dropdown opened. A name may go on after the label: 消息 (an entry of its own) is
    "消息 2 条未读" with unread messages.
    """
    page.wait_for_load_state("load")  # Bootstrap's script opens the menus
    _expand_navbar(page)
    # Entries of a closed dropdown are hidden, so they are looked for among hidden ones too.
    name = re.compile(rf"^{re.escape(label)}(\s|$)")
    entry = main_nav(page).get_by_role(role, name=name, include_hidden=True)
    expect(entry).to_have_count(1)
    menu = entry.locator(_DROPDOWN_MENU)
    if menu.count() and not entry.is_visible():
        toggle = menu.locator(_DROPDOWN_TOGGLE)
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(entry).to_be_visible()
    return entry


def open_menu(page: Page, label: str) -> None:
    """Follow the main navbar's link ``label``, opening the menus it is in first."""
    nav_entry(page, label).click()


def logout(page: Page) -> None:
    """Log out with 退出 of the navbar's user menu and check the portal says so."""
    nav_entry(page, "退出", role="button").click()
    expect(page.get_by_role("alert").filter(has_text="您已退出登录")).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()


def save_screenshot(page: Page, name: str) -> Path | None:
    """With PORTAL_SCREENSHOTS=<dir>, save a full-page PNG there as <name>.png."""
    folder = screenshots_dir()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    # Park the focus so no focus ring or open tooltip ends up in the picture.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def screenshots_dir() -> Path | None:
    """The folder PORTAL_SCREENSHOTS names (relative to the project), if it is set."""
    target = os.environ.get("PORTAL_SCREENSHOTS")
    if not target:
        return None
    folder = Path(target)
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def save_pdf(page: Page, name: str, fallback: Path) -> Path:
    """Print the page to <name>.pdf as Chromium would on paper, with the page size its CSS
    asks for (@page); into the PORTAL_SCREENSHOTS folder when set, else into ``fallback``."""
    folder = screenshots_dir() or fallback
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
    return path


_UNLABELLED_FIELDS_JS = """
() => {
  const fields = document.querySelectorAll('input, select, textarea');
  const missing = [];
  for (const el of fields) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility === 'hidden') continue;
    const labelled =
      [...(el.labels || [])].some(label => label.textContent.trim()) ||
      (el.getAttribute('aria-label') || '').trim() ||
      (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(
        id => id && document.getElementById(id) && document.getElementById(id).textContent.trim());
    if (!labelled) missing.push(el.outerHTML.slice(0, 160));
  }
  return missing;
}
"""

_FOCUS_TOP_JS = """
() => {
  document.activeElement && document.activeElement.blur();
  const start = document.createElement('span');
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus({preventScroll: true});
  start.remove();
}
"""

# How many elements Tab can reach: focusable, shown, not disabled, not taken out of the order.
_TABBABLE_COUNT_JS = """
() => [...document.querySelectorAll(
  'a[href], button, input, select, textarea, summary, [tabindex], [contenteditable="true"]'
)].filter(el => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length
  && getComputedStyle(el).visibility !== 'hidden'
  && !(el.type && el.type.toLowerCase() === 'hidden')).length
"""

_FOCUS_STATE_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {
    element: el.outerHTML.slice(0, 160),
    visible: Boolean(outline || shadow),
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    boxShadow: style.boxShadow,
  };
}
"""


def accessibility_problems(page: Page, tabs: int = 4) -> list[str]:
    """What the page gets wrong of the basics: title, one <h1>, labels, visible focus."""
    page.wait_for_load_state("load")
    problems = []
    if not page.title().strip():
        problems.append("the page has no <title> text")
    h1_count = page.locator("h1").count()
    if h1_count != 1:
        problems.append(f"expected exactly one <h1>, found {h1_count}")
    problems += [f"field without a label: {html}" for html in page.evaluate(_UNLABELLED_FIELDS_JS)]
    # Keyboard focus: start from the top of the document and tab through the first stops.
    # (A page reached by a link to one of its parts, /meetings/1#decisions, starts tabbing
    # from that part: focusing a throwaway element at the top moves the start back there.)
    page.evaluate(_FOCUS_TOP_JS)
    page.evaluate("window.getSelection().removeAllRanges()")
    # A short page (a phone's collapsed menu and an empty list) may have fewer stops than that.
    tabs = min(tabs, page.evaluate(_TABBABLE_COUNT_JS))
    trail = []
    for step in range(1, tabs + 1):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUS_STATE_JS)
        trail.append(state["element"] if state else "(nothing)")
        if state is None:
            problems.append(f"Tab #{step} focused nothing; focus went: " + " -> ".join(trail))
        elif not state["visible"]:
            problems.append(
                f"Tab #{step}: no visible focus on {state['element']} "
                f"(outline {state['outline']}, box-shadow {state['boxShadow']})"
            )
    return problems


def check_accessibility(page: Page) -> None:
    """Assert the accessibility basics on the page as it is now (see accessibility_problems)."""
    problems = accessibility_problems(page)
    assert not problems, f"accessibility problems on {page.url}:\n" + "\n".join(problems)
