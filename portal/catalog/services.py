"""Catalogue rules: creating and editing items, their status, and the catalogue's public API.

Every function takes the acting user; staff of a member act on their own member's items
only, the office on all. An item of another member answers NotFound (shown as 404), so ids
leak nothing. Every change is written to the item's history (``CatalogChange``). This
module creates and edits sites, teachers and courses (``create_item``, ``update_item``,
``change_status``) and names the fields each kind has; the other rules live beside it and
are re-exported here, so ``services.X`` keeps working: permissions and co-owners
(permissions.py), history (history.py), validation (validation.py), the office's marks
(assessments.py), teachers' dates and loans (availability.py), search (search.py) and
course materials (materials.py).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.catalog.assessments import assessments, record_assessment, set_excellent
from portal.catalog.availability import (
    add_unavailability,
    remove_unavailability,
    teacher_available_on,
    teachers_for_courses,
    unavailable_spans,
)
from portal.catalog.history import (
    FIELD_LABELS,
    ITEM_TYPE,
    Item,
    apply_changes,
    display,
    history,
    record_change,
    weekday_label,
)
from portal.catalog.materials import add_material, remove_material
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.catalog.permissions import (
    acting_member_id,
    can_edit,
    can_edit_item,
    coowner_ids,
    get_for_edit,
    get_item,
    may_name_coowners,
    require_edit,
    require_edit_item,
    require_office,
    set_coowners,
    teacher_visibility,
    teacher_visible,
    valid_id,
)
from portal.catalog.search import (
    Page,
    distinct_values,
    latest_score_subquery,
    latest_scores,
    paginate,
    search_courses,
    search_sites,
    search_teachers,
)
from portal.catalog.validation import (
    MAX_TEXT,
    clean_text,
    validate_course,
    validate_site,
    validate_teacher,
)
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db

# The public names, moved ones included: the rest of the portal imports them from here.
__all__ = [
    "COURSE_FIELDS",
    "FIELD_LABELS",
    "FIELDS",
    "ITEM_TYPE",
    "MAX_TEXT",
    "SITE_FIELDS",
    "STATUS_ACTIONS",
    "TEACHER_FIELDS",
    "THEMES",
    "acting_member_id",
    "add_material",
    "add_unavailability",
    "apply_changes",
    "assessments",
    "can_edit",
    "can_edit_item",
    "change_status",
    "checked_reason",
    "clean_text",
    "coowner_ids",
    "create_item",
    "display",
    "distinct_values",
    "get_for_edit",
    "get_item",
    "history",
    "Item",
    "latest_score_subquery",
    "latest_scores",
    "may_name_coowners",
    "Page",
    "paginate",
    "record_assessment",
    "record_change",
    "remove_material",
    "remove_unavailability",
    "require_edit",
    "require_edit_item",
    "require_office",
    "search_courses",
    "search_sites",
    "search_teachers",
    "set_coowners",
    "set_excellent",
    "teacher_available_on",
    "teacher_visibility",
    "teacher_visible",
    "teachers_for_courses",
    "unavailable_spans",
    "update_item",
    "valid_id",
    "validate",
    "validate_course",
    "validate_site",
    "validate_teacher",
    "weekday_label",
]

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
THEMES = ("党性教育", "革命传统", "民族团结", "生态文明", "乡村振兴", "廉政教育", "抗战历史")


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
