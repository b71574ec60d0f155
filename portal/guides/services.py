"""The guide corps' rules: rosters per member, guides' dated records, naming a guide.

Member staff keep their own member's roster; the office sees and keeps every roster.
Naming a roster guide for a reservation runs under the scheduling locks
(``portal.scheduling.locks.begin_locked`` on the reservation's site, plus the guide's row
``FOR UPDATE`` on PostgreSQL), and refuses when the same guide already takes a group whose
time overlaps: two staff naming one guide at once cannot both win.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.catalog.models import TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.guides.models import ENTRY_KINDS, GRADES, Guide, GuideEntry
from portal.scheduling.booking import get_reservation_for_member
from portal.scheduling.history import notify_organizer, record_event
from portal.scheduling.locks import begin_locked, locks_enabled
from portal.scheduling.models import Reservation
from portal.scheduling.staffing import clean_guide_name
from portal.timeutil import LOCAL_TZ, within_range

NAME_MAX = 64
PHONE_MAX = 32
NOTE_MAX = 200
HOLDING = ("pending", "confirmed")


def require_staff(actor: Any) -> None:
    if not (actor.is_office or actor.is_member_user):
        raise PermissionDenied(_("只有成员单位工作人员可以管理讲解员。"))


def roster(actor: Any, member_id: int | None = None) -> list[Guide]:
    """The guides the actor keeps: their member's (office: all, or one member's)."""
    require_staff(actor)
    query = select(Guide).order_by(Guide.member_id, Guide.active.desc(), Guide.name, Guide.id)
    if not actor.is_office:
        query = query.where(Guide.member_id == actor.member_id)
    elif member_id is not None:
        query = query.where(Guide.member_id == member_id)
    return list(db.session.scalars(query))


def get_guide(guide_id: int, actor: Any) -> Guide:
    """A guide of the actor's member (any for the office); else 404."""
    require_staff(actor)
    guide = db.session.get(Guide, guide_id)
    if guide is None or not (actor.is_office or guide.member_id == actor.member_id):
        raise NotFound(_("没有找到该讲解员。"))
    return guide


def _clean(value: str | None, field: str, limit: int, label: str) -> str:
    text = " ".join((value or "").split())
    if len(text) > limit or "\x00" in text:
        raise ValidationFailed({field: _("%(label)s最多 %(max)s 个字。", label=label, max=limit)})
    return text


def _site_of_member(site_id: int | None, member_id: int) -> int | None:
    if site_id is None:
        return None
    site = db.session.get(TeachingSite, site_id)
    if site is None or site.member_id != member_id:
        raise ValidationFailed({"site_id": _("请选择本单位的教学点。")})
    return site.id


def create_guide(
    actor: Any,
    name: str | None,
    phone: str | None = "",
    site_id: int | None = None,
    grade: str = "trainee",
    member_id: int | None = None,
) -> Guide:
    """Add a guide to a roster (member staff: their own; the office: any member's). Commits."""
    require_staff(actor)
    if not actor.is_office or member_id is None:
        member_id = actor.member_id
    if member_id is None:
        raise ValidationFailed({"member_id": _("请选择成员单位。")})
    name = _clean(name, "name", NAME_MAX, _("姓名"))
    if not name:
        raise ValidationFailed({"name": _("请填写讲解员姓名。")})
    phone = _clean(phone, "phone", PHONE_MAX, _("电话"))
    if grade not in GRADES:
        raise ValidationFailed({"grade": _("请选择等级。")})
    guide = Guide(
        member_id=member_id,
        site_id=_site_of_member(site_id, member_id),
        name=name,
        phone=phone,
        grade=grade,
    )
    db.session.add(guide)
    db.session.flush()
    record(actor, "guides.create", name, guide=guide.id, member=member_id)
    db.session.commit()
    return guide


def set_active(guide_id: int, actor: Any, active: bool) -> Guide:
    """Take a guide off the roster (kept with their record) or back on. Commits."""
    guide = get_guide(guide_id, actor)
    if guide.active != active:
        guide.active = active
        record(actor, "guides.active" if active else "guides.inactive", guide.name)
        db.session.commit()
    return guide


