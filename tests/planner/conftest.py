"""Fixtures of the planner tests."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def planner_app(demo: Flask) -> Flask:
    """The demo consortium; the solver uses one worker (the test machine is shared)."""
    demo.config["PLANNER_WORKERS"] = 1
    return demo
