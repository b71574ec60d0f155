"""The office's year: the training plan's targets (年度培训计划), class plans under review
(审核培训计划) and needs surveys (培训需求征集)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.scheduling.models import RouteTemplate, TrainingClass
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


# What a class's plan (培训方案) goes through: the organizer submits it, the office approves
# it or sends it back with comments; a change submitted again waits for review again.
PLAN_STATUSES = {
    "submitted": _l("待审核"),
    "approved": _l("已通过"),
    "returned": _l("已退回"),
}


class ClassPlan(db.Model):
    """A class's training plan for review (审核培训计划): one per class, submitted again after
    a return. The office may record an exemption from the ring-route rule with a reason."""

    __tablename__ = "class_plans"
    __table_args__ = (
        CheckConstraint("status IN ('submitted','approved','returned')", name="status"),
        CheckConstraint("size >= 1 AND size <= 2000", name="size_range"),
        CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    theme: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    # A published route template, or else a custom itinerary in words.
    template_id: Mapped[int | None] = mapped_column(ForeignKey("route_templates.id"))
    itinerary: Mapped[str] = mapped_column(Text, default="")
    comments: Mapped[str] = mapped_column(Text, default="")
    exemption_reason: Mapped[str] = mapped_column(Text, default="")
    exempted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    training_class: Mapped[TrainingClass] = relationship()
    template: Mapped[RouteTemplate | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(PLAN_STATUSES.get(self.status, self.status))


SURVEY_STATUSES = {"open": _l("征集中"), "closed": _l("已截止")}


class NeedsSurvey(db.Model):
    """A needs survey (培训需求征集) the office opens to sending units: the topics, formats and
    ranks it offers are lists of words, one a line; months are 1–12."""

    __tablename__ = "needs_surveys"
    __table_args__ = (
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        CheckConstraint("status IN ('open','closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(128))
    intro: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list] = mapped_column(JSON)
    formats: Mapped[list] = mapped_column(JSON)
    ranks: Mapped[list] = mapped_column(JSON)
    closes_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="survey", order_by="SurveyAnswer.id"
    )

    @property
    def status_label(self) -> str:
        return str(SURVEY_STATUSES.get(self.status, self.status))


class SurveyAnswer(db.Model):
    """A sending unit's answer (one per organizer account and survey, changed until it closes)."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("survey_id", "organizer_id", name="one_per_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("needs_surveys.id"), index=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit: Mapped[str] = mapped_column(String(128))
    topics: Mapped[list] = mapped_column(JSON)
    formats: Mapped[list] = mapped_column(JSON)
    months: Mapped[list] = mapped_column(JSON)
    # Cadres to train per rank offered: {"处级": 40, "科级": 120}.
    cadres: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    survey: Mapped[NeedsSurvey] = relationship(back_populates="answers")
