"""Evaluations (教学评估 / 课程评估): criteria kept by the office, one evaluation per stop."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow

TARGETS = {"course": _l("课程"), "teacher": _l("授课教师"), "site": _l("教学点")}


class EvaluationCriterion(db.Model):
    """One question trainees answer with a score of 1–5 about a course, a teacher or a site."""

    __tablename__ = "evaluation_criteria"
    __table_args__ = (
        CheckConstraint("target IN ('course','teacher','site')", name="target"),
        UniqueConstraint("target", "label", name="uq_evaluation_criteria_target_label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def target_label(self) -> str:
        return str(TARGETS.get(self.target, self.target))


class Evaluation(db.Model):
    """A trainee's (a roster entry's) evaluation of one stop of their class.

    The stop is named by its first reservation; ``entry_id`` is kept only so that each
    trainee answers once (the unique constraint) and is never shown to anyone.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("entry_id", "reservation_id", name="uq_evaluations_entry_reservation"),
        Index("ix_evaluations_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="CASCADE"))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scores: Mapped[list[EvaluationScore]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )


class EvaluationScore(db.Model):
    """One criterion's score (1–5) in an evaluation."""

    __tablename__ = "evaluation_scores"
    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
        UniqueConstraint("evaluation_id", "criterion_id", name="uq_evaluation_scores_criterion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("evaluation_criteria.id"), index=True)
    score: Mapped[int]

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")
    criterion: Mapped[EvaluationCriterion] = relationship()


class EvaluationAlert(db.Model):
    """A low average the hosting member was told about: told once while it stays low."""

    __tablename__ = "evaluation_alerts"
    __table_args__ = (
        CheckConstraint("target IN ('course','teacher','site')", name="target"),
        UniqueConstraint("target", "item_id", name="uq_evaluation_alerts_target_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    average: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False))
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
