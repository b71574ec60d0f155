"""The dynamic site directory (教学点目录动态管理): entering, assessment, warnings, supervision.

A teaching site (``portal.catalog.models.TeachingSite``) carries two marks: ``admission``
(proposed → admitted / returned, see ``SiteProposal``) and ``status`` (启用 / 暂停 / 退出).
Only a site that is admitted and active takes bookings. Every step of a site's life in the
directory is kept in ``DirectoryEvent``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models import SiteAssessment, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

EVENT_ACTIONS = {
    "propose": _l("提交入录申请"),
    "admit": _l("审核通过入录"),
    "return": _l("退回申请"),
    "change_request": _l("申请变更容量或开放时间"),
    "change_approve": _l("同意变更"),
    "change_reject": _l("不同意变更"),
    "assess": _l("年度考核"),
    "warn": _l("发出整改通知"),
    "fixed": _l("整改完成"),
    "suspend": _l("暂停"),
    "reinstate": _l("恢复启用"),
    "exit": _l("退出目录"),
    "finding": _l("督查发现问题"),
}

PROPOSAL_DECISIONS = {"pending": _l("待审核"), "admitted": _l("已通过"), "returned": _l("已退回")}
CHANGE_STATUSES = {"pending": _l("待审核"), "approved": _l("已同意"), "rejected": _l("未同意")}
WARNING_STATUSES = {
    "open": _l("整改中"),
    "fixed": _l("已整改"),
    "suspended": _l("逾期暂停"),
}
BOOKING_CHOICES = {"keep": _l("保留已有预约"), "cancel": _l("取消已有预约并通知")}
FINDING_STATUSES = {"open": _l("待整改"), "done": _l("已整改")}


class SiteProposal(db.Model):
    """A member's request that a site enter the directory, and the office's review of it."""

    __tablename__ = "site_proposals"
    __table_args__ = (
        CheckConstraint("decision IN ('pending','admitted','returned')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_sites.id", ondelete="CASCADE"), index=True
    )
    materials: Mapped[str] = mapped_column(Text, default="")
    safety_notes: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[TeachingSite] = relationship()

    @property
    def decision_label(self) -> str:
        return str(PROPOSAL_DECISIONS.get(self.decision, self.decision))


class SiteChangeRequest(db.Model):
    """A change of capacity or opening hours held for the office's review (when required).

    ``values`` holds the new values as stored (times as "HH:MM"); ``changes`` maps each
    field to ``[old, new]`` as shown.
    """

    __tablename__ = "site_change_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_sites.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[TeachingSite] = relationship()

    @property
    def status_label(self) -> str:
        return str(CHANGE_STATUSES.get(self.status, self.status))


class DirectoryEvent(db.Model):
    """One step in a site's life in the directory, with its reason and dates."""

    __tablename__ = "directory_events"
    __table_args__ = (Index("ix_directory_events_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def action_label(self) -> str:
        return str(EVENT_ACTIONS.get(self.action, self.action))


class AssessmentCriterion(db.Model):
    """A criterion of the yearly assessment, with its weight (the office keeps them)."""

    __tablename__ = "assessment_criteria"
    __table_args__ = (CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    weight: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CriterionScore(db.Model):
    """The score (0–100) of one criterion in a site's yearly assessment, with notes."""

    __tablename__ = "criterion_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "criterion_id", name="uq_criterion_scores_pair"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("site_assessments.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("assessment_criteria.id"))
    # The weight when the score was given: changing a weight later leaves old totals as they were.
    weight: Mapped[int]
    score: Mapped[float] = mapped_column(Numeric(4, 1, asdecimal=False))
    notes: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[SiteAssessment] = relationship()
    criterion: Mapped[AssessmentCriterion] = relationship()


class SiteWarning(db.Model):
    """A rectification notice (整改通知) with a deadline; suspension follows if not fixed."""

    __tablename__ = "site_warnings"
    __table_args__ = (
        CheckConstraint("status IN ('open','fixed','suspended')", name="status"),
        CheckConstraint("on_suspend IN ('keep','cancel')", name="on_suspend"),
        CheckConstraint("issued_on <= due_on", name="ordered"),
        Index("ix_site_warnings_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_sites.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    # What happens to the site's bookings if it is suspended for not fixing in time.
    on_suspend: Mapped[str] = mapped_column(String(8), default="keep")
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[TeachingSite] = relationship()

    @property
    def status_label(self) -> str:
        return str(WARNING_STATUSES.get(self.status, self.status))

    def overdue_on(self, today: date) -> bool:
        return self.status == "open" and self.due_on < today


class SupervisionVisit(db.Model):
    """A supervision visit (调研督查) the office plans to members and their sites."""

    __tablename__ = "supervision_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    planned_on: Mapped[date]
    purpose: Mapped[str] = mapped_column(Text, default="")
    # Site ids visited, in the order planned (members follow from the sites).
    site_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    findings: Mapped[list[SupervisionFinding]] = relationship(
        back_populates="visit", order_by="SupervisionFinding.id", cascade="all, delete-orphan"
    )


class SupervisionFinding(db.Model):
    """A finding of a visit at one site, the fix assigned to its member and its deadline."""

    __tablename__ = "supervision_findings"
    __table_args__ = (
        CheckConstraint("status IN ('open','done')", name="status"),
        Index("ix_supervision_findings_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_visits.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    fix: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(8), default="open")
    done_note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An optional photo, re-encoded by portal.catalog.photos (names the portal made).
    photo_name: Mapped[str | None] = mapped_column(String(64))
    thumb_name: Mapped[str | None] = mapped_column(String(64))
    # When the daily sweep told the member the fix is overdue (once: a conditional UPDATE).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[SupervisionVisit] = relationship(back_populates="findings")
    site: Mapped[TeachingSite] = relationship()
    member: Mapped[Member] = relationship()

    @property
    def status_label(self) -> str:
        return str(FINDING_STATUSES.get(self.status, self.status))

    def overdue_on(self, today: date) -> bool:
        return self.status == "open" and self.due_on < today
