"""The /classes list: each class's state, and the filters of the page and its .xlsx export.

A class's state (状态) is 已取消 when cancelled, else 未开班 before its first day, 进行中 from
its first to its last day and 已结业 after. The date filter keeps the classes whose days
overlap the asked days (a class spanning the start or end is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.formfields import clean_day_text
from portal.scheduling.models import CLASS_KINDS, ORIGINS, TrainingClass
from portal.timeutil import LOCAL_TZ, within_range

CLASS_STATES = {
    "upcoming": _l("未开班"),
    "ongoing": _l("进行中"),
    "finished": _l("已结业"),
    "cancelled": _l("已取消"),
}


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def class_state(training_class: TrainingClass, on: date | None = None) -> str:
    on = on or today()
    if training_class.cancelled:
        return "cancelled"
    if on < training_class.starts_on:
        return "upcoming"
    if on <= training_class.ends_on:
        return "ongoing"
    return "finished"


def state_label(training_class: TrainingClass, on: date | None = None) -> str:
    return str(CLASS_STATES[class_state(training_class, on)])


@dataclass
class ClassFilters:
    kind: str = ""
    origin: str = ""
    state: str = ""
    starts: date | None = None
    ends: date | None = None

    def query_args(self) -> dict[str, str]:
        args = {"kind": self.kind, "origin": self.origin, "state": self.state}
        args["from"] = self.starts.isoformat() if self.starts else ""
        args["to"] = self.ends.isoformat() if self.ends else ""
        return {k: v for k, v in args.items() if v}


def _day(text: str) -> date | None:
    text = clean_day_text((text or "").strip())
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(text) from None
    if not within_range(day):
        raise ValueError(text)
    return day


def parse_filters(args: Any) -> tuple[ClassFilters, dict[str, str]]:
    """The filters asked in the query string; a wrong value is dropped with a message."""
    errors: dict[str, str] = {}
    found = ClassFilters()
    kind, origin, state = args.get("kind", ""), args.get("origin", ""), args.get("state", "")
    if kind in CLASS_KINDS:
        found.kind = kind
    elif kind:
        errors["kind"] = _("请选择班次类型。")
    if origin in ORIGINS:
        found.origin = origin
    elif origin:
        errors["origin"] = _("请选择生源。")
    if state in CLASS_STATES:
        found.state = state
    elif state:
        errors["state"] = _("请选择状态。")
    for key, attr in (("from", "starts"), ("to", "ends")):
        text = args.get(key, "")
        if not text:
            continue
        try:
            setattr(found, attr, _day(text))
        except ValueError:
            errors[key] = _("请按 2026-12-14 的格式填写 2000 年至 2100 年之间的日期。")
    if found.starts and found.ends and found.ends < found.starts:
        errors["to"] = _("结束日期不能早于开始日期。")
        found.ends = None
    return found, errors


def filtered_classes(actor: Any, filters: ClassFilters, on: date | None = None) -> list:
    """The actor's classes (the office's all, an organizer's own) that match ``filters``."""
    on = on or today()
    query = select(TrainingClass).order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
    if not actor.is_office:
        query = query.where(TrainingClass.organizer_id == actor.id)
    if filters.kind:
        query = query.where(TrainingClass.kind == filters.kind)
    if filters.origin:
        query = query.where(TrainingClass.origin == filters.origin)
    if filters.starts:
        query = query.where(TrainingClass.ends_on >= filters.starts)
    if filters.ends:
        query = query.where(TrainingClass.starts_on <= filters.ends)
    if filters.state == "cancelled":
        query = query.where(TrainingClass.cancelled.is_(True))
    elif filters.state:
        query = query.where(TrainingClass.cancelled.is_(False))
        if filters.state == "upcoming":
            query = query.where(TrainingClass.starts_on > on)
        elif filters.state == "ongoing":
            query = query.where(TrainingClass.starts_on <= on, TrainingClass.ends_on >= on)
        else:
            query = query.where(TrainingClass.ends_on < on)
    options = (selectinload(TrainingClass.bookings), selectinload(TrainingClass.organizer))
    return list(db.session.scalars(query.options(*options)))
