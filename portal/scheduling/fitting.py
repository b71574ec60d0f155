"""Whether a plan fits: every rule that decides whether a stop can be booked.

``check_plan`` is the one place these rules live (opening hours, seats, teachers, guides,
travel between stops, the hosting member's own rules through its plugin); booking, moving,
a member's confirmation and the date suggestions all call it. ``suggest_dates`` looks for
days on which a refused plan would fit.

Times: stops are planned in Asia/Shanghai local time and stored in UTC.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, or_, select

from portal import plugins
from portal.catalog.models import Course, Teacher, TeacherUnavailability, TeachingSite
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling.models import HOLDING, Reservation, RouteTemplate
from portal.scheduling.settings import all_settings, setting
from portal.specs import ReservationRequest, Squad
from portal.timeutil import LOCAL_TZ, utcnow, within_range

# ---------------------------------------------------------------- which sites take bookings


def bookable_sites_query() -> Select[tuple[TeachingSite]]:
    """Sites offered for new bookings: admitted to the directory and active, of a member whose
    plugin is enabled."""
    return (
        select(TeachingSite)
        .join(TeachingSite.member)
        .where(
            TeachingSite.status == "active",
            TeachingSite.admission == "admitted",
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
    if not within_range(start) or not within_range(start + timedelta(days=template.days - 1)):
        raise ValidationFailed({"start_date": _("日期须在 2000 年至 2100 年之间。")})
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


def needed_squads(group_size: int, capacity: int) -> int:
    """The fewest squads a group splits into so that each fits a session of ``capacity``."""
    return max(1, math.ceil(group_size / capacity)) if capacity > 0 else 1


def with_needed_squads(plan: Sequence[PlannedStop], group_size: int) -> list[PlannedStop]:
    """The plan with each stop split into at least the squads its site's capacity needs."""
    return [
        replace(p, squads=max(p.squads, needed_squads(group_size, p.site.capacity)))
        if p.site is not None
        else p
        for p in plan
    ]


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


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """From the local midnight that begins ``start``'s day to the one that ends ``end``'s."""
    first = start.astimezone(LOCAL_TZ).date()
    last_moment = end.astimezone(LOCAL_TZ)
    last = last_moment.date()
    if last_moment.time() != time(0) or last == first:
        last += timedelta(days=1)
    return local_dt(first, time(0)), local_dt(last, time(0))


def load_context(
    plan: Sequence[PlannedStop],
    start: datetime,
    end: datetime,
    exclude_booking: int | None,
    *,
    reuse: Context | None = None,
) -> Context:
    """What check_plan needs for the plan's window, widened to whole local days.

    The reservations read cover every local day the window touches, from midnight to
    midnight, so that a member's daily rule (``groups_already_that_day``) counts the whole
    day, not only the reservations that overlap the plan; the booking locks cover them
    (the site rows on PostgreSQL, the database on SQLite).

    With ``reuse`` (a context read moments earlier for the same plan), only what the booking
    locks protect is read again: the reservations held in the window and the teachers'
    unavailable days. The members taking part and the settings are taken from ``reuse``;
    no lock guards them, so reading them earlier is as good as reading them under the lock.
    """
    start, end = whole_days(start, end)
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
    within: tuple[date, date] | None = None,
    members_last: bool = False,
) -> list[Problem]:
    """Every reason the plan does not fit, stop by stop; [] when it fits.

    Checks the dates (2000–2100, and within ``within``, the class's days, when given),
    opening days and hours, capacity per session (squads), guides, teachers (busy,
    unavailable), travel time between consecutive stops of a day, the hosting member's
    participation and its plugin's own rules. Costs a fixed number of queries.

    With ``members_last`` the members' plugins are asked only when every other rule holds
    (the date search: a date that fails anyway needs no answer from them).
    """
    if not plan:
        return [Problem(None, "empty", _("线路中没有任何站点。"))]
    if not all(within_range(p.starts_at.date()) for p in plan):
        return date_problems(plan, within)
    requested_at = requested_at or utcnow()
    start = min(p.starts_at for p in plan)
    end = max(p.ends_at for p in plan)
    ctx = context or load_context(plan, start, end, exclude_booking)
    problems = date_problems(plan, within)
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
    asks: list[tuple[PlannedStop, ReservationRequest]] = []
    for stop in ordered:
        if stop.site is None:
            continue
        found, ask = _check_stop(
            stop, group_size, requested_at, ctx, taken_in_plan, teacher_in_plan, class_name
        )
        problems.extend(found)
        if ask is not None:
            asks.append((stop, ask))
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
    if members_last and problems:
        return problems
    for stop, ask in asks:
        problems.extend(
            Problem(stop.index, "member_rule", message)
            for message in member_rule_problems(ask, stop.site)
        )
    return problems


def window_label(window: tuple[date, date]) -> str:
    """A class's days as users write them: "2027-01-11 至 2027-01-15"."""
    first, last = window
    if first == last:
        return first.isoformat()
    return _("%(first)s 至 %(last)s", first=first.isoformat(), last=last.isoformat())


