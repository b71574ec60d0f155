"""Contests (比赛类活动): criteria, judges, entries, scores, results and winners.

The office sets weighted criteria and appoints judges; members' staff enter guides or
courses; a judge scores only the contests they are appointed to and never an entry of
their own member (回避); results stay hidden from everyone but the office until published.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.auth.models import MEMBER_ROLES, User
from portal.catalog import services as catalog_services
from portal.catalog.models import Course, TeachingSite
from portal.catalog.services import require_office
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.events.access import (
    acting_member,
    event_link,
    get_event,
    is_member_user,
    is_office,
    today,
    visible,
)
from portal.events.models import (
    ContestCriterion,
    ContestEntry,
    ContestJudge,
    ContestScore,
    JointEvent,
)
from portal.events.validation import _clean_text, _int_or_none, is_id
from portal.extensions import db
from portal.notifications.services import member_staff, notify
from portal.timeutil import LOCAL_TZ, utcnow

MAX_CRITERIA = 10
TWO_PLACES = Decimal("0.01")
ONE_PLACE = Decimal("0.1")


# ---------------------------------------------------------------- contests: criteria and judges


def require_contest(event: JointEvent) -> None:
    if not event.is_contest:
        raise ServiceError(_("该活动不是评比类活动。"))


def require_contest_open(event: JointEvent) -> None:
    require_contest(event)
    if event.status == "cancelled":
        raise ServiceError(_("该活动已取消。"))
    if event.results_published_at is not None:
        raise ServiceError(_("成绩已公布，不能再修改。"))


def has_scores(event: JointEvent) -> bool:
    found = db.session.scalar(
        select(ContestScore.id)
        .join(ContestScore.entry)
        .where(ContestEntry.event_id == event.id)
        .limit(1)
    )
    return found is not None


def set_criteria(
    event: JointEvent, actor: Any, rows: Sequence[tuple[Any, Any]]
) -> list[ContestCriterion]:
    """Replace a contest's criteria: (name, weight) rows, weights summing to 100.

    Blank rows are ignored. Refused once any judge has scored. The caller commits.
    """
    require_office(actor)
    require_contest_open(event)
    if has_scores(event):
        raise ServiceError(_("已有评委评分，评分标准不能再修改。"))
    errors: dict[str, str] = {}
    cleaned: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, (raw_name, raw_weight) in enumerate(rows):
        name = str(raw_name or "").strip()
        blank_weight = raw_weight is None or str(raw_weight).strip() == ""
        if not name and blank_weight:
            continue
        n = index + 1
        weight = _int_or_none(raw_weight)
        if not name:
            errors[f"criteria-{index}-name"] = _("请填写第 %(n)s 项的名称。", n=n)
        elif len(name) > 64 or "\x00" in name:
            errors[f"criteria-{index}-name"] = _("第 %(n)s 项的名称过长或包含无效字符。", n=n)
        elif name in seen:
            errors[f"criteria-{index}-name"] = _("评分项“%(name)s”重复。", name=name)
        if weight is None or not 1 <= weight <= 100:
            errors[f"criteria-{index}-weight"] = _(
                "第 %(n)s 项的权重须为 1 到 100 之间的整数。", n=n
            )
        seen.add(name)
        cleaned.append((name, weight or 0))
    if not cleaned and not errors:
        errors["criteria"] = _("请至少填写一项评分标准。")
    elif len(cleaned) > MAX_CRITERIA:
        errors["criteria"] = _("评分标准最多 %(max)s 项。", max=MAX_CRITERIA)
    elif not errors and sum(w for _n, w in cleaned) != 100:
        errors["criteria"] = _(
            "各项权重之和须为 100，现为 %(total)s。", total=sum(w for _n, w in cleaned)
        )
    if errors:
        raise ValidationFailed(errors)
    event.criteria.clear()
    db.session.flush()
    for position, (name, weight) in enumerate(cleaned, start=1):
        event.criteria.append(ContestCriterion(position=position, name=name, weight=weight))
    db.session.flush()
    return list(event.criteria)


def judge_candidates() -> list[User]:
    """Accounts that can judge: active staff of the members."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(MEMBER_ROLES), User.active.is_(True))
            .options(selectinload(User.member))
            .order_by(User.member_id, User.display_name, User.id)
        )
    )


