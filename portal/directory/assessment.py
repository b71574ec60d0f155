"""The yearly assessment (考核) of a site by weighted criteria, and the inputs the portal has.

The office keeps the criteria and their weights (``AssessmentCriterion``, defaults seeded by
``ensure_criteria``). An assessment stores one score (0–100) per criterion with notes, and
the weighted total as the catalogue's yearly score (``SiteAssessment.score``), so the
catalogue's lists and sorting by score keep working.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.catalog import services as catalog
from portal.catalog.models import SiteAssessment, TeachingSite
from portal.directory.models import AssessmentCriterion, CriterionScore, SupervisionFinding
from portal.directory.services import log, require_office, text
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.scheduling.models import Booking, Reservation
from portal.timeutil import LOCAL_TZ

# Seeded when the office first opens the criteria (weights add up to 100).
DEFAULT_CRITERIA = (
    ("teaching_quality", "教学质量", 30),
    ("facilities", "设施条件", 20),
    ("guide_service", "讲解服务", 20),
    ("safety", "安全管理", 15),
    ("use", "使用情况", 15),
)
# A confirmation later than this after the booking was made counts as late.
LATE_CONFIRMATION = timedelta(days=3)


def ensure_criteria() -> list[AssessmentCriterion]:
    """The criteria in order, seeding the defaults the first time. The caller commits."""
    rows = list(
        db.session.scalars(select(AssessmentCriterion).order_by(AssessmentCriterion.position))
    )
    if not rows:
        rows = [
            AssessmentCriterion(key=key, name=name, weight=weight, position=i)
            for i, (key, name, weight) in enumerate(DEFAULT_CRITERIA)
        ]
        db.session.add_all(rows)
        db.session.flush()
    return rows


def active_criteria() -> list[AssessmentCriterion]:
    return [c for c in ensure_criteria() if c.active]


def save_weights(actor: Any, weights: dict[int, Any]) -> None:
    """The office sets the weights (whole numbers 0–100 adding up to 100; 0 turns a
    criterion off)."""
    require_office(actor)
    criteria = ensure_criteria()
    errors, parsed = {}, {}
    for criterion in criteria:
        value = weights.get(criterion.id, criterion.weight)
        if isinstance(value, str):
            value = value.strip()
            value = int(value) if value.isascii() and value.isdigit() and len(value) <= 3 else None
        if not isinstance(value, int) or not 0 <= value <= 100:
            errors[f"weight_{criterion.id}"] = _("权重须为 0 到 100 的整数。")
        else:
            parsed[criterion.id] = value
    if not errors and sum(parsed.values()) != 100:
        errors["weights"] = _("各项权重之和须为 100（现为 %(sum)s）。", sum=sum(parsed.values()))
    if errors:
        raise ValidationFailed(errors)
    for criterion in criteria:
        criterion.weight = parsed[criterion.id]
        criterion.active = parsed[criterion.id] > 0


def weighted_total(scores: list[tuple[float, int]]) -> float:
    weight = sum(w for _s, w in scores)
    if not weight:
        return 0.0
    return round(sum(s * w for s, w in scores) / weight, 1)


def record(
    site: TeachingSite,
    actor: Any,
    year: int,
    scores: dict[int, tuple[Any, str]],
    remarks: str = "",
) -> SiteAssessment:
    """The office's assessment of a site for a year: a score and notes per active criterion.

    Recording a year again replaces its scores. The caller commits.
    """
    require_office(actor)
    errors: dict[str, str] = {}
    given: list[tuple[AssessmentCriterion, float, str]] = []
    for criterion in active_criteria():
        score, notes = scores.get(criterion.id, (None, ""))
        try:
            value = float(score)
        except (TypeError, ValueError):
            value = math.nan
        if math.isnan(value) or not 0 <= value <= 100:
            errors[f"score_{criterion.id}"] = _(
                "%(name)s：分数须在 0 到 100 之间。", name=criterion.name
            )
            continue
        try:
            notes = text(notes, f"notes_{criterion.id}")
        except ValidationFailed as error:
            errors.update(error.errors)
            continue
        given.append((criterion, round(value, 1), notes))
    if errors:
        raise ValidationFailed(errors)
    total = weighted_total([(s, c.weight) for c, s, _n in given])
    assessment = catalog.record_assessment(site, actor, year, total, remarks)
    db.session.flush()
    existing = {
        s.criterion_id: s
        for s in db.session.scalars(
            select(CriterionScore).where(CriterionScore.assessment_id == assessment.id)
        )
    }
    for criterion, value, notes in given:
        row = existing.pop(criterion.id, None) or CriterionScore(
            assessment_id=assessment.id, criterion_id=criterion.id
        )
        row.weight, row.score, row.notes = criterion.weight, value, notes
        db.session.add(row)
    for stale in existing.values():
        db.session.delete(stale)
    log(site, "assess", actor, remarks, year=year, total=total)
    return assessment


def scores_of(assessment: SiteAssessment) -> list[CriterionScore]:
    return list(
        db.session.scalars(
            select(CriterionScore)
            .join(CriterionScore.criterion)
            .where(CriterionScore.assessment_id == assessment.id)
            .order_by(AssessmentCriterion.position)
        )
    )


@dataclass(frozen=True)
class Inputs:
    """What the portal knows of a site's year, shown beside the assessment."""

    visits: int  # bookings (batches) received
    trainees: int  # trainees received
    declines: int
    late_confirmations: int
    open_findings: int


def inputs(site: TeachingSite, year: int) -> Inputs:
    start = datetime.combine(datetime(year, 1, 1).date(), time(0), LOCAL_TZ)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), LOCAL_TZ)
    in_year = (
        Reservation.site_id == site.id,
        Reservation.starts_at >= start,
        Reservation.starts_at < end,
    )
    confirmed = (*in_year, Reservation.status == "confirmed")
    visits = db.session.scalar(
        select(func.count(func.distinct(Reservation.booking_id))).where(*confirmed)
    )
    trainees = db.session.scalar(
        select(func.coalesce(func.sum(Reservation.group_size), 0)).where(*confirmed)
    )
    declines = db.session.scalar(
        select(func.count()).where(*in_year, Reservation.status == "declined")
    )
    decided = db.session.execute(
        select(Reservation.decided_at, Booking.created_at)
        .join(Booking, Booking.id == Reservation.booking_id)
        .where(*confirmed, Reservation.decided_at.is_not(None))
    ).all()
    late = sum(1 for decided_at, made in decided if decided_at - made > LATE_CONFIRMATION)
    findings = db.session.scalar(
        select(func.count()).where(
            SupervisionFinding.site_id == site.id, SupervisionFinding.status == "open"
        )
    )
    return Inputs(
        int(visits or 0), int(trainees or 0), int(declines or 0), late, int(findings or 0)
    )
