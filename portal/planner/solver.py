"""The season planner's model: candidates checked by the booking rules, chosen by CP-SAT.

Two steps (docs/planner.md):

1. ``build_candidates``: for every request × acceptable start date × acceptable route
   template, the template's stops on those dates (split into squads if the request allows
   and a site needs it) are checked by ``portal.scheduling.fitting.check_plan`` against the
   bookings that exist (one context read for the whole season), the class's dates, opening
   days and hours, guides, teachers and the members' own rules (lead times, …). A candidate
   that passes records which site sessions (seats, guide), and which teachers' hours it uses.
2. ``optimize``: one boolean per candidate; at most one per request; at every moment a
   site session starts, the seats (and guides) the chosen candidates take there fit what
   the existing bookings leave; a teacher is in one place at a time. The objective weighs,
   lexicographically through its coefficients: pinned placements, trainees placed, date
   preferences, then the busiest member-week (minimized).
"""

from __future__ import annotations

import math
import time as clock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _

from portal.scheduling.classes import class_window
from portal.scheduling.fitting import (
    Context,
    check_plan,
    load_context,
    local_dt,
    plan_from_template,
    with_needed_squads,
)
from portal.scheduling.models import RouteTemplate
from portal.timeutil import LOCAL_TZ

MAX_PREFERENCE = 5


@dataclass(frozen=True)
class Use:
    """What a candidate takes: seats (and a guide) in a site session, or a teacher's time."""

    site_id: int | None
    teacher_id: int | None
    starts_at: datetime
    ends_at: datetime
    seats: int = 0
    guide: bool = False
    member_id: int | None = None


@dataclass
class Candidate:
    request_id: int
    start: date
    template_id: int
    preference: int
    squads: int
    uses: list[Use]
    pinned: bool = False


@dataclass
class Limits:
    """What the existing bookings leave at each site (capacity, guides) and of teachers."""

    capacity: dict[int, int]
    guides: dict[int, int]
    existing_seats: dict[int, list[tuple[datetime, datetime, int, bool]]]

    def seats_left(self, site_id: int, moment: datetime) -> int:
        taken = sum(n for s, e, n, _g in self.existing_seats.get(site_id, []) if s <= moment < e)
        return self.capacity[site_id] - taken

    def guides_left(self, site_id: int, moment: datetime) -> int:
        taken = sum(
            1 for s, e, _n, g in self.existing_seats.get(site_id, []) if g and s <= moment < e
        )
        return self.guides[site_id] - taken


@dataclass
class Demand:
    """A request as the optimizer sees it."""

    request_id: int
    size: int
    pinned: tuple[date, int] | None = None
    excluded: bool = False


@dataclass
class Answer:
    status: str
    objective: float
    bound: float
    gap: float
    chosen: dict[int, Candidate] = field(default_factory=dict)
    seconds: float = 0.0
    # The most trainees any plan could seat, as the solver proved it (without pins).
    trainee_bound: int = 0


def template_fits(request: Any, template: RouteTemplate) -> bool:
    """The template is one the request accepts: its days, must and must-not sites."""
    if request.days and template.days != request.days:
        return False
    sites = {s.site_id for s in template.stops if s.site_id is not None}
    if not set(request.must_sites or ()) <= sites:
        return False
    return not sites & set(request.avoid_sites or ())


def season_context(templates: list[RouteTemplate], first: date, last: date) -> Context:
    """Everything check_plan needs for all templates over the whole season, read once."""
    stops = []
    for template in templates:
        stops.extend(plan_from_template(template, first))
    longest = max((t.days for t in templates), default=1)
    return load_context(
        stops,
        local_dt(first, time(0)),
        local_dt(last + timedelta(days=longest + 1), time(0)),
        None,
    )


def uses_of(plan: list, size: int) -> list[Use]:
    uses = []
    for stop in plan:
        if stop.site is None:
            continue
        per_squad = math.ceil(size / stop.squads)
        needs_guide = stop.site.needs_guide or stop.guide_requested
        for start, end in stop.squad_windows():
            uses.append(
                Use(stop.site.id, None, start, end, per_squad, needs_guide, stop.site.member_id)
            )
        if stop.teacher is not None:
            uses.append(Use(None, stop.teacher.id, stop.starts_at, stop.ends_at))
    return uses


