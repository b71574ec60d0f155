"""Who did what and when: one place to record and to read every change the office may audit.

Catalogue items and bookings keep their own histories (``catalog_changes``,
``booking_events``); everything else is recorded here. ``entries`` reads all three as one
time-ordered list, so the office browses and exports a single audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, literal, select, union_all
from sqlalchemy.sql import func

from portal.audit.models import AuditEntry
from portal.catalog.models import CatalogChange
from portal.errors import PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import BookingEvent
from portal.timeutil import LOCAL_TZ, within_range

AREAS = {
    "account": _l("账号"),
    "plugin": _l("插件"),
    "setting": _l("环线规则"),
    "route": _l("环线线路"),
    "catalog": _l("目录"),
    "booking": _l("预约"),
    "roster": _l("学员名单"),
    "open_run": _l("开放班次"),
    "elective": _l("选学"),
}


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
    area: str
    action: str
    subject: str
    reason: str

    @property
    def area_label(self) -> str:
        return str(AREAS.get(self.area, self.area))


def entries(
    actor: Any,
    *,
    area: str = "",
    who: str = "",
    start: date | None = None,
    end: date | None = None,
    limit: int = 500,
) -> list[Row]:
    """The newest audit rows of every kind matching the filters (office only)."""
    if actor is None or not actor.is_office:
        raise PermissionDenied(_("只有环线办可以查看审计日志。"))
    if any(day is not None and not within_range(day) for day in (start, end)):
        raise ValidationFailed({"start": _("日期须在 2000 年至 2100 年之间。")})
    parts = []
    if area in ("", "catalog"):
        parts.append(
            select(
                CatalogChange.created_at.label("at"),
                CatalogChange.actor_name.label("actor"),
                literal("catalog").label("area"),
                (CatalogChange.item_type + "." + CatalogChange.action).label("action"),
                (CatalogChange.item_type + " #" + func.cast(CatalogChange.item_id, String)).label(
                    "subject"
                ),
                CatalogChange.reason.label("reason"),
            )
        )
    if area in ("", "booking"):
        parts.append(
            select(
                BookingEvent.created_at.label("at"),
                BookingEvent.actor_name.label("actor"),
                literal("booking").label("area"),
                ("booking." + BookingEvent.action).label("action"),
                ("#" + func.cast(BookingEvent.booking_id, String)).label("subject"),
                BookingEvent.reason.label("reason"),
            )
        )
    if area not in ("catalog", "booking"):
        own = select(
            AuditEntry.created_at.label("at"),
            AuditEntry.actor_name.label("actor"),
            literal("").label("area"),
            AuditEntry.action.label("action"),
            AuditEntry.object_label.label("subject"),
            literal("").label("reason"),
        )
        if area:
            own = own.where(AuditEntry.action.like(f"{area}.%"))
        parts.append(own)
    union = union_all(*parts).subquery()
    query = select(union).order_by(union.c.at.desc()).limit(limit)
    if who:
        query = query.where(union.c.actor.contains(who.replace("\x00", ""), autoescape=True))
    if start:
        query = query.where(union.c.at >= datetime.combine(start, time(0), tzinfo=LOCAL_TZ))
    if end:
        query = query.where(
            union.c.at < datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
        )
    return [
        Row(r.at, r.actor, r.area or r.action.split(".", 1)[0], r.action, r.subject, r.reason or "")
        for r in db.session.execute(query)
    ]
