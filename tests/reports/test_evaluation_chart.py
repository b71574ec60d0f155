"""The evaluation-average charts of the report: hand-made answers, the minimum, the scope."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import Teacher
from portal.evaluations.models import Evaluation, EvaluationCriterion, EvaluationScore
from portal.extensions import db
from portal.reports.charts import charts, evaluation_averages
from portal.reports.period import Scope, year_period
from portal.scheduling.models import Booking, Reservation
from portal.scheduling.settings import setting
from portal.trainees.models import RosterEntry
from tests.conftest import login
from tests.reports.conftest import utc

pytestmark = pytest.mark.db


def evaluate(year, klass, site, scores, *, when, teacher=None):
    """One evaluation per (site score, teacher score) of ``scores`` on the class's stop."""
    reservation = db.session.scalar(
        select(Reservation)
        .join(Booking, Booking.id == Reservation.booking_id)
        .where(Booking.class_id == klass.id, Reservation.site_id == site.id)
        .order_by(Reservation.id)
    )
    criteria = {}
    for target in ("site", "teacher"):
        criteria[target] = db.session.scalar(
            select(EvaluationCriterion).where(EvaluationCriterion.target == target)
        ) or EvaluationCriterion(target=target, label=f"测试{target}", position=99)
        db.session.add(criteria[target])
    db.session.flush()
    for number, (site_score, teacher_score) in enumerate(scores):
        user = User(
            username=f"t{klass.id}-{site.id}-{number}",
            display_name="学员",
            role="trainee",
            password_hash="x",
        )
        db.session.add(user)
        db.session.flush()
        entry = RosterEntry(
            class_id=klass.id, user_id=user.id, name=f"学员{number}", phone=f"1390000{number:04d}"
        )
        db.session.add(entry)
        db.session.flush()
        evaluation = Evaluation(
            class_id=klass.id,
            entry_id=entry.id,
            reservation_id=reservation.id,
            site_id=site.id,
            member_id=site.member_id,
            teacher_id=teacher.id if teacher else None,
            created_at=when[number] if isinstance(when, list) else when,
        )
        db.session.add(evaluation)
        db.session.flush()
        db.session.add(
            EvaluationScore(
                evaluation_id=evaluation.id, criterion_id=criteria["site"].id, score=site_score
            )
        )
        if teacher is not None:
            db.session.add(
                EvaluationScore(
                    evaluation_id=evaluation.id,
                    criterion_id=criteria["teacher"].id,
                    score=teacher_score,
                )
            )
    db.session.commit()


@pytest.fixture
def evaluated(year):
    minimum = setting("evaluation_min_answers")
    teacher = db.session.scalar(select(Teacher).where(Teacher.name == "甲"))
    # Site A: `minimum` answers in 2025 (one score 2, the rest 4), and one more on New Year's
    # Eve in Shanghai (2024 local) that must not count.
    scores = [(2, 5)] + [(4, 3)] * (minimum - 1)
    evaluate(year, year["c1"], year["site_a"], scores, when=utc(2025, 8, 1), teacher=teacher)
    evaluate(year, year["c3"], year["site_a"], [(1, 1)], when=utc(2024, 12, 31, 15, 30))
    # Site B: fewer answers than the minimum: not shown.
    evaluate(year, year["c3"], year["site_b"], [(5, 5)] * (minimum - 1), when=utc(2025, 6, 1))
    return {**year, "teacher": teacher, "minimum": minimum}


def test_averages_need_the_minimum_and_stay_in_the_period(evaluated):
    minimum = evaluated["minimum"]
    site_avg = round((2 + 4 * (minimum - 1)) / minimum, 2)
    teacher_avg = round((5 + 3 * (minimum - 1)) / minimum, 2)
    period = year_period(2025)
    assert evaluation_averages(period, Scope(None), "site") == [
        (evaluated["site_a"].name, site_avg, minimum)
    ]
    assert evaluation_averages(period, Scope(None), "teacher") == [("甲", teacher_avg, minimum)]
    assert evaluation_averages(period, Scope(evaluated["a"]), "site") == [
        (evaluated["site_a"].name, site_avg, minimum)
    ]
    # Member B's site has too few answers; 2024 holds one answer only.
    assert evaluation_averages(period, Scope(evaluated["b"]), "site") == []
    assert evaluation_averages(year_period(2024), Scope(None), "site") == []


def _svg(url: str) -> str:
    return base64.b64decode(url.split(",", 1)[1]).decode()


def test_charts_render_with_and_without_data(evaluated):
    drawn = charts(year_period(2025), Scope(None))
    site_svg = _svg(drawn["evaluations_site"])
    assert "<svg" in site_svg and evaluated["site_a"].name in site_svg
    assert "甲" in _svg(drawn["evaluations_teacher"])
    empty = charts(year_period(2024), Scope(evaluated["b"]))
    assert "暂无达到最少评价数的评估" in _svg(empty["evaluations_site"])
    assert "暂无达到最少评价数的评估" in _svg(empty["evaluations_teacher"])


def test_report_page_shows_the_evaluation_charts(evaluated, client):
    login(client, "office")
    html = client.get("/reports/?year=2025").get_data(as_text=True)
    assert 'data-testid="evaluations-site-chart"' in html
    assert 'data-testid="evaluations-teacher-chart"' in html
