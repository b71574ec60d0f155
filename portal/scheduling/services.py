"""Scheduling rules: whether a route fits, booking it without overbooking, decisions, waiting list.

Every rule that decides whether a stop fits lives here (``check_plan``), and the same
functions back the web pages, the CLI and the JSON API. Booking is done inside one
transaction that first locks what it is about to fill (see docs/scheduling.md):

* SQLite: the transaction starts with BEGIN IMMEDIATE, so only one booking at a time reads
  and then writes;
* PostgreSQL: ``SELECT … FOR UPDATE`` on the sites and teachers involved, in id order, so
  two bookings that share a site or a teacher run one after the other, and others in parallel.

Times: stops are planned in Asia/Shanghai local time and stored in UTC.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal import plugins
from portal.audit.services import record
from portal.catalog.models import Course, Teacher, TeacherUnavailability, TeachingSite
from portal.catalog.services import Page, paginate
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import SQLITE_IMMEDIATE, db
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import (
    CLASS_KINDS,
    HOLDING,
    ORIGINS,
    Booking,
    BookingEvent,
    Reservation,
    RouteTemplate,
    Setting,
    TrainingClass,
)
from portal.specs import ReservationRequest
from portal.timeutil import LOCAL_TZ, utcnow, within_range

# Consortium rules the office can change (stored in `settings`); these are the defaults.
DEFAULT_SETTINGS: dict[str, Any] = {
    # A 党性教育 class of this many days or more held in the city must include the ring route.
    "ring_route_min_days": 3,
    # The theme that rule is about.
    "ring_route_theme": "党性教育",
    # Organizers may cancel or move a booking until this many days before it starts.
    "change_deadline_days": 3,
    # How long the first in line has to accept a place freed from the waiting list.
    "waitlist_offer_hours": 24,
    # Travel between two stops: average speed on the region's roads and a fixed margin.
    "travel_speed_kmh": 40,
    "travel_margin_minutes": 15,
    # How far from the asked date the portal looks for dates on which a whole route fits.
    "suggest_within_days": 30,
}


# The values each numeric setting may take (a speed of 0 would divide by zero).
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "ring_route_min_days": (1, 365),
    "change_deadline_days": (0, 365),
    "waitlist_offer_hours": (1, 720),
    "travel_speed_kmh": (1, 200),
    "travel_margin_minutes": (0, 240),
    "suggest_within_days": (1, 365),
}


# ---------------------------------------------------------------- settings


def setting(key: str) -> Any:
    stored = db.session.get(Setting, key)
    return stored.value["value"] if stored is not None else DEFAULT_SETTINGS[key]


def set_setting(key: str, value: Any, actor: Any) -> None:
    """The office changes a consortium rule. The caller commits."""
    if actor is None or not actor.is_office:
        raise PermissionDenied(_("只有环线办可以修改环线规则。"))
    if key not in DEFAULT_SETTINGS:
        raise ServiceError(_("没有这项设置。"))
    default = DEFAULT_SETTINGS[key]
    if isinstance(default, int):
        low, high = SETTING_RANGES[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValidationFailed(
                {key: _("请填写 %(low)s 到 %(high)s 之间的整数。", low=low, high=high)}
            )
    elif not isinstance(value, str) or not value.strip() or len(value) > 32 or "\x00" in value:
        raise ValidationFailed({key: _("请填写不超过 32 个字符的文字。")})
    stored = db.session.get(Setting, key) or Setting(key=key)
    stored.value = {"value": value.strip() if isinstance(value, str) else value}
    stored.updated_by = actor.username
    db.session.add(stored)
    record(actor, "setting.change", key, value=value)


def all_settings() -> dict[str, Any]:
    stored = {s.key: s.value["value"] for s in db.session.scalars(select(Setting))}
    return {key: stored.get(key, default) for key, default in DEFAULT_SETTINGS.items()}


# ---------------------------------------------------------------- which sites take bookings


def bookable_sites_query() -> Select[tuple[TeachingSite]]:
    """Sites offered for new bookings: active, of a member whose plugin is enabled."""
    return (
        select(TeachingSite)
        .join(TeachingSite.member)
        .where(
            TeachingSite.status == "active",
            Member.plugin.in_(sorted(plugins.enabled_plugin_names())),
        )
        .order_by(TeachingSite.id)
    )


def member_rule_problems(reservation: ReservationRequest, site: TeachingSite) -> list[str]:
    """The hosting member's own objections to a reservation, in Chinese; [] if none.

    Only the plugin of the member that owns the site is asked. A disabled member takes no
    new bookings; a member whose rule hook fails is treated as saying no, with a message,
    so a broken plugin never lets through what its rules would refuse.
    """
    owner = site.member.plugin
    member_name = site.member.short_name
    if not plugins.is_enabled(owner):
        return [_("%(member)s已暂停参与环线，暂不接受新的预约。", member=member_name)]
    answers = plugins.call_each(
        "portal_validate_reservation",
        plugins={owner},
        check=plugins.list_of(str),
        reservation=reservation,
        site=site,
    )
    if not answers and plugins.implements(owner, "portal_validate_reservation"):
        return [_("%(member)s的预约规则暂时无法检查，请稍后再试或联系环线办。", member=member_name)]
    return [problem for _, found in answers for problem in found]


# ---------------------------------------------------------------- plans


@dataclass
class PlannedStop:
    """One stop of a route on real dates, before it is booked (local times)."""

    index: int
    kind: str
    starts_at: datetime
    minutes: int
    site: TeachingSite | None = None
    course: Course | None = None
    teacher: Teacher | None = None
    squads: int = 1
    guide_requested: bool = False
    title: str = ""

    @property
    def ends_at(self) -> datetime:
        """End of the last squad's session: squads visit one after another."""
        return self.starts_at + timedelta(minutes=self.minutes * self.squads)

    def squad_windows(self) -> list[tuple[datetime, datetime]]:
        length = timedelta(minutes=self.minutes)
        return [
            (self.starts_at + i * length, self.starts_at + (i + 1) * length)
            for i in range(self.squads)
        ]

    @property
    def label(self) -> str:
        if self.course is not None:
            return self.course.name
        if self.site is not None:
            return self.site.name
        return self.title


