"""Who sees which report, the breakdowns behind the charts, a figure's records, the text.

Permission is decided here: the office sees the consortium or any member; a member's staff
see their own member only (another member's key answers NotFound, leaking nothing);
nobody else sees reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.catalog.models import TeachingSite
from portal.errors import NotFound, PermissionDenied
from portal.extensions import db
from portal.members.models import Member
from portal.reports.figures import FIGURES, Report, compute, held_classes, visit_groups
from portal.reports.period import Period, Scope
from portal.scheduling.models import ORIGINS, Booking, Reservation
from portal.specs import ReportFigure

# How many records a figure's list shows (the .xlsx of the figures has the counts).
RECORDS_LIMIT = 500


def can_see_reports(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_office or user.is_member_user
    )


def scope_for(user: Any, member_key: str | None) -> Scope:
    """The scope ``user`` asks for: the office any, a member's staff their own member only."""
    if not can_see_reports(user):
        raise PermissionDenied(_("只有环线办和成员单位可以查看统计报表。"))
    key = (member_key or "").strip()
    if not user.is_office:
        if user.member is None:
            raise PermissionDenied(_("只有环线办和成员单位可以查看统计报表。"))
        if key and key != user.member.key:
            raise NotFound(_("没有这个成员单位。"))
        return Scope(user.member)
    if not key:
        return Scope(None)
    if "\x00" in key or len(key) > 64:  # PostgreSQL refuses a NUL in a text parameter
        raise NotFound(_("没有这个成员单位。"))
    member = db.session.scalar(select(Member).where(Member.key == key))
    if member is None:
        raise NotFound(_("没有这个成员单位。"))
    return Scope(member)


def scope_choices(user: Any) -> list[tuple[str, str]]:
    """(key, name) of the scopes the user may pick; "" is the consortium."""
    if user.is_office:
        members = db.session.scalars(select(Member).order_by(Member.id))
        return [("", _("全联盟")), *((m.key, m.name) for m in members)]
    return [(user.member.key, user.member.name)]


def build_report(period: Period, scope: Scope) -> Report:
    """Every registered figure, and the figures member plugins add for the scope."""
    report = compute(period, scope)
    report.extra = plugin_figures(period, scope)
    return report


def plugin_figures(period: Period, scope: Scope) -> list[tuple[str, ReportFigure]]:
    """(member's short name, figure) from ``portal_report_figures`` of the enabled plugins;
    in a member's scope only that member's plugin is asked. A faulty plugin adds nothing."""
    from portal import plugins

    only = {scope.member.plugin} if scope.member is not None else None
    answers = plugins.call_each(
        "portal_report_figures",
        plugins=only,
        check=plugins.list_of(ReportFigure),
        start=period.start,
        end=period.end,
        member_key=scope.member.key if scope.member is not None else None,
    )
    if not answers:
        return []
    names = dict(db.session.execute(select(Member.plugin, Member.short_name)).all())
    return [(names.get(name, name), fig) for name, items in answers for fig in items]


def figure_records(key: str, period: Period, scope: Scope) -> tuple[Any, list[Any], bool]:
    """The figure, up to RECORDS_LIMIT of its records, and whether there are more."""
    fig = FIGURES.get(key)
    if fig is None:
        raise NotFound(_("没有这个统计指标。"))
    rows = list(db.session.scalars(fig.records(period, scope).limit(RECORDS_LIMIT + 1)))
    return fig, rows[:RECORDS_LIMIT], len(rows) > RECORDS_LIMIT


# ---------------------------------------------------------------- breakdowns


def trainees_per_month(period: Period, scope: Scope) -> dict[str, list[int]]:
    """Origin → trainees of the classes starting in each month of the period. One query."""
    months = period.months()
    index = {month: i for i, month in enumerate(months)}
    out = {origin: [0] * len(months) for origin in ORIGINS}
    sub = held_classes(period, scope).subquery()
    for starts_on, origin, size in db.session.execute(
        select(sub.c.starts_on, sub.c.origin, sub.c.size)
    ):
        slot = index.get((starts_on.year, starts_on.month))
        if slot is not None and origin in out:
            out[origin][slot] += size
    return out


@dataclass
class MemberRow:
    member: Member
    classes: int
    trainees: int


def classes_per_member(period: Period, scope: Scope) -> list[MemberRow]:
    """Each member (of the scope): the classes it hosted and their trainees. Two queries."""
    members = list(db.session.scalars(select(Member).order_by(Member.id)))
    if scope.member is not None:
        members = [m for m in members if m.id == scope.member.id]
    sub = held_classes(period, Scope(None)).subquery()
    rows = db.session.execute(
        select(TeachingSite.member_id, sub.c.id, sub.c.size)
        .distinct()
        .join(Booking, Booking.class_id == sub.c.id)
        .join(Reservation, Reservation.booking_id == Booking.id)
        .join(TeachingSite, TeachingSite.id == Reservation.site_id)
        .where(Reservation.status == "confirmed")
    )
    classes: dict[int, int] = defaultdict(int)
    trainees: dict[int, int] = defaultdict(int)
    for member_id, _class_id, size in rows:
        classes[member_id] += 1
        trainees[member_id] += size
    return [MemberRow(m, classes[m.id], trainees[m.id]) for m in members]