def build_candidates(
    requests: list[Any], templates: dict[int, RouteTemplate], context: Context
) -> tuple[list[Candidate], dict[int, str]]:
    """Every candidate placement that fits on its own, and for requests with none, why."""
    candidates: list[Candidate] = []
    reasons: dict[int, str] = {}
    for request in requests:
        klass = request.training_class
        within = class_window(klass)
        found: list[Candidate] = []
        problems: Counter[str] = Counter()
        options = [templates[t] for t in request.template_ids if t in templates]
        options = [t for t in options if template_fits(request, t)]
        if not options:
            reasons[request.id] = _("没有符合要求的线路模板（天数、必须或不去的教学点）。")
            continue
        dates = request.date_prefs
        if request.pinned_date is not None and request.pinned_template_id is not None:
            pin = (request.pinned_date, request.pinned_template_id)
            dates = {pin[0]: dates.get(pin[0], MAX_PREFERENCE)}
            options = [t for t in options if t.id == pin[1]] or (
                [templates[pin[1]]] if pin[1] in templates else []
            )
        for day, preference in sorted(dates.items()):
            for template in options:
                plan = plan_from_template(template, day)
                if request.squads_allowed:
                    plan = with_needed_squads(plan, request.size)
                found_problems = check_plan(
                    plan,
                    request.size,
                    context=context,
                    class_name=klass.name,
                    within=within,
                    members_last=True,
                )
                if found_problems:
                    problems.update(p.message for p in found_problems[:1])
                    continue
                found.append(
                    Candidate(
                        request.id,
                        day,
                        template.id,
                        preference,
                        max((p.squads for p in plan), default=1),
                        uses_of(plan, request.size),
                        pinned=request.pinned_date is not None,
                    )
                )
        if not found:
            common = "；".join(message for message, _n in problems.most_common(2))
            reasons[request.id] = _(
                "所有可接受的日期和线路都排不下（以现有预约和各项规则为准）：%(why)s", why=common
            )
        candidates.extend(found)
    return candidates, reasons


def limits_for(context: Context, templates: dict[int, RouteTemplate]) -> Limits:
    capacity: dict[int, int] = {}
    guides: dict[int, int] = {}
    for template in templates.values():
        for stop in template.stops:
            if stop.site is not None:
                capacity[stop.site.id] = stop.site.capacity
                guides[stop.site.id] = stop.site.guide_count
    existing: dict[int, list[tuple[datetime, datetime, int, bool]]] = defaultdict(list)
    for site_id, rows in context.reservations_by_site.items():
        for r in rows:
            site_guides = bool(r.site.needs_guide) if r.site is not None else False
            existing[site_id].append(
                (r.starts_at, r.ends_at, r.group_size, r.guide_requested or site_guides)
            )
    return Limits(capacity, guides, existing)