@dataclass
class Problem:
    """Why a stop (or the whole plan, index None) does not fit, in words for the organizer."""

    index: int | None
    code: str
    message: str
    suggestion: dict[str, Any] = field(default_factory=dict)


class BookingRefused(ServiceError):
    """The plan does not fit; ``problems`` says why, stop by stop."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("；".join(p.message for p in problems))
        self.problems = problems


def local_dt(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ)


def plan_from_template(
    template: RouteTemplate, start: date, squads: dict[int, int] | None = None
) -> list[PlannedStop]:
    """The template's stops on real dates from ``start`` (day 1), with squads per stop index."""
    plan = []
    for index, stop in enumerate(template.stops):
        teacher = (
            stop.course.teachers[0] if stop.course is not None and stop.course.teachers else None
        )
        plan.append(
            PlannedStop(
                index=index,
                kind=stop.kind,
                starts_at=local_dt(start + timedelta(days=stop.day - 1), stop.starts),
                minutes=stop.minutes,
                site=stop.site,
                course=stop.course,
                teacher=teacher,
                squads=(squads or {}).get(index, 1),
                guide_requested=stop.kind == "visit",
                title=stop.title,
            )
        )
    return plan


def shift_plan(plan: Sequence[PlannedStop], days: int) -> list[PlannedStop]:
    delta = timedelta(days=days)
    return [
        PlannedStop(**{**p.__dict__, "starts_at": p.starts_at + delta})  # noqa: PIE804
        for p in plan
    ]


# ---------------------------------------------------------------- checking a plan


@dataclass
class Context:
    """Everything check_plan needs, fetched in a fixed number of queries for a time window."""

    reservations_by_site: dict[int, list[Reservation]]
    reservations_by_teacher: dict[int, list[Reservation]]
    unavailable: dict[int, list[TeacherUnavailability]]
    enabled_members: set[int]
    settings: dict[str, Any]


# A reservation lies within one day's opening hours (check_plan refuses any other stop), so
# one that overlaps a window starts less than a day before it. Saying so bounds the index
# scan to the window, instead of every earlier reservation of the site or teacher.
LONGEST_RESERVATION = timedelta(days=1)

# Reservations holding seats or a teacher's time in a window, at some sites or of some
# teachers. Built once: constructing and hashing the statement on every check cost more
# CPU than running it.
HOLDING_IN_WINDOW = select(Reservation).where(
    Reservation.starts_at < bindparam("end"),
    Reservation.starts_at > bindparam("earliest"),
    Reservation.ends_at > bindparam("start"),
    Reservation.status.in_(HOLDING),
    or_(
        Reservation.site_id.in_(bindparam("sites", expanding=True)),
        Reservation.teacher_id.in_(bindparam("teachers", expanding=True)),
    ),
)
HOLDING_IN_WINDOW_BUT_ONE = HOLDING_IN_WINDOW.where(Reservation.booking_id != bindparam("exclude"))


def load_context(
    plan: Sequence[PlannedStop],
    start: datetime,
    end: datetime,
    exclude_booking: int | None,
    *,
    reuse: Context | None = None,
) -> Context:
    """What check_plan needs for the plan's window.

    With ``reuse`` (a context read moments earlier for the same plan), only what the booking
    locks protect is read again: the reservations held in the window and the teachers'
    unavailable days. The members taking part and the settings are taken from ``reuse``;
    no lock guards them, so reading them earlier is as good as reading them under the lock.
    """
    site_ids = sorted({p.site.id for p in plan if p.site is not None})
    teacher_ids = sorted({p.teacher.id for p in plan if p.teacher is not None})
    by_site: dict[int, list[Reservation]] = defaultdict(list)
    by_teacher: dict[int, list[Reservation]] = defaultdict(list)
    if site_ids or teacher_ids:
        found = db.session.scalars(
            HOLDING_IN_WINDOW if exclude_booking is None else HOLDING_IN_WINDOW_BUT_ONE,
            {
                "start": start,
                "end": end,
                "earliest": start - LONGEST_RESERVATION,
                "sites": site_ids,
                "teachers": teacher_ids,
                "exclude": exclude_booking,
            },
        )
        for r in found:
            by_site[r.site_id].append(r)
            if r.teacher_id is not None:
                by_teacher[r.teacher_id].append(r)
    unavailable: dict[int, list[TeacherUnavailability]] = defaultdict(list)
    if teacher_ids:
        for u in db.session.scalars(
            select(TeacherUnavailability).where(
                TeacherUnavailability.teacher_id.in_(teacher_ids),
                TeacherUnavailability.starts_on <= end.astimezone(LOCAL_TZ).date(),
                TeacherUnavailability.ends_on >= start.astimezone(LOCAL_TZ).date(),
            )
        ):
            unavailable[u.teacher_id].append(u)
    if reuse is not None:
        return Context(by_site, by_teacher, unavailable, reuse.enabled_members, reuse.settings)
    # The plan's members, not a query: their rows are loaded for their plugins' rules anyway.
    taking_part = plugins.enabled_plugin_names()
    members = {p.site.member for p in plan if p.site is not None}
    enabled = {m.id for m in members if m.plugin in taking_part}
    return Context(by_site, by_teacher, unavailable, enabled, all_settings())


def overlapping(rows: Iterable[Reservation], start: datetime, end: datetime) -> list[Reservation]:
    return [r for r in rows if r.starts_at < end and r.ends_at > start]


def travel_minutes(a: TeachingSite, b: TeachingSite, settings: dict[str, Any]) -> int:
    """Minutes to get from site a to site b by road, estimated from their coordinates."""
    margin = settings["travel_margin_minutes"]
    if a.id == b.id:
        return 0
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return margin
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371 * math.asin(math.sqrt(h)) * 1.3  # roads wind: 30 % longer than a straight line
    return math.ceil(km / settings["travel_speed_kmh"] * 60) + margin


