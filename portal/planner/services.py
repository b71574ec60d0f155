"""The season planner's rules: seasons, requests and their checks, runs, pins, accepting a plan.

Who may do what: the office opens seasons, runs the planner, pins, excludes and accepts;
an organizer submits, edits and withdraws requests for their own classes. Anyone else finds
nothing (NotFound) or is refused (PermissionDenied).
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.notifications.services import notify
from portal.planner import solver
from portal.planner.models import PlanItem, PlanRequest, PlanRun, PlanSeason
from portal.scheduling.booking import book
from portal.scheduling.classes import class_window
from portal.scheduling.fitting import BookingRefused, plan_from_template, with_needed_squads
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow, within_range

MAX_SEASON_DAYS = 366
MAX_DATES = 60
TIME_LIMIT_RANGE = (1, 600)

# ---------------------------------------------------------------- who


def require_office(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以统筹调训。"))


def require_organizer_or_office(actor: Any) -> None:
    if actor is None or not (actor.is_office or actor.role == "organizer"):
        raise PermissionDenied(_("只有培训班联系人和环线办可以提交调训请求。"))


def get_season(season_id: int, actor: Any) -> PlanSeason:
    require_organizer_or_office(actor)
    season = db.session.get(PlanSeason, season_id)
    if season is None:
        raise NotFound(_("没有找到该调训季。"))
    return season


def get_request(request_id: int, actor: Any) -> PlanRequest:
    """The request if the actor is its class's organizer or the office; else NotFound."""
    found = db.session.get(PlanRequest, request_id)
    if (
        found is None
        or actor is None
        or not (actor.is_office or found.training_class.organizer_id == actor.id)
    ):
        raise NotFound(_("没有找到该调训请求。"))
    return found


def get_run(run_id: int, actor: Any) -> PlanRun:
    require_office(actor)
    run = db.session.get(PlanRun, run_id)
    if run is None:
        raise NotFound(_("没有找到该方案。"))
    return run


def seasons(actor: Any) -> list[PlanSeason]:
    require_organizer_or_office(actor)
    query = select(PlanSeason).order_by(PlanSeason.starts_on.desc(), PlanSeason.id.desc())
    if not actor.is_office:
        query = query.where(PlanSeason.status == "open")
    return list(db.session.scalars(query))


def requests_of(season: PlanSeason, actor: Any) -> list[PlanRequest]:
    if actor.is_office:
        return list(season.requests)
    return [r for r in season.requests if r.training_class.organizer_id == actor.id]


def latest_run(season: PlanSeason) -> PlanRun | None:
    return db.session.scalar(
        select(PlanRun).where(PlanRun.season_id == season.id).order_by(PlanRun.id.desc()).limit(1)
    )


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


# ---------------------------------------------------------------- seasons


def _time_limit(value: Any, errors: dict[str, str]) -> int | None:
    low, high = TIME_LIMIT_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors["time_limit"] = _(
            "求解时限须为 %(low)s 到 %(high)s 秒之间的整数。", low=low, high=high
        )
        return None
    return value


def create_season(actor: Any, values: dict[str, Any]) -> PlanSeason:
    """The office opens a season. The caller commits."""
    require_office(actor)
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name or len(name) > 128 or "\x00" in name:
        errors["name"] = _("请填写不超过 128 个字符的名称。")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, date):
        errors["starts_on"] = _("请填写开始日期。")
    elif not within_range(starts):
        errors["starts_on"] = _("日期须在 2000 年至 2100 年之间。")
    elif starts <= today():
        errors["starts_on"] = _("调训季须从明天或以后开始。")
    if not isinstance(ends, date):
        errors["ends_on"] = _("请填写结束日期。")
    elif not within_range(ends):
        errors["ends_on"] = _("日期须在 2000 年至 2100 年之间。")
    elif isinstance(starts, date) and "starts_on" not in errors:
        if ends < starts:
            errors["ends_on"] = _("结束日期不能早于开始日期。")
        elif (ends - starts).days >= MAX_SEASON_DAYS:
            errors["ends_on"] = _("一个调训季最长一年。")
    limit = _time_limit(values.get("time_limit", 30), errors)
    if errors:
        raise ValidationFailed(errors)
    season = PlanSeason(
        name=name, starts_on=starts, ends_on=ends, time_limit=limit, created_by_id=actor.id
    )
    db.session.add(season)
    db.session.flush()
    record(actor, "planner.season", name, starts_on=starts, ends_on=ends)
    return season


