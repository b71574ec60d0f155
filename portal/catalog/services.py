"""Catalogue rules: who may change which item, validation, history, assessments, search.

Every function takes the acting user; staff of a member act on their own member's items
only, the office on all. An item of another member answers NotFound (shown as 404), so ids
leak nothing. Every change is written to the item's history (``CatalogChange``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from portal import plugins
from portal.catalog.models import (
    COURSE_KINDS,
    MATERIAL_KINDS,
    CatalogChange,
    Course,
    CourseMaterial,
    SiteAssessment,
    Teacher,
    TeacherUnavailability,
    TeachingSite,
)
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.specs import TEACHER_KINDS, WEEKDAY_LABELS

Item = TeachingSite | Teacher | Course
ITEM_TYPE = {TeachingSite: "site", Teacher: "teacher", Course: "course"}
MAX_TEXT = 5000
SITE_FIELDS = (
    "name",
    "theme",
    "description",
    "capacity",
    "session_minutes",
    "open_weekdays",
    "opens",
    "closes",
    "needs_guide",
    "guide_count",
    "auto_confirm",
    "address",
    "latitude",
    "longitude",
)
TEACHER_FIELDS = ("name", "kind", "title", "topics", "shared", "bio")
COURSE_FIELDS = ("name", "kind", "hours", "description", "site", "teachers")
# How history names a field.
FIELD_LABELS = {
    "photo": _l("照片"),
    "name": _l("名称"),
    "theme": _l("主题"),
    "description": _l("简介"),
    "capacity": _l("每场容量"),
    "session_minutes": _l("单场时长"),
    "open_weekdays": _l("开放日"),
    "opens": _l("开放时间"),
    "closes": _l("关闭时间"),
    "needs_guide": _l("需要讲解员"),
    "guide_count": _l("讲解员人数"),
    "auto_confirm": _l("自动确认"),
    "address": _l("地址"),
    "latitude": _l("纬度"),
    "longitude": _l("经度"),
    "kind": _l("类型"),
    "title": _l("职称"),
    "topics": _l("研究方向"),
    "shared": _l("共享"),
    "bio": _l("简介"),
    "hours": _l("学时"),
    "site": _l("教学点"),
    "teachers": _l("授课师资"),
    "status": _l("状态"),
    "excellent": _l("精品课程"),
    "unavailable": _l("不可用日期"),
}
THEMES = ("党性教育", "革命传统", "民族团结", "生态文明", "乡村振兴", "廉政教育", "抗战历史")


# ---------------------------------------------------------------- permissions


def can_edit(user: Any, member_id: int) -> bool:
    """Whether ``user`` may change items of member ``member_id``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_office or (user.is_member_user and user.member_id == member_id)


def require_edit(user: Any, member_id: int) -> None:
    """Raise NotFound (404) unless ``user`` may change items of ``member_id``."""
    if not can_edit(user, member_id):
        raise NotFound(_("没有找到该条目，或您无权修改它。"))


def coowner_ids(item: Any) -> set[int]:
    """Members co-owning ``item`` (共建); only sites and courses have co-owners."""
    return {m.id for m in getattr(item, "coowners", None) or ()}


def can_edit_item(user: Any, item: Any) -> bool:
    """Whether ``user`` may change ``item``: its owner's staff, a co-owner's staff, the office."""
    if can_edit(user, item.member_id):
        return True
    return bool(getattr(user, "is_member_user", False) and user.member_id in coowner_ids(item))


def require_edit_item(user: Any, item: Any) -> None:
    """Raise NotFound (404) unless ``user`` may change ``item`` (co-owners included)."""
    if not can_edit_item(user, item):
        raise NotFound(_("没有找到该条目，或您无权修改它。"))


