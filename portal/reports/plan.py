"""The year's plan against what is held: targets the office records, progress through the year.

A target counts the classes held in its year (as the report's ``classes`` figure: starting
in the year, not cancelled, not study visits) that match its kind, origin and theme word,
if set. "So far" counts those that started by today; "registered" all of the year's, the
ones still to come included. A rotation target (轮训一遍) also counts the people on the
rosters of the classes held so far whose rank contains its word, each person once, against
the cadres it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.audit.services import record
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.reports.figures import held_classes
from portal.reports.models import PlanTarget
from portal.reports.period import Scope, year_period
from portal.scheduling.models import CLASS_KINDS, ORIGINS, TrainingClass
from portal.timeutil import within_range
from portal.trainees.models import RosterEntry


def require_office(actor: Any) -> None:
    if not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以制定年度培训计划。"))


def validate_target(values: dict[str, Any]) -> dict[str, Any]:
    """Checked values of a target, or ValidationFailed naming each wrong field in Chinese."""
    errors: dict[str, str] = {}
    year = values.get("year")
    if not isinstance(year, int) or not within_range(date(min(max(year, 1), 9999), 1, 1)):
        errors["year"] = _("年份须在 2000 至 2100 之间。")
    label = (values.get("label") or "").strip()
    if not label:
        errors["label"] = _("请填写计划项目，例如“专业能力培训班”。")
    elif len(label) > 128:
        errors["label"] = _("计划项目最多 128 个字。")
    kind = values.get("kind") or ""
    if kind and kind not in CLASS_KINDS:
        errors["kind"] = _("请选择培训班类别。")
    origin = values.get("origin") or ""
    if origin and origin not in ORIGINS:
        errors["origin"] = _("请选择学员来源。")
    theme = (values.get("theme") or "").strip()
    if len(theme) > 32:
        errors["theme"] = _("主题关键词最多 32 个字。")
    classes = values.get("planned_classes")
    if not isinstance(classes, int) or not 1 <= classes <= 10000:
        errors["planned_classes"] = _("计划期数须在 1 至 10000 之间。")
    trainees = values.get("planned_trainees")
    if trainees is not None and (not isinstance(trainees, int) or not 1 <= trainees <= 1000000):
        errors["planned_trainees"] = _("计划人数须在 1 至 1000000 之间，或不填。")
    cadres = values.get("cadres")
    if cadres is not None and (not isinstance(cadres, int) or not 1 <= cadres <= 1000000):
        errors["cadres"] = _("轮训对象人数须在 1 至 1000000 之间，或不填。")
    rank = (values.get("rank") or "").strip()
    if len(rank) > 32:
        errors["rank"] = _("职级关键词最多 32 个字。")
    elif rank and cadres is None:
        errors["cadres"] = _("轮训目标须填写轮训对象人数。")
    if errors:
        raise ValidationFailed(errors)
    return {
        "cadres": cadres,
        "rank": rank,
        "year": year,
        "label": label,
        "kind": kind,
        "origin": origin,
        "theme": theme,
        "planned_classes": classes,
        "planned_trainees": trainees,
    }


def add_target(actor: Any, values: dict[str, Any]) -> PlanTarget:
    require_office(actor)
    target = PlanTarget(**validate_target(values), created_by_id=actor.id)
    db.session.add(target)
    db.session.flush()
    record(actor, "plan.add", f"{target.year} {target.label}", planned=target.planned_classes)
    return target


def delete_target(actor: Any, target_id: int) -> None:
    require_office(actor)
    target = db.session.get(PlanTarget, target_id)
    if target is None:
        raise NotFound(_("没有这个计划项目。"))
    record(actor, "plan.delete", f"{target.year} {target.label}")
    db.session.delete(target)


@dataclass
class Progress:
    target: PlanTarget
    held: int  # started by today
    held_trainees: int
    registered: int  # the whole year's, those to come included
    covered: int | None = None  # a rotation target: distinct trainees of the rank so far

    @property
    def coverage(self) -> int | None:
        if self.covered is None or not self.target.cadres:
            return None
        return round(100 * self.covered / self.target.cadres)

    @property
    def percent(self) -> int:
        return round(100 * self.held / self.target.planned_classes)

    @property
    def filters(self) -> str:
        parts = []
        if self.target.kind:
            parts.append(str(CLASS_KINDS.get(self.target.kind, self.target.kind)))
        if self.target.origin:
            parts.append(str(ORIGINS.get(self.target.origin, self.target.origin)))
        if self.target.theme:
            parts.append(_("主题含“%(word)s”", word=self.target.theme))
        if self.target.rank:
            parts.append(_("职级含“%(word)s”", word=self.target.rank))
        return "、".join(parts) or _("全部培训班")


def matching(target: PlanTarget):
    query = held_classes(year_period(target.year), Scope(None))
    if target.kind:
        query = query.where(TrainingClass.kind == target.kind)
    if target.origin:
        query = query.where(TrainingClass.origin == target.origin)
    if target.theme:
        query = query.where(TrainingClass.theme.contains(target.theme, autoescape=True))
    return query


def progress(year: int, today: date) -> list[Progress]:
    """Each target of ``year`` with the classes held so far and registered, and for a
    rotation target the distinct trainees of its rank on their rosters. Up to three queries
    each."""
    targets = list(
        db.session.scalars(
            select(PlanTarget).where(PlanTarget.year == year).order_by(PlanTarget.id)
        )
    )
    out = []
    for target in targets:
        sub = matching(target).subquery()
        so_far = sub.c.starts_on <= today
        held, trainees = db.session.execute(
            select(
                func.count().filter(so_far),
                func.coalesce(func.sum(sub.c.size).filter(so_far), 0),
            )
        ).one()
        registered = db.session.scalar(select(func.count()).select_from(sub)) or 0
        covered = None
        if target.cadres:
            people = select(func.count(func.distinct(RosterEntry.user_id))).where(
                RosterEntry.class_id.in_(select(sub.c.id).where(so_far))
            )
            if target.rank:
                people = people.where(RosterEntry.rank.contains(target.rank, autoescape=True))
            covered = db.session.scalar(people) or 0
        out.append(Progress(target, held or 0, int(trainees or 0), registered, covered))
    return out