def appoint_judge(event: JointEvent, actor: Any, user_id: Any) -> ContestJudge:
    """Appoint a member's staff account as a judge, and tell them. The caller commits."""
    require_office(actor)
    require_contest_open(event)
    judge = db.session.get(User, user_id) if is_id(user_id) else None
    if judge is None or not judge.active or not judge.is_member_user:
        raise ValidationFailed({"user_id": _("评委须为成员单位工作人员的有效账号。")})
    if any(j.user_id == judge.id for j in event.judges):
        raise ValidationFailed(
            {"user_id": _("%(name)s已是本次大赛的评委。", name=judge.display_name)}
        )
    appointment = ContestJudge(user=judge)
    event.judges.append(appointment)
    db.session.flush()
    notify(
        [judge],
        _("评委聘请：%(title)s", title=event.title),
        _(
            "环线办聘请您担任“%(title)s”的评委。本单位的参赛项目您须回避，不能评分。",
            title=event.title,
        ),
        event_link(event) + "/judging",
    )
    return appointment


def remove_judge(appointment: ContestJudge, actor: Any) -> None:
    """Withdraw a judge who has not scored yet. The caller commits."""
    require_office(actor)
    event = appointment.event
    require_contest_open(event)
    scored = db.session.scalar(
        select(ContestScore.id)
        .join(ContestScore.entry)
        .where(ContestEntry.event_id == event.id, ContestScore.judge_id == appointment.user_id)
        .limit(1)
    )
    if scored is not None:
        raise ServiceError(_("该评委已经评分，不能撤销。"))
    event.judges.remove(appointment)
    db.session.flush()


def is_judge(event: JointEvent, user: Any) -> bool:
    if not is_member_user(user):
        return False
    return any(j.user_id == user.id for j in event.judges)


# ---------------------------------------------------------------- contests: entries


def entry_problem(event: JointEvent) -> str:
    """Why members cannot enter the contest now ("" when they can)."""
    if not event.is_contest:
        return _("该活动不是评比类活动。")
    if event.status == "draft":
        return _("该活动尚未发布。")
    if event.status == "cancelled":
        return _("该活动已取消。")
    if event.results_published_at is not None:
        return _("成绩已公布，不再接受报送。")
    if event.registration_deadline is not None and today() > event.registration_deadline:
        return _("报送已于 %(day)s 截止。", day=event.registration_deadline.isoformat())
    return ""


def entry_choices(event: JointEvent, member_id: int) -> list[Any]:
    """What a member may enter: its sites (guide contest) or its courses (course contest)."""
    if not is_id(member_id):
        return []
    if event.category == "guide_contest":
        return list(
            db.session.scalars(
                select(TeachingSite)
                .where(TeachingSite.member_id == member_id, TeachingSite.status != "retired")
                .order_by(TeachingSite.name)
            )
        )
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.member_id == member_id, Course.status != "retired")
            .order_by(Course.name)
        )
    )