def may_name_coowners(user: Any, item: Any) -> bool:
    """The office or the owning member's admin names an item's co-owners."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_office or (user.role == "member_admin" and user.member_id == item.member_id)


def set_coowners(item: Any, actor: Any, member_ids: Iterable[Any]) -> dict[str, list[str]]:
    """Name the co-owning members of a site or course. The office or the owner's admin
    decides; the owner itself is never a co-owner. Recorded in history. The caller commits."""
    if not may_name_coowners(actor, item):
        raise NotFound(_("没有找到该条目，或您无权修改它。"))
    ids: set[int] = set()
    for value in member_ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed({"coowners": _("请选择有效的成员单位。")}) from None
        if not valid_id(number):
            raise ValidationFailed({"coowners": _("请选择有效的成员单位。")})
        ids.add(number)
    ids.discard(item.member_id)
    members = list(db.session.scalars(select(Member).where(Member.id.in_(ids)))) if ids else []
    if len(members) != len(ids):
        raise ValidationFailed({"coowners": _("请选择有效的成员单位。")})
    old = sorted(m.name for m in item.coowners)
    new = sorted(m.name for m in members)
    if old == new:
        return {}
    item.coowners = sorted(members, key=lambda m: m.id)
    changed = {"coowners": ["、".join(old) or "—", "、".join(new) or "—"]}
    record_change(item, "edit", actor, changed)
    return changed


def require_office(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_office:
        raise PermissionDenied(_("只有环线办可以进行此操作。"))


def valid_id(value: Any) -> bool:
    """Whether ``value`` can be a row id (ids from forms are bounded before any query)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**31 - 1


def acting_member_id(user: Any, member_id: int | None) -> int:
    """The member a new item belongs to: the office chooses one, staff always use their own."""
    if user is not None and getattr(user, "is_member_user", False):
        return user.member_id
    require_office(user)
    if not valid_id(member_id) or db.session.get(Member, member_id) is None:
        raise ValidationFailed({"member_id": _("请选择所属成员单位。")})
    return member_id


def get_item(model: type, item_id: int) -> Any:
    item = db.session.get(model, item_id)
    if item is None:
        raise NotFound(_("没有找到该条目。"))
    return item


def get_for_edit(model: type, item_id: int, user: Any) -> Any:
    item = get_item(model, item_id)
    require_edit_item(user, item)
    return item


def teacher_visibility(user: Any) -> tuple[Any, ...]:
    """SQL conditions for the teachers ``user`` may see (as ``teacher_visible`` decides)."""
    if user is not None and getattr(user, "is_authenticated", False) and user.is_office:
        return ()
    if user is not None and getattr(user, "is_member_user", False):
        return (or_(Teacher.shared.is_(True), Teacher.member_id == user.member_id),)
    return (Teacher.shared.is_(True),)


def teacher_visible(teacher: Teacher, user: Any) -> bool:
    """Shared teachers are public; the others only for their member and the office."""
    return teacher.shared or can_edit(user, teacher.member_id)


# ---------------------------------------------------------------- history


def display(value: Any, field: str = "") -> str:
    """A value as the history shows it (``field`` names it where the raw value is a code)."""
    if value is None:
        return ""
    if field == "open_weekdays" and isinstance(value, str):
        return weekday_label(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, TeachingSite | Teacher):
        return value.name
    if isinstance(value, list | tuple):
        return "、".join(display(v) for v in value)
    return str(value)


def record_change(
    item: Item,
    action: str,
    actor: Any = None,
    changes: dict[str, list[str]] | None = None,
    reason: str = "",
    actor_name: str | None = None,
) -> CatalogChange:
    """Append an entry to ``item``'s history. The caller commits."""
    db.session.flush()
    entry = CatalogChange(
        item_type=ITEM_TYPE[type(item)],
        item_id=item.id,
        member_id=item.member_id,
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=actor_name or (actor.display_name if actor is not None else "系统"),
        changes=changes or {},
        reason=reason,
    )
    db.session.add(entry)
    return entry


def history(item: Item) -> list[CatalogChange]:
    return list(
        db.session.scalars(
            select(CatalogChange)
            .where(
                CatalogChange.item_type == ITEM_TYPE[type(item)], CatalogChange.item_id == item.id
            )
            .order_by(CatalogChange.id.desc())
        )
    )


