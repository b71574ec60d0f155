"""Plan review (审核培训计划) and the ring-route requirement.

An organizer submits its class's plan (dates, a published route or a custom itinerary,
theme, size); the office approves it or returns it with comments. Submitting again (after
a return, or to change an approved plan) puts it back under review.

When the consortium setting ``plan_review_required`` is 1, hosting members confirm a
class's reservations only once its plan is approved (``confirm_blocked``, asked by
``portal.scheduling.booking.decide``; sites that confirm automatically hold such stops as
pending instead). The setting is 0 by default: no review, as before.

The ring-route rule (``portal.scheduling.classes.needs_ring_route``) is a requirement of
approval: a class the rule applies to is approved only with an active booking, unless the
office has recorded an exemption with a reason (``exempt``, audited).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.reports.models import ClassPlan
from portal.scheduling.classes import active_bookings, needs_ring_route, require_class_owner
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.scheduling.settings import setting
from portal.timeutil import utcnow, within_range

MAX_TEXT = 2000


def review_required() -> bool:
    return bool(setting("plan_review_required"))


def plan_of(training_class: TrainingClass) -> ClassPlan | None:
    return db.session.scalar(select(ClassPlan).where(ClassPlan.class_id == training_class.id))


def plan_approved(training_class: TrainingClass) -> bool:
    plan = plan_of(training_class)
    return plan is not None and plan.status == "approved"


def confirm_blocked(training_class: TrainingClass) -> bool:
    """True when review is on and the class's plan is not approved: no confirmations yet."""
    return review_required() and not plan_approved(training_class)


def exempted(training_class: TrainingClass) -> bool:
    """The office recorded why this class need not book the ring route."""
    plan = plan_of(training_class)
    return plan is not None and bool(plan.exemption_reason)


def ring_route_unmet(training_class: TrainingClass, plan: ClassPlan | None = None) -> bool:
    """The rule applies, the class has no active booking and the office has not exempted it."""
    if not needs_ring_route(training_class) or active_bookings(training_class):
        return False
    plan = plan if plan is not None else plan_of(training_class)
    return not (plan is not None and plan.exemption_reason)


def _text(errors: dict[str, str], values: dict[str, Any], key: str, label: str) -> str:
    text = (values.get(key) or "").strip()
    if len(text) > MAX_TEXT or "\x00" in text:
        errors[key] = _("%(label)s最多 %(limit)s 个字。", label=label, limit=MAX_TEXT)
    return text


def validate_plan(training_class: TrainingClass, values: dict[str, Any]) -> dict[str, Any]:
    """The plan's checked values, or ValidationFailed naming each wrong field in Chinese."""
    errors: dict[str, str] = {}
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, date):
        errors["starts_on"] = _("请填写开班日期。")
    elif not within_range(starts):
        errors["starts_on"] = _("日期须在 2000 年至 2100 年之间。")
    if not isinstance(ends, date):
        errors["ends_on"] = _("请填写结业日期。")
    elif not within_range(ends):
        errors["ends_on"] = _("日期须在 2000 年至 2100 年之间。")
    elif isinstance(starts, date) and "starts_on" not in errors:
        if ends < starts:
            errors["ends_on"] = _("结业日期不能早于开班日期。")
        elif (ends - starts).days > 365:
            errors["ends_on"] = _("培训班最长一年。")
    theme = (values.get("theme") or "").strip()
    if not theme:
        errors["theme"] = _("请填写培训主题。")
    elif len(theme) > 32 or "\x00" in theme:
        errors["theme"] = _("培训主题最多 32 个字。")
    size = values.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 2000:
        errors["size"] = _("人数须为 1 到 2000 之间的整数。")
    template = None
    template_id = values.get("template_id")
    if template_id:
        template = (
            db.session.get(RouteTemplate, template_id) if isinstance(template_id, int) else None
        )
        if template is None or template.status != "published":
            errors["template_id"] = _("请选择一条已发布的线路。")
    itinerary = _text(errors, values, "itinerary", _("自定行程"))
    if template is None and not itinerary and "template_id" not in errors:
        errors["itinerary"] = _("请选择一条线路，或写明自定行程。")
    if errors:
        raise ValidationFailed(errors)
    return {
        "starts_on": starts,
        "ends_on": ends,
        "theme": theme,
        "size": size,
        "template_id": template.id if template is not None else None,
        "itinerary": itinerary,
    }


