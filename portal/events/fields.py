"""Fields a member plugin adds to its own kinds of joint event (hook ``portal_event_fields``).

A plugin returns ``portal.specs.EventFieldSpec`` items for the event kinds it contributes;
the event form shows them, the portal checks what users type (``clean_values``) and keeps
the values in the event's ``extra`` JSON column, with their labels, so the event page can
show them even when the plugin is later disabled. Nothing here touches the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _

from portal.plugins import PluginHookError
from portal.specs import EventFieldSpec

FIELD_KINDS = ("text", "int", "date", "choice")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_FIELDS = 20
MAX_TEXT = 2000
INT_LIMIT = 10**9


def check_specs(result: Any) -> list[EventFieldSpec]:
    """A ``check`` for ``plugins.call_each``: a list of well-formed specs with unique keys."""
    if result is None:
        return []
    if not isinstance(result, list | tuple):
        raise PluginHookError(f"返回值应为 EventFieldSpec 的列表，实际为 {type(result).__name__}")
    if len(result) > MAX_FIELDS:
        raise PluginHookError(f"字段过多（最多 {MAX_FIELDS} 个）")
    seen: set[str] = set()
    for spec in result:
        if not isinstance(spec, EventFieldSpec):
            raise PluginHookError(f"返回值应为 EventFieldSpec 的列表，其中有 {type(spec).__name__}")
        problem = spec_problem(spec)
        if problem:
            raise PluginHookError(problem)
        if spec.key in seen:
            raise PluginHookError(f"字段 key 重复：{spec.key}")
        seen.add(spec.key)
    return list(result)


def spec_problem(spec: EventFieldSpec) -> str:
    """What makes one spec unusable, in words for the plugins page ("" when it is fine)."""
    if not isinstance(spec.key, str) or not KEY_PATTERN.fullmatch(spec.key):
        return f"字段 key 无效：{spec.key!r}（小写字母开头，只含小写字母、数字和下划线）"
    if not isinstance(spec.label, str) or not spec.label.strip() or len(spec.label) > 64:
        return f"{spec.key}: 缺少名称或名称过长"
    if spec.kind not in FIELD_KINDS:
        return f"{spec.key}: 类型须为 {'、'.join(FIELD_KINDS)} 之一"
    if spec.kind == "choice" and (
        not spec.choices
        or not all(isinstance(c, str) and c.strip() and len(c) <= 100 for c in spec.choices)
        or len(set(spec.choices)) != len(spec.choices)
    ):
        return f"{spec.key}: 选择题须给出不重复的选项"
    for bound in (spec.min_value, spec.max_value):
        if bound is not None and (not isinstance(bound, int) or abs(bound) > INT_LIMIT):
            return f"{spec.key}: 取值范围无效"
    if (
        spec.min_value is not None
        and spec.max_value is not None
        and spec.min_value > spec.max_value
    ):
        return f"{spec.key}: 最小值大于最大值"
    if not isinstance(spec.max_length, int) or not 1 <= spec.max_length <= MAX_TEXT:
        return f"{spec.key}: max_length 须在 1 到 {MAX_TEXT} 之间"
    return ""


def _parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d{1,12}", text):
        return int(text)
    return None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2200 else None


def clean_values(
    specs: Sequence[EventFieldSpec], raw: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Check the values typed for ``specs``; return (stored values, errors by form name).

    Stored values map each key to ``{"label": …, "value": …}``: an int for ``int``, an ISO
    date string for ``date`` and the text for ``text`` and ``choice``. An empty optional
    field is left out. ``raw`` maps spec keys (not form names) to what the user typed.
    """
    stored: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        value = raw.get(spec.key)
        if isinstance(value, str):
            value = value.strip()
        name, label = spec.form_name, spec.label
        if value is None or value == "":
            if spec.required:
                errors[name] = _("请填写%(label)s。", label=label)
            continue
        if isinstance(value, str) and "\x00" in value:
            errors[name] = _("%(label)s包含无效字符。", label=label)
            continue
        if spec.kind == "int":
            number = _parse_int(value)
            low = spec.min_value if spec.min_value is not None else -INT_LIMIT
            high = spec.max_value if spec.max_value is not None else INT_LIMIT
            if number is None:
                errors[name] = _("%(label)s须为整数。", label=label)
            elif not low <= number <= high:
                errors[name] = _(
                    "%(label)s须在 %(low)s 到 %(high)s 之间。", label=label, low=low, high=high
                )
            else:
                stored[spec.key] = {"label": label, "value": number}
        elif spec.kind == "date":
            day = _parse_date(value)
            if day is None:
                errors[name] = _("%(label)s须为有效日期（YYYY-MM-DD）。", label=label)
            else:
                stored[spec.key] = {"label": label, "value": day.isoformat()}
        elif spec.kind == "choice":
            if str(value) not in spec.choices:
                errors[name] = _("请从列表中选择%(label)s。", label=label)
            else:
                stored[spec.key] = {"label": label, "value": str(value)}
        else:
            text = str(value)
            if len(text) > spec.max_length:
                errors[name] = _(
                    "%(label)s不能超过 %(limit)s 个字符。", label=label, limit=spec.max_length
                )
            else:
                stored[spec.key] = {"label": label, "value": text}
    return stored, errors


def display_items(extra: Any) -> list[tuple[str, str]]:
    """The stored values of an event as (label, text) pairs, in the order they were stored."""
    if not isinstance(extra, dict):
        return []
    items = []
    for key, entry in extra.items():
        if isinstance(entry, dict) and "value" in entry:
            items.append((str(entry.get("label") or key), str(entry["value"])))
    return items


def form_values(extra: Any, specs: Iterable[EventFieldSpec]) -> dict[str, str]:
    """What to pre-fill in the form fields of ``specs`` from stored values."""
    extra = extra if isinstance(extra, dict) else {}
    found = {}
    for spec in specs:
        entry = extra.get(spec.key)
        if isinstance(entry, dict) and "value" in entry:
            found[spec.form_name] = str(entry["value"])
    return found
