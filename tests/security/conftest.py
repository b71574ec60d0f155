"""Fixtures of the security tests (builders in support.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.security.support import build_world


@pytest.fixture
def world(demo: Flask) -> dict[str, Any]:
    """The demo consortium plus objects of members A and B and organizers A and B (ids)."""
    return build_world()
