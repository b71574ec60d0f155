"""The booking burst of `make bench` (bench/run.py): attempts that can fit, several processes."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, time
from types import SimpleNamespace

import pytest

from bench import run
from portal.demo import load_demo
from portal.extensions import db
from tests.conftest import fresh_database_url, make_test_app


def fake_site(site_id: int, capacity: int, needs_guide: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        id=site_id,
        capacity=capacity,
        needs_guide=needs_guide,
        guide_count=2,
        session_minutes=90,
        open_weekdays="1234567",
        opens=time(9),
    )


def test_burst_attempts_mostly_fit_and_every_second_window_has_one_too_many():
    sites = [fake_site(1, 200), fake_site(2, 40), fake_site(3, 120, needs_guide=True)]
    drawn = run.burst_plans(sites, date(2030, 1, 1), 1000, random.Random(7))
    plans = drawn["plans"]
    assert len(plans) == 1000
    assert drawn["fitting"] >= 850  # most attempts can succeed
    by_id = {s.id: s for s in sites}
    asked: dict[tuple, list[int]] = defaultdict(list)
    for window, size in plans:
        asked[window].append(size)
    assert set(asked) == set(drawn["windows"])

    def fit(site, sizes: list[int]) -> bool:
        return sum(sizes) <= site.capacity and (
            not site.needs_guide or len(sizes) <= site.guide_count
        )

    contested = 0
    for window, sizes in asked.items():
        site = by_id[window[0]]
        if not fit(site, sizes):
            contested += 1
            # One class too many: without one of them, the others fit.
            assert any(fit(site, sizes[:i] + sizes[i + 1 :]) for i in range(len(sizes)))
    assert 0.3 < contested / len(asked) < 0.6  # about every second window


@pytest.mark.db
def test_a_burst_from_several_processes_books_what_fits_and_never_overbooks(tmp_path, monkeypatch):
    # bench/run.py sets these for the apps it makes; give them back afterwards.
    for key in ("DATABASE_URL", "FLASK_APP", "PORTAL_SECRET_KEY", "PORTAL_LOGIN_RATE_LIMIT"):
        monkeypatch.setenv(key, "")
    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.remove()
            db.engine.dispose()
        result = run.burst(url, 40, random.Random(3), workers=2, threads=2)
        assert result["errors"] == 0, result["first_errors"]
        assert result["booked"] + result["refused"] == 40
        assert result["booked"] >= result["fitting"] - 10  # contested windows refuse one each
        assert result["confirmed_reservations"] == result["booked"]  # auto-confirming sites
        assert result["fullest_window"] <= 1.0
        assert result["overbooked"] == {"windows_over_capacity_or_guides": 0, "teacher_clashes": 0}
        assert (result["workers"], result["threads"]) == (2, 2)
