"""Season planner: seasons, the classes' requests, planner runs and their proposed items."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.scheduling.models import Booking, RouteTemplate, TrainingClass
from portal.timeutil import UTCDateTime, utcnow

SEASON_STATUSES = {"open": _l("征集中"), "closed": _l("已结束")}
REQUEST_STATUSES = {"submitted": _l("已提交"), "withdrawn": _l("已撤回"), "booked": _l("已预约")}
OUTCOMES = {"": "", "booked": _l("已预约"), "conflict": _l("预约冲突")}
SOLVER_STATUSES = {
    "OPTIMAL": _l("已证明最优"),
    "FEASIBLE": _l("可行（未证明最优）"),
    "INFEASIBLE": _l("无可行方案"),
    "UNKNOWN": _l("时限内未找到方案"),
    "MODEL_INVALID": _l("模型错误"),
    "EMPTY": _l("没有可安排的请求"),
}


class PlanSeason(db.Model):
    """A season the office plans as a whole (e.g. spring 2027): organizers send requests."""

    __tablename__ = "plan_seasons"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        CheckConstraint("time_limit >= 1 AND time_limit <= 600", name="time_limit_range"),
        CheckConstraint("status IN ('open','closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")
    # Seconds the solver may run for this season (the office can change it per run).
    time_limit: Mapped[int] = mapped_column(default=30)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requests: Mapped[list[PlanRequest]] = relationship(
        back_populates="season", order_by="PlanRequest.id"
    )

    @property
    def status_label(self) -> str:
        return str(SEASON_STATUSES.get(self.status, self.status))


class PlanRequest(db.Model):
    """An organizer's request to place one class in a season, with what is acceptable."""

    __tablename__ = "plan_requests"
    __table_args__ = (
        CheckConstraint("size >= 1 AND size <= 2000", name="size_range"),
        CheckConstraint("days >= 0 AND days <= 30", name="days_range"),
        CheckConstraint("status IN ('submitted','withdrawn','booked')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("plan_seasons.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id"), index=True)
    size: Mapped[int]
    # Acceptable start dates with a preference 1 (acceptable) … 5 (preferred):
    # [["2027-04-06", 5], ["2027-04-07", 3], …]
    dates: Mapped[list] = mapped_column(JSON, default=list)
    # Acceptable route templates (ids), the number of days wanted (0: any).
    template_ids: Mapped[list] = mapped_column(JSON, default=list)
    days: Mapped[int] = mapped_column(default=0)
    must_sites: Mapped[list] = mapped_column(JSON, default=list)
    avoid_sites: Mapped[list] = mapped_column(JSON, default=list)
    squads_allowed: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    # The office's hand: a placement the planner must keep, or the request left out.
    pinned_date: Mapped[date | None]
    pinned_template_id: Mapped[int | None] = mapped_column(ForeignKey("route_templates.id"))
    excluded: Mapped[bool] = mapped_column(default=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    season: Mapped[PlanSeason] = relationship(back_populates="requests")
    training_class: Mapped[TrainingClass] = relationship()
    pinned_template: Mapped[RouteTemplate | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(REQUEST_STATUSES.get(self.status, self.status))

    @property
    def date_prefs(self) -> dict[date, int]:
        return {date.fromisoformat(day): int(pref) for day, pref in self.dates or []}


class PlanRun(db.Model):
    """One run of the planner over a season: the solver's answer and how good it is."""

    __tablename__ = "plan_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running','proposed','accepted','failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("plan_seasons.id"), index=True)
    # running (the solver works in the background) → proposed → accepted; or failed.
    status: Mapped[str] = mapped_column(String(16), default="running")
    message: Mapped[str] = mapped_column(Text, default="")
    solver_status: Mapped[str] = mapped_column(String(16), default="")
    objective: Mapped[float] = mapped_column(default=0.0)
    bound: Mapped[float] = mapped_column(default=0.0)
    gap: Mapped[float] = mapped_column(default=0.0)
    requests: Mapped[int] = mapped_column(default=0)
    placed: Mapped[int] = mapped_column(default=0)
    placed_trainees: Mapped[int] = mapped_column(default=0)
    candidates: Mapped[int] = mapped_column(default=0)
    # For comparison: what booking in submission order would have placed.
    fcfs_placed: Mapped[int] = mapped_column(default=0)
    fcfs_trainees: Mapped[int] = mapped_column(default=0)
    # The most trainees any plan could seat, as proven by the solver (0: unknown, or pins).
    trainee_bound: Mapped[int] = mapped_column(default=0)
    time_limit: Mapped[int] = mapped_column(default=30)
    seconds: Mapped[float] = mapped_column(default=0.0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    season: Mapped[PlanSeason] = relationship()
    items: Mapped[list[PlanItem]] = relationship(
        back_populates="run", order_by="PlanItem.id", cascade="all, delete-orphan"
    )

    @property
    def solver_label(self) -> str:
        return str(SOLVER_STATUSES.get(self.solver_status, self.solver_status))


class PlanItem(db.Model):
    """A request's place in a run's plan: a start date and route (and squads), or why not."""

    __tablename__ = "plan_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("plan_requests.id"), index=True)
    start_date: Mapped[date | None]
    template_id: Mapped[int | None] = mapped_column(ForeignKey("route_templates.id"))
    squads: Mapped[int] = mapped_column(default=1)
    preference: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    outcome: Mapped[str] = mapped_column(String(16), default="")
    outcome_message: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[PlanRun] = relationship(back_populates="items")
    request: Mapped[PlanRequest] = relationship()
    template: Mapped[RouteTemplate | None] = relationship()
    booking: Mapped[Booking | None] = relationship()

    @property
    def placed(self) -> bool:
        return self.start_date is not None and self.template_id is not None

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES.get(self.outcome, self.outcome))
