"""Route templates (精品环线) the office publishes, their stops, and the consortium settings page.

Only the office changes templates and settings (anyone else: PermissionDenied); anyone may
read published templates, and drafts or retired ones are NotFound for everyone but the office.
Validation answers ValidationFailed naming each bad field in Chinese. Callers commit.

Publishing checks what does not depend on a date: at least one stop at a teaching site and
no two stops of the same day overlapping in time. Opening days and hours are checked when a
class books the route (``services.check_plan``), since they depend on the date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.catalog.models import Course, TeachingSite
from portal.catalog.services import clean_text
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import (
    CLASS_KINDS,
    STOP_KINDS,
    TEMPLATE_STATUSES,
    RouteStop,
    RouteTemplate,
)
from portal.scheduling.settings import DEFAULT_SETTINGS, SETTING_RANGES, all_settings, set_setting
from portal.timeutil import LOCAL_TZ

MAX_DAYS = 30
MIN_MINUTES, MAX_MINUTES = 10, 720
MAX_DESCRIPTION = 5000
SITE_KINDS = ("course", "visit")
# The order templates are listed in: published first, then drafts, then retired ones.
STATUS_ORDER = {"published": 0, "draft": 1, "retired": 2}
# Bounds of the office's number settings (others: 0..3650, as services.set_setting allows).
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


# ---------------------------------------------------------------- permissions and reading


def is_office(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.is_office)


def require_office(actor: Any) -> None:
    if not is_office(actor):
        raise PermissionDenied(_("只有环线办可以管理环线线路。"))


def _with_stops(query):
    return query.options(
        selectinload(RouteTemplate.stops)
        .selectinload(RouteStop.site)
        .selectinload(TeachingSite.member),
        selectinload(RouteTemplate.stops)
        .selectinload(RouteStop.course)
        .selectinload(Course.teachers),
    )


def list_templates(actor: Any, days: int | None = None, theme: str = "") -> list[RouteTemplate]:
    """Templates the actor may see (published ones; the office sees all), filtered."""
    query = select(RouteTemplate)
    if not is_office(actor):
        query = query.where(RouteTemplate.status == "published")
    if days:
        query = query.where(RouteTemplate.days == days)
    if theme:
        query = query.where(RouteTemplate.theme == theme)
    found = db.session.scalars(_with_stops(query)).all()
    return sorted(found, key=lambda t: (STATUS_ORDER.get(t.status, 9), t.days, t.name, t.id))


def filter_options(actor: Any) -> tuple[list[int], list[str]]:
    """The day counts and themes of the templates the actor may see, for the filters."""
    query = select(RouteTemplate.days, RouteTemplate.theme)
    if not is_office(actor):
        query = query.where(RouteTemplate.status == "published")
    rows = db.session.execute(query).all()
    return sorted({r.days for r in rows}), sorted({r.theme for r in rows})


def get_template(template_id: int, actor: Any) -> RouteTemplate:
    """A template the actor may see: drafts and retired ones only for the office."""
    template = db.session.scalar(
        _with_stops(select(RouteTemplate).where(RouteTemplate.id == template_id))
    )
    if template is None or (template.status != "published" and not is_office(actor)):
        raise NotFound(_("没有找到该线路。"))
    return template


def get_stop(template: RouteTemplate, stop_id: int) -> RouteStop:
    stop = db.session.get(RouteStop, stop_id)
    if stop is None or stop.template_id != template.id:
        raise NotFound(_("没有找到该站点安排。"))
    return stop


# ---------------------------------------------------------------- what a template shows


def stop_end(stop: RouteStop) -> time:
    """When a stop ends on its day (stops never run past midnight)."""
    return (
        datetime.combine(date(2000, 1, 1), stop.starts) + timedelta(minutes=stop.minutes)
    ).time()


def next_stop_defaults(template: RouteTemplate) -> dict[str, Any]:
    """What the add-stop form starts with: right after the last stop, else day 1 at 09:00."""
    last = max(template.stops, key=lambda s: (s.day, s.starts), default=None)
    day, starts = (last.day, stop_end(last)) if last is not None else (1, time(9, 0))
    if starts >= time(22, 0):
        day, starts = min(day + 1, template.days), time(9, 0)
    return {"day": str(day), "starts": starts, "minutes": "60", "kind": "course"}


@dataclass
class ItineraryDay:
    day: int
    stops: list[RouteStop]


def itinerary(template: RouteTemplate) -> list[ItineraryDay]:
    """Every day of the template, each with its stops in time order (a day may be empty)."""
    by_day: dict[int, list[RouteStop]] = {d: [] for d in range(1, template.days + 1)}
    for stop in template.stops:
        by_day.setdefault(stop.day, []).append(stop)
    return [
        ItineraryDay(day, sorted(stops, key=lambda s: (s.starts, s.id)))
        for day, stops in sorted(by_day.items())
    ]


def sites_visited(template: RouteTemplate) -> list[TeachingSite]:
    """The sites of the template, once each, in the order the route reaches them."""
    seen: dict[int, TeachingSite] = {}
    for stop in template.stops:
        if stop.site is not None and stop.site.id not in seen:
            seen[stop.site.id] = stop.site
    return list(seen.values())


def members_visited(template: RouteTemplate) -> list[Member]:
    seen: dict[int, Member] = {}
    for site in sites_visited(template):
        seen.setdefault(site.member_id, site.member)
    return list(seen.values())


def total_hours(template: RouteTemplate) -> float:
    """学时 of the template: the hours of its course stops."""
    return float(sum(float(s.course.hours) for s in template.stops if s.course is not None))


# ---------------------------------------------------------------- templates


def as_int(value: Any) -> int | None:
    """An int from an int or from digits typed in a form; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def validate_template(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a template's fields; raise ValidationFailed naming every bad one."""
    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("线路名称"), required=True, limit=128)
    clean_text(errors, values, "theme", _("培训主题"), required=True, limit=32)
    values.setdefault("description", "")
    clean_text(errors, values, "description", _("线路简介"), required=False, limit=MAX_DESCRIPTION)
    days = as_int(values.get("days"))
    if days is None or not 1 <= days <= MAX_DAYS:
        errors["days"] = _("天数须为 1 到 %(max)s 之间的整数。", max=MAX_DAYS)
    values["days"] = days
    kinds = values.get("class_kinds") or []
    if isinstance(kinds, str):
        kinds = [k for k in kinds.split(",") if k]
    kinds = [str(k) for k in kinds]
    if not kinds:
        errors["class_kinds"] = _("请至少选择一种可使用此线路的班次类型。")
    elif any(k not in CLASS_KINDS for k in kinds):
        errors["class_kinds"] = _("班次类型无效。")
    values["class_kinds"] = ",".join(k for k in CLASS_KINDS if k in kinds)
    if errors:
        raise ValidationFailed(errors)
    return values