def set_season_status(season: PlanSeason, actor: Any, status: str) -> None:
    """The office closes a season to new requests (or opens it again). The caller commits."""
    require_office(actor)
    if status not in ("open", "closed"):
        raise ServiceError(_("未知的操作。"))
    season.status = status
    record(actor, "planner.season_status", season.name, status=status)


# ---------------------------------------------------------------- requests

DATE_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}-W\d{2})(?:\s+([1-5]))?$")


def parse_dates(text: str, season: PlanSeason) -> list[list[Any]]:
    """Lines of "2027-04-06 5" or a week "2027-W15 3" (preference 1–5, default 3).

    A week stands for each of its days within the season. Raises ValidationFailed naming
    the first wrong line.
    """
    found: dict[date, int] = {}
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ValidationFailed({"dates": _("请至少填写一个可接受的开始日期或周。")})
    for number, line in enumerate(lines, start=1):
        match = DATE_LINE.match(line)
        if not match:
            raise ValidationFailed(
                {"dates": _("第 %(n)s 行格式不对：请写“2027-04-06 5”或“2027-W15 3”。", n=number)}
            )
        token, pref = match.group(1), int(match.group(2) or 3)
        try:
            if "W" in token:
                year, week = int(token[:4]), int(token[6:])
                days = [date.fromisocalendar(year, week, d) for d in range(1, 8)]
                days = [d for d in days if season.starts_on <= d <= season.ends_on]
                if not days:
                    raise ValueError
            else:
                days = [date.fromisoformat(token)]
        except ValueError:
            raise ValidationFailed(
                {
                    "dates": _(
                        "第 %(n)s 行的日期不存在或不在调训季（%(first)s 至 %(last)s）内。",
                        n=number,
                        first=season.starts_on.isoformat(),
                        last=season.ends_on.isoformat(),
                    )
                }
            ) from None
        for day in days:
            if not season.starts_on <= day <= season.ends_on:
                raise ValidationFailed(
                    {
                        "dates": _(
                            "第 %(n)s 行：%(day)s 不在调训季（%(first)s 至 %(last)s）内。",
                            n=number,
                            day=day.isoformat(),
                            first=season.starts_on.isoformat(),
                            last=season.ends_on.isoformat(),
                        )
                    }
                )
            if day <= today():
                raise ValidationFailed(
                    {"dates": _("第 %(n)s 行：%(day)s 已经过去。", n=number, day=day.isoformat())}
                )
            found[day] = max(found.get(day, 0), pref)
    if len(found) > MAX_DATES:
        raise ValidationFailed({"dates": _("可接受的日期最多 %(n)s 天，请缩小范围。", n=MAX_DATES)})
    return [[day.isoformat(), pref] for day, pref in sorted(found.items())]


def dates_text(request: PlanRequest) -> str:
    return "\n".join(f"{day} {pref}" for day, pref in request.dates or [])


def published_templates() -> list[RouteTemplate]:
    return list(
        db.session.scalars(
            select(RouteTemplate)
            .where(RouteTemplate.status == "published")
            .order_by(RouteTemplate.days, RouteTemplate.id)
        )
    )


