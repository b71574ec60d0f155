"""The figures of the report: one small function each, in a registry.

A figure is a query of the records it counts (``records(period, scope)`` returns a
``select`` of model rows); its value is the number of those rows, or the sum of one of
their columns (``measure``), or, for the few that group records, a function of their own
(``value``). The page links every figure to its records, so any number can be checked.
Adding a figure is one more decorated function here: the page, the exports, the report
text (when it names the figure's key) and the CLI pick it up.

What counts (docs/reports.md says the same in words):

* a class is *held* in a period when it starts in it (a class spanning two years counts in
  the year it starts), is not cancelled and is not a study visit (参观学习);
* its trainees are the number it registered (``size``);
* in a member's scope, a class counts when it had a confirmed stop at one of the member's
  sites;
* a visit *received* (接待) is a class or study visit at a site on a day, with a confirmed
  stop there; its 人次 add the squads' sizes;
* catalogue items are *added* when created in the period, teachers are those active on
  the period's last day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select

from portal.catalog.models import (
    Course,
    CourseMaterial,
    EventType,
    Teacher,
    TeachingSite,
)
from portal.certificates.models import Certificate
from portal.events.models import EventSession, JointEvent
from portal.extensions import db
from portal.meetings.models import Meeting, MeetingInvitation
from portal.members.models import Member
from portal.reports.period import Period, Scope
from portal.scheduling.models import (
    ORIGINS,
    Booking,
    Reservation,
    RouteStop,
    RouteTemplate,
    TrainingClass,
)
from portal.specs import TEACHER_KINDS
from portal.timeutil import LOCAL_TZ

# The tables of the report, in order: each is a sheet of the .xlsx and a section of the page.
TABLES = {
    "classes": _l("培训班次与人数"),
    "visits": _l("接待参观学习"),
    "resources": _l("资源建设"),
    "teachers": _l("师资队伍"),
    "joint": _l("联席会议与联动活动"),
    "certificates": _l("结业证书"),
}


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any
    unit: Any
    table: str
    kind: str  # what its records are: class, reservation, site, course, material, …
    records: Callable[[Period, Scope], Select]
    measure: str | None = None  # a column of the records to add up, else they are counted
    value: Callable[[Period, Scope], int] | None = None
    definition: Any = ""

    def compute(self, period: Period, scope: Scope) -> int:
        if self.value is not None:
            return self.value(period, scope)
        query = self.records(period, scope).subquery()
        if self.measure is None:
            return db.session.scalar(select(func.count()).select_from(query)) or 0
        column = query.c[self.measure]
        return int(db.session.scalar(select(func.coalesce(func.sum(column), 0))) or 0)


FIGURES: dict[str, Figure] = {}


def figure(
    key: str,
    label: Any,
    unit: Any,
    *,
    table: str,
    kind: str,
    measure: str | None = None,
    definition: Any = "",
    value: Callable[[Period, Scope], int] | None = None,
) -> Callable[[Callable[[Period, Scope], Select]], Callable[[Period, Scope], Select]]:
    """Register ``records`` as the figure ``key`` (the decorated function is returned as is)."""

    def register(records: Callable[[Period, Scope], Select]) -> Callable[..., Select]:
        if key in FIGURES:
            raise ValueError(f"figure {key!r} registered twice")
        FIGURES[key] = Figure(key, label, unit, table, kind, records, measure, value, definition)
        return records

    return register


# ---------------------------------------------------------------- shared conditions


def hosted_by(member_id: int) -> Any:
    """The class had a confirmed stop at one of the member's sites."""
    return exists(
        select(Booking.id)
        .join(Reservation, Reservation.booking_id == Booking.id)
        .join(TeachingSite, TeachingSite.id == Reservation.site_id)
        .where(
            Booking.class_id == TrainingClass.id,
            Reservation.status == "confirmed",
            TeachingSite.member_id == member_id,
        )
    )


def held_classes(period: Period, scope: Scope) -> Select:
    """Classes (not study visits) starting in the period, not cancelled; in the scope."""
    query = select(TrainingClass).where(
        TrainingClass.starts_on >= period.start,
        TrainingClass.starts_on <= period.end,
        TrainingClass.cancelled.is_(False),
        TrainingClass.is_study_visit.is_(False),
    )
    if scope.member is not None:
        query = query.where(hosted_by(scope.member.id))
    return query.order_by(TrainingClass.starts_on, TrainingClass.id)


def created_in(column: Any, period: Period) -> Any:
    return and_(column >= period.starts_at, column < period.ends_before)


# ---------------------------------------------------------------- classes and trainees