TEMPLATE_FIELDS = ("name", "theme", "days", "description", "class_kinds")


def create_template(actor: Any, values: dict[str, Any]) -> RouteTemplate:
    """The office starts a new template, as a draft."""
    require_office(actor)
    values = validate_template(values)
    template = RouteTemplate(status="draft", **{k: values[k] for k in TEMPLATE_FIELDS})
    db.session.add(template)
    db.session.flush()
    record(actor, "route.create", template.name)
    return template


def update_template(template: RouteTemplate, actor: Any, values: dict[str, Any]) -> bool:
    """Change a template's fields; returns whether anything changed."""
    require_office(actor)
    values = validate_template(values)
    last_day = max((s.day for s in template.stops), default=0)
    if values["days"] < last_day:
        raise ValidationFailed(
            {
                "days": _(
                    "第 %(day)s 天已有安排，天数不能少于 %(day)s；请先删除或调整后面几天的站点。",
                    day=last_day,
                )
            }
        )
    changed = False
    for key in TEMPLATE_FIELDS:
        if getattr(template, key) != values[key]:
            setattr(template, key, values[key])
            changed = True
    db.session.flush()
    if changed:
        record(actor, "route.edit", template.name)
    return changed


def set_template_status(template: RouteTemplate, actor: Any, status: str) -> None:
    """Publish, retire or take back a template to draft. Publishing runs the dry check."""
    require_office(actor)
    if status not in TEMPLATE_STATUSES:
        raise ServiceError(_("请选择新状态。"), "status")
    if status == template.status:
        raise ServiceError(
            _("该线路已是“%(status)s”状态。", status=template.status_label), "status"
        )
    if status == "published":
        problems = publish_problems(template)
        if problems:
            raise ServiceError(_("不能发布：") + "；".join(problems))
    template.status = status
    db.session.flush()
    record(actor, f"route.{status}", template.name)