def validate_request(
    season: PlanSeason, actor: Any, values: dict[str, Any]
) -> tuple[TrainingClass, dict[str, Any]]:
    errors: dict[str, str] = {}
    klass = db.session.get(TrainingClass, values.get("class_id") or 0)
    if klass is None or not (actor.is_office or klass.organizer_id == actor.id):
        errors["class_id"] = _("请选择您的培训班。")
    elif klass.cancelled:
        errors["class_id"] = _("该培训班已取消。")
    size = values.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 2000:
        errors["size"] = _("人数须为 1 到 2000 之间的整数。")
    days = values.get("days") or 0
    if not isinstance(days, int) or not 0 <= days <= 30:
        errors["days"] = _("天数须为 0（不限）到 30 之间的整数。")
    dates: list[list[Any]] = []
    try:
        dates = parse_dates(values.get("dates_text", ""), season)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    templates = {t.id: t for t in published_templates()}
    chosen = [int(t) for t in values.get("template_ids") or [] if int(t) in templates]
    if not chosen:
        errors["template_ids"] = _("请至少选择一条可接受的线路。")
    elif klass is not None and not any(klass.kind in templates[t].kinds for t in chosen):
        errors["template_ids"] = _("所选线路都不向该班次类型开放。")
    elif days and not any(templates[t].days == days for t in chosen):
        errors["template_ids"] = _("所选线路中没有 %(days)s 天的线路。", days=days)
    must = sorted({int(s) for s in values.get("must_sites") or []})
    avoid = sorted({int(s) for s in values.get("avoid_sites") or []})
    if set(must) & set(avoid):
        errors["avoid_sites"] = _("同一个教学点不能既必须去又不去。")
    if klass is not None and "class_id" not in errors and dates and "dates" not in errors:
        first, last = class_window(klass)
        outside = [d for d, _p in dates if not first <= date.fromisoformat(d) <= last]
        if outside:
            errors["dates"] = _(
                "%(day)s 不在培训班日期（%(first)s 至 %(last)s）内。",
                day=outside[0],
                first=first.isoformat(),
                last=last.isoformat(),
            )
    note = (values.get("note") or "").strip()
    if len(note) > 500 or "\x00" in note:
        errors["note"] = _("备注不超过 500 个字符。")
    if errors:
        raise ValidationFailed(errors)
    return klass, {
        "size": size,
        "days": days,
        "dates": dates,
        "template_ids": chosen,
        "must_sites": must,
        "avoid_sites": avoid,
        "squads_allowed": bool(values.get("squads_allowed")),
        "note": note,
    }


def submit_request(season: PlanSeason, actor: Any, values: dict[str, Any]) -> PlanRequest:
    """An organizer (or the office) asks to place a class in the season. The caller commits."""
    require_organizer_or_office(actor)
    if season.status != "open":
        raise ServiceError(_("该调训季已结束征集。"))
    klass, clean = validate_request(season, actor, values)
    existing = db.session.scalar(
        select(PlanRequest).where(
            PlanRequest.season_id == season.id,
            PlanRequest.class_id == klass.id,
            PlanRequest.status == "submitted",
        )
    )
    if existing is not None:
        raise ValidationFailed({"class_id": _("该培训班在本调训季已有请求，请修改原请求。")})
    found = PlanRequest(season=season, class_id=klass.id, submitted_by_id=actor.id, **clean)
    db.session.add(found)
    db.session.flush()
    record(actor, "planner.request", klass.name, season=season.name)
    return found


def update_request(found: PlanRequest, actor: Any, values: dict[str, Any]) -> None:
    get_request(found.id, actor)
    if found.status != "submitted":
        raise ServiceError(_("该请求已%(status)s，不能修改。", status=found.status_label))
    if found.season.status != "open" and not actor.is_office:
        raise ServiceError(_("该调训季已结束征集。"))
    values = {**values, "class_id": found.class_id}
    _klass, clean = validate_request(found.season, actor, values)
    for key, value in clean.items():
        setattr(found, key, value)
    record(actor, "planner.request", found.training_class.name, change="update")


def withdraw_request(found: PlanRequest, actor: Any) -> None:
    get_request(found.id, actor)
    if found.status != "submitted":
        raise ServiceError(_("该请求已%(status)s。", status=found.status_label))
    found.status = "withdrawn"
    record(actor, "planner.withdraw", found.training_class.name)


def pin_request(found: PlanRequest, actor: Any, action: str, item: PlanItem | None) -> None:
    """The office keeps a placement (pin), leaves a request out (exclude) or frees it."""
    require_office(actor)
    if action == "pin":
        if item is None or item.request_id != found.id or not item.placed:
            raise ServiceError(_("只能固定方案中已安排的请求。"))
        found.pinned_date, found.pinned_template_id, found.excluded = (
            item.start_date,
            item.template_id,
            False,
        )
    elif action == "exclude":
        found.pinned_date = found.pinned_template_id = None
        found.excluded = True
    elif action == "clear":
        found.pinned_date = found.pinned_template_id = None
        found.excluded = False
    else:
        raise ServiceError(_("未知的操作。"))
    record(actor, "planner.pin", found.training_class.name, what=action)


# ---------------------------------------------------------------- running the planner


