"""The JSON API for scheduling: a site's availability, and bookings (/api/v1).

``GET /api/v1/availability?site=<id or key>&from=YYYY-MM-DD&to=YYYY-MM-DD``
    Public. At most 62 days. For each day: whether the site opens, its hours, and the
    windows already held (start, end, seats taken, guides used), with the site's capacity
    and guide count, so a member's system can see what is free. No class names.
``GET /api/v1/bookings``
    Signed in. The organizer's own bookings, the bookings touching a member's sites for
    member staff, all for the office; ``status`` filters (pending, confirmed, declined,
    cancelled). ``GET /api/v1/bookings/<id>`` one booking, 404 if not visible.

Booking item: id, name, status, start_date, class {id, name, kind, origin, size,
sending_unit}, stops [{id, site {id, name}, course, starts_at, ends_at (ISO 8601 with
+08:00), squad, group_size, status, decline_reason}] (member staff see only their own
sites' stops).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import selectinload

from portal.api.views import ID, InvalidParameters, _error, _not_found, bp
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.pagecache import CATALOGUE, SCHEDULE, cached_page
from portal.scheduling.models import BOOKING_STATUSES, HOLDING, Booking, Reservation
from portal.timeutil import LOCAL_TZ

MAX_DAYS = 62


# Dates the portal can hold; beyond them time-zone arithmetic would overflow.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _date(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is not None and EARLIEST <= day <= LATEST:
        return day
    if day is not None:
        errors[name] = _("日期须在 2000 年至 2100 年之间。")
    elif value:
        errors[name] = _("请填写有效的日期（YYYY-MM-DD）。")
    return None


# Statements built once per process, with bound parameters: building a statement and
# working out its cache key cost more than running it. The site as the columns shown.
_SITE_COLUMNS = select(
    TeachingSite.id,
    TeachingSite.key,
    TeachingSite.name,
    TeachingSite.capacity,
    TeachingSite.guide_count,
    TeachingSite.needs_guide,
    TeachingSite.status,
    TeachingSite.opens,
    TeachingSite.closes,
    TeachingSite.open_weekdays,
)
_SITE_BY_ID = _SITE_COLUMNS.where(TeachingSite.id == bindparam("site"))
_SITE_BY_KEY = _SITE_COLUMNS.where(TeachingSite.key == bindparam("site"))
# Columns, not ORM objects: a busy month holds a hundred reservations.
_HELD = (
    select(
        Reservation.starts_at,
        Reservation.ends_at,
        Reservation.group_size,
        Reservation.guide_requested,
        Reservation.status,
    )
    .where(
        Reservation.site_id == bindparam("site"),
        Reservation.status.in_(HOLDING),
        Reservation.starts_at < bindparam("end"),
        Reservation.ends_at > bindparam("start"),
    )
    .order_by(Reservation.starts_at)
)


def _site_param(errors: dict[str, str]) -> Row | None:
    value = request.args.get("site", "").strip()
    site = None
    if value.isascii() and value.isdigit() and len(value) <= 9:
        site = db.session.execute(_SITE_BY_ID, {"site": int(value)}).first()
    elif value and "\x00" not in value:
        site = db.session.execute(_SITE_BY_KEY, {"site": value[:64]}).first()
    if site is None:
        errors["site"] = _("没有找到该教学点。")
    return site


@bp.get("/availability")
@cached_page(CATALOGUE, SCHEDULE)
def availability():
    errors: dict[str, str] = {}
    site = _site_param(errors)
    start = _date("from", errors)
    end = _date("to", errors)
    if start is None and "from" not in errors:
        errors["from"] = _("请填写有效的日期（YYYY-MM-DD）。")
    if end is None and "to" not in errors:
        errors["to"] = _("请填写有效的日期（YYYY-MM-DD）。")
    if start and end and not 0 <= (end - start).days < MAX_DAYS:
        errors["to"] = _("结束日期须在开始日期之后，且最多查询 %(days)s 天。", days=MAX_DAYS)
    if errors:
        raise InvalidParameters(errors)
    window_start = datetime.combine(start, time(0), tzinfo=LOCAL_TZ)
    window_end = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    held = db.session.execute(
        _HELD, {"site": site.id, "start": window_start, "end": window_end}
    ).all()
    by_day: dict[date, list[dict[str, Any]]] = {}
    needs_guide = site.needs_guide
    for r in held:
        local_start = r.starts_at.astimezone(LOCAL_TZ)
        by_day.setdefault(local_start.date(), []).append(
            {
                "starts_at": local_start.isoformat(),
                "ends_at": r.ends_at.astimezone(LOCAL_TZ).isoformat(),
                "seats_taken": r.group_size,
                "guide": r.guide_requested or needs_guide,
                "status": r.status,
            }
        )
    # The site's hours and open weekdays are read once, not once a day.
    opens, closes = site.opens.strftime("%H:%M"), site.closes.strftime("%H:%M")
    open_weekdays = {d for d in range(1, 8) if str(d) in site.open_weekdays}
    days = []
    day = start
    one_day = timedelta(days=1)
    while day <= end:
        days.append(
            {
                "date": day.isoformat(),
                "open": day.isoweekday() in open_weekdays,
                "opens": opens,
                "closes": closes,
                "held": by_day.get(day, []),
            }
        )
        day += one_day
    return jsonify(
        {
            "site": {"id": site.id, "key": site.key, "name": site.name},
            "capacity": site.capacity,
            "guide_count": site.guide_count,
            "needs_guide": site.needs_guide,
            "bookable": site.status == "active",
            "days": days,
        }
    )


def _visible_bookings():
    query = select(Booking).options(
        selectinload(Booking.training_class),
        selectinload(Booking.reservations).selectinload(Reservation.site),
        selectinload(Booking.reservations).selectinload(Reservation.course),
    )
    if current_user.is_office:
        return query
    if current_user.is_member_user:
        mine = (
            select(Reservation.booking_id)
            .join(Reservation.site)
            .where(TeachingSite.member_id == current_user.member_id)
        )
        return query.where(Booking.id.in_(mine))
    from portal.scheduling.models import TrainingClass

    return query.join(Booking.training_class).where(TrainingClass.organizer_id == current_user.id)


def booking_json(booking: Booking) -> dict[str, Any]:
    klass = booking.training_class
    stops = booking.reservations
    if not current_user.is_office and current_user.is_member_user:
        stops = [r for r in stops if r.site.member_id == current_user.member_id]
    return {
        "id": booking.id,
        "name": booking.name,
        "status": booking.status,
        "start_date": booking.start_date.isoformat(),
        "class": {
            "id": klass.id,
            "name": klass.name,
            "kind": klass.kind,
            "origin": klass.origin,
            "size": klass.size,
            "sending_unit": klass.sending_unit,
        },
        "stops": [
            {
                "id": r.id,
                "site": {"id": r.site_id, "name": r.site.name},
                "course": r.course.name if r.course else None,
                "starts_at": r.starts_at.astimezone(LOCAL_TZ).isoformat(),
                "ends_at": r.ends_at.astimezone(LOCAL_TZ).isoformat(),
                "squad": r.squad,
                "group_size": r.group_size,
                "status": r.status,
                "decline_reason": r.decline_reason,
            }
            for r in stops
        ],
    }


@bp.get("/bookings")
def bookings():
    if not current_user.is_authenticated:
        return _error(401, _("请先登录。"))
    status = request.args.get("status", "")
    if status and status not in BOOKING_STATUSES:
        raise InvalidParameters({"status": _("无效的状态。")})
    query = _visible_bookings().order_by(Booking.start_date.desc(), Booking.id.desc()).limit(500)
    if status:
        query = query.where(Booking.status == status)
    return jsonify({"items": [booking_json(b) for b in db.session.scalars(query)]})


@bp.get(f"/bookings/<{ID}:booking_id>")
def booking(booking_id: int):
    if not current_user.is_authenticated:
        return _error(401, _("请先登录。"))
    found = db.session.scalar(_visible_bookings().where(Booking.id == booking_id))
    if found is None:
        return _not_found()
    return jsonify(booking_json(found))