def optimize(
    demands: list[Demand],
    candidates: list[Candidate],
    limits: Limits,
    *,
    time_limit: float = 30.0,
    workers: int = 0,
) -> Answer:
    """Choose at most one candidate per request (CP-SAT); see the module docstring."""
    from ortools.sat.python import cp_model

    started = clock.monotonic()
    if not candidates:
        return Answer("EMPTY", 0.0, 0.0, 0.0)
    size = {d.request_id: d.size for d in demands}
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(candidates))]
    by_request: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(candidates):
        by_request[c.request_id].append(i)
    for ids in by_request.values():
        model.add_at_most_one(x[i] for i in ids)

    # Site sessions: at every moment one of them starts, seats and guides fit.
    site_uses: dict[int, list[tuple[int, Use]]] = defaultdict(list)
    teacher_uses: dict[int, list[tuple[int, Use]]] = defaultdict(list)
    for i, c in enumerate(candidates):
        for u in c.uses:
            if u.site_id is not None:
                site_uses[u.site_id].append((i, u))
            elif u.teacher_id is not None:
                teacher_uses[u.teacher_id].append((i, u))
    for site_id, uses in site_uses.items():
        for moment in sorted({u.starts_at for _i, u in uses}):
            seats: dict[int, int] = defaultdict(int)
            guides: dict[int, int] = defaultdict(int)
            for i, u in uses:
                if u.starts_at <= moment < u.ends_at:
                    seats[i] += u.seats
                    guides[i] += 1 if u.guide else 0
            seat_room = limits.seats_left(site_id, moment)
            if sum(seats.values()) > seat_room and len(seats) > 1:
                model.add(sum(n * x[i] for i, n in seats.items()) <= max(0, seat_room))
            guide_room = limits.guides_left(site_id, moment)
            if sum(guides.values()) > guide_room and len([n for n in guides.values() if n]) > 1:
                model.add(sum(n * x[i] for i, n in guides.items() if n) <= max(0, guide_room))
    for uses in teacher_uses.values():
        for moment in sorted({u.starts_at for _i, u in uses}):
            busy = {i for i, u in uses if u.starts_at <= moment < u.ends_at}
            if len(busy) > 1:
                model.add_at_most_one(x[i] for i in busy)

    # Load: visits per member and ISO week; the busiest one is kept low.
    load: dict[tuple[int, tuple[int, int]], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i, c in enumerate(candidates):
        for u in c.uses:
            if u.site_id is not None:
                week = u.starts_at.astimezone(LOCAL_TZ).isocalendar()[:2]
                load[(u.member_id or 0, week)][i] += 1
    total_uses = sum(len(c.uses) for c in candidates) or 1
    busiest = model.new_int_var(0, total_uses, "busiest")
    for counts in load.values():
        model.add(sum(n * x[i] for i, n in counts.items()) <= busiest)

    spread_weight = 1
    preference_weight = total_uses + 1
    trainee_weight = preference_weight * (MAX_PREFERENCE * len(by_request) + 1)
    pin_weight = trainee_weight * (sum(size.values()) + 1)
    model.maximize(
        sum(
            x[i]
            * (
                (pin_weight if c.pinned else 0)
                + trainee_weight * size[c.request_id]
                + preference_weight * c.preference
            )
            for i, c in enumerate(candidates)
        )
        - spread_weight * busiest
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    if workers:
        solver.parameters.num_search_workers = workers
    solver.parameters.random_seed = 1
    status = solver.solve(model)
    name = solver.status_name(status)
    chosen: dict[int, Candidate] = {}
    objective = bound = gap = 0.0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for i, c in enumerate(candidates):
            if solver.value(x[i]):
                chosen[c.request_id] = c
        objective = float(solver.objective_value)
        bound = float(solver.best_objective_bound)
        gap = 0.0 if status == cp_model.OPTIMAL else abs(bound - objective) / max(1.0, abs(bound))
    # objective = PIN·pins + T·trainees + P·preferences − busiest, with P·preferences < T and
    # busiest ≤ total_uses < T: without pins, trainees ≤ (bound + total_uses) / T.
    trainee_bound = (
        int((bound + total_uses) // trainee_weight)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and not any(c.pinned for c in candidates)
        else 0
    )
    return Answer(name, objective, bound, gap, chosen, clock.monotonic() - started, trainee_bound)


def first_come_first_served(
    order: list[int], candidates: list[Candidate], limits: Limits
) -> dict[int, Candidate]:
    """What booking one by one would give: each request, in submission order, takes its
    most preferred candidate that still fits beside those taken before it (for comparison)."""
    by_request: dict[int, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_request[c.request_id].append(c)
    taken_sites: dict[int, list[Use]] = defaultdict(list)
    taken_teachers: dict[int, list[Use]] = defaultdict(list)
    chosen: dict[int, Candidate] = {}

    def fits(c: Candidate) -> bool:
        for u in c.uses:
            if u.teacher_id is not None:
                if any(
                    v.starts_at < u.ends_at and v.ends_at > u.starts_at
                    for v in taken_teachers[u.teacher_id]
                ):
                    return False
                continue
            around = [*taken_sites[u.site_id], *(w for w in c.uses if w.site_id == u.site_id)]
            for moment in {v.starts_at for v in around if u.starts_at <= v.starts_at < u.ends_at}:
                here = [v for v in around if v.starts_at <= moment < v.ends_at]
                if sum(v.seats for v in here) > limits.seats_left(u.site_id, moment):
                    return False
                if sum(1 for v in here if v.guide) > limits.guides_left(u.site_id, moment):
                    return False
        return True

    for request_id in order:
        for c in sorted(by_request[request_id], key=lambda c: (-c.preference, c.start)):
            if fits(c):
                chosen[request_id] = c
                for u in c.uses:
                    if u.site_id is not None:
                        taken_sites[u.site_id].append(u)
                    elif u.teacher_id is not None:
                        taken_teachers[u.teacher_id].append(u)
                break
    return chosen