def add_entry(
    guide_id: int,
    actor: Any,
    kind: str | None,
    on: date | None,
    note: str | None,
    grade: str | None = "",
) -> GuideEntry:
    """A dated line in a guide's record; a promotion also sets the guide's grade. Commits."""
    guide = get_guide(guide_id, actor)
    errors: dict[str, str] = {}
    if kind not in ENTRY_KINDS:
        errors["kind"] = _("请选择记录类别。")
    if not isinstance(on, date):
        errors["on"] = _("请填写日期。")
    elif not within_range(on) or on.year < 2000:
        errors["on"] = _("日期须在 2000 年至 2100 年之间。")
    try:
        note = _clean(note, "note", NOTE_MAX, _("说明"))
    except ValidationFailed as error:
        errors.update(error.errors)
    if kind == "promotion":
        if grade not in GRADES:
            errors["grade"] = _("晋级时请选择新的等级。")
        elif grade == guide.grade:
            errors["grade"] = _("该讲解员已是此等级。")
    else:
        grade = ""
    if kind != "promotion" and not note:
        errors["note"] = _("请填写说明。")
    if errors:
        raise ValidationFailed(errors)
    entry = GuideEntry(
        guide_id=guide.id,
        kind=kind,
        on=on,
        note=note,
        grade=grade or "",
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(entry)
    if kind == "promotion":
        guide.grade = grade
    record(actor, f"guides.{kind}", guide.name, on=on.isoformat(), note=note, grade=grade)
    db.session.commit()
    return entry


def choices_for(reservation: Reservation) -> list[Guide]:
    """The active guides the reservation's host may name: its member's roster."""
    return list(
        db.session.scalars(
            select(Guide)
            .where(Guide.member_id == reservation.site.member_id, Guide.active.is_(True))
            .order_by(Guide.name, Guide.id)
        )
    )


def busy_with(guide_id: int, reservation: Reservation) -> Reservation | None:
    """Another holding reservation of the guide whose time overlaps the reservation's."""
    return db.session.scalar(
        select(Reservation)
        .where(
            Reservation.guide_id == guide_id,
            Reservation.id != reservation.id,
            Reservation.status.in_(HOLDING),
            Reservation.starts_at < reservation.ends_at,
            Reservation.ends_at > reservation.starts_at,
        )
        .order_by(Reservation.starts_at)
        .limit(1)
    )


def assign_guide(
    reservation_id: int, actor: Any, guide_id: int | None, free_name: str | None = ""
) -> Reservation:
    """Name the guide of a stop: a roster guide (checked free at that time, under the locks),
    else a free-text name (the fallback, not checked), else nobody. Commits."""
    require_staff(actor)
    reservation = get_reservation_for_member(reservation_id, actor)
    name = clean_guide_name(free_name)
    site_id = reservation.site_id
    if guide_id is not None:
        guide = db.session.get(Guide, guide_id)
        if guide is None or guide.member_id != reservation.site.member_id or not guide.active:
            raise ValidationFailed({"guide_id": _("请从本单位讲解员名册中选择。")})
    begin_locked([site_id], [])
    try:
        if guide_id is not None and locks_enabled():
            # PostgreSQL: one naming of this guide at a time (SQLite: BEGIN IMMEDIATE did it).
            db.session.scalar(select(Guide).where(Guide.id == guide_id).with_for_update())
        reservation = db.session.get(Reservation, reservation_id)
        if reservation.status not in HOLDING:
            raise ServiceError(
                _("该预约%(status)s，不能安排讲解员。", status=reservation.status_label)
            )
        if guide_id is not None:
            guide = db.session.get(Guide, guide_id)
            other = busy_with(guide_id, reservation)
            if other is not None:
                raise ServiceError(
                    _(
                        "讲解员%(name)s在该时段已有安排（%(site)s %(when)s），不能同时讲解两批。",
                        name=guide.name,
                        site=other.site.name,
                        when=other.starts_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"),
                    )
                )
            name = guide.name
        if reservation.guide_id == guide_id and reservation.guide_name == name:
            db.session.rollback()
            return reservation
        booking = reservation.booking
        record_event(
            booking,
            "guide",
            actor,
            reservation,
            reason=_("讲解员：%(name)s", name=name) if name else _("取消讲解员安排"),
        )
        reservation.guide_id = guide_id
        reservation.guide_name = name
        if name:
            notify_organizer(
                booking,
                _(
                    "“%(site)s”为%(class)s安排讲解员：%(name)s",
                    site=reservation.site.name,
                    **{"class": booking.training_class.name},
                    name=name,
                ),
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reservation


def guide_day(guide: Guide) -> list[Reservation]:
    """The guide's holding groups from today on, in time order (their own sheet)."""
    start = datetime.combine(datetime.now(LOCAL_TZ).date(), time(0), tzinfo=LOCAL_TZ)
    return list(
        db.session.scalars(
            select(Reservation)
            .where(
                Reservation.guide_id == guide.id,
                Reservation.status.in_(HOLDING),
                Reservation.starts_at >= start,
            )
            .order_by(Reservation.starts_at)
            .limit(50)
        )
    )
