"""The test tree's own rules."""

from collections import Counter
from pathlib import Path

SHARED = {"__init__.py", "conftest.py", "helpers.py"}


def test_test_modules_have_names_no_other_area_uses():
    """pytest imports test modules by their basename (no packages under tests/): two areas'
    ``test_pages.py`` stop the whole run at collection."""
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert not {name for name, count in names.items() if count > 1 and name not in SHARED}