def apply_changes(
    item: Item, values: dict[str, Any], fields: Iterable[str]
) -> dict[str, list[str]]:
    """Set the given fields and return what changed as display strings."""
    changed = {}
    for field in fields:
        if field not in values:
            continue
        old, new = getattr(item, field), values[field]
        if old != new:
            changed[field] = [display(old, field), display(new, field)]
            setattr(item, field, new)
    return changed


# ---------------------------------------------------------------- validation


def clean_text(
    errors: dict[str, str],
    values: dict[str, Any],
    field: str,
    label: str,
    *,
    required: bool,
    limit: int,
) -> None:
    value = values.get(field)
    if value is None:
        if required:
            errors[field] = _("请填写%(label)s。", label=label)
        return
    value = str(value).strip()
    if "\x00" in value:
        errors[field] = _("%(label)s包含无效字符。", label=label)
    elif required and not value:
        errors[field] = _("请填写%(label)s。", label=label)
    elif len(value) > limit:
        errors[field] = _("%(label)s不能超过 %(limit)s 个字符。", label=label, limit=limit)
    values[field] = value


def validate_site(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise site values; raise ValidationFailed naming every bad field."""
    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("名称"), required=True, limit=128)
    clean_text(errors, values, "theme", _("主题"), required=True, limit=32)
    clean_text(errors, values, "description", _("简介"), required=False, limit=MAX_TEXT)
    clean_text(errors, values, "address", _("地址"), required=False, limit=256)
    capacity = values.get("capacity")
    if not isinstance(capacity, int) or not 1 <= capacity <= 10000:
        errors["capacity"] = _("每场容量须为 1 到 10000 之间的整数。")
    minutes = values.get("session_minutes")
    if not isinstance(minutes, int) or not 10 <= minutes <= 720:
        errors["session_minutes"] = _("单场时长须为 10 到 720 分钟。")
    days = values.get("open_weekdays")
    if isinstance(days, list | tuple | set):
        values["open_weekdays"] = "".join(str(d) for d in sorted({int(d) for d in days}))
        days = values["open_weekdays"]
    if not days or not set(str(days)) <= set("1234567"):
        errors["open_weekdays"] = _("请至少选择一个开放日。")
    opens, closes = values.get("opens"), values.get("closes")
    if not isinstance(opens, time):
        errors["opens"] = _("请填写开放时间。")
    if not isinstance(closes, time):
        errors["closes"] = _("请填写关闭时间。")
    elif isinstance(opens, time) and opens >= closes:
        errors["closes"] = _("关闭时间须晚于开放时间。")
    for field, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        value = values.get(field)
        if value is not None and (not isinstance(value, int | float) or not low <= value <= high):
            errors[field] = _("坐标超出范围。")
    values["needs_guide"] = bool(values.get("needs_guide"))
    # Set in the portal's form only: imports and plugins leave them as they are.
    if "auto_confirm" in values:
        values["auto_confirm"] = bool(values["auto_confirm"])
    if "guide_count" in values:
        guides = values["guide_count"]
        if not isinstance(guides, int) or isinstance(guides, bool) or not 0 <= guides <= 100:
            errors["guide_count"] = _("讲解员人数须为 0 到 100 之间的整数。")
    if errors:
        raise ValidationFailed(errors)
    return values


def validate_teacher(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("姓名"), required=True, limit=64)
    clean_text(errors, values, "title", _("职称"), required=False, limit=64)
    clean_text(errors, values, "bio", _("简介"), required=False, limit=MAX_TEXT)
    topics = values.get("topics") or ""
    if isinstance(topics, list | tuple):
        topics = "、".join(t.strip() for t in topics if t.strip())
    values["topics"] = "、".join(
        t.strip()
        for t in str(topics).replace(",", "、").replace("，", "、").split("、")
        if t.strip()
    )
    clean_text(errors, values, "topics", _("研究方向"), required=False, limit=512)
    if values.get("kind") not in TEACHER_KINDS:
        errors["kind"] = _("请选择专职或兼职。")
    values["shared"] = bool(values.get("shared"))
    if errors:
        raise ValidationFailed(errors)
    return values


def validate_course(values: dict[str, Any], member_id: int) -> dict[str, Any]:
    """Check course values; teachers must be the member's own or shared with the consortium."""
    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("课程名称"), required=True, limit=128)
    clean_text(errors, values, "description", _("简介"), required=False, limit=MAX_TEXT)
    if values.get("kind") not in COURSE_KINDS:
        errors["kind"] = _("请选择课程类型。")
    hours = values.get("hours")
    if not isinstance(hours, int | float) or not 0.5 <= hours <= 200 or math.isnan(hours):
        errors["hours"] = _("学时须在 0.5 到 200 之间。")
    teacher_ids = list(dict.fromkeys(values.pop("teacher_ids", []) or []))
    if not all(valid_id(i) for i in teacher_ids):
        errors["teacher_ids"] = _("只能选择本单位的师资或环线共享师资。")
        teacher_ids = []
    teachers = list(db.session.scalars(select(Teacher).where(Teacher.id.in_(teacher_ids))))
    from portal.sharing.services import borrowed_teacher_ids

    borrowed = borrowed_teacher_ids(member_id) if teachers else set()
    if len(teachers) != len(teacher_ids) or any(
        t.status == "retired" or not (t.shared or t.member_id == member_id or t.id in borrowed)
        for t in teachers
    ):
        errors["teacher_ids"] = _("只能选择本单位的师资或环线共享师资。")
    values["teachers"] = sorted(teachers, key=lambda t: t.id)
    site_id = values.pop("site_id", None)
    values["site"] = None
    if site_id:
        site = db.session.get(TeachingSite, site_id) if valid_id(site_id) else None
        if site is None or site.status == "retired":
            errors["site_id"] = _("所选教学点不存在或已退出。")
        values["site"] = site
    if errors:
        raise ValidationFailed(errors)
    return values


