"""Fixtures of the certificate tests: the demo with the finished class and its certificates."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def cert_demo(app: Flask) -> Flask:
    from portal.demo import load_demo

    load_demo(season=["trainees", "attendance", "evaluations", "certificates"])
    return app
