"""Checks shared by the meeting rules: text lengths, lists of names, ids of members."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.services import clean_text
from portal.extensions import db
from portal.members.models import Member

MAX_TEXT = 5000
MAX_MINUTES_TEXT = 50000
MAX_NAMES = 500
MAX_REASON = 2000
MIN_DURATION, MAX_DURATION = 15, 720
_NAME_SEPARATORS = re.compile(r"[,，、;；\n\r]+")


def _clean_names(value: Any) -> str:
    """Names as users write them ("张三,李四；王五") joined by "、"."""
    parts = [p.strip() for p in _NAME_SEPARATORS.split(str(value or "")) if p.strip()]
    return "、".join(parts)


def _check_text(
    errors: dict[str, str], field: str, value: Any, label: str, *, required: bool, limit: int
) -> str:
    values = {field: value}
    clean_text(errors, values, field, label, required=required, limit=limit)
    return values[field] if isinstance(values[field], str) else ""


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip()) if len(value.strip()) <= 9 else None
    return None


def _member_ids(errors: dict[str, str], field: str, raw: Any, *, required: bool) -> list[int]:
    ids = []
    for value in raw or []:
        number = _int_or_none(value)
        if number is None:
            errors[field] = _("所选成员单位无效。")
            return []
        ids.append(number)
    ids = sorted(set(ids))
    if not ids:
        if required:
            errors[field] = _("请至少邀请一个成员单位。")
        return []
    found = set(db.session.scalars(select(Member.id).where(Member.id.in_(ids))))
    if found != set(ids):
        errors[field] = _("所选成员单位无效。")
    return ids