def submit_entry(
    event_id: Any, actor: Any, values: dict[str, Any], member_id: Any = None
) -> ContestEntry:
    """Enter a guide (name and one of the member's sites) or one of the member's courses.

    The caller commits.
    """
    event = get_event(event_id, actor)
    require_contest(event)
    problem = entry_problem(event)
    if problem:
        raise ServiceError(problem)
    owner = acting_member(actor, event, member_id)
    values = dict(values)
    errors: dict[str, str] = {}
    _clean_text(errors, values, "note", _("说明"), False, 2000)
    entry = ContestEntry(member_id=owner, submitted_by_id=actor.id, note=values.get("note") or "")
    if event.category == "guide_contest":
        _clean_text(errors, values, "guide_name", _("讲解员姓名"), True, 64)
        site_id = values.get("site_id")
        site = db.session.get(TeachingSite, site_id) if is_id(site_id) else None
        if site is None or site.member_id != owner or site.status == "retired":
            errors["site_id"] = _("请选择本单位的教学点。")
        if "guide_name" not in errors and any(
            e.member_id == owner and e.guide_name == values["guide_name"] for e in event.entries
        ):
            errors["guide_name"] = _("本单位已报送该讲解员。")
        entry.guide_name, entry.site = values.get("guide_name"), site
    else:
        course_id = values.get("course_id")
        course = db.session.get(Course, course_id) if is_id(course_id) else None
        if course is None or course.member_id != owner or course.status == "retired":
            errors["course_id"] = _("请选择本单位的课程。")
        elif any(e.course_id == course.id for e in event.entries):
            errors["course_id"] = _("该课程已报送。")
        entry.course = course
    if errors:
        raise ValidationFailed(errors)
    event.entries.append(entry)
    db.session.flush()
    return entry


def can_manage_entry(user: Any, entry: ContestEntry) -> bool:
    return is_office(user) or (is_member_user(user) and user.member_id == entry.member_id)


def withdraw_entry(entry: ContestEntry, actor: Any) -> None:
    """Withdraw an entry not yet scored. The member's staff or the office. The caller commits."""
    if not can_manage_entry(actor, entry):
        raise NotFound(_("没有找到该参赛项目。"))
    event = entry.event
    require_contest_open(event)
    if entry.scores:
        raise ServiceError(_("评委已为该项目评分，不能撤回。"))
    event.entries.remove(entry)
    db.session.flush()


def entries_for(event: JointEvent, user: Any) -> list[ContestEntry]:
    """Entries ``user`` may see listed with the contest: all (office), the member's own (staff)."""
    if is_office(user):
        return list(event.entries)
    if is_member_user(user):
        return [e for e in event.entries if e.member_id == user.member_id]
    return []


# ---------------------------------------------------------------- contests: scores and results


def score_field(criterion: ContestCriterion | int) -> str:
    """The form field (and error key) of a criterion on the score sheet."""
    return f"c{criterion if isinstance(criterion, int) else criterion.id}"


def parse_score(value: Any) -> Decimal | None:
    """A score 0–100 with at most one decimal, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    if number != number.quantize(ONE_PLACE):
        return None
    return number.quantize(ONE_PLACE)


@dataclass
class JudgeRow:
    """An entry on a judge's sheet: whether they may score it, and their total if scored."""

    entry: ContestEntry
    scoreable: bool
    total: Decimal | None


def judge_sheet(event: JointEvent, judge: Any) -> list[JudgeRow]:
    """Every entry of the contest for an appointed judge; their own member's are not scoreable."""
    if not is_judge(event, judge):
        raise PermissionDenied(_("只有本次大赛的评委可以评分。"))
    return [
        JudgeRow(
            entry,
            entry.member_id != judge.member_id,
            judge_total(entry, judge.id, event.criteria),
        )
        for entry in event.entries
    ]


def judge_scores(entry: ContestEntry, judge_id: int) -> dict[int, float]:
    """A judge's scores of an entry by criterion id."""
    return {s.criterion_id: s.score for s in entry.scores if s.judge_id == judge_id}


def weighted_total(scores: dict[int, Any], criteria: Sequence[ContestCriterion]) -> Decimal | None:
    """Σ score × weight / 100 over every criterion; None unless all criteria are scored."""
    if not criteria or any(c.id not in scores for c in criteria):
        return None
    total = sum(Decimal(str(scores[c.id])) * c.weight for c in criteria) / 100
    return total.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def judge_total(
    entry: ContestEntry, judge_id: int, criteria: Sequence[ContestCriterion]
) -> Decimal | None:
    return weighted_total(judge_scores(entry, judge_id), criteria)


