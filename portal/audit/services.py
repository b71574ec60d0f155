"""Who did what and when: one place to record and to read every change the office may audit.

Catalogue items and bookings keep their own histories (``catalog_changes``,
``booking_events``); everything else is recorded here. ``entries`` reads all three as one
time-ordered list, so the office browses and exports a single audit log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, case, literal, select, union_all
from sqlalchemy.sql import func

from portal.audit.labels import AREAS, action_label, area_of
from portal.audit.models import AuditEntry
from portal.catalog.models import CatalogChange, Course, Teacher, TeachingSite
from portal.errors import PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import Booking, BookingEvent, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ, within_range

__all__ = ["AREAS", "PER_PAGE", "AuditPage", "Row", "entries", "record"]

# Rows on one page of the log.
PER_PAGE = 50


def record(actor: Any, action: str, object_label: str = "", **detail: Any) -> None:
    """Append an audit entry in the caller's transaction; ``actor`` None is the command line."""
    db.session.add(
        AuditEntry(
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "display_name", None)
            or (actor if isinstance(actor, str) else "命令行"),
            action=action,
            object_label=object_label[:200],
            detail={k: str(v)[:500] for k, v in detail.items()},
        )
    )


@dataclass(frozen=True)
class Row:
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    detail: str = ""

    @property
    def area(self) -> str:
        return area_of(self.action)

    @property
    def area_label(self) -> str:
        return str(AREAS.get(self.area, self.area))

    @property
    def action_label(self) -> str:
        return action_label(self.action)


@dataclass(frozen=True)
class AuditPage:
    rows: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (1-based; 0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _catalog_part():
    """Catalogue histories, each item named by its name (the site's, teacher's or course's)."""

    def name_of(model: type) -> Any:
        return select(model.name).where(model.id == CatalogChange.item_id).scalar_subquery()

    subject = case(
        (CatalogChange.item_type == "site", name_of(TeachingSite)),
        (CatalogChange.item_type == "teacher", name_of(Teacher)),
        (CatalogChange.item_type == "course", name_of(Course)),
    )
    return select(
        CatalogChange.created_at.label("at"),
        CatalogChange.actor_name.label("actor"),
        (CatalogChange.item_type + "." + CatalogChange.action).label("action"),
        func.coalesce(
            subject, CatalogChange.item_type + " #" + func.cast(CatalogChange.item_id, String)
        ).label("subject"),
        CatalogChange.reason.label("reason"),
        literal("").label("detail"),
        literal(1).label("source"),
        CatalogChange.id.label("row_id"),
    )


def _booking_part():
    """Bookings' histories: the class and, for one stop, its site (else the route booked)."""
    stop_site = (
        select(TeachingSite.name)
        .join(Reservation, Reservation.site_id == TeachingSite.id)
        .where(Reservation.id == BookingEvent.reservation_id)
        .scalar_subquery()
    )
    return (
        select(
            BookingEvent.created_at.label("at"),
            BookingEvent.actor_name.label("actor"),
            ("booking." + BookingEvent.action).label("action"),
            (TrainingClass.name + " · " + func.coalesce(stop_site, Booking.name)).label("subject"),
            BookingEvent.reason.label("reason"),
            literal("").label("detail"),
            literal(2).label("source"),
            BookingEvent.id.label("row_id"),
        )
        .join(Booking, Booking.id == BookingEvent.booking_id)
        .join(TrainingClass, TrainingClass.id == Booking.class_id)
    )


def _own_part(area: str):
    own = select(
        AuditEntry.created_at.label("at"),
        AuditEntry.actor_name.label("actor"),
        AuditEntry.action.label("action"),
        AuditEntry.object_label.label("subject"),
        literal("").label("reason"),
        # The one detail worth a column: a rule's new value.
        func.coalesce(func.cast(AuditEntry.detail, String), "").label("detail"),
        literal(3).label("source"),
        AuditEntry.id.label("row_id"),
    )
    if area:
        own = own.where(AuditEntry.action.like(f"{area}.%"))
    return own


def _subject_text(action: str, subject: str) -> str:
    """A rule is named by what the settings page calls it, not by its key."""
    if action == "setting.change":
        from portal.scheduling.route_forms import SETTING_LABELS

        label = SETTING_LABELS.get(subject)
        if label is not None:
            return str(label[0])
    return subject


def _detail_text(action: str, detail: str) -> str:
    if action != "setting.change" or not detail:
        return ""
    import json

    try:
        value = json.loads(detail).get("value", "")
    except (ValueError, AttributeError):
        return ""
    return _("改为 %(value)s", value=value) if value != "" else ""


def entries(
    actor: Any,
    *,
    area: str = "",
    who: str = "",
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> AuditPage:
    """One page of the audit rows of every kind matching the filters, newest first (office only).

    A page past the last gives the last page.
    """
    if actor is None or not actor.is_office:
        raise PermissionDenied(_("只有环线办可以查看审计日志。"))
    if any(day is not None and not within_range(day) for day in (start, end)):
        raise ValidationFailed({"start": _("日期须在 2000 年至 2100 年之间。")})
    if area and area not in AREAS:
        raise ValidationFailed({"area": _("请选择有效的类别。")})
    parts = []
    if area in ("", "catalog"):
        parts.append(_catalog_part())
    if area in ("", "booking"):
        parts.append(_booking_part())
    if area not in ("catalog", "booking"):
        parts.append(_own_part(area))
    union = union_all(*parts).subquery()
    query = select(union)
    if who:
        query = query.where(union.c.actor.contains(who.replace("\x00", ""), autoescape=True))
    if start:
        query = query.where(union.c.at >= datetime.combine(start, time(0), tzinfo=LOCAL_TZ))
    if end:
        query = query.where(
            union.c.at < datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = max(1, min(page, pages))
    found = db.session.execute(
        query.order_by(union.c.at.desc(), union.c.source, union.c.row_id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [
        Row(
            r.at,
            r.actor,
            r.action,
            _subject_text(r.action, r.subject or ""),
            r.reason or "",
            _detail_text(r.action, r.detail or ""),
        )
        for r in found
    ]
    return AuditPage(rows, total, page, per_page)