def overdue_per_member(today: date) -> list[tuple[Member, int]]:
    """Each member and its meeting decisions still open past their deadline. Two queries."""
    from portal.meetings.models import Decision

    counts = dict(
        db.session.execute(
            select(Decision.member_id, func.count(Decision.id))
            .where(Decision.status == "open", Decision.due_on < today)
            .group_by(Decision.member_id)
        ).all()
    )
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [(m, counts.get(m.id, 0)) for m in members]


@dataclass
class OccupancyRow:
    site: TeachingSite
    groups: list[int]  # groups received per month of the period


def site_occupancy(period: Period, scope: Scope) -> list[OccupancyRow]:
    """Groups received per site per month (a site with none in the period is left out)."""
    months = period.months()
    index = {month: i for i, month in enumerate(months)}
    per_site: dict[int, list[int]] = {}
    for (_class_id, site_id, day), _people in visit_groups(period, scope).items():
        slot = index.get((day.year, day.month))
        if slot is not None:
            per_site.setdefault(site_id, [0] * len(months))[slot] += 1
    if not per_site:
        return []
    sites = db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.id.in_(per_site))
        .order_by(TeachingSite.member_id, TeachingSite.id)
    )
    return [OccupancyRow(site, per_site[site.id]) for site in sites]


def month_labels(period: Period) -> list[str]:
    months = period.months()
    many_years = len({year for year, _month in months}) > 1
    return [f"{y}-{m:02d}" if many_years else _("%(month)s月", month=m) for y, m in months]


# ---------------------------------------------------------------- the text


def report_title(report: Report) -> str:
    return _(
        "%(scope)s%(period)s工作报告（统计数据）",
        scope=report.scope.label,
        period=report.period.label,
    )


def report_paragraphs(report: Report) -> list[str]:
    """The report's paragraphs in Chinese, every blank filled from the figures."""
    v = report.values
    scope = report.scope.label
    paragraphs = [
        _(
            "%(period)s，%(scope)s举办干部教育培训总班次%(classes)s期，培训总人数%(trainees)s人。"
            "其中：市内班次%(city)s期、%(city_people)s人，市外省内班次%(province)s期、"
            "%(province_people)s人，省外班次%(other)s期、%(other_people)s人；"
            "环线培训班次%(ring)s期、%(ring_people)s人。",
            period=report.period.label,
            scope=scope,
            classes=v["classes"],
            trainees=v["trainees"],
            city=v["classes_city"],
            city_people=v["trainees_city"],
            province=v["classes_province"],
            province_people=v["trainees_province"],
            other=v["classes_other_province"],
            other_people=v["trainees_other_province"],
            ring=v["ring_classes"],
            ring_people=v["ring_trainees"],
        ),
        _(
            "共接待参观学习和培训班次%(groups)s批%(people)s人次，其中参观学习团组%(visits)s批。",
            groups=v["visit_groups"],
            people=v["visit_people"],
            visits=v["study_visits"],
        ),
        _(
            "资源建设方面，新增教学点%(sites)s个、课程%(courses)s门、教材与案例%(materials)s份、"
            "环线线路%(routes)s条。师资队伍方面，现有师资%(teachers)s人，其中专职%(full)s人、"
            "兼职%(part)s人。",
            sites=v["sites_added"],
            courses=v["courses_added"],
            materials=v["materials_added"],
            routes=v["routes_added"],
            teachers=v["teachers"],
            full=v.get("teachers_full_time", 0),
            part=v.get("teachers_part_time", 0),
        ),
        _(
            "联动协作方面，召开联席会议%(meetings)s次，举办联动活动%(events)s项。",
            meetings=v["meetings_held"],
            events=v["events_held"],
        ),
        _(
            "结业证书方面，颁发结业证书%(issued)s份，暂缓发放或撤销%(withdrawn)s份。",
            issued=v["certificates_issued"],
            withdrawn=v["certificates_withdrawn"],
        ),
    ]
    if v.get("classes_international"):
        paragraphs[0] += _(
            "另有国际班次%(count)s期、%(people)s人。",
            count=v["classes_international"],
            people=v["trainees_international"],
        )
    return paragraphs


def report_text(report: Report) -> str:
    return "\n\n".join([report_title(report), *report_paragraphs(report)]) + "\n"
