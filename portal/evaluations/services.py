"""Evaluations' rules: which stops a trainee may score, one answer each, aggregates, alerts.

Anonymity: an evaluation keeps its roster entry only so that each trainee answers once;
nothing here returns who answered. Teachers and members see averages (and counts) only;
the catalogue shows an average once ``evaluation_min_answers`` answers exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.evaluations.models import (
    TARGETS,
    Evaluation,
    EvaluationAlert,
    EvaluationCriterion,
    EvaluationScore,
)
from portal.extensions import db
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import Reservation, TrainingClass
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ
from portal.trainees.itinerary import Stop, class_stops
from portal.trainees.models import RosterEntry

# What the office starts from (教学评估 forms of party schools): target → criteria.
DEFAULT_CRITERIA: dict[str, list[str]] = {
    "course": ["教学内容针对性", "理论联系实际", "教学效果"],
    "teacher": ["备课充分、讲授清楚", "互动与答疑", "教风学风"],
    "site": ["现场组织与讲解", "教学设施与安全", "后勤保障"],
}
COMMENT_MAX = 1000
ITEM_MODELS = {"course": Course, "teacher": Teacher, "site": TeachingSite}


# ---------------------------------------------------------------- criteria


def ensure_criteria() -> None:
    """Write the default criteria if the office has none yet (demo, first answer, first edit)."""
    if db.session.scalar(select(EvaluationCriterion.id).limit(1)) is not None:
        return
    for target, labels in DEFAULT_CRITERIA.items():
        for position, label in enumerate(labels):
            db.session.add(EvaluationCriterion(target=target, label=label, position=position))
    db.session.flush()


def criteria(target: str | None = None, *, active_only: bool = True) -> list[EvaluationCriterion]:
    """The criteria (defaults, unsaved, until the office or the first answer writes them)."""
    query = select(EvaluationCriterion).order_by(
        EvaluationCriterion.target, EvaluationCriterion.position, EvaluationCriterion.id
    )
    if active_only:
        query = query.where(EvaluationCriterion.active.is_(True))
    if target:
        query = query.where(EvaluationCriterion.target == target)
    found = list(db.session.scalars(query))
    if not found and db.session.scalar(select(EvaluationCriterion.id).limit(1)) is None:
        found = [
            EvaluationCriterion(target=t, label=label, position=i, active=True)
            for t, labels in DEFAULT_CRITERIA.items()
            if target in (None, t)
            for i, label in enumerate(labels)
        ]
    return found


def save_criteria(actor: Any, lines: Mapping[str, str]) -> None:
    """The office sets each target's criteria, one per line. Kept labels keep their scores;
    a label left out is retired (its past scores still count); a new one is added."""
    if actor is None or not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以设置评估指标。"))
    wanted: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    for target in TARGETS:
        labels: list[str] = []
        for line in (lines.get(target) or "").splitlines():
            label = " ".join(line.split())
            if label and label not in labels:
                labels.append(label)
        if not labels:
            errors[target] = _("请至少填写一项评估指标。")
        elif len(labels) > 10:
            errors[target] = _("每类最多 10 项评估指标。")
        elif any(len(label) > 64 or "\x00" in label for label in labels):
            errors[target] = _("每项评估指标不超过 64 个字。")
        wanted[target] = labels
    if errors:
        raise ValidationFailed(errors)
    ensure_criteria()
    existing = {(c.target, c.label): c for c in db.session.scalars(select(EvaluationCriterion))}
    for target, labels in wanted.items():
        for criterion in existing.values():
            if criterion.target == target and criterion.label not in labels:
                criterion.active = False
        for position, label in enumerate(labels):
            criterion = existing.get((target, label))
            if criterion is None:
                criterion = EvaluationCriterion(target=target, label=label)
                db.session.add(criterion)
            criterion.position, criterion.active = position, True
    record(actor, "evaluation.criteria", _("评估指标"))


# ---------------------------------------------------------------- the trainee's side


@dataclass
class Answerable:
    """A stop of the trainee's class and whether it can be (or was) evaluated."""

    stop: Stop
    reservation_id: int
    ended: bool
    answered: bool


def stop_key(stop: Stop) -> int:
    """The reservation that names a stop (squads of one stop are one stop to a trainee)."""
    return min(stop.reservation_ids)