def start_run(season: PlanSeason, actor: Any, *, time_limit: int | None = None) -> PlanRun:
    """Record a run of the planner (status running) for ``compute_run``. Commits."""
    if actor is not None:
        require_office(actor)
    errors: dict[str, str] = {}
    limit = _time_limit(time_limit if time_limit is not None else season.time_limit, errors)
    if errors:
        raise ValidationFailed(errors)
    busy = db.session.scalar(
        select(PlanRun).where(PlanRun.season_id == season.id, PlanRun.status == "running")
    )
    if busy is not None and not run_stalled(busy):
        raise ServiceError(_("该调训季正在规划中，请稍候。"))
    run = PlanRun(
        season_id=season.id,
        status="running",
        time_limit=limit,
        started_by_id=getattr(actor, "id", None),
    )
    db.session.add(run)
    record(actor, "planner.run", season.name, time_limit=limit)
    db.session.commit()
    return run


# A run still "running" this long after its time limit was lost (its process ended).
STALL_MARGIN = timedelta(minutes=5)


def run_stalled(run: PlanRun) -> bool:
    return (
        run.status == "running"
        and utcnow() > run.created_at + timedelta(seconds=run.time_limit) + STALL_MARGIN
    )


def compute_run(run_id: int, *, workers: int = 0) -> PlanRun:
    """Build the candidates, solve, and store the plan of a running run. Commits.

    On any error the run is marked failed with the message, so its page never waits forever.
    """
    run = db.session.get(PlanRun, run_id)
    try:
        _compute(run, workers)
    except Exception as error:  # noqa: BLE001  (recorded on the run, then raised)
        db.session.rollback()
        run = db.session.get(PlanRun, run_id)
        run.status = "failed"
        run.message = str(error)[:2000]
        db.session.commit()
        raise
    return run


def _compute(run: PlanRun, workers: int) -> None:
    season = run.season
    workers = workers or current_app.config.get("PLANNER_WORKERS", 0)
    requests = [r for r in season.requests if r.status == "submitted"]
    templates = {t.id: t for t in published_templates()}
    active = [r for r in requests if not r.excluded]
    context = solver.season_context(list(templates.values()), season.starts_on, season.ends_on)
    candidates, reasons = solver.build_candidates(active, templates, context)
    demands = [solver.Demand(r.id, r.size) for r in active]
    limits = solver.limits_for(context, templates)
    answer = solver.optimize(
        demands, candidates, limits, time_limit=run.time_limit, workers=workers
    )
    fcfs = solver.first_come_first_served(
        [r.id for r in sorted(active, key=lambda r: (r.created_at, r.id))], candidates, limits
    )
    run.fcfs_placed = len(fcfs)
    run.fcfs_trainees = sum(r.size for r in active if r.id in fcfs)
    run.solver_status = answer.status
    run.objective, run.bound, run.gap = answer.objective, answer.bound, answer.gap
    run.requests, run.candidates = len(requests), len(candidates)
    run.seconds = round(answer.seconds, 3)
    run.trainee_bound = answer.trainee_bound
    with_candidates = {c.request_id for c in candidates}
    for request in requests:
        chosen = answer.chosen.get(request.id)
        item = PlanItem(request_id=request.id)
        if chosen is not None:
            item.start_date, item.template_id = chosen.start, chosen.template_id
            item.squads, item.preference = chosen.squads, chosen.preference
        elif request.excluded:
            item.reason = _("环线办已将该请求排除在本次规划之外。")
        elif request.id in reasons:
            item.reason = reasons[request.id]
        elif request.id in with_candidates and answer.status in ("OPTIMAL", "FEASIBLE"):
            item.reason = _(
                "可接受的日期和线路都与其他请求争用同一时段的名额、讲解员或老师，本方案中排不下。"
            )
        else:
            item.reason = _("求解在时限内没有找到方案，请延长时限后重试。")
        run.items.append(item)
    run.placed = len(answer.chosen)
    run.placed_trainees = sum(r.size for r in requests if r.id in answer.chosen)
    run.status = "proposed"
    db.session.commit()


def run_planner(
    season: PlanSeason, actor: Any, *, time_limit: int | None = None, workers: int = 0
) -> PlanRun:
    """Run the planner over the season's submitted requests, here and now. Commits."""
    run = start_run(season, actor, time_limit=time_limit)
    return compute_run(run.id, workers=workers)