def record_scores(entry: ContestEntry, judge: Any, scores: dict[Any, Any]) -> Decimal:
    """A judge's score sheet for one entry: every criterion 0–100. Returns the weighted total.

    Refused (PermissionDenied) for anyone not appointed, and for an entry of the judge's own
    member. Scoring again replaces the judge's earlier scores. The caller commits.
    """
    event = entry.event
    if not is_judge(event, judge):
        raise PermissionDenied(_("只有本次大赛的评委可以评分。"))
    if entry.member_id == judge.member_id:
        raise PermissionDenied(_("评委不能为本单位的参赛项目评分，请回避。"))
    if event.status != "published":
        raise ServiceError(_("该大赛未在进行中，不能评分。"))
    if event.results_published_at is not None:
        raise ServiceError(_("成绩已公布，不能再修改评分。"))
    if not event.criteria:
        raise ServiceError(_("环线办尚未设置评分标准。"))
    errors: dict[str, str] = {}
    parsed: dict[int, Decimal] = {}
    for criterion in event.criteria:
        raw = scores.get(criterion.id, scores.get(score_field(criterion)))
        if raw is None or str(raw).strip() == "":
            errors[score_field(criterion)] = _("请为“%(name)s”打分。", name=criterion.name)
            continue
        value = parse_score(raw)
        if value is None:
            errors[score_field(criterion)] = _(
                "“%(name)s”的分数须为 0 到 100 之间的数，最多一位小数。", name=criterion.name
            )
        else:
            parsed[criterion.id] = value
    if errors:
        raise ValidationFailed(errors)
    existing = {s.criterion_id: s for s in entry.scores if s.judge_id == judge.id}
    for criterion_id, value in parsed.items():
        row = existing.get(criterion_id)
        if row is None:
            entry.scores.append(
                ContestScore(judge_id=judge.id, criterion_id=criterion_id, score=float(value))
            )
        else:
            row.score = float(value)
    db.session.flush()
    return weighted_total({k: v for k, v in parsed.items()}, event.criteria)


@dataclass
class ResultRow:
    entry: ContestEntry
    total: Decimal | None
    rank: int | None
    judges: int
    averages: dict[int, Decimal] = field(default_factory=dict)