def next_weekday(today: date | None = None) -> date:
    """A working day a week or so ahead: the date the dry check lays the route on."""
    day = (today or datetime.now(LOCAL_TZ).date()) + timedelta(days=7)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def publish_problems(template: RouteTemplate) -> list[str]:
    """Why the template may not be published (date-independent rules), in Chinese; [] if none."""
    problems: list[str] = []
    stops = list(template.stops)
    if not any(s.kind in SITE_KINDS and s.site is not None for s in stops):
        problems.append(_("线路须至少包含一个在教学点进行的课程或现场参观。"))
    for stop in stops:
        if stop.day > template.days:
            problems.append(
                _(
                    "“%(stop)s”安排在第 %(day)s 天，超出了线路的 %(days)s 天。",
                    stop=stop.label,
                    day=stop.day,
                    days=template.days,
                )
            )
        if stop.course is not None and stop.course.status != "active":
            problems.append(_("课程“%(course)s”当前未启用。", course=stop.course.name))
        if stop.site is not None and stop.site.status == "retired":
            problems.append(_("教学点“%(site)s”已退出。", site=stop.site.name))
    problems.extend(overlaps(template))
    return problems


def overlaps(template: RouteTemplate) -> list[str]:
    """Stops of the same day that overlap in time, laid on a future working day."""
    plan = plan_from_template(template, next_weekday())
    stops = list(template.stops)
    found = []
    by_day: dict[date, list] = {}
    for planned in plan:
        by_day.setdefault(planned.starts_at.date(), []).append(planned)
    for planned_day in by_day.values():
        ordered = sorted(planned_day, key=lambda p: (p.starts_at, p.index))
        for i, earlier in enumerate(ordered):
            for later in ordered[i + 1 :]:
                if later.starts_at < earlier.ends_at:
                    a, b = stops[earlier.index], stops[later.index]
                    found.append(
                        _(
                            "第 %(day)s 天“%(a)s”（%(a_time)s）与“%(b)s”（%(b_time)s）时间重叠。",
                            day=a.day,
                            a=a.label,
                            a_time=span(a),
                            b=b.label,
                            b_time=span(b),
                        )
                    )
    return found


def span(stop: RouteStop) -> str:
    return f"{stop.starts.strftime('%H:%M')}–{stop_end(stop).strftime('%H:%M')}"


# ---------------------------------------------------------------- stops