# ---------------------------------------------------------------- create, edit, status

FIELDS = {TeachingSite: SITE_FIELDS, Teacher: TEACHER_FIELDS, Course: COURSE_FIELDS}


def validate(model: type, values: dict[str, Any], member_id: int) -> dict[str, Any]:
    """Checked, normalised values for a new or edited item of ``member_id``."""
    if model is Course:
        return validate_course(values, member_id)
    return validate_site(values) if model is TeachingSite else validate_teacher(values)


def checked_reason(reason: str | None) -> str:
    """The note typed with a change, or a message beside its field if it cannot be kept."""
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _("说明过长或包含无效字符。")})
    return reason


def create_item(
    model: type, actor: Any, member_id: int | None, values: dict[str, Any], reason: str = ""
) -> Any:
    """Create a site, teacher or course for a member. The caller commits."""
    owner = acting_member_id(actor, member_id)
    values = validate(model, values, owner)
    item = model(member_id=owner, **{f: values[f] for f in FIELDS[model] if f in values})
    if model is TeachingSite and not actor.is_office:
        # A member's new site enters the directory only once the office admits it.
        item.admission = "proposed"
    db.session.add(item)
    record_change(
        item,
        "create",
        actor,
        {f: ["", display(getattr(item, f), f)] for f in FIELDS[model] if f in values},
        checked_reason(reason),
    )
    return item


def update_item(
    item: Item, actor: Any, values: dict[str, Any], reason: str = ""
) -> dict[str, list[str]]:
    """Edit an item; from now on `sync` keeps the portal's values. The caller commits."""
    require_edit_item(actor, item)
    values = validate(type(item), values, item.member_id)
    reason = checked_reason(reason)
    if isinstance(item, TeachingSite):
        from portal.directory.services import hold_reviewed_changes

        # Capacity and opening hours may wait for the office's review (a directory setting).
        values = hold_reviewed_changes(item, actor, values)
    changed = apply_changes(item, values, FIELDS[type(item)])
    if changed:
        item.edited_locally = True
        record_change(item, "edit", actor, changed, reason.strip()[:MAX_TEXT])
    return changed


STATUS_ACTIONS = {"suspended": "suspend", "retired": "retire", "active": "activate"}


