"""Fixtures of the evaluation tests: the demo with the finished class and its evaluations."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def eval_demo(app: Flask) -> Flask:
    from portal.demo import load_demo

    load_demo(season=["trainees", "evaluations"])
    return app
