"""Catalogue permissions: who may see and change which item, joint ownership included.

Staff of a member act on their own member's items only, the office on all; members named
as co-owners (共建) of a site or course may change it too, and the office or the owner's
admin names them (``set_coowners``). An item the user may not change answers NotFound
(shown as 404), so ids leak nothing. Also here: the office-only check, the bound on ids
from forms, the member a new item belongs to, fetching an item for editing, and which
teachers a user may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.catalog.history import record_change
from portal.catalog.models import Teacher
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.members.models import Member


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
