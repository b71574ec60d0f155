"""The year's training plan (年度培训计划): targets the office sets, compared with what is held."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class PlanTarget(db.Model):
    """One line of a year's plan: "专业能力培训班 56 期", optionally narrowed to classes of a
    kind, an origin or a theme (a word of the class's theme), with a number of trainees; or
    a rotation target ("处级领导干部轮训一遍"): the cadres it covers and a word of their rank,
    against the distinct trainees of that rank on the rosters of the year's classes."""

    __tablename__ = "plan_targets"
    __table_args__ = (
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        CheckConstraint("planned_classes >= 1 AND planned_classes <= 10000", name="classes_range"),
        CheckConstraint(
            "planned_trainees IS NULL OR (planned_trainees >= 1 AND planned_trainees <= 1000000)",
            name="trainees_range",
        ),
        CheckConstraint(
            "cadres IS NULL OR (cadres >= 1 AND cadres <= 1000000)", name="cadres_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    label: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="")
    origin: Mapped[str] = mapped_column(String(16), default="")
    theme: Mapped[str] = mapped_column(String(32), default="")
    planned_classes: Mapped[int]
    planned_trainees: Mapped[int | None]
    # A rotation target (轮训一遍): the cadres it covers, and a word of their rank ("处级").
    cadres: Mapped[int | None]
    rank: Mapped[str] = mapped_column(String(32), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