def answerable_stops(
    training_class: TrainingClass, entry: RosterEntry, now: datetime | None = None
) -> list[Answerable]:
    now = now or datetime.now(LOCAL_TZ)
    done = set(
        db.session.scalars(select(Evaluation.reservation_id).where(Evaluation.entry_id == entry.id))
    )
    return [
        Answerable(stop, stop_key(stop), stop.ends <= now, stop_key(stop) in done)
        for stop in class_stops(training_class, entry)
        if stop.reservation_ids
    ]


def find_stop(
    entry: RosterEntry, reservation_id: int, now: datetime | None = None
) -> tuple[Answerable, Reservation]:
    """The trainee's stop named by ``reservation_id``; NotFound if it is not one of theirs."""
    training_class = db.session.get(TrainingClass, entry.class_id)
    for item in answerable_stops(training_class, entry, now):
        if item.reservation_id == reservation_id:
            return item, db.session.get(Reservation, reservation_id)
    raise NotFound(_("没有找到这一站。"))


def targets_of(reservation: Reservation) -> list[str]:
    """What a stop's trainees evaluate: its course and teacher if it has them, its site."""
    found = []
    if reservation.course_id is not None:
        found.append("course")
    if reservation.teacher_id is not None:
        found.append("teacher")
    found.append("site")
    return found


def submit(
    entry: RosterEntry,
    reservation_id: int,
    scores: Mapping[Any, Any],
    comment: str = "",
    now: datetime | None = None,
) -> Evaluation:
    """Record the trainee's evaluation of a stop that has ended; once per stop.

    ``scores`` maps a criterion id to a score 1–5. Concurrent submits of the same trainee
    and stop give one evaluation: the unique constraint decides, the loser is told.
    The caller commits.
    """
    item, reservation = find_stop(entry, reservation_id, now)
    if not item.ended:
        raise ServiceError(_("这一站结束后才能评价。"))
    if item.answered:
        raise ServiceError(_("你已经评价过这一站，每站只能评价一次。"))
    ensure_criteria()
    wanted = [c for t in targets_of(reservation) for c in criteria(t)]
    errors: dict[str, str] = {}
    values: dict[int, int] = {}
    for criterion in wanted:
        raw = scores.get(criterion.id, scores.get(str(criterion.id)))
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 5:
            errors[f"c{criterion.id}"] = _("请为“%(label)s”打 1 到 5 分。", label=criterion.label)
        values[criterion.id] = value
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX or "\x00" in comment:
        errors["comment"] = _("意见建议不超过 %(n)s 个字。", n=COMMENT_MAX)
    if errors:
        raise ValidationFailed(errors)
    evaluation = Evaluation(
        class_id=entry.class_id,
        entry_id=entry.id,
        reservation_id=reservation.id,
        site_id=reservation.site_id,
        member_id=reservation.site.member_id,
        course_id=reservation.course_id,
        teacher_id=reservation.teacher_id,
        comment=comment,
        scores=[EvaluationScore(criterion_id=cid, score=v) for cid, v in values.items()],
    )
    try:
        with db.session.begin_nested():
            db.session.add(evaluation)
    except IntegrityError:
        raise ServiceError(_("你已经评价过这一站，每站只能评价一次。")) from None
    check_alerts(evaluation)
    return evaluation


# ---------------------------------------------------------------- aggregates


@dataclass
class Summary:
    """Averages of some evaluations: the number of answers, the mean, each criterion's mean."""

    count: int = 0
    average: float | None = None
    by_criterion: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def average_text(self) -> str:
        return f"{self.average:.2f}" if self.average is not None else "—"


def summarize(*where: Any, target: str | None = None) -> Summary:
    """Aggregate the scores of the evaluations matching ``where`` (on one target or all)."""
    base = (
        select(EvaluationScore.score, Evaluation.id.label("evaluation_id"))
        .join(Evaluation, Evaluation.id == EvaluationScore.evaluation_id)
        .join(EvaluationCriterion, EvaluationCriterion.id == EvaluationScore.criterion_id)
        .where(*where)
    )
    if target:
        base = base.where(EvaluationCriterion.target == target)
    sub = base.subquery()
    count = db.session.scalar(select(func.count(func.distinct(sub.c.evaluation_id)))) or 0
    if not count:
        return Summary()
    average = db.session.scalar(select(func.avg(sub.c.score)))
    rows = db.session.execute(
        select(
            EvaluationCriterion.target,
            EvaluationCriterion.label,
            func.avg(EvaluationScore.score),
        )
        .join(Evaluation, Evaluation.id == EvaluationScore.evaluation_id)
        .join(EvaluationCriterion, EvaluationCriterion.id == EvaluationScore.criterion_id)
        .where(*where, *([EvaluationCriterion.target == target] if target else []))
        .group_by(
            EvaluationCriterion.target,
            EvaluationCriterion.label,
            EvaluationCriterion.position,
        )
        .order_by(EvaluationCriterion.target, EvaluationCriterion.position)
    ).all()
    return Summary(
        count=count,
        average=round(float(average), 2),
        by_criterion=[(str(TARGETS[t]), label, round(float(a), 2)) for t, label, a in rows],
    )