def change_status(item: Item, actor: Any, status: str, reason: str) -> None:
    """Suspend (暂停), retire (退出) or reactivate an item, with a reason. The caller commits."""
    require_edit_item(actor, item)
    if status not in STATUS_ACTIONS:
        raise ServiceError(_("无效的状态。"), "status")
    reason = (reason or "").strip()
    if status != "active" and not reason:
        raise ServiceError(_("请说明原因。"), "reason")
    if len(reason) > MAX_TEXT or "\x00" in reason:
        raise ServiceError(_("原因过长或包含无效字符。"), "reason")
    if item.status == status:
        raise ServiceError(_("该条目已是此状态。"), "status")
    old = item.status_label
    item.status = status
    item.edited_locally = True
    record_change(item, STATUS_ACTIONS[status], actor, {"status": [old, item.status_label]}, reason)


# ---------------------------------------------------------------- assessments, sharing, marks


def record_assessment(
    site: TeachingSite, actor: Any, year: int, score: float, remarks: str
) -> SiteAssessment:
    """The office's yearly score (0–100) of a site; recording a year again replaces it."""
    require_office(actor)
    errors = {}
    if not isinstance(year, int) or not 2000 <= year <= date.today().year + 1:
        errors["year"] = _("请填写有效的年份。")
    if not isinstance(score, int | float) or math.isnan(score) or not 0 <= score <= 100:
        errors["score"] = _("分数须在 0 到 100 之间。")
    remarks = (remarks or "").strip()
    if len(remarks) > MAX_TEXT or "\x00" in remarks:
        errors["remarks"] = _("评语过长或包含无效字符。")
    if errors:
        raise ValidationFailed(errors)
    assessment = db.session.scalar(
        select(SiteAssessment).where(SiteAssessment.site_id == site.id, SiteAssessment.year == year)
    )
    old = display(assessment.score) if assessment else ""
    if assessment is None:
        assessment = SiteAssessment(site=site, year=year, score=score)
        db.session.add(assessment)
    assessment.score, assessment.remarks, assessment.assessed_by_id = score, remarks, actor.id
    record_change(site, "assess", actor, {str(year): [old, display(score)]}, remarks)
    return assessment


def assessments(site: TeachingSite) -> list[SiteAssessment]:
    return list(
        db.session.scalars(
            select(SiteAssessment)
            .where(SiteAssessment.site_id == site.id)
            .order_by(SiteAssessment.year.desc())
        )
    )


def set_excellent(course: Course, actor: Any, excellent: bool, reason: str = "") -> None:
    """The office gives or takes the 精品课程 mark."""
    require_office(actor)
    if course.excellent != excellent:
        record_change(
            course,
            "excellent",
            actor,
            {"excellent": [display(course.excellent), display(excellent)]},
            reason,
        )
        course.excellent = excellent
        course.edited_locally = True