def validate_stop(template: RouteTemplate, values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a stop; resolves ``site_id``/``course_id`` into ``site``/``course``."""
    values = dict(values)
    errors: dict[str, str] = {}
    day = as_int(values.get("day"))
    if day is None or not 1 <= day <= template.days:
        errors["day"] = _("请选择第 1 到第 %(days)s 天中的一天。", days=template.days)
    values["day"] = day
    starts = values.get("starts")
    if not isinstance(starts, time):
        errors["starts"] = _("请填写开始时间。")
        starts = None
    else:
        starts = starts.replace(second=0, microsecond=0, tzinfo=None)
    values["starts"] = starts
    minutes = as_int(values.get("minutes"))
    if minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        errors["minutes"] = _(
            "时长须为 %(low)s 到 %(high)s 分钟之间的整数。", low=MIN_MINUTES, high=MAX_MINUTES
        )
    elif starts is not None and starts.hour * 60 + starts.minute + minutes >= 24 * 60:
        errors["minutes"] = _("这一站须在当天结束（24:00 之前），请提前开始或缩短时长。")
    values["minutes"] = minutes
    kind = values.get("kind")
    if kind not in STOP_KINDS:
        errors["kind"] = _("请选择站点类型。")
    values.setdefault("title", "")
    values.setdefault("note", "")
    clean_text(errors, values, "title", _("说明"), required=False, limit=128)
    clean_text(errors, values, "note", _("备注"), required=False, limit=512)

    site = course = None
    site_id, course_id = values.get("site_id"), values.get("course_id")
    if site_id not in (None, "", 0):
        site = db.session.get(TeachingSite, as_int(site_id)) if as_int(site_id) else None
        if site is None:
            errors["site_id"] = _("没有找到该教学点。")
        elif site.status != "active":
            errors["site_id"] = _(
                "教学点“%(site)s”当前为“%(status)s”，不能安排。",
                site=site.name,
                status=site.status_label,
            )
    if course_id not in (None, "", 0):
        course = db.session.get(Course, as_int(course_id)) if as_int(course_id) else None
        if course is None:
            errors["course_id"] = _("没有找到该课程。")
        elif course.status != "active":
            errors["course_id"] = _(
                "课程“%(course)s”当前为“%(status)s”，不能安排。",
                course=course.name,
                status=course.status_label,
            )
    if kind in SITE_KINDS:
        if site is None and "site_id" not in errors:
            errors["site_id"] = (
                _("课程须选择授课的教学点。") if kind == "course" else _("现场参观须选择教学点。")
            )
        if kind == "course":
            if course is None and "course_id" not in errors:
                errors["course_id"] = _("请选择课程。")
            elif (
                course is not None
                and site is not None
                and course.site_id is not None
                and course.site_id != site.id
            ):
                errors["course_id"] = _(
                    "课程“%(course)s”在“%(course_site)s”开设，与所选教学点“%(site)s”不一致。",
                    course=course.name,
                    course_site=course.site.name,
                    site=site.name,
                )
        elif course is not None or "course_id" in errors:
            errors["course_id"] = _("现场参观不关联课程；如需授课，请把类型选为“课程”。")
    elif kind in STOP_KINDS:
        if not values["title"] and "title" not in errors:
            errors["title"] = _("用餐和交通须填写说明，如“午餐”或“乘车前往腾冲”。")
        if site is not None or "site_id" in errors:
            errors["site_id"] = _("用餐和交通不选择教学点。")
        if course is not None or "course_id" in errors:
            errors["course_id"] = _("用餐和交通不选择课程。")
    if errors:
        raise ValidationFailed(errors)
    values["site"], values["course"] = site, course
    return values


STOP_FIELDS = ("day", "starts", "minutes", "kind", "site", "course", "title", "note")


def _still_publishable(template: RouteTemplate) -> None:
    """A published template must stay publishable after a change to its stops."""
    if template.status != "published":
        return
    db.session.flush()
    db.session.expire(template, ["stops"])
    problems = publish_problems(template)
    if problems:
        raise ServiceError(
            _("这条线路已发布，修改后须仍符合发布要求（如需大幅调整，请先改回草稿）：")
            + "；".join(problems)
        )


def add_stop(template: RouteTemplate, actor: Any, values: dict[str, Any]) -> RouteStop:
    require_office(actor)
    values = validate_stop(template, values)
    stop = RouteStop(template=template, **{k: values[k] for k in STOP_FIELDS})
    db.session.add(stop)
    db.session.flush()
    _still_publishable(template)
    return stop


def update_stop(stop: RouteStop, actor: Any, values: dict[str, Any]) -> None:
    require_office(actor)
    values = validate_stop(stop.template, values)
    for key in STOP_FIELDS:
        setattr(stop, key, values[key])
    db.session.flush()
    _still_publishable(stop.template)


def remove_stop(stop: RouteStop, actor: Any) -> None:
    require_office(actor)
    template = stop.template
    template.stops.remove(stop)
    db.session.flush()
    _still_publishable(template)


# ---------------------------------------------------------------- choices for the stop form


def active_sites() -> list[TeachingSite]:
    return list(
        db.session.scalars(
            select(TeachingSite)
            .where(TeachingSite.status == "active", TeachingSite.admission == "admitted")
            .options(selectinload(TeachingSite.member))
            .order_by(TeachingSite.member_id, TeachingSite.name)
        )
    )


def active_courses() -> list[Course]:
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.status == "active")
            .options(selectinload(Course.member), selectinload(Course.site))
            .order_by(Course.member_id, Course.name)
        )
    )


# ---------------------------------------------------------------- settings


def setting_range(key: str) -> tuple[int, int]:
    return SETTING_RANGES.get(key, (0, 3650))


def save_settings(actor: Any, raw: dict[str, Any]) -> list[str]:
    """Check every setting as typed, then save those that changed. Returns the changed keys."""
    if not is_office(actor):
        raise PermissionDenied(_("只有环线办可以修改环线规则。"))
    current = all_settings()
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, default in DEFAULT_SETTINGS.items():
        value = raw.get(key)
        if isinstance(default, int) and not isinstance(default, bool):
            number = as_int(value)
            low, high = setting_range(key)
            if number is None or not low <= number <= high:
                errors[key] = _("请填写 %(low)s 到 %(high)s 之间的整数。", low=low, high=high)
            parsed[key] = number
        else:
            text = str(value or "").strip()
            if not text or len(text) > 32 or "\x00" in text:
                errors[key] = _("请填写不超过 32 个字符的文字。")
            parsed[key] = text
    if errors:
        raise ValidationFailed(errors)
    changed = [key for key, value in parsed.items() if current[key] != value]
    for key in changed:
        set_setting(key, parsed[key], actor)
    db.session.flush()
    return changed
