"""Publishing an open run (开放班次): the publisher's values checked, the run's route held
as a booking of a class of the publisher's, the run and its unit quotas created.

Booking, cancelling and the deadline are in open_runs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from portal.audit.services import record
from portal.errors import PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.fitting import PlannedStop, check_plan, plan_from_template
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.timeutil import within_range
from portal.trainees.models import OpenRun, OpenRunQuota
from portal.trainees.open_runs import MAX_SEATS, can_publish, same_unit, today


def _date(errors: dict[str, str], values: Mapping[str, Any], field: str, label: str) -> date | None:
    value = values.get(field)
    if not isinstance(value, date):
        errors[field] = _("请填写%(label)s。", label=label)
        return None
    if not within_range(value):
        errors[field] = _("日期须在 2000 年至 2100 年之间。")
        return None
    return value


def parse_quotas(text: str) -> list[tuple[str, int]]:
    """Lines "单位名称 名额" (or "单位名称,名额") into (unit, seats); ValidationFailed if wrong."""
    quotas: list[tuple[str, int]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip().replace("，", ",").replace("\t", " ")
        if not line:
            continue
        unit, _sep, count = line.replace(",", " ").rpartition(" ")
        unit = unit.strip()
        if not unit or not count.strip().isdigit() or not 1 <= int(count) <= MAX_SEATS:
            raise ValidationFailed(
                {
                    "quotas": _(
                        "第 %(line)s 行应为“单位名称 名额”，例如“某县委组织部 5”。", line=number
                    )
                }
            )
        if len(unit) > 128 or any(same_unit(unit, u) for u, _n in quotas):
            raise ValidationFailed({"quotas": _("第 %(line)s 行的单位重复或过长。", line=number)})
        quotas.append((unit, int(count)))
    return quotas


def validate_run(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = str(values.get("title") or "").strip()
    if not title or len(title) > 128 or "\x00" in title:
        errors["title"] = _("请填写班次名称（不超过 128 个字符）。")
    description = str(values.get("description") or "").strip()
    if len(description) > 5000 or "\x00" in description:
        errors["description"] = _("说明不能超过 5000 个字符。")
    template = None
    template_id = values.get("template_id")
    if isinstance(template_id, int):
        template = db.session.get(RouteTemplate, template_id)
    if template is None or template.status != "published":
        errors["template_id"] = _("请选择已发布的环线线路。")
    starts_on = _date(errors, values, "starts_on", _("开班日期"))
    deadline = _date(errors, values, "booking_deadline", _("报名截止日期"))
    cancel = _date(errors, values, "cancel_deadline", _("取消截止日期"))
    seats, minimum = values.get("seats"), values.get("min_participants")
    if not isinstance(seats, int) or not 1 <= seats <= MAX_SEATS:
        errors["seats"] = _("名额须在 1 到 %(max)s 之间。", max=MAX_SEATS)
    if not isinstance(minimum, int) or minimum < 1 or (isinstance(seats, int) and minimum > seats):
        errors["min_participants"] = _("成班人数须至少为 1，且不超过名额。")
    if starts_on and starts_on <= today():
        errors["starts_on"] = _("开班日期须在今天之后。")
    if starts_on and deadline and not today() <= deadline < starts_on:
        errors["booking_deadline"] = _("报名截止日期须在今天及以后、开班日期之前。")
    if cancel and ((deadline and cancel < deadline) or (starts_on and cancel >= starts_on)):
        errors["cancel_deadline"] = _("取消截止日期须不早于报名截止日期，且在开班日期之前。")
    open_to = values.get("open_to")
    if open_to not in ("all", "units"):
        errors["open_to"] = _("请选择报名范围。")
    quotas: list[tuple[str, int]] = []
    try:
        quotas = parse_quotas(str(values.get("quotas") or ""))
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if open_to == "units" and not quotas and "quotas" not in errors:
        errors["quotas"] = _("限定单位报名时，请逐行填写单位及名额。")
    if errors:
        raise ValidationFailed(errors)
    return {
        "title": title,
        "description": description,
        "template": template,
        "starts_on": starts_on,
        "booking_deadline": deadline,
        "cancel_deadline": cancel,
        "seats": seats,
        "min_participants": minimum,
        "open_to": open_to,
        "quotas": quotas if open_to == "units" else [],
    }


def _plan_with_squads(template: RouteTemplate, start: date, size: int) -> list[PlannedStop]:
    """The template's plan, split into squads where a site's sessions are smaller than the run."""
    plan = plan_from_template(template, start)
    squads = {
        p.index: p.suggestion["squads"]
        for p in check_plan(plan, size)
        if p.index is not None and p.suggestion.get("squads")
    }
    return plan_from_template(template, start, squads) if squads else plan


def publish_run(actor: Any, values: Mapping[str, Any]) -> OpenRun:
    """Publish an open run: its route is booked for its seats like any class. Commits.

    Raises BookingRefused (with every problem) when the route does not fit on those dates.
    """
    if not can_publish(actor):
        raise PermissionDenied(_("只有环线办和成员单位可以发布开放班次。"))
    v = validate_run(values)
    template: RouteTemplate = v["template"]
    kind = "adhoc" if "adhoc" in template.kinds else (template.kinds or ["adhoc"])[0]
    member = actor.member if actor.is_member_user else None
    training_class = TrainingClass(
        name=v["title"],
        kind=kind,
        origin="city",
        sending_unit=member.name if member else _("环线办（开放班次）"),
        size=v["seats"],
        starts_on=v["starts_on"],
        ends_on=v["starts_on"] + timedelta(days=template.days - 1),
        theme=template.theme,
        contact_name=actor.display_name,
        contact_phone=(actor.phone or (member.phone if member else "") or "—")[:32],
        organizer_id=actor.id,
    )
    db.session.add(training_class)
    db.session.commit()
    class_id, actor_id = training_class.id, actor.id
    try:
        booking = book(
            training_class,
            _plan_with_squads(template, v["starts_on"], v["seats"]),
            actor,
            template=template,
            name=v["title"],
        )
    except Exception:
        db.session.rollback()
        leftover = db.session.get(TrainingClass, class_id)
        leftover.cancelled = True
        db.session.commit()
        raise
    run = OpenRun(
        class_id=class_id,
        booking_id=booking.id,
        template_id=template.id,
        title=v["title"],
        description=v["description"],
        publisher_id=actor_id,
        member_id=member.id if member else None,
        starts_on=v["starts_on"],
        ends_on=v["starts_on"] + timedelta(days=template.days - 1),
        seats=v["seats"],
        min_participants=v["min_participants"],
        booking_deadline=v["booking_deadline"],
        cancel_deadline=v["cancel_deadline"],
        open_to=v["open_to"],
        quotas=[OpenRunQuota(unit_name=u, seats=n) for u, n in v["quotas"]],
    )
    db.session.add(run)
    record(actor, "open_run.publish", v["title"], seats=v["seats"])
    db.session.commit()
    return run