def add_unavailability(
    teacher: Teacher, actor: Any, starts_on: date, ends_on: date, reason: str
) -> TeacherUnavailability:
    """The teacher's member marks dates on which the teacher cannot teach."""
    require_edit(actor, teacher.member_id)
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise ValidationFailed({"starts_on": _("请填写日期。")})
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": _("结束日期不能早于开始日期。")})
    if (ends_on - starts_on).days > 366:
        raise ValidationFailed({"ends_on": _("一次最多登记一年。")})
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > 256:
        raise ValidationFailed({"reason": _("原因过长或包含无效字符。")})
    entry = TeacherUnavailability(
        teacher=teacher, starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    db.session.add(entry)
    span = f"{starts_on.isoformat()} – {ends_on.isoformat()}"
    record_change(teacher, "availability", actor, {"unavailable": ["", span]}, reason)
    return entry


def remove_unavailability(entry_id: int, actor: Any) -> None:
    entry = db.session.get(TeacherUnavailability, entry_id)
    if entry is None:
        raise NotFound(_("没有找到该条目。"))
    require_edit(actor, entry.teacher.member_id)
    span = f"{entry.starts_on.isoformat()} – {entry.ends_on.isoformat()}"
    record_change(entry.teacher, "availability", actor, {"unavailable": [span, ""]})
    db.session.delete(entry)


def unavailable_spans(teacher: Teacher, after: date | None = None) -> list[TeacherUnavailability]:
    query = select(TeacherUnavailability).where(TeacherUnavailability.teacher_id == teacher.id)
    if after is not None:
        query = query.where(TeacherUnavailability.ends_on >= after)
    return list(db.session.scalars(query.order_by(TeacherUnavailability.starts_on)))


def teacher_available_on(teacher: Teacher, day: date) -> bool:
    clash = db.session.scalar(
        select(TeacherUnavailability.id).where(
            TeacherUnavailability.teacher_id == teacher.id,
            TeacherUnavailability.starts_on <= day,
            TeacherUnavailability.ends_on >= day,
        )
    )
    return clash is None


def teachers_for_courses(member_id: int) -> list[Teacher]:
    """Teachers a member may put on a course: its own, every shared one and those it has
    borrowed (a confirmed loan running today, portal.sharing), not retired."""
    from portal.sharing.services import borrowed_teacher_ids

    borrowed = sorted(borrowed_teacher_ids(member_id))
    return list(
        db.session.scalars(
            select(Teacher)
            .where(
                Teacher.status != "retired",
                or_(
                    Teacher.member_id == member_id,
                    Teacher.shared.is_(True),
                    Teacher.id.in_(borrowed),
                ),
            )
            .order_by(Teacher.member_id != member_id, Teacher.member_id, Teacher.name)
        )
    )


# ---------------------------------------------------------------- search


@dataclass
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def paginate(query: Select, page: int, per_page: int, options: Sequence = ()) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    items = db.session.scalars(
        query.options(*options).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items, total, page, per_page)


def _like(text: str) -> str:
    text = text.replace("\x00", "")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def latest_score_subquery():
    """Each site's score in its most recent assessment year."""
    latest_year = (
        select(SiteAssessment.site_id, func.max(SiteAssessment.year).label("year"))
        .group_by(SiteAssessment.site_id)
        .subquery()
    )
    return (
        select(SiteAssessment.site_id, SiteAssessment.score.label("score"))
        .join(
            latest_year,
            and_(
                latest_year.c.site_id == SiteAssessment.site_id,
                latest_year.c.year == SiteAssessment.year,
            ),
        )
        .subquery()
    )


def search_sites(
    *,
    q: str = "",
    member_id: int | None = None,
    theme: str = "",
    status: str = "active",
    min_capacity: int | None = None,
    needs_guide: bool | None = None,
    bookable_only: bool = False,
    sort: str = "name",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Sites matching the filters; ``sort`` is name, capacity or score (latest assessment)."""
    query = select(TeachingSite)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                TeachingSite.name.ilike(pattern, escape="\\"),
                TeachingSite.description.ilike(pattern, escape="\\"),
                TeachingSite.address.ilike(pattern, escape="\\"),
                TeachingSite.theme.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(TeachingSite.member_id == member_id)
    if theme:
        query = query.where(TeachingSite.theme == theme.replace("\x00", ""))
    if status:
        query = query.where(TeachingSite.status == status)
    # Sites still under review (or sent back) are not in the directory yet: see portal/directory.
    query = query.where(TeachingSite.admission == "admitted")
    if min_capacity:
        query = query.where(TeachingSite.capacity >= min_capacity)
    if needs_guide is not None:
        query = query.where(TeachingSite.needs_guide.is_(needs_guide))
    if bookable_only:
        enabled = select(Member.id).where(Member.plugin.in_(sorted(plugins.enabled_plugin_names())))
        query = query.where(TeachingSite.member_id.in_(enabled), TeachingSite.status == "active")
    if sort == "score":
        # Joined only to sort by: every site's latest assessment is worked out for it.
        scores = latest_score_subquery()
        query = query.outerjoin(scores, scores.c.site_id == TeachingSite.id)
        order = (scores.c.score.is_(None), scores.c.score.desc(), TeachingSite.id)
    elif sort == "capacity":
        order = (TeachingSite.capacity.desc(), TeachingSite.id)
    else:
        order = (TeachingSite.name, TeachingSite.id)
    return paginate(query.order_by(*order), page, per_page, (selectinload(TeachingSite.member),))


def latest_scores(site_ids: Iterable[int]) -> dict[int, float]:
    scores = latest_score_subquery()
    ids = list(site_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(scores.c.site_id, scores.c.score).where(scores.c.site_id.in_(ids))
        ).all()
    )


def search_teachers(
    viewer: Any,
    *,
    q: str = "",
    member_id: int | None = None,
    kind: str = "",
    title: str = "",
    topic: str = "",
    shared: bool | None = None,
    status: str = "active",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Teachers the viewer may see (shared ones, plus their own member's) matching the filters."""
    query = select(Teacher).where(*teacher_visibility(viewer))
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                Teacher.name.ilike(pattern, escape="\\"),
                Teacher.topics.ilike(pattern, escape="\\"),
                Teacher.bio.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(Teacher.member_id == member_id)
    if kind:
        query = query.where(Teacher.kind == kind)
    if title:
        query = query.where(Teacher.title == title.replace("\x00", ""))
    if topic:
        query = query.where(Teacher.topics.ilike(_like(topic), escape="\\"))
    if shared is not None:
        query = query.where(Teacher.shared.is_(shared))
    if status:
        query = query.where(Teacher.status == status)
    return paginate(
        query.order_by(Teacher.name, Teacher.id), page, per_page, (selectinload(Teacher.member),)
    )


def search_courses(
    *,
    q: str = "",
    member_id: int | None = None,
    kind: str = "",
    excellent: bool | None = None,
    site_id: int | None = None,
    teacher_id: int | None = None,
    status: str = "active",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    query = select(Course)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                Course.name.ilike(pattern, escape="\\"),
                Course.description.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(Course.member_id == member_id)
    if kind:
        query = query.where(Course.kind == kind)
    if excellent is not None:
        query = query.where(Course.excellent.is_(excellent))
    if site_id:
        query = query.where(Course.site_id == site_id)
    if teacher_id:
        query = query.where(Course.teachers.any(Teacher.id == teacher_id))
    if status:
        query = query.where(Course.status == status)
    return paginate(
        query.order_by(Course.excellent.desc(), Course.name, Course.id),
        page,
        per_page,
        (selectinload(Course.member), selectinload(Course.teachers), selectinload(Course.site)),
    )


def distinct_values(column: Any) -> list[str]:
    """The values a filter can choose from (themes, titles …), sorted."""
    return sorted(v for v in db.session.scalars(select(column).distinct()) if v)


def weekday_label(days: str) -> str:
    return "、".join(str(WEEKDAY_LABELS[int(d)]) for d in days)


# ---------------------------------------------------------------- materials


def add_material(
    course: Course, actor: Any, kind: str, title: str, upload: Any = None
) -> CourseMaterial:
    """List a teaching material (教材) or case (案例) with a course, with an optional file."""
    from portal.catalog import uploads

    require_edit_item(actor, course)
    values = {"title": title}
    errors: dict[str, str] = {}
    clean_text(errors, values, "title", _("标题"), required=True, limit=200)
    if kind not in MATERIAL_KINDS:
        errors["kind"] = _("请选择教材或案例。")
    if errors:
        raise ValidationFailed(errors)
    material = CourseMaterial(course=course, kind=kind, title=values["title"])
    if upload is not None and getattr(upload, "filename", ""):
        stored = uploads.store_upload(upload)
        material.stored_name = stored.stored_name
        material.original_name = stored.original_name
        material.content_type = stored.content_type
        material.size = stored.size
    db.session.add(material)
    record_change(course, "material", actor, {str(MATERIAL_KINDS[kind]): ["", material.title]})
    return material


def remove_material(material: CourseMaterial, actor: Any) -> None:
    from portal.catalog import uploads

    require_edit_item(actor, material.course)
    record_change(material.course, "material", actor, {material.kind_label: [material.title, ""]})
    uploads.remove_stored(material.stored_name)
    db.session.delete(material)