def date_problems(plan: Sequence[PlannedStop], within: tuple[date, date] | None) -> list[Problem]:
    """Stops on days the portal cannot hold (outside 2000–2100) or outside ``within``.

    ``within`` is the class's first and last day (``classes.class_window``); None checks
    only the range. Reads nothing, so a booking on such days is refused before any query.
    """
    if not all(within_range(p.starts_at.date()) for p in plan):
        return [Problem(None, "date_range", _("日期须在 2000 年至 2100 年之间。"))]
    if within is None:
        return []
    first, last = within
    problems = []
    for stop in plan:
        if stop.site is None:
            continue
        day = stop.starts_at.astimezone(LOCAL_TZ).date()
        if not first <= day <= last:
            problems.append(
                Problem(
                    stop.index,
                    "outside_class",
                    _(
                        "“%(stop)s”安排在 %(day)s，不在培训班日期（%(dates)s）内。",
                        stop=stop.label,
                        day=day.isoformat(),
                        dates=window_label(within),
                    ),
                )
            )
    return problems


def _check_stop(
    stop: PlannedStop,
    group_size: int,
    requested_at: datetime,
    ctx: Context,
    taken_in_plan: dict[int, list[tuple[datetime, datetime, int, bool]]],
    teacher_in_plan: dict[int, list[tuple[datetime, datetime]]],
    class_name: str,
) -> tuple[list[Problem], ReservationRequest | None]:
    """The core rules' problems of one stop, and what to ask its member's rules (None: nothing,
    the site takes no bookings at all)."""
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
        return problems, None
    if site.admission != "admitted":
        add(
            "site_not_admitted",
            _(
                "“%(site)s”尚未通过环线办审核入录目录（%(state)s），不接受预约。",
                site=site.name,
                state=site.admission_label,
            ),
        )
        return problems, None
    if site.member_id not in ctx.enabled_members:
        add(
            "member_disabled",
            _("%(member)s已暂停参与环线，暂不接受新的预约。", member=site.member.short_name),
        )
        return problems, None
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
        squads = needed_squads(group_size, site.capacity)
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
        squads=tuple(
            Squad(
                number=number,
                starts_at=squad_start.astimezone(LOCAL_TZ),
                ends_at=squad_end.astimezone(LOCAL_TZ),
                size=per_squad if stop.squads > 1 else group_size,
            )
            for number, (squad_start, squad_end) in enumerate(stop.squad_windows(), start=1)
        ),
    )
    return problems, request


@plugins.one_state_read()
def suggest_dates(
    plan: Sequence[PlannedStop],
    group_size: int,
    *,
    limit: int = 3,
    exclude_booking: int | None = None,
    within: tuple[date, date] | None = None,
) -> list[date]:
    """The nearest start dates (before or after) on which the whole plan fits, in future days.

    Tries the days up to ``suggest_within_days`` before and after the plan's first day, and
    with ``within`` (the class's dates) only those on which every stop lies inside it. A
    stop too large for its site is tried split into the squads it needs, as the booking
    page then fills them in. One context is read for the whole search, so it costs the same
    few queries however wide the window; the members' plugins are asked only about dates on
    which every other rule holds.
    """
    if not plan or not all(within_range(p.starts_at.date()) for p in plan):
        return []
    plan = with_needed_squads(plan, group_size)
    days_ahead = setting("suggest_within_days")
    first_day = min(p.starts_at for p in plan).astimezone(LOCAL_TZ).date()
    last_day = max(p.ends_at for p in plan).astimezone(LOCAL_TZ).date()
    length = (last_day - first_day).days
    today = datetime.now(LOCAL_TZ).date()
    earliest, latest = (
        first_day - timedelta(days=days_ahead),
        first_day + timedelta(days=days_ahead),
    )
    earliest = max(earliest, today + timedelta(days=1), date(2000, 1, 1))
    latest = min(latest, date(2100, 12, 31) - timedelta(days=length + 1))
    if within is not None:
        earliest = max(earliest, within[0])
        latest = min(latest, within[1] - timedelta(days=length))
    candidates = sorted(
        (
            first_day + timedelta(days=offset)
            for offset in range(-days_ahead, days_ahead + 1)
            if offset and earliest <= first_day + timedelta(days=offset) <= latest
        ),
        key=lambda day: (abs((day - first_day).days), day < first_day),
    )
    if not candidates:
        return []
    ctx = load_context(
        plan,
        local_dt(min(candidates), time(0)),
        local_dt(max(candidates) + timedelta(days=length + 1), time(0)),
        exclude_booking,
    )
    found: list[date] = []
    for candidate in candidates:
        problems = check_plan(
            shift_plan(plan, (candidate - first_day).days),
            group_size,
            context=ctx,
            exclude_booking=exclude_booking,
            members_last=True,
        )
        if not problems:
            found.append(candidate)
            if len(found) == limit:
                break
    return sorted(found)