def submit_plan(training_class: TrainingClass, actor: Any, values: dict[str, Any]) -> ClassPlan:
    """The class's organizer (or the office) submits its plan for review. The caller commits."""
    require_class_owner(training_class, actor)
    if training_class.cancelled:
        raise ServiceError(_("该培训班已取消。"))
    values = validate_plan(training_class, values)
    plan = plan_of(training_class)
    if plan is None:
        plan = ClassPlan(class_id=training_class.id, training_class=training_class)
        db.session.add(plan)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.status = "submitted"
    plan.submitted_by_id = actor.id
    plan.submitted_at = utcnow()
    plan.decided_by_id = None
    plan.decided_at = None
    db.session.flush()
    record(actor, "plan.submit", training_class.name, class_id=training_class.id)
    return plan


def _require_office(actor: Any) -> None:
    if not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以审核培训计划。"))


def _reason(text: str | None, key: str, missing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({key: missing})
    if len(text) > MAX_TEXT or "\x00" in text:
        raise ValidationFailed({key: _("最多 %(limit)s 个字。", limit=MAX_TEXT)})
    return text


def decide_plan(plan: ClassPlan, actor: Any, approve: bool, comments: str = "") -> None:
    """The office approves a submitted plan or returns it with comments. The caller commits.

    A class the ring-route rule applies to is approved only with an active booking or an
    exemption the office recorded.
    """
    _require_office(actor)
    if plan.status != "submitted":
        raise ServiceError(_("该培训计划不在待审核状态（%(status)s）。", status=plan.status_label))
    if approve:
        comments = (comments or "").strip()
        if len(comments) > MAX_TEXT or "\x00" in comments:
            raise ValidationFailed({"comments": _("最多 %(limit)s 个字。", limit=MAX_TEXT)})
        if ring_route_unmet(plan.training_class, plan):
            raise ServiceError(
                _(
                    "“%(name)s”须安排环线教学：预约一条环线后才能通过，"
                    "或由环线办登记免于环线的理由。",
                    name=plan.training_class.name,
                )
            )
    else:
        comments = _reason(comments, "comments", _("退回时请写明修改意见。"))
    plan.status = "approved" if approve else "returned"
    plan.comments = comments
    plan.decided_by_id = actor.id
    plan.decided_at = utcnow()
    record(
        actor,
        "plan.approve" if approve else "plan.return",
        plan.training_class.name,
        class_id=plan.class_id,
        comments=comments,
    )


def exempt(plan: ClassPlan, actor: Any, reason: str) -> None:
    """The office records why a class need not book the ring route. The caller commits."""
    _require_office(actor)
    plan.exemption_reason = _reason(reason, "reason", _("请写明免于环线的理由。"))
    plan.exempted_by_id = actor.id
    record(
        actor,
        "plan.exempt",
        plan.training_class.name,
        class_id=plan.class_id,
        reason=plan.exemption_reason,
    )


def get_plan(plan_id: int, actor: Any) -> ClassPlan:
    """A plan for its class's organizer or the office; anyone else gets NotFound."""
    plan = db.session.get(ClassPlan, plan_id)
    if plan is None:
        raise NotFound(_("没有找到该培训计划。"))
    require_class_owner(plan.training_class, actor)
    return plan


def plans_for_review(actor: Any, status: str = "") -> list[ClassPlan]:
    """The office's review list: submitted plans first, then the rest, newest first."""
    _require_office(actor)
    query = select(ClassPlan).options(
        selectinload(ClassPlan.training_class).selectinload(TrainingClass.bookings)
    )
    if status:
        query = query.where(ClassPlan.status == status)
    plans = list(db.session.scalars(query.order_by(ClassPlan.submitted_at.desc())))
    return sorted(plans, key=lambda p: p.status != "submitted")


def plans_of(class_ids: list[int]) -> dict[int, ClassPlan]:
    """The plans of these classes by class id, in one query."""
    if not class_ids:
        return {}
    found = db.session.scalars(select(ClassPlan).where(ClassPlan.class_id.in_(class_ids)))
    return {p.class_id: p for p in found}