@figure(
    "classes",
    _l("举办培训班次"),
    _l("期"),
    table="classes",
    kind="class",
    definition=_l("开班日期在统计期内、未取消的培训班（不含参观学习）"),
)
def classes_held(period: Period, scope: Scope) -> Select:
    return held_classes(period, scope)


@figure(
    "trainees",
    _l("培训总人数"),
    _l("人"),
    table="classes",
    kind="class",
    measure="size",
    definition=_l("上述培训班登记的人数之和"),
)
def trainees_trained(period: Period, scope: Scope) -> Select:
    return held_classes(period, scope)


def _origin_figures(origin: str, label: Any) -> None:
    def records(period: Period, scope: Scope) -> Select:
        return held_classes(period, scope).where(TrainingClass.origin == origin)

    figure(
        f"classes_{origin}",
        _l("%(origin)s班次", origin=label),
        _l("期"),
        table="classes",
        kind="class",
        definition=_l("来源为“%(origin)s”的培训班", origin=label),
    )(records)
    figure(
        f"trainees_{origin}",
        _l("%(origin)s培训人数", origin=label),
        _l("人"),
        table="classes",
        kind="class",
        measure="size",
        definition=_l("来源为“%(origin)s”的培训班人数之和", origin=label),
    )(records)


for _origin, _label in ORIGINS.items():
    _origin_figures(_origin, _label)


def ring_route_classes(period: Period, scope: Scope) -> Select:
    booked = exists(
        select(Booking.id).where(
            Booking.class_id == TrainingClass.id,
            Booking.template_id.is_not(None),
            Booking.status == "confirmed",
        )
    )
    return held_classes(period, scope).where(booked)


figure(
    "ring_classes",
    _l("环线培训班次"),
    _l("期"),
    table="classes",
    kind="class",
    definition=_l("有一条已确认的环线线路预约的培训班"),
)(ring_route_classes)
figure(
    "ring_trainees",
    _l("环线培训人数"),
    _l("人"),
    table="classes",
    kind="class",
    measure="size",
    definition=_l("环线培训班的人数之和"),
)(ring_route_classes)


@figure(
    "study_visits",
    _l("参观学习团组"),
    _l("批"),
    table="visits",
    kind="class",
    definition=_l("登记为参观学习、开始日期在统计期内、未取消的团组"),
)
def study_visits(period: Period, scope: Scope) -> Select:
    query = select(TrainingClass).where(
        TrainingClass.starts_on >= period.start,
        TrainingClass.starts_on <= period.end,
        TrainingClass.cancelled.is_(False),
        TrainingClass.is_study_visit.is_(True),
    )
    if scope.member is not None:
        query = query.where(hosted_by(scope.member.id))
    return query.order_by(TrainingClass.starts_on, TrainingClass.id)


# ---------------------------------------------------------------- visits received


def received(period: Period, scope: Scope) -> Select:
    """Confirmed stops in the period at the scope's sites, of classes not cancelled."""
    query = (
        select(Reservation)
        .join(Booking, Booking.id == Reservation.booking_id)
        .join(TrainingClass, TrainingClass.id == Booking.class_id)
        .join(TeachingSite, TeachingSite.id == Reservation.site_id)
        .where(
            Reservation.status == "confirmed",
            Booking.status != "cancelled",
            TrainingClass.cancelled.is_(False),
            created_in(Reservation.starts_at, period),
        )
    )
    if scope.member is not None:
        query = query.where(TeachingSite.member_id == scope.member.id)
    return query.order_by(Reservation.starts_at, Reservation.id)


