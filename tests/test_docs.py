"""The plugin API stays documented and tested: every hook has a heading and a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal import hookspecs

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
TEST_SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))


@pytest.mark.parametrize("hook", hookspecs.hook_names())
def test_hook_is_documented_in_the_plugin_guide(hook):
    assert re.search(rf"^### `{hook}\(", GUIDE, re.M), f"docs/plugins.md has no heading for {hook}"


@pytest.mark.parametrize("hook", hookspecs.hook_names())
def test_hook_has_a_docstring_with_an_example(hook):
    doc = hookspecs.spec_docstring(hook)
    assert "Example::" in doc


@pytest.mark.parametrize("hook", hookspecs.hook_names())
def test_hook_has_its_own_test(hook):
    assert re.search(rf"def test_hook_{hook}(_\w+)?\(", TEST_SOURCES), f"no test_hook_{hook} test"


def test_guide_names_no_hook_that_does_not_exist():
    documented = set(re.findall(r"^### `(portal_\w+)\(", GUIDE, re.M))
    assert documented == set(hookspecs.hook_names())