def compute_in_background(app: Any, run_id: int) -> threading.Thread:
    """compute_run in a thread of this process, with its own app context and session.

    The run's row is the only shared state: any server answers its page. If the process
    ends meanwhile, the run shows as stalled after its time limit and a margin.
    """

    def work() -> None:
        with app.app_context():
            try:
                compute_run(run_id)
            except Exception:  # noqa: BLE001  (compute_run recorded it on the run)
                app.logger.exception("planner run %s failed", run_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"planner-run-{run_id}", daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------- accepting a plan


def accept_run(run: PlanRun, actor: Any) -> dict[str, int]:
    """Book every placement of the run through scheduling's book() (its locks and checks).

    A booking made since the run is respected: that item is marked as a conflict with the
    reasons book() gives, the others are booked. Organizers are told. Commits per item.
    """
    require_office(actor)
    if run.status == "accepted":
        raise ServiceError(_("该方案已接受过。"))
    if run.status != "proposed":
        raise ServiceError(_("该方案尚未完成或规划失败，不能接受。"))
    if latest_run(run.season) is not run:
        raise ServiceError(_("这不是最新的方案，请接受最新一次规划的结果。"))
    run_id = run.id
    item_ids = [i.id for i in run.items if i.placed and i.request.status == "submitted"]
    counts = {"booked": 0, "conflict": 0}
    for item_id in item_ids:
        item = db.session.get(PlanItem, item_id)
        request = item.request
        klass = request.training_class
        template = db.session.get(RouteTemplate, item.template_id)
        plan = plan_from_template(template, item.start_date)
        if request.squads_allowed:
            plan = with_needed_squads(plan, request.size)
        organizer = klass.organizer
        try:
            booking = book(
                klass,
                plan,
                actor,
                template=template,
                idempotency_key=f"plan-{run_id}-item-{item_id}",
            )
        except (BookingRefused, ServiceError) as refused:
            db.session.rollback()
            item = db.session.get(PlanItem, item_id)
            item.outcome = "conflict"
            item.outcome_message = refused.message[:2000]
            counts["conflict"] += 1
            notify(
                [organizer],
                _("统筹调训：%(name)s 未能按方案预约", name=klass.name),
                _("原因：%(why)s。环线办将与您联系另行安排。", why=refused.message),
                "/planner",
            )
            db.session.commit()
            continue
        item = db.session.get(PlanItem, item_id)
        item.booking_id, item.outcome = booking.id, "booked"
        item.request.status = "booked"
        counts["booked"] += 1
        notify(
            [db.session.get(type(organizer), organizer.id)],
            _(
                "统筹调训：%(name)s 已预约 %(route)s，%(day)s 开始",
                name=item.request.training_class.name,
                route=template.name,
                day=item.start_date.isoformat(),
            ),
            "",
            f"/bookings/{booking.id}",
        )
        db.session.commit()
    run = db.session.get(PlanRun, run_id)
    run.status = "accepted"
    run.accepted_at = utcnow()
    record(actor, "planner.accept", run.season.name, **counts)
    db.session.commit()
    return counts


# ---------------------------------------------------------------- the calendar


def calendar_weeks(run: PlanRun) -> list[date]:
    """Mondays of the weeks the plan's placements touch, in order."""
    mondays = set()
    for item in run.items:
        if item.placed:
            days = item.template.days if item.template else 1
            for n in range(days):
                day = item.start_date + timedelta(days=n)
                mondays.add(day - timedelta(days=day.weekday()))
    return sorted(mondays)


def calendar(run: PlanRun, monday: date, site_id: int | None = None) -> list[dict[str, Any]]:
    """One week of the plan: per day, the stops at sites (optionally one site), in time order."""
    days = [{"day": monday + timedelta(days=n), "entries": []} for n in range(7)]
    for item in run.items:
        if not item.placed or item.template is None:
            continue
        plan = plan_from_template(item.template, item.start_date)
        if item.request.squads_allowed:
            plan = with_needed_squads(plan, item.request.size)
        for stop in plan:
            if stop.site is None or (site_id and stop.site.id != site_id):
                continue
            day = stop.starts_at.date()
            offset = (day - monday).days
            if 0 <= offset < 7:
                days[offset]["entries"].append(
                    {
                        "start": stop.starts_at,
                        "end": stop.ends_at,
                        "site": stop.site,
                        "item": item,
                        "squads": stop.squads,
                    }
                )
    for day in days:
        day["entries"].sort(key=lambda e: (e["start"], e["site"].id))
    return days