def results(event: JointEvent) -> list[ResultRow]:
    """Entries ranked by their mean weighted total over the judges' complete sheets.

    Totals are rounded to two decimals; equal totals share a rank and the next rank skips
    (1, 2, 2, 4). Entries nobody has scored come last, without a rank.
    """
    criteria = list(event.criteria)
    rows = []
    for entry in event.entries:
        sheets: dict[int, dict[int, float]] = defaultdict(dict)
        for score in entry.scores:
            sheets[score.judge_id][score.criterion_id] = score.score
        complete = [s for s in sheets.values() if weighted_total(s, criteria) is not None]
        totals = [weighted_total(s, criteria) for s in complete]
        total = (
            (sum(totals) / len(totals)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
            if totals
            else None
        )
        averages = {
            c.id: (sum(Decimal(str(s[c.id])) for s in complete) / len(complete)).quantize(
                TWO_PLACES, rounding=ROUND_HALF_UP
            )
            for c in criteria
            if complete
        }
        rows.append(ResultRow(entry, total, None, len(complete), averages))
    rows.sort(key=lambda r: (r.total is None, -(r.total or 0), r.entry.id))
    previous: Decimal | None = None
    rank = 0
    for position, row in enumerate(rows, start=1):
        if row.total is None:
            break
        if row.total != previous:
            rank, previous = position, row.total
        row.rank = rank
    return rows


def results_visible(event: JointEvent, user: Any) -> bool:
    """The office sees the ranking at any time; everyone else once it is published."""
    if is_office(user):
        return True
    return visible(event, user) and event.results_published_at is not None


def contest_last_day(event: JointEvent) -> date | None:
    """The contest's last day (its last session's, local), or None without sessions."""
    ends = event.ends_at
    return ends.astimezone(LOCAL_TZ).date() if ends is not None else None


def publish_problem(event: JointEvent, on: date | None = None) -> str:
    """Why the results cannot be published yet ("" when they can): until the entry deadline
    has passed and the contest's last day has come, entries may still come or be judged."""
    on = on or today()
    if event.registration_deadline is not None and on <= event.registration_deadline:
        return _(
            "报送截止日期（%(day)s）之后才能公布成绩。", day=event.registration_deadline.isoformat()
        )
    last = contest_last_day(event)
    if last is not None and on < last:
        return _("比赛（%(day)s）结束后才能公布成绩。", day=last.isoformat())
    return ""


def publish_results(event: JointEvent, actor: Any) -> None:
    """Publish the ranking once the contest is over; the members that entered are told.
    The caller commits."""
    require_office(actor)
    require_contest_open(event)
    if event.status != "published":
        raise ServiceError(_("请先发布该大赛。"))
    if problem := publish_problem(event):
        raise ServiceError(problem)
    if not any(r.total is not None for r in results(event)):
        raise ServiceError(_("还没有任何完整的评分，不能公布成绩。"))
    event.results_published_at = utcnow()
    notify(
        member_staff({e.member_id for e in event.entries}),
        _("成绩公布：%(title)s", title=event.title),
        _("“%(title)s”的评比结果已公布。", title=event.title),
        event_link(event) + "/results",
    )


def set_winners(event: JointEvent, actor: Any, entry_ids: Iterable[Any]) -> list[ContestEntry]:
    """Name the winners among scored entries; a winning course gets the 精品课程 mark.

    Taking the award back takes back the mark if the contest gave it. The caller commits.
    """
    require_office(actor)
    require_contest(event)
    if event.status == "cancelled":
        raise ServiceError(_("该活动已取消。"))
    wanted = list(entry_ids)
    if not all(is_id(i) for i in wanted):
        raise ValidationFailed({"entry_ids": _("所选参赛项目不属于本次大赛。")})
    chosen = set(wanted)
    ranked = {r.entry.id: r for r in results(event)}
    if not chosen <= set(ranked):
        raise ValidationFailed({"entry_ids": _("所选参赛项目不属于本次大赛。")})
    if any(ranked[i].total is None for i in chosen):
        raise ValidationFailed({"entry_ids": _("只能从已评分的参赛项目中评选获奖者。")})
    for entry in event.entries:
        want = entry.id in chosen
        if entry.winner == want:
            continue
        entry.winner = want
        if not want:
            entry.grade = None
        if event.category != "course_contest" or entry.course is None:
            continue
        if want and not entry.course.excellent:
            catalog_services.set_excellent(
                entry.course, actor, True, _("在“%(title)s”中获奖", title=event.title)
            )
            entry.gave_excellent = True
        elif not want and entry.gave_excellent:
            catalog_services.set_excellent(
                entry.course, actor, False, _("撤销“%(title)s”的获奖", title=event.title)
            )
            entry.gave_excellent = False
    db.session.flush()
    return [e for e in event.entries if e.winner]


def set_top_winners(event: JointEvent, actor: Any, top: Any) -> list[ContestEntry]:
    """The entries ranked ``top`` or better win (ties included)."""
    count = _int_or_none(top)
    if count is None or not 1 <= count <= max(1, len(event.entries)):
        raise ValidationFailed(
            {"top": _("请填写 1 到 %(max)s 之间的名次。", max=max(1, len(event.entries)))}
        )
    ids = [r.entry.id for r in results(event) if r.rank is not None and r.rank <= count]
    return set_winners(event, actor, ids)
