"""Fixtures of the trainee tests."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def trainee_demo(app: Flask) -> Flask:
    """The whole demo, as `flask portal load-demo` loads it: the class under way, the run."""
    from portal.demo import load_demo

    load_demo(season=["trainees"])
    return app
