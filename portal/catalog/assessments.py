"""The office's marks on catalogue items: yearly site assessments and the 精品课程 mark.

``record_assessment`` stores a site's score (0–100) for a year, replacing an earlier one
for the same year; ``assessments`` lists a site's scores newest first; ``set_excellent``
gives or takes a course's 精品课程 mark. Only the office may do either, and each change
goes into the item's history.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.history import display, record_change
from portal.catalog.models import Course, SiteAssessment, TeachingSite
from portal.catalog.permissions import require_office
from portal.catalog.validation import MAX_TEXT
from portal.errors import ValidationFailed
from portal.extensions import db


def record_assessment(
    site: TeachingSite, actor: Any, year: int, score: float, remarks: str
) -> SiteAssessment:
    """The office's yearly score (0–100) of a site; recording a year again replaces it."""
    require_office(actor)
    errors = {}
    if not isinstance(year, int) or not 2000 <= year <= date.today().year + 1:
        errors["year"] = _("请填写有效的年份。")
    if not isinstance(score, int | float) or math.isnan(score) or not 0 <= score <= 100:
        errors["score"] = _("分数须在 0 到 100 之间。")
    remarks = (remarks or "").strip()
    if len(remarks) > MAX_TEXT or "\x00" in remarks:
        errors["remarks"] = _("评语过长或包含无效字符。")
    if errors:
        raise ValidationFailed(errors)
    assessment = db.session.scalar(
        select(SiteAssessment).where(SiteAssessment.site_id == site.id, SiteAssessment.year == year)
    )
    old = display(assessment.score) if assessment else ""
    if assessment is None:
        assessment = SiteAssessment(site=site, year=year, score=score)
        db.session.add(assessment)
    assessment.score, assessment.remarks, assessment.assessed_by_id = score, remarks, actor.id
    record_change(site, "assess", actor, {str(year): [old, display(score)]}, remarks)
    return assessment


def assessments(site: TeachingSite) -> list[SiteAssessment]:
    return list(
        db.session.scalars(
            select(SiteAssessment)
            .where(SiteAssessment.site_id == site.id)
            .order_by(SiteAssessment.year.desc())
        )
    )


def set_excellent(course: Course, actor: Any, excellent: bool, reason: str = "") -> None:
    """The office gives or takes the 精品课程 mark."""
    require_office(actor)
    if course.excellent != excellent:
        record_change(
            course,
            "excellent",
            actor,
            {"excellent": [display(course.excellent), display(excellent)]},
            reason,
        )
        course.excellent = excellent
        course.edited_locally = True
