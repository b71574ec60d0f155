"""Training classes: registering and changing them, who owns them, the ring-route rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.catalog.services import clean_text
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import CLASS_KINDS, ORIGINS, Booking, TrainingClass
from portal.scheduling.settings import all_settings, setting
from portal.timeutil import LOCAL_TZ, within_range

# A class (or study visit) without dates of its own books within this many days from today.
UNDATED_WINDOW_DAYS = 366


def require_class_owner(training_class: TrainingClass, actor: Any) -> None:
    """The class's organizer or the office; anyone else gets NotFound (404)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound(_("没有找到该培训班。"))
    if not (actor.is_office or training_class.organizer_id == actor.id):
        raise NotFound(_("没有找到该培训班。"))


def class_window(training_class: TrainingClass) -> tuple[date, date]:
    """The days a class's bookings may use: its own dates, or a sane range if it has none.

    Every stop of a booking, a move and a suggested date lies within these days, so that
    members are never asked to confirm a visit for a class that is not there.
    """
    starts, ends = training_class.starts_on, training_class.ends_on
    if isinstance(starts, date) and isinstance(ends, date):
        return starts, ends
    today = datetime.now(LOCAL_TZ).date()
    return today, today + timedelta(days=UNDATED_WINDOW_DAYS)


def needs_ring_route(
    training_class: TrainingClass, settings: Mapping[str, Any] | None = None
) -> bool:
    """The consortium rule: a class must include the ring route when it is a 市内 (city) class
    of the rule's theme (党性教育) lasting ``ring_route_min_days`` days or more, or when the
    干教委办 hosts it (``hosted_by_office``), whatever its theme and length; a 省外 class never
    has to, nor does a study visit. The office may exempt one class with a reason when it
    approves its plan (portal/reports/review.py, ``exempt``).

    ``settings`` (from ``all_settings()``) lets a page that asks this of many classes read
    the settings once instead of twice per class.
    """
    if training_class.is_study_visit or training_class.origin == "other_province":
        return False
    if training_class.hosted_by_office:
        return True
    rules = settings if settings is not None else all_settings()
    return (
        training_class.origin == "city"
        and rules["ring_route_theme"] in training_class.theme
        and training_class.days >= rules["ring_route_min_days"]
    )


def validate_class(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    errors: dict[str, str] = {}
    clean_text(errors, values, "name", _("班级名称"), required=True, limit=128)
    clean_text(errors, values, "sending_unit", _("选派单位"), required=True, limit=128)
    clean_text(errors, values, "theme", _("培训主题"), required=True, limit=32)
    clean_text(errors, values, "contact_name", _("联系人"), required=True, limit=64)
    clean_text(errors, values, "contact_phone", _("联系电话"), required=True, limit=32)
    if values.get("kind") not in CLASS_KINDS:
        errors["kind"] = _("请选择班次类型。")
    if values.get("origin") not in ORIGINS:
        errors["origin"] = _("请选择生源。")
    size = values.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 2000:
        errors["size"] = _("人数须为 1 到 2000 之间的整数。")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, date):
        errors["starts_on"] = _("请填写开班日期。")
    elif not within_range(starts):
        errors["starts_on"] = _("日期须在 2000 年至 2100 年之间。")
    if not isinstance(ends, date):
        errors["ends_on"] = _("请填写结业日期。")
    elif not within_range(ends):
        errors["ends_on"] = _("日期须在 2000 年至 2100 年之间。")
    elif isinstance(starts, date):
        if ends < starts:
            errors["ends_on"] = _("结业日期不能早于开班日期。")
        elif (ends - starts).days > 365:
            errors["ends_on"] = _("培训班最长一年。")
    values["is_study_visit"] = bool(values.get("is_study_visit"))
    values["hosted_by_office"] = bool(values.get("hosted_by_office"))
    if errors:
        raise ValidationFailed(errors)
    return values


CLASS_FIELDS = (
    "name",
    "kind",
    "origin",
    "sending_unit",
    "size",
    "starts_on",
    "ends_on",
    "theme",
    "contact_name",
    "contact_phone",
    "is_study_visit",
    "hosted_by_office",
)


def register_class(
    actor: Any, values: dict[str, Any], idempotency_key: str | None = None
) -> TrainingClass:
    """An organizer (or the office) registers a class or study-visit group. The caller commits.

    With ``idempotency_key`` (the registration form's one-time key), a repeat of the same
    form (a double click, a reload, a retry after a timeout) answers the class the first
    submission registered instead of registering it twice; two submissions at the same
    moment are settled by the unique key.
    """
    if actor is None or not (actor.is_office or actor.role == "organizer"):
        raise PermissionDenied(_("只有培训班联系人和环线办可以登记培训班。"))
    if idempotency_key and (done := _class_with_key(idempotency_key, actor)) is not None:
        return done
    values = validate_class(values)
    training_class = TrainingClass(
        organizer_id=actor.id,
        idempotency_key=idempotency_key,
        **{k: values[k] for k in CLASS_FIELDS},
    )
    db.session.add(training_class)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form was committed by a request running at the same time.
        db.session.rollback()
        done = _class_with_key(idempotency_key, actor) if idempotency_key else None
        if done is None:
            raise
        return done
    return training_class


def _class_with_key(key: str, actor: Any) -> TrainingClass | None:
    done = db.session.scalar(select(TrainingClass).where(TrainingClass.idempotency_key == key))
    if done is not None and done.organizer_id != actor.id:
        raise ServiceError(_("表单已失效，请刷新页面后重新提交。"))
    return done


def update_class(training_class: TrainingClass, actor: Any, values: dict[str, Any]) -> None:
    """Change a class's plan; a long 党性教育 class may not be left without its ring route."""
    require_class_owner(training_class, actor)
    values = validate_class(values)
    before = {key: getattr(training_class, key) for key in CLASS_FIELDS}
    for key in CLASS_FIELDS:
        setattr(training_class, key, values[key])
    from portal.reports.review import exempted

    if (
        needs_ring_route(training_class)
        and training_class.bookings
        and not active_bookings(training_class)
        and not exempted(training_class)
    ):
        for key, value in before.items():
            setattr(training_class, key, value)
        raise ServiceError(ring_route_message(training_class))


def ring_route_message(training_class: TrainingClass) -> str:
    if training_class.hosted_by_office:
        return _(
            "按环线规则，干教委办主办的班次须安排环线教学：请为“%(name)s”预约一条环线。",
            name=training_class.name,
        )
    return _(
        "按环线规则，%(days)s 天及以上的市内%(theme)s班须安排环线教学：请为“%(name)s”预约一条环线。",
        days=setting("ring_route_min_days"),
        theme=setting("ring_route_theme"),
        name=training_class.name,
    )


def active_bookings(training_class: TrainingClass) -> list[Booking]:
    return [b for b in training_class.bookings if b.status != "cancelled"]


def classes_of(actor: Any) -> list[TrainingClass]:
    query = select(TrainingClass).order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
    if not actor.is_office:
        query = query.where(TrainingClass.organizer_id == actor.id)
    return list(db.session.scalars(query.options(selectinload(TrainingClass.bookings))))