@plugins.one_state_read()
def check_plan(
    plan: Sequence[PlannedStop],
    group_size: int,
    *,
    requested_at: datetime | None = None,
    exclude_booking: int | None = None,
    context: Context | None = None,
    class_name: str = "",
) -> list[Problem]:
    """Every reason the plan does not fit, stop by stop; [] when it fits.

    Checks opening days and hours, capacity per session (squads), guides, teachers (busy,
    unavailable), travel time between consecutive stops of a day, the hosting member's
    participation and its plugin's own rules. Costs a fixed number of queries.
    """
    if not plan:
        return [Problem(None, "empty", _("线路中没有任何站点。"))]
    requested_at = requested_at or utcnow()
    start = min(p.starts_at for p in plan)
    end = max(p.ends_at for p in plan)
    ctx = context or load_context(plan, start, end, exclude_booking)
    problems: list[Problem] = []
    taken_in_plan: dict[int, list[tuple[datetime, datetime, int, bool]]] = defaultdict(list)
    teacher_in_plan: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    ordered = sorted(plan, key=lambda p: p.starts_at)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.starts_at < earlier.ends_at:
            problems.append(
                Problem(
                    later.index,
                    "overlap",
                    _("“%(a)s”与“%(b)s”时间重叠。", a=earlier.label, b=later.label),
                )
            )
    previous_site: dict[date, PlannedStop] = {}
    for stop in ordered:
        if stop.site is None:
            continue
        problems.extend(
            _check_stop(
                stop, group_size, requested_at, ctx, taken_in_plan, teacher_in_plan, class_name
            )
        )
        day = stop.starts_at.date()
        before = previous_site.get(day)
        if before is not None:
            need = travel_minutes(before.site, stop.site, ctx.settings)
            gap = (stop.starts_at - before.ends_at).total_seconds() / 60
            if gap < need:
                problems.append(
                    Problem(
                        stop.index,
                        "travel",
                        _(
                            "从“%(a)s”到“%(b)s”路上约需 %(need)s 分钟，两站之间只留了 %(gap)s 分钟。",
                            a=before.site.name,
                            b=stop.site.name,
                            need=need,
                            gap=max(0, int(gap)),
                        ),
                    )
                )
        previous_site[day] = stop
    return problems


def _check_stop(
    stop: PlannedStop,
    group_size: int,
    requested_at: datetime,
    ctx: Context,
    taken_in_plan: dict[int, list[tuple[datetime, datetime, int, bool]]],
    teacher_in_plan: dict[int, list[tuple[datetime, datetime]]],
    class_name: str,
) -> list[Problem]:
    site = stop.site
    assert site is not None
    problems: list[Problem] = []

    def add(code: str, message: str, **suggestion: Any) -> None:
        problems.append(Problem(stop.index, code, message, suggestion))

    local_start = stop.starts_at.astimezone(LOCAL_TZ)
    local_end = stop.ends_at.astimezone(LOCAL_TZ)
    if site.status != "active":
        add(
            "site_status",
            _(
                "“%(site)s”当前状态为“%(status)s”，不接受预约。",
                site=site.name,
                status=site.status_label,
            ),
        )
        return problems
    if site.member_id not in ctx.enabled_members:
        add(
            "member_disabled",
            _("%(member)s已暂停参与环线，暂不接受新的预约。", member=site.member.short_name),
        )
        return problems
    if stop.starts_at <= requested_at:
        add("past", _("“%(site)s”的时间已过去。", site=site.name))
    if str(local_start.isoweekday()) not in site.open_weekdays:
        add(
            "closed_day",
            _(
                "“%(site)s”%(day)s不开放（开放日：%(days)s）。",
                site=site.name,
                day=local_start.strftime("%m-%d"),
                days=site.open_days_label,
            ),
        )
    if (
        local_start.date() != local_end.date()
        or local_start.time() < site.opens
        or (local_end.time() > site.closes)
    ):
        add(
            "closed_hour",
            _(
                "“%(site)s”开放时间为 %(opens)s–%(closes)s，所选时段 %(start)s–%(end)s 不在其内。",
                site=site.name,
                opens=site.opens.strftime("%H:%M"),
                closes=site.closes.strftime("%H:%M"),
                start=local_start.strftime("%H:%M"),
                end=local_end.strftime("%H:%M"),
            ),
        )
    per_squad = math.ceil(group_size / stop.squads)
    if per_squad > site.capacity:
        squads = math.ceil(group_size / site.capacity)
        add(
            "too_large",
            _(
                "班级 %(size)s 人，超过“%(site)s”每场容量 %(capacity)s 人。可分为 %(squads)s 个小组依次参观，每组配一名讲解员。",
                size=group_size,
                site=site.name,
                capacity=site.capacity,
                squads=squads,
            ),
            squads=squads,
        )
    needs_guide = site.needs_guide or stop.guide_requested
    for squad_start, squad_end in stop.squad_windows():
        existing = overlapping(ctx.reservations_by_site.get(site.id, []), squad_start, squad_end)
        seats = sum(r.group_size for r in existing) + sum(
            n for s, e, n, _g in taken_in_plan[site.id] if s < squad_end and e > squad_start
        )
        if seats + min(per_squad, site.capacity) > site.capacity and per_squad <= site.capacity:
            add(
                "full",
                _(
                    "“%(site)s”%(time)s 这一场已满（剩余 %(left)s 个名额）。",
                    site=site.name,
                    time=squad_start.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"),
                    left=max(0, site.capacity - seats),
                ),
                waitlist=True,
            )
            break
        if needs_guide:
            guides = sum(1 for r in existing if r.guide_requested or site.needs_guide) + sum(
                1
                for s, e, _n, g in taken_in_plan[site.id]
                if g and s < squad_end and e > squad_start
            )
            if guides + 1 > site.guide_count:
                add(
                    "guide_busy",
                    _("“%(site)s”的讲解员在该时段已全部安排。", site=site.name),
                    waitlist=True,
                )
                break
        taken_in_plan[site.id].append((squad_start, squad_end, per_squad, needs_guide))
    if stop.teacher is not None:
        teacher = stop.teacher
        busy = overlapping(
            ctx.reservations_by_teacher.get(teacher.id, []), stop.starts_at, stop.ends_at
        )
        busy_here = [
            1 for s, e in teacher_in_plan[teacher.id] if s < stop.ends_at and e > stop.starts_at
        ]
        if busy or busy_here:
            add("teacher_busy", _("%(teacher)s老师该时段已有其他安排。", teacher=teacher.name))
        elif teacher.status != "active":
            add(
                "teacher_status",
                _(
                    "%(teacher)s老师目前不授课（%(status)s）。",
                    teacher=teacher.name,
                    status=teacher.status_label,
                ),
            )
        day = local_start.date()
        if any(u.starts_on <= day <= u.ends_on for u in ctx.unavailable.get(teacher.id, [])):
            add(
                "teacher_unavailable",
                _("%(teacher)s老师%(day)s不能授课。", teacher=teacher.name, day=day.isoformat()),
            )
        teacher_in_plan[teacher.id].append((stop.starts_at, stop.ends_at))
    groups_that_day = len(
        {
            r.booking_id
            for r in ctx.reservations_by_site.get(site.id, [])
            if r.starts_at.astimezone(LOCAL_TZ).date() == local_start.date()
        }
    )
    request = ReservationRequest(
        site_id=site.id,
        starts_at=local_start,
        ends_at=local_end,
        group_size=group_size,
        requested_at=requested_at.astimezone(LOCAL_TZ),
        guide_requested=needs_guide,
        class_name=class_name,
        groups_already_that_day=groups_that_day,
    )
    for message in member_rule_problems(request, site):
        add("member_rule", message)
    return problems


