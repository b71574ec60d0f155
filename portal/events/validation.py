"""Checks shared by the event rules: text lengths, ids, whole numbers."""

from __future__ import annotations

from typing import Any

from portal.catalog import services as catalog_services

MAX_TEXT = 5000


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _clean_text(errors: dict, values: dict, name: str, label: str, required: bool, limit: int):
    catalog_services.clean_text(errors, values, name, label, required=required, limit=limit)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 6:
        return int(text)
    return None
