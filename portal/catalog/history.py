"""Catalogue history: what changed in a site, teacher or course, by whom and why.

``record_change`` appends a ``CatalogChange`` for an item (the caller commits), ``history``
lists an item's entries newest first, ``apply_changes`` sets edited fields and returns what
changed as display strings, and ``display`` / ``weekday_label`` turn stored values into the
text the history shows. ``FIELD_LABELS`` names each field in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.catalog.models import CatalogChange, Course, Teacher, TeachingSite
from portal.extensions import db
from portal.specs import WEEKDAY_LABELS

Item = TeachingSite | Teacher | Course
ITEM_TYPE = {TeachingSite: "site", Teacher: "teacher", Course: "course"}
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


def weekday_label(days: str) -> str:
    return "、".join(str(WEEKDAY_LABELS[int(d)]) for d in days)