def suggest_dates(
    plan: Sequence[PlannedStop],
    group_size: int,
    *,
    limit: int = 3,
    exclude_booking: int | None = None,
) -> list[date]:
    """The nearest start dates (before or after) on which the whole plan fits, in future days."""
    if not plan:
        return []
    within = setting("suggest_within_days")
    first_day = min(p.starts_at for p in plan).date()
    today = datetime.now(LOCAL_TZ).date()
    span = max(p.ends_at for p in plan) - min(p.starts_at for p in plan)
    window_start = local_dt(max(today, first_day - timedelta(days=within)), time(0))
    window_end = local_dt(first_day + timedelta(days=within), time(0)) + span + timedelta(days=1)
    ctx = load_context(plan, window_start, window_end, exclude_booking)
    found: list[date] = []
    for distance in range(1, within + 1):
        for days in (distance, -distance):
            candidate = first_day + timedelta(days=days)
            if candidate <= today:
                continue
            if not check_plan(
                shift_plan(plan, days), group_size, context=ctx, exclude_booking=exclude_booking
            ):
                found.append(candidate)
                if len(found) == limit:
                    return sorted(found)
    return sorted(found)


# ---------------------------------------------------------------- the booking transaction


# The rows begin_locked locks, in id order, with what the checks read of them (built once).
READ_SITES = (
    select(TeachingSite)
    .where(TeachingSite.id.in_(bindparam("ids", expanding=True)))
    .order_by(TeachingSite.id)
    .options(joinedload(TeachingSite.member, innerjoin=True))
)
LOCK_SITES = READ_SITES.with_for_update(of=TeachingSite)
READ_TEACHERS = (
    select(Teacher).where(Teacher.id.in_(bindparam("ids", expanding=True))).order_by(Teacher.id)
)
LOCK_TEACHERS = READ_TEACHERS.with_for_update()


def begin_locked(site_ids: Iterable[int], teacher_ids: Iterable[int]) -> None:
    """Start a transaction that holds the locks a booking needs (see the module docstring).

    Everything loaded before is expired (the rollback); the locking queries load the locked
    sites (with their members) and teachers again, so the checks that follow read them as
    they are under the lock without a query each.
    """
    locking = locks_enabled()
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_IMMEDIATE: locking})
    sites = sorted(set(site_ids))
    teachers = sorted(set(teacher_ids))
    if sites:
        db.session.scalars(LOCK_SITES if locking else READ_SITES, {"ids": sites}).all()
    if teachers:
        db.session.scalars(LOCK_TEACHERS if locking else READ_TEACHERS, {"ids": teachers}).all()


def locks_enabled() -> bool:
    """Always on; a test switches it off to show the race it prevents."""
    return not has_app_context() or current_app.config.get("SCHEDULING_LOCKS", True)


def record_event(
    booking: Booking,
    action: str,
    actor: Any,
    reservation: Reservation | None = None,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> None:
    db.session.add(
        BookingEvent(
            # Objects, not ids: events of a booking not yet flushed are inserted with it.
            booking=booking,
            reservation=reservation,
            action=action,
            from_status=old,
            to_status=new,
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "display_name", None) or _("系统"),
            reason=reason,
        )
    )


@dataclass(frozen=True)
class ActorRef:
    """Who acts, as the history records them: read before the lock expires the user object."""

    id: int
    display_name: str


def _blocking(problems: list[Problem], waitlist_full: bool) -> tuple[list[Problem], set[int]]:
    """The problems that refuse the booking, and the stops that join a waiting list instead."""
    waiting = (
        {p.index for p in problems if p.suggestion.get("waitlist")} if waitlist_full else set()
    )
    blocking = [p for p in problems if p.index not in waiting or not p.suggestion.get("waitlist")]
    return blocking, waiting


