"""Fixtures of the attendance tests."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def attendance_demo(app: Flask) -> Flask:
    """The demo with the class under way and its attendance (supervisors, marks, leave)."""
    from portal.demo import load_demo

    load_demo(season=["trainees", "attendance"])
    return app
