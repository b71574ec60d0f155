"""Catalogue validation: checking and normalising the values of a site, teacher or course.

``clean_text`` checks one text field (required, length, no NUL); ``validate_site``,
``validate_teacher`` and ``validate_course`` check a whole item and raise ValidationFailed
naming every bad field. A course's teachers must be the member's own, shared with the
consortium or borrowed (portal.sharing), and its site must not have left. ``MAX_TEXT``
bounds every long text of the catalogue.
"""

from __future__ import annotations

import math
from datetime import time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.models import COURSE_KINDS, Teacher, TeachingSite
from portal.catalog.permissions import valid_id
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.specs import TEACHER_KINDS

MAX_TEXT = 5000


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