def book(
    training_class: TrainingClass,
    plan: Sequence[PlannedStop],
    actor: Any,
    *,
    template: RouteTemplate | None = None,
    name: str = "",
    idempotency_key: str | None = None,
    waitlist_full: bool = False,
) -> Booking:
    """Book a plan for a class, or raise BookingRefused with every problem. Commits.

    With ``waitlist_full``, stops whose only problem is a full session (or no free guide)
    join that session's waiting list instead of refusing the booking.

    The plan is checked twice. First without locks, so that a plan that does not fit (a full
    session) is refused at once instead of waiting behind the bookings that hold its sites;
    such a refusal is true of the data committed when it was read. Then, if it fits, again
    under the locks (begin_locked), where what the locks protect is read again: the
    reservations held in the window and the teachers' unavailable days.
    """
    require_class_owner(training_class, actor)
    if training_class.cancelled:
        raise ServiceError(_("该培训班已取消。"))
    if idempotency_key:
        done = db.session.scalar(select(Booking).where(Booking.idempotency_key == idempotency_key))
        if done is not None:
            return same_submission(done, training_class, actor)
    if template is not None and training_class.kind not in template.kinds:
        raise ServiceError(
            _("“%(route)s”不向%(kind)s开放。", route=template.name, kind=training_class.kind_label)
        )
    # Read now what the writes need: the lock's rollback expires every loaded object.
    size, class_name, class_id = training_class.size, training_class.name, training_class.id
    who = ActorRef(actor.id, getattr(actor, "display_name", "") or _("系统"))
    route_name = template.name if template is not None else _("定制线路")
    template_id = template.id if template is not None else None
    stops = sorted((p for p in plan if p.site is not None), key=lambda p: p.starts_at)
    ids = [
        (p.site.id, p.course.id if p.course else None, p.teacher.id if p.teacher else None)
        for p in stops
    ]
    if not plan:
        raise BookingRefused(check_plan(plan, size))
    start, end = min(p.starts_at for p in plan), max(p.ends_at for p in plan)
    context = load_context(plan, start, end, None)
    problems = check_plan(plan, size, context=context, class_name=class_name)
    blocking, _waiting = _blocking(problems, waitlist_full)
    if blocking:
        if idempotency_key:
            done = db.session.scalar(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            )
            if done is not None:  # the same form, submitted a moment ago, took the places
                return same_submission(done, training_class, actor)
        raise BookingRefused(blocking)
    begin_locked([site_id for site_id, _c, _t in ids], [t for _s, _c, t in ids if t])
    try:
        if idempotency_key:
            done = db.session.scalar(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            )
            if done is not None:
                db.session.rollback()
                return same_submission(done, training_class, actor)
        # The plan's sites and teachers are the objects begin_locked has just read again.
        context = load_context(plan, start, end, None, reuse=context)
        problems = check_plan(plan, size, context=context, class_name=class_name)
        blocking, waiting = _blocking(problems, waitlist_full)
        if blocking:
            raise BookingRefused(blocking)
        now = utcnow()
        reservations = []
        for stop, (_site_id, course_id, teacher_id) in zip(stops, ids, strict=True):
            site = stop.site
            per_squad = math.ceil(size / stop.squads)
            status = (
                "waitlisted"
                if stop.index in waiting
                else ("confirmed" if site.auto_confirm else "pending")
            )
            for number, (squad_start, squad_end) in enumerate(stop.squad_windows(), start=1):
                reservations.append(
                    Reservation(
                        site=site,
                        course_id=course_id,
                        teacher_id=teacher_id,
                        starts_at=squad_start,
                        ends_at=squad_end,
                        group_size=per_squad if stop.squads > 1 else size,
                        squad=number,
                        guide_requested=site.needs_guide or stop.guide_requested,
                        status=status,
                        waitlisted_at=now if status == "waitlisted" else None,
                        decided_at=now if status == "confirmed" else None,
                    )
                )
        # Built whole in memory, inserted at the commit: one statement per table.
        booking = Booking(
            class_id=class_id,
            template_id=template_id,
            name=name or route_name,
            start_date=min(p.starts_at for p in plan).date(),
            created_by_id=who.id,
            idempotency_key=idempotency_key,
            status="pending",
            reservations=reservations,
        )
        db.session.add(booking)
        record_event(booking, "create", who, new="pending")
        for reservation in reservations:
            record_event(booking, reservation.status, who, reservation, "", reservation.status)
        refresh_booking_status(booking, who)
        waiting_hosts = [r for r in reservations if r.status == "pending"]
        if waiting_hosts:
            booking.training_class = training_class  # what the notice describes
            notify_hosts(booking, _("新的预约待确认：%(name)s", name=class_name), waiting_hosts)
        new_status = booking.status
        owners = {stop.site.member.plugin for stop in stops}
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, "", new_status=new_status, owners=owners)
    return booking


def same_submission(done: Booking, training_class: TrainingClass, actor: Any) -> Booking:
    """The booking a repeated form made, if it is the same class's and the same person's."""
    if done.class_id != training_class.id or done.created_by_id != actor.id:
        raise ServiceError(_("表单已失效，请刷新页面后重新提交。"))
    return done


def refresh_booking_status(booking: Booking, actor: Any) -> None:
    """A booking is confirmed when all its live stops are, declined when one was declined."""
    live = [r for r in booking.reservations if r.status != "cancelled"]
    if booking.status == "cancelled":
        return
    if any(r.status == "declined" for r in live):
        new = "declined"
    elif live and all(r.status == "confirmed" for r in live):
        new = "confirmed"
    else:
        new = "pending"
    if new != booking.status:
        record_event(booking, "status", actor, old=booking.status, new=new)
        booking.status = new


def booking_link(booking: Booking) -> str:
    return f"/bookings/{booking.id}"


def describe(booking: Booking) -> str:
    """Lines about a booking for a notice: class, unit, size, and its stops."""
    klass = booking.training_class
    lines = [
        _(
            "培训班：%(name)s（%(unit)s，%(size)s 人）",
            name=klass.name,
            unit=klass.sending_unit,
            size=klass.size,
        ),
        _("线路：%(route)s", route=booking.name),
    ]
    for r in booking.reservations:
        lines.append(
            f"{r.starts_at.astimezone(LOCAL_TZ).strftime('%Y-%m-%d %H:%M')} {r.site.name} {r.status_label}"
        )
    return "\n".join(lines)


def notify_hosts(
    booking: Booking, subject: str, reservations: Iterable[Reservation] | None = None
) -> None:
    """Tell the staff of the members whose sites the booking (or these stops) visit."""
    stops = list(reservations) if reservations is not None else booking.reservations
    notify(member_staff(r.site.member_id for r in stops), subject, describe(booking), "/inbox")


def notify_organizer(booking: Booking, subject: str) -> None:
    notify([booking.training_class.organizer], subject, describe(booking), booking_link(booking))


def booking_changed(
    booking: Booking,
    old_status: str,
    *,
    new_status: str | None = None,
    owners: set[str] | None = None,
) -> None:
    """Tell the plugins of the members the booking visits, after the change is committed.

    A caller that knows the new status and the members' plugins passes them, so the
    committed (expired) booking is not read again unless a plugin implements the hook.
    """
    new_status = booking.status if new_status is None else new_status
    if old_status == new_status:
        return
    if owners is None:
        owners = {r.site.member.plugin for r in booking.reservations}
    plugins.call_each(
        "portal_booking_changed",
        plugins=owners,
        booking=booking,
        old_status=old_status,
        new_status=new_status,
    )