ITEM_COLUMNS = {
    "course": Evaluation.course_id,
    "teacher": Evaluation.teacher_id,
    "site": Evaluation.site_id,
}


def item_summary(target: str, item_id: int) -> Summary:
    """A course's, teacher's or site's averages on its own criteria."""
    return summarize(ITEM_COLUMNS[target] == item_id, target=target)


def year_summary(target: str, item_id: int, year: int) -> Summary:
    """An item's averages over the evaluations given in ``year`` (local time)."""
    start = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)
    return summarize(
        ITEM_COLUMNS[target] == item_id,
        Evaluation.created_at >= start,
        Evaluation.created_at < end,
        target=target,
    )


def public_summary(target: str, item_id: int) -> Summary | None:
    """What a catalogue page shows: the averages once enough answers exist, else None."""
    if target not in ITEM_COLUMNS:
        return None
    found = item_summary(target, item_id)
    return found if found.count >= setting("evaluation_min_answers") else None


def class_summary(training_class: TrainingClass) -> Summary:
    return summarize(Evaluation.class_id == training_class.id)


def member_summary(member_id: int) -> Summary:
    return summarize(Evaluation.member_id == member_id)


def member_items(member_id: int | None) -> list[tuple[str, Any, Summary]]:
    """Each evaluated course, teacher and site (of one member, or all): its averages."""
    rows = []
    for target, column in ITEM_COLUMNS.items():
        query = select(column).where(column.is_not(None)).distinct()
        if member_id is not None:
            query = query.where(Evaluation.member_id == member_id)
        for item_id in db.session.scalars(query):
            item = db.session.get(ITEM_MODELS[target], item_id)
            rows.append((str(TARGETS[target]), item, item_summary(target, item_id)))
    rows.sort(key=lambda r: (r[2].average or 0, r[0]))
    return rows


def comments(*where: Any, limit: int = 50) -> list[tuple[datetime, str, str]]:
    """Recent comments without their authors: (when, where, text)."""
    rows = db.session.execute(
        select(Evaluation.created_at, TeachingSite.name, Evaluation.comment)
        .join(TeachingSite, TeachingSite.id == Evaluation.site_id)
        .where(Evaluation.comment != "", *where)
        .order_by(Evaluation.id.desc())
        .limit(limit)
    ).all()
    return [tuple(r) for r in rows]


def check_alerts(evaluation: Evaluation) -> None:
    """Tell the member when an average of theirs (with enough answers) falls below the line."""
    db.session.flush()
    minimum, below = setting("evaluation_min_answers"), setting("evaluation_alert_below")
    for target, item_id in (
        ("course", evaluation.course_id),
        ("teacher", evaluation.teacher_id),
        ("site", evaluation.site_id),
    ):
        if item_id is None:
            continue
        found = item_summary(target, item_id)
        alert = db.session.scalar(
            select(EvaluationAlert).where(
                EvaluationAlert.target == target, EvaluationAlert.item_id == item_id
            )
        )
        low = found.count >= minimum and found.average is not None and found.average < below
        if low and alert is None:
            item = db.session.get(ITEM_MODELS[target], item_id)
            db.session.add(EvaluationAlert(target=target, item_id=item_id, average=found.average))
            notify(
                member_staff([item.member_id]),
                _(
                    "评估预警：%(target)s“%(name)s”平均分 %(avg)s（%(n)s 份评价）",
                    target=TARGETS[target],
                    name=item.name,
                    avg=found.average_text,
                    n=found.count,
                ),
                _("学员评价的平均分低于 %(line)s 分，请关注并改进。", line=below),
                link="/evaluations/",
            )
        elif alert is not None and not low:
            db.session.delete(alert)