# Within ``remembered()`` (one report: its figures, breakdowns and charts) the visits
# received are read once, though three figures and the heat map use them.
_memo: ContextVar[dict | None] = ContextVar("report_memo", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    token = _memo.set({} if _memo.get() is None else _memo.get())
    try:
        yield
    finally:
        _memo.reset(token)


def visit_groups(period: Period, scope: Scope) -> dict[tuple[int, int, Any], int]:
    """(class, site, local day) → people received: one group (批) each. One query."""
    memo = _memo.get()
    key = ("visit_groups", period.start, period.end, scope.key)
    if memo is not None and key in memo:
        return memo[key]
    groups = _visit_groups(period, scope)
    if memo is not None:
        memo[key] = groups
    return groups


def _visit_groups(period: Period, scope: Scope) -> dict[tuple[int, int, Any], int]:
    sub = received(period, scope).subquery()
    rows = db.session.execute(
        select(Booking.class_id, sub.c.site_id, sub.c.starts_at, sub.c.group_size).join(
            Booking, Booking.id == sub.c.booking_id
        )
    )
    groups: dict[tuple[int, int, Any], int] = {}
    for class_id, site_id, starts_at, size in rows:
        if starts_at.tzinfo is None:  # SQLite forgets the zone of a raw column
            starts_at = starts_at.replace(tzinfo=UTC)
        key = (class_id, site_id, starts_at.astimezone(LOCAL_TZ).date())
        groups[key] = groups.get(key, 0) + size
    return groups


figure(
    "visit_groups",
    _l("接待参观学习和培训班次"),
    _l("批"),
    table="visits",
    kind="reservation",
    value=lambda period, scope: len(visit_groups(period, scope)),
    definition=_l("一个班次（或参观团组）在一个教学点一天的已确认安排算一批"),
)(received)
figure(
    "visit_people",
    _l("接待人次"),
    _l("人次"),
    table="visits",
    kind="reservation",
    value=lambda period, scope: sum(visit_groups(period, scope).values()),
    definition=_l("上述各批的人数之和（分组参观时各组人数相加）"),
)(received)


# ---------------------------------------------------------------- resources added


def owned_by(model: Any, member_id: int) -> Any:
    """The member owns the catalogue item or co-owns it (共建): it counts for each of them."""
    return or_(model.member_id == member_id, model.coowners.any(Member.id == member_id))


@figure(
    "sites_added",
    _l("新增教学点"),
    _l("个"),
    table="resources",
    kind="site",
    definition=_l("统计期内新建的教学点；共建教学点在成员单位范围内为每个共建单位各计一次"),
)
def sites_added(period: Period, scope: Scope) -> Select:
    query = select(TeachingSite).where(created_in(TeachingSite.created_at, period))
    if scope.member is not None:
        # Joint ownership (共建): a co-owned site counts for each co-owner too.
        query = query.where(owned_by(TeachingSite, scope.member.id))
    return query.order_by(TeachingSite.created_at, TeachingSite.id)


@figure(
    "courses_added",
    _l("新增课程"),
    _l("门"),
    table="resources",
    kind="course",
    definition=_l("统计期内新建的课程；共建课程在成员单位范围内为每个共建单位各计一次"),
)
def courses_added(period: Period, scope: Scope) -> Select:
    query = select(Course).where(created_in(Course.created_at, period))
    if scope.member is not None:
        # Joint ownership (共建): a co-owned course counts for each co-owner too.
        query = query.where(owned_by(Course, scope.member.id))
    return query.order_by(Course.created_at, Course.id)


@figure(
    "materials_added",
    _l("新增教材与案例"),
    _l("份"),
    table="resources",
    kind="material",
    definition=_l("统计期内上传或登记的课程资料（讲义、案例等）"),
)
def materials_added(period: Period, scope: Scope) -> Select:
    query = (
        select(CourseMaterial)
        .join(Course, Course.id == CourseMaterial.course_id)
        .where(created_in(CourseMaterial.created_at, period))
    )
    if scope.member is not None:
        query = query.where(Course.member_id == scope.member.id)
    return query.order_by(CourseMaterial.created_at, CourseMaterial.id)


@figure(
    "routes_added",
    _l("新增环线线路"),
    _l("条"),
    table="resources",
    kind="route",
    definition=_l("统计期内新建且已发布（或已停用）的线路；成员单位范围内为经过其教学点的线路"),
)
def routes_added(period: Period, scope: Scope) -> Select:
    query = select(RouteTemplate).where(
        created_in(RouteTemplate.created_at, period), RouteTemplate.status != "draft"
    )
    if scope.member is not None:
        query = query.where(
            exists(
                select(RouteStop.id)
                .join(TeachingSite, TeachingSite.id == RouteStop.site_id)
                .where(
                    RouteStop.template_id == RouteTemplate.id,
                    TeachingSite.member_id == scope.member.id,
                )
            )
        )
    return query.order_by(RouteTemplate.created_at, RouteTemplate.id)


# ---------------------------------------------------------------- teachers


def teachers(period: Period, scope: Scope, kind: str | None = None) -> Select:
    """Teachers active on the period's last day (created before its end, not retired)."""
    query = select(Teacher).where(
        Teacher.status == "active", Teacher.created_at < period.ends_before
    )
    if kind is not None:
        query = query.where(Teacher.kind == kind)
    if scope.member is not None:
        query = query.where(Teacher.member_id == scope.member.id)
    return query.order_by(Teacher.member_id, Teacher.name, Teacher.id)


figure(
    "teachers",
    _l("师资总数"),
    _l("人"),
    table="teachers",
    kind="teacher",
    definition=_l("统计期末在册（启用）的师资"),
)(teachers)


def _teacher_kind_figure(kind: str, label: Any) -> None:
    figure(
        f"teachers_{kind}",
        _l("%(kind)s师资", kind=label),
        _l("人"),
        table="teachers",
        kind="teacher",
        definition=_l("统计期末在册的%(kind)s师资", kind=label),
    )(lambda period, scope: teachers(period, scope, kind))


for _kind, _label in TEACHER_KINDS.items():
    _teacher_kind_figure(_kind, _label)


# ---------------------------------------------------------------- meetings and events


@figure(
    "meetings_held",
    _l("召开联席会议"),
    _l("次"),
    table="joint",
    kind="meeting",
    definition=_l("统计期内召开（状态为已召开）的会议；成员单位范围内为受邀的会议"),
)
def meetings_held(period: Period, scope: Scope) -> Select:
    query = select(Meeting).where(Meeting.status == "held", created_in(Meeting.starts_at, period))
    if scope.member is not None:
        query = query.where(
            exists(
                select(MeetingInvitation.id).where(
                    MeetingInvitation.meeting_id == Meeting.id,
                    MeetingInvitation.member_id == scope.member.id,
                )
            )
        )
    return query.order_by(Meeting.starts_at, Meeting.id)


@figure(
    "events_held",
    _l("举办联动活动"),
    _l("项"),
    table="joint",
    kind="event",
    definition=_l("已发布、第一场在统计期内开始的联动活动；成员单位范围内为其主办的活动"),
)
def events_held(period: Period, scope: Scope) -> Select:
    first = (
        select(func.min(EventSession.starts_at))
        .where(EventSession.event_id == JointEvent.id)
        .correlate(JointEvent)
        .scalar_subquery()
    )
    query = select(JointEvent).where(
        JointEvent.status == "published",
        first >= period.starts_at,
        first < period.ends_before,
    )
    if scope.member is not None:
        query = query.join(EventType, EventType.id == JointEvent.event_type_id).where(
            EventType.member_id == scope.member.id
        )
    return query.order_by(JointEvent.id)


# ---------------------------------------------------------------- certificates


def certificates(period: Period, scope: Scope, statuses: tuple[str, ...], column: Any) -> Select:
    """Certificates in ``statuses`` whose ``column`` falls in the period; in a member's
    scope, those of classes the member hosted (a confirmed stop at one of its sites)."""
    query = (
        select(Certificate)
        .join(TrainingClass, TrainingClass.id == Certificate.class_id)
        .where(Certificate.status.in_(statuses), created_in(column, period))
    )
    if scope.member is not None:
        query = query.where(hosted_by(scope.member.id))
    return query.order_by(column, Certificate.id)


@figure(
    "certificates_issued",
    _l("颁发结业证书"),
    _l("份"),
    table="certificates",
    kind="certificate",
    definition=_l("统计期内颁发、现为有效状态的结业证书"),
)
def certificates_issued(period: Period, scope: Scope) -> Select:
    return certificates(period, scope, ("issued",), Certificate.issued_at)


@figure(
    "certificates_withdrawn",
    _l("暂缓发放或撤销的结业证书"),
    _l("份"),
    table="certificates",
    kind="certificate",
    definition=_l("统计期内决定暂缓发放或撤销的结业证书（按决定时间，无则按颁发时间）"),
)
def certificates_withdrawn(period: Period, scope: Scope) -> Select:
    when = func.coalesce(Certificate.decided_at, Certificate.issued_at)
    return certificates(period, scope, ("withheld", "revoked"), when)


# ---------------------------------------------------------------- computing


@dataclass
class Result:
    figure: Figure
    value: int


@dataclass
class Report:
    period: Period
    scope: Scope
    values: dict[str, int] = field(default_factory=dict)
    # What member plugins added (``portal_report_figures``): (member's name, ReportFigure).
    extra: list[tuple[str, Any]] = field(default_factory=list)

    def table(self, name: str) -> list[Result]:
        return [Result(f, self.values[f.key]) for f in FIGURES.values() if f.table == name]

    def __getitem__(self, key: str) -> int:
        return self.values[key]


def compute(period: Period, scope: Scope) -> Report:
    """Every registered figure for the period and scope (a bounded number of queries)."""
    report = Report(period, scope)
    with remembered():
        for key, fig in FIGURES.items():
            report.values[key] = fig.compute(period, scope)
    return report


def now_local() -> datetime:
    return datetime.now(LOCAL_TZ)