# ---------------------------------------------------------------- classes


def require_class_owner(training_class: TrainingClass, actor: Any) -> None:
    """The class's organizer or the office; anyone else gets NotFound (404)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound(_("没有找到该培训班。"))
    if not (actor.is_office or training_class.organizer_id == actor.id):
        raise NotFound(_("没有找到该培训班。"))


def needs_ring_route(
    training_class: TrainingClass, settings: Mapping[str, Any] | None = None
) -> bool:
    """The consortium rule: a long 党性教育 class held in the city must include the ring route.

    ``settings`` (from ``all_settings()``) lets a page that asks this of many classes read
    the settings once instead of twice per class.
    """
    if training_class.is_study_visit:
        return False
    rules = settings if settings is not None else all_settings()
    return (
        rules["ring_route_theme"] in training_class.theme
        and training_class.days >= rules["ring_route_min_days"]
    )


def validate_class(values: dict[str, Any]) -> dict[str, Any]:
    from portal.catalog.services import clean_text

    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("班级名称"), required=True, limit=128)
    clean_text(errors, values, "sending_unit", _("选派单位"), required=True, limit=128)
    clean_text(errors, values, "theme", _("培训主题"), required=True, limit=32)
    clean_text(errors, values, "contact_name", _("联系人"), required=True, limit=64)
    clean_text(errors, values, "contact_phone", _("联系电话"), required=True, limit=32)
    if values.get("kind") not in CLASS_KINDS:
        errors["kind"] = _("请选择班次类型。")
    if values.get("origin") not in ORIGINS:
        errors["origin"] = _("请选择生源。")
    size = values.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 2000:
        errors["size"] = _("人数须为 1 到 2000 之间的整数。")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, date):
        errors["starts_on"] = _("请填写开班日期。")
    if not isinstance(ends, date):
        errors["ends_on"] = _("请填写结业日期。")
    elif isinstance(starts, date):
        if ends < starts:
            errors["ends_on"] = _("结业日期不能早于开班日期。")
        elif (ends - starts).days > 365:
            errors["ends_on"] = _("培训班最长一年。")
    values["is_study_visit"] = bool(values.get("is_study_visit"))
    if errors:
        raise ValidationFailed(errors)
    return values


CLASS_FIELDS = (
    "name",
    "kind",
    "origin",
    "sending_unit",
    "size",
    "starts_on",
    "ends_on",
    "theme",
    "contact_name",
    "contact_phone",
    "is_study_visit",
)


def register_class(
    actor: Any, values: dict[str, Any], idempotency_key: str | None = None
) -> TrainingClass:
    """An organizer (or the office) registers a class or study-visit group. The caller commits.

    With ``idempotency_key`` (the registration form's one-time key), a repeat of the same
    form (a double click, a reload, a retry after a timeout) answers the class the first
    submission registered instead of registering it twice; two submissions at the same
    moment are settled by the unique key.
    """
    if actor is None or not (actor.is_office or actor.role == "organizer"):
        raise PermissionDenied(_("只有培训班联系人和环线办可以登记培训班。"))
    if idempotency_key and (done := _class_with_key(idempotency_key, actor)) is not None:
        return done
    values = validate_class(values)
    training_class = TrainingClass(
        organizer_id=actor.id,
        idempotency_key=idempotency_key,
        **{k: values[k] for k in CLASS_FIELDS},
    )
    db.session.add(training_class)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form was committed by a request running at the same time.
        db.session.rollback()
        done = _class_with_key(idempotency_key, actor) if idempotency_key else None
        if done is None:
            raise
        return done
    return training_class


def _class_with_key(key: str, actor: Any) -> TrainingClass | None:
    done = db.session.scalar(select(TrainingClass).where(TrainingClass.idempotency_key == key))
    if done is not None and done.organizer_id != actor.id:
        raise ServiceError(_("表单已失效，请刷新页面后重新提交。"))
    return done


def update_class(training_class: TrainingClass, actor: Any, values: dict[str, Any]) -> None:
    """Change a class's plan; a long 党性教育 class may not be left without its ring route."""
    require_class_owner(training_class, actor)
    values = validate_class(values)
    before = {key: getattr(training_class, key) for key in CLASS_FIELDS}
    for key in CLASS_FIELDS:
        setattr(training_class, key, values[key])
    if (
        needs_ring_route(training_class)
        and training_class.bookings
        and not active_bookings(training_class)
    ):
        for key, value in before.items():
            setattr(training_class, key, value)
        raise ServiceError(ring_route_message(training_class))


def ring_route_message(training_class: TrainingClass) -> str:
    return _(
        "按环线规则，%(days)s 天及以上的%(theme)s班须安排环线教学：请为“%(name)s”预约一条环线。",
        days=setting("ring_route_min_days"),
        theme=setting("ring_route_theme"),
        name=training_class.name,
    )


def active_bookings(training_class: TrainingClass) -> list[Booking]:
    return [b for b in training_class.bookings if b.status != "cancelled"]


def classes_of(actor: Any) -> list[TrainingClass]:
    query = select(TrainingClass).order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
    if not actor.is_office:
        query = query.where(TrainingClass.organizer_id == actor.id)
    return list(db.session.scalars(query.options(selectinload(TrainingClass.bookings))))


# ---------------------------------------------------------------- decisions by the hosting member


INBOX_PER_PAGE = 50


def member_inbox(
    actor: Any,
    status: str = "pending",
    *,
    member_id: int | None = None,
    earlier: bool = False,
    page: int = 1,
    per_page: int = INBOX_PER_PAGE,
    now: datetime | None = None,
) -> Page:
    """One page of reservations of the actor's member's sites (all members' for the office).

    By default those from today on, soonest first; ``earlier`` gives the ones before today,
    latest first. The index on (status, starts_at) serves both orders.
    """
    today = (now or utcnow()).astimezone(LOCAL_TZ).date()
    cutoff = datetime.combine(today, time(0), tzinfo=LOCAL_TZ)
    query = (
        select(Reservation)
        .join(Reservation.site)
        .where(Reservation.status == status)
        .options(
            selectinload(Reservation.booking).selectinload(Booking.training_class),
            selectinload(Reservation.site).selectinload(TeachingSite.member),
            selectinload(Reservation.course),
            selectinload(Reservation.teacher),
        )
    )
    if earlier:
        query = query.where(Reservation.starts_at < cutoff).order_by(
            Reservation.starts_at.desc(), Reservation.id.desc()
        )
    else:
        query = query.where(Reservation.starts_at >= cutoff).order_by(
            Reservation.starts_at, Reservation.id
        )
    if not actor.is_office:
        if not actor.is_member_user:
            raise PermissionDenied(_("只有成员单位工作人员可以处理预约。"))
        query = query.where(TeachingSite.member_id == actor.member_id)
    elif member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    return paginate(query, page, per_page)


def get_reservation_for_member(reservation_id: int, actor: Any) -> Reservation:
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None or not (
        actor.is_office or (actor.is_member_user and reservation.site.member_id == actor.member_id)
    ):
        raise NotFound(_("没有找到该预约。"))
    return reservation


def decide(reservation: Reservation, actor: Any, confirm: bool, reason: str = "") -> None:
    """The hosting member confirms (re-checking every rule) or declines a reservation. Commits."""
    get_reservation_for_member(reservation.id, actor)
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise ValidationFailed({"reason": _("婉拒时请说明原因。")})
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    reservation_id = reservation.id
    begin_locked([reservation.site_id], [reservation.teacher_id] if reservation.teacher_id else [])
    try:
        reservation = db.session.get(Reservation, reservation_id)
        if reservation.status != "pending":
            raise ServiceError(_("该预约已处理（%(status)s）。", status=reservation.status_label))
        booking = reservation.booking
        if confirm:
            stop = PlannedStop(
                index=0,
                kind="course" if reservation.course else "visit",
                starts_at=reservation.starts_at.astimezone(LOCAL_TZ),
                minutes=int((reservation.ends_at - reservation.starts_at).total_seconds() // 60),
                site=reservation.site,
                course=reservation.course,
                teacher=reservation.teacher,
                guide_requested=reservation.guide_requested,
            )
            problems = [
                p
                for p in check_plan(
                    [stop],
                    reservation.group_size,
                    exclude_booking=booking.id,
                    requested_at=reservation.starts_at - timedelta(seconds=1),
                )
                if p.code not in ("member_rule", "past")
            ]
            if problems:
                raise BookingRefused(problems)
        old = reservation.status
        booking_before = booking.status
        reservation.status = "confirmed" if confirm else "declined"
        reservation.decided_by_id = actor.id
        reservation.decided_at = utcnow()
        reservation.decline_reason = reason if not confirm else ""
        record_event(
            booking,
            "confirm" if confirm else "decline",
            actor,
            reservation,
            old,
            reservation.status,
            reason,
        )
        refresh_booking_status(booking, actor)
        if confirm:
            subject = _(
                "“%(site)s”已确认接待%(name)s",
                site=reservation.site.name,
                name=booking.training_class.name,
            )
        else:
            subject = _(
                "“%(site)s”婉拒了%(name)s：%(reason)s",
                site=reservation.site.name,
                name=booking.training_class.name,
                reason=reason,
            )
        notify_organizer(booking, subject)
        if not confirm:
            offer_freed_places([reservation], actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, booking_before)


# ---------------------------------------------------------------- cancellation and the waiting list


def change_deadline(booking: Booking) -> date:
    return booking.start_date - timedelta(days=setting("change_deadline_days"))


def cancel_booking(booking: Booking, actor: Any, reason: str) -> None:
    """Cancel a whole booking; freed places go to the waiting list at once. Commits."""
    require_class_owner(booking.training_class, actor)
    if booking.status == "cancelled":
        raise ServiceError(_("该预约已取消。"))
    today = datetime.now(LOCAL_TZ).date()
    if not actor.is_office and today > change_deadline(booking):
        raise ServiceError(
            _(
                "已过取消截止日期（%(day)s），请联系环线办办理。",
                day=change_deadline(booking).isoformat(),
            )
        )
    training_class = booking.training_class
    others = [b for b in active_bookings(training_class) if b.id != booking.id]
    if needs_ring_route(training_class) and not others and not actor.is_office:
        raise ServiceError(
            ring_route_message(training_class) + _("如确需取消，请先预约其他线路或联系环线办。")
        )
    reason = (reason or "").strip()
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    booking_id = booking.id
    site_ids = [r.site_id for r in booking.reservations]
    begin_locked(site_ids, [])
    try:
        booking = db.session.get(Booking, booking_id)
        freed = []
        for r in booking.reservations:
            if r.status in ("pending", "confirmed", "offered", "waitlisted"):
                if r.status != "waitlisted":
                    freed.append(r)
                record_event(booking, "cancel", actor, r, r.status, "cancelled", reason)
                r.status = "cancelled"
        booking_before = booking.status
        record_event(booking, "status", actor, old=booking.status, new="cancelled", reason=reason)
        booking.status = "cancelled"
        booking.cancelled_at = utcnow()
        booking.cancel_reason = reason
        if freed:
            notify_hosts(
                booking, _("预约已取消：%(name)s", name=booking.training_class.name), freed
            )
        offer_freed_places(freed, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, booking_before)


@dataclass(frozen=True)
class FreedWindow:
    """Seats a moved stop left behind, for the waiting list."""

    site_id: int
    starts_at: datetime
    ends_at: datetime


def move_booking(booking: Booking, new_start: date, actor: Any) -> None:
    """Move a whole booking to start on ``new_start``, keeping its days and hours. Commits.

    Every stop is checked again at its new time (its own old places not counted) under the
    same locks as a new booking; the moved stops wait for the members' confirmation again
    (unless their sites confirm automatically), and the places left go to those waiting.
    """
    require_class_owner(booking.training_class, actor)
    if booking.status == "cancelled":
        raise ServiceError(_("该预约已取消。"))
    today = datetime.now(LOCAL_TZ).date()
    if not actor.is_office and today > change_deadline(booking):
        raise ServiceError(
            _(
                "已过改期截止日期（%(day)s），请联系环线办办理。",
                day=change_deadline(booking).isoformat(),
            )
        )
    if not isinstance(new_start, date) or new_start <= today:
        raise ValidationFailed({"start_date": _("新的开始日期须在今天之后。")})
    if not within_range(new_start):
        raise ValidationFailed({"start_date": _("日期须在 2000 年至 2100 年之间。")})
    days = (new_start - booking.start_date).days
    if days == 0:
        raise ValidationFailed({"start_date": _("新的开始日期与原日期相同。")})
    live = [r for r in booking.reservations if r.status in HOLDING]
    if not live:
        raise ServiceError(_("该预约没有可以改期的站点。"))
    booking_id = booking.id
    begin_locked([r.site_id for r in live], [r.teacher_id for r in live if r.teacher_id])
    try:
        booking = db.session.get(Booking, booking_id)
        live = [r for r in booking.reservations if r.status in HOLDING]
        shift = timedelta(days=days)
        plan = [
            PlannedStop(
                index=i,
                kind="course" if r.course else "visit",
                starts_at=(r.starts_at + shift).astimezone(LOCAL_TZ),
                minutes=int((r.ends_at - r.starts_at).total_seconds() // 60),
                site=r.site,
                course=r.course,
                teacher=r.teacher,
                guide_requested=r.guide_requested,
            )
            for i, r in enumerate(live)
        ]
        problems = check_plan(
            plan,
            booking.training_class.size,
            exclude_booking=booking.id,
            class_name=booking.training_class.name,
        )
        if problems:
            raise BookingRefused(problems)
        freed = [FreedWindow(r.site_id, r.starts_at, r.ends_at) for r in live]
        before = booking.status
        for r in live:
            old = r.status
            r.starts_at, r.ends_at = r.starts_at + shift, r.ends_at + shift
            r.status = "confirmed" if r.site.auto_confirm else "pending"
            r.decided_by_id = r.decided_at = None
            record_event(booking, "move", actor, r, old, r.status)
        booking.start_date = booking.start_date + shift
        refresh_booking_status(booking, actor)
        notify_hosts(
            booking,
            _(
                "预约改期：%(name)s 改为 %(day)s 开始",
                name=booking.training_class.name,
                day=booking.start_date.isoformat(),
            ),
            [r for r in live if r.status == "pending"],
        )
        offer_freed_places(freed, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, before)


def offer_freed_places(freed: Iterable[Reservation], actor: Any) -> list[Reservation]:
    """Offer places freed at these windows to those waiting, in order, while seats allow.

    Each offered squad holds its seats until it is accepted or its offer expires; a squad
    too large for what is free is passed over for now and keeps its place in line.
    """
    offered = []
    hours = setting("waitlist_offer_hours")
    for gone in freed:
        waiting = db.session.scalars(
            select(Reservation)
            .where(
                Reservation.site_id == gone.site_id,
                Reservation.status == "waitlisted",
                Reservation.starts_at < gone.ends_at,
                Reservation.ends_at > gone.starts_at,
            )
            .order_by(Reservation.waitlisted_at, Reservation.id)
        ).all()
        for candidate in waiting:
            if seats_free(candidate) >= candidate.group_size:
                candidate.status = "offered"
                candidate.offer_expires_at = utcnow() + timedelta(hours=hours)
                record_event(candidate.booking, "offer", actor, candidate, "waitlisted", "offered")
                notify_organizer(
                    candidate.booking,
                    _(
                        "候补名额：“%(site)s”有空位了，请在 %(hours)s 小时内接受",
                        site=candidate.site.name,
                        hours=hours,
                    ),
                )
                db.session.flush()
                offered.append(candidate)
    return offered


def seats_free(reservation: Reservation) -> int:
    """Seats left at the reservation's site and window, not counting the reservation itself."""
    others = db.session.scalars(
        select(Reservation).where(
            Reservation.site_id == reservation.site_id,
            Reservation.id != reservation.id,
            Reservation.status.in_(HOLDING),
            Reservation.starts_at < reservation.ends_at,
            Reservation.ends_at > reservation.starts_at,
        )
    )
    return reservation.site.capacity - sum(r.group_size for r in others)


def accept_offer(reservation: Reservation, actor: Any) -> None:
    """The organizer takes the place offered from the waiting list before it expires. Commits."""
    require_class_owner(reservation.booking.training_class, actor)
    if reservation.status != "offered":
        raise ServiceError(_("没有待接受的候补名额。"))
    if reservation.offer_expires_at is not None and reservation.offer_expires_at < utcnow():
        raise ServiceError(_("候补名额已过期。"))
    old = reservation.status
    reservation.status = "confirmed" if reservation.site.auto_confirm else "pending"
    record_event(reservation.booking, "accept_offer", actor, reservation, old, reservation.status)
    refresh_booking_status(reservation.booking, actor)
    db.session.commit()


def expire_offers(now: datetime | None = None) -> int:
    """Offers past their time go back to cancelled and the place to the next in line. Commits."""
    now = now or utcnow()
    expired = db.session.scalars(
        select(Reservation).where(
            # A literal, not a parameter: the planner may then use the partial index
            # ix_reservations_offered (… WHERE status = 'offered').
            Reservation.status == literal_column("'offered'"),
            Reservation.offer_expires_at < now,
        )
    ).all()
    if not expired:
        # The usual case on every booking and inbox page: nothing to write, so no settings
        # read and no commit (which would expire what the page has loaded).
        return 0
    for r in expired:
        record_event(r.booking, "offer_expired", None, r, "offered", "cancelled")
        r.status = "cancelled"
        notify_organizer(r.booking, _("候补名额已过期：“%(site)s”", site=r.site.name))
    db.session.flush()
    offer_freed_places(expired, None)
    db.session.commit()
    return len(expired)


def booking_events(booking: Booking) -> list[BookingEvent]:
    return list(
        db.session.scalars(
            select(BookingEvent)
            .where(BookingEvent.booking_id == booking.id)
            .order_by(BookingEvent.id)
        )
    )


def get_booking(booking_id: int, actor: Any) -> Booking:
    stops = selectinload(Booking.reservations)
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.training_class),
            stops.selectinload(Reservation.site).selectinload(TeachingSite.member),
            stops.selectinload(Reservation.course),
            stops.selectinload(Reservation.teacher),
        )
    )
    if booking is None:
        raise NotFound(_("没有找到该预约。"))
    require_class_owner(booking.training_class, actor)
    return booking
