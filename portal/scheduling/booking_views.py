"""Booking pages: book a route for a class, follow and change the booking.

The blueprint ``bookings`` is defined here; its class pages are in class_views.py, the
members' inbox in inbox_views.py and staff_views.py.

Thin views over the rules of this folder (``fitting``, ``booking``, ``waitlist``, ``classes``,
``settings``, ``history``): every scheduling rule (whether a stop fits, who may see what,
what a decision does) lives there; these views only turn forms into service calls and the
answers (``Problem`` lists, ``ServiceError`` messages) into pages.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from portal.catalog.models import Course, TeachingSite
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling import booking_forms as forms
from portal.scheduling.booking import (
    book,
    cancel_booking,
    change_deadline,
    get_booking,
    move_booking,
)
from portal.scheduling.classes import (
    class_window,
    classes_of,
    require_class_owner,
)
from portal.scheduling.fitting import (
    BookingRefused,
    PlannedStop,
    Problem,
    bookable_sites_query,
    check_plan,
    local_dt,
    plan_from_template,
    suggest_dates,
    window_label,
)
from portal.scheduling.history import booking_events
from portal.scheduling.models import (
    BOOKING_STATUSES,
    RESERVATION_STATUSES,
    Booking,
    Reservation,
    RouteTemplate,
    TrainingClass,
)
from portal.scheduling.settings import setting
from portal.scheduling.waitlist import accept_offer, expire_offers
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ, within_range

bp = Blueprint("bookings", __name__, template_folder="templates")

# Ids in URLs: larger numbers would overflow the database's integer columns (a 500).
ID = "int(max=2147483647)"
MAX_ID = 2147483647

# Problems that depend on the date: another start date may make them go away.
DATE_CODES = frozenset(
    {
        "closed_day",
        "closed_hour",
        "full",
        "guide_busy",
        "teacher_busy",
        "teacher_unavailable",
        "member_rule",
        "past",
        "member_disabled",
        "outside_class",
    }
)
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
EVENT_ACTIONS = {
    "create": _l("提交预约"),
    "pending": _l("预约站点"),
    "confirmed": _l("预约站点"),
    "waitlisted": _l("加入候补"),
    "confirm": _l("确认"),
    "decline": _l("婉拒"),
    "cancel": _l("取消"),
    "move": _l("改期"),
    "status": _l("预约状态变更"),
    "offer": _l("候补递补"),
    "accept_offer": _l("接受候补名额"),
    "offer_expired": _l("候补名额过期"),
    "guide": _l("安排讲解员"),
    "replace": _l("替换被婉拒的站点"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "weekday_label": lambda day: str(WEEKDAY_LABELS[day.isoweekday()]),
    }


def local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


# ---------------------------------------------------------------- access


def require_organizer() -> None:
    """Registering and booking classes: organizers and the office only (403 for others)."""
    if not (current_user.is_office or current_user.role == "organizer"):
        abort(403)


def require_member_staff() -> None:
    """Deciding on reservations: member staff and the office only (403 for others)."""
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


def load_class(class_id: int) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        abort(404)
    try:
        require_class_owner(training_class, current_user)
    except NotFound:
        abort(404)
    return training_class


def load_booking(booking_id: int) -> Booking:
    try:
        return get_booking(booking_id, current_user)
    except NotFound:
        abort(404)


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    return None


# ---------------------------------------------------------------- booking a route


@dataclass
class StopRow:
    """A stop of the itinerary as the booking page shows it."""

    index: int
    when: str
    kind_label: str
    label: str
    minutes: int
    has_site: bool
    squads: int = 1
    error: str = ""


@dataclass
class ProblemRow:
    label: str
    when: str
    message: str
    hint: str = ""


@dataclass
class CheckResult:
    """What a check (or a refused booking) found, ready for the page."""

    checked: bool = False
    problems: list[ProblemRow] = field(default_factory=list)
    suggested_dates: list[date] = field(default_factory=list)
    waitlist_only: bool = False
    squads_prefilled: bool = False
    # Days around the asked date searched for other dates (0: none searched), within the
    # class's dates (as users write them).
    within: int = 0
    class_dates: str = ""

    @property
    def fits(self) -> bool:
        return self.checked and not self.problems


def start_within_class(form: forms.BookingActions, training_class: TrainingClass) -> bool:
    """The start date lies within the class's dates; else the field says so (False)."""
    day = form.start_date.data
    window = class_window(training_class)
    if day is None or window[0] <= day <= window[1]:
        return True
    form.start_date.errors = [
        *form.start_date.errors,
        _("开始日期须在培训班日期（%(dates)s）内。", dates=window_label(window)),
    ]
    return False


def one_time_key(posted: str | None) -> str:
    """The posted one-time key if it looks like ours, else a new one."""
    if posted and KEY_PATTERN.fullmatch(posted):
        return posted
    return secrets.token_urlsafe(24)


def apply_suggested_date(form: forms.BookingActions) -> None:
    """A suggested-date button re-submits the form with that date as the start date."""
    suggested = request.form.get("suggest", "")
    try:
        day = date.fromisoformat(suggested) if len(suggested) == 10 else None
    except ValueError:
        day = None
    if day is not None and within_range(day):
        form.start_date.raw_data = [day.isoformat()]
        form.start_date.data = day


def problem_rows(problems: list[Problem], plan: list[PlannedStop]) -> list[ProblemRow]:
    by_index = {p.index: p for p in plan}
    rows = []
    for problem in sorted(problems, key=lambda p: (p.index is not None, p.index or 0)):
        stop = by_index.get(problem.index)
        hint = ""
        if problem.code == "too_large" and problem.suggestion.get("squads"):
            hint = _("建议分为 %(squads)s 组", squads=problem.suggestion["squads"])
        elif problem.code == "full" and problem.suggestion.get("squads"):
            hint = _("可分为 %(squads)s 组，或加入候补", squads=problem.suggestion["squads"])
        elif problem.suggestion.get("waitlist"):
            hint = _("可加入候补")
        rows.append(
            ProblemRow(
                label=stop.label if stop is not None else _("整条线路"),
                when=local_time(stop.starts_at, "%m-%d %H:%M") if stop is not None else "",
                message=problem.message,
                hint=hint,
            )
        )
    return rows


def examine(
    problems: list[Problem],
    plan: list[PlannedStop],
    training_class: TrainingClass,
    squads: dict[int, int],
) -> CheckResult:
    """Turn a plan's problems into the page's table, suggested dates (within the class's
    dates, with the squads the sites need) and squads (pre-filled)."""
    result = CheckResult(checked=True, problems=problem_rows(problems, plan))
    for problem in problems:
        suggested = problem.suggestion.get("squads")
        # A full session only suggests squads (the hint): the waiting list stays a choice.
        if problem.code == "too_large" and isinstance(suggested, int) and problem.index is not None:
            squads[problem.index] = max(squads.get(problem.index, 1), suggested)
            result.squads_prefilled = True
    if plan and any(p.code in DATE_CODES for p in problems):
        window = class_window(training_class)
        result.suggested_dates = suggest_dates(plan, training_class.size, within=window)
        result.within = setting("suggest_within_days")
        result.class_dates = window_label(window)
    result.waitlist_only = bool(problems) and all(p.suggestion.get("waitlist") for p in problems)
    return result


def submit_plan(
    training_class: TrainingClass,
    plan: list[PlannedStop],
    squads: dict[int, int],
    form: forms.BookingActions,
    key: str,
    template: RouteTemplate | None,
) -> tuple[CheckResult, Booking | None, int]:
    """Check the plan, or book it when a booking button was pressed."""
    if form.book.data or form.waitlist.data:
        try:
            booking = book(
                training_class,
                plan,
                current_user,
                template=template,
                name=template.name if template is not None else _("定制线路"),
                idempotency_key=key,
                waitlist_full=bool(form.waitlist.data),
            )
        except BookingRefused as refused:
            flash(_("预约未提交：线路中有不满足条件的站点，请按下表调整。"), "danger")
            return examine(refused.problems, plan, training_class, squads), None, 409
        except ServiceError as error:
            flash(error.message, "danger")
            return CheckResult(), None, 409
        return CheckResult(), booking, 200
    problems = check_plan(
        plan,
        training_class.size,
        class_name=training_class.name,
        within=class_window(training_class),
    )
    return examine(problems, plan, training_class, squads), None, 200


def booked(booking: Booking):
    flash(_("预约已提交，等待各成员单位确认。"), "success")
    return redirect(url_for("bookings.detail", booking_id=booking.id))


def bookable_templates(training_class: TrainingClass) -> list[RouteTemplate]:
    published = db.session.scalars(
        select(RouteTemplate)
        .where(RouteTemplate.status == "published")
        .order_by(RouteTemplate.days, RouteTemplate.name)
    )
    return [t for t in published if training_class.kind in t.kinds]


@bp.route("/bookings/new", methods=["GET", "POST"])
@login_required
def new():
    """Book a route for a class: a published template, or a custom route (?mode=custom)."""
    require_organizer()
    class_id = int_arg("class_id")
    template_id = int_arg("template_id")
    if class_id is None:
        return pick_class(template_id)
    training_class = load_class(class_id)
    if training_class.cancelled:
        flash(_("该培训班已取消。"), "danger")
        return redirect(url_for("bookings.class_detail", class_id=training_class.id))
    if request.args.get("mode") == "custom":
        return custom_booking(training_class)
    return template_booking(training_class, template_id)


def pick_class(template_id: int | None):
    mine = [c for c in classes_of(current_user) if not c.cancelled]
    form = forms.PickClassForm(formdata=None)
    form.class_id.choices = [
        SelectChoice(c.id, f"{c.name}（{c.starts_on.isoformat()}，{c.size}人）") for c in mine
    ]
    form.template_id.data = str(template_id) if template_id else ""
    template = db.session.get(RouteTemplate, template_id) if template_id else None
    if template is not None and template.status != "published":
        template = None
    return render_template("bookings/pick_class.html", form=form, classes=mine, template=template)


def template_squads(
    template: RouteTemplate, form: forms.TemplateBookingForm
) -> tuple[dict[int, int], dict[int, str]]:
    """Squads per stop index as posted (squads-<index>), one each for a newly chosen route."""
    squads: dict[int, int] = {}
    errors: dict[int, str] = {}
    if form.checked_template.data != str(template.id):
        return squads, errors
    for index, stop in enumerate(template.stops):
        if stop.site is None:
            continue
        raw = request.form.get(f"squads-{index}", "").strip()
        if not raw:
            continue
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= forms.MAX_SQUADS:
            squads[index] = int(raw)
        else:
            errors[index] = _("分组数须为 1 到 %(max)s 之间的整数。", max=forms.MAX_SQUADS)
            squads[index] = 1
    return squads, errors


def template_rows(
    template: RouteTemplate, start: date | None, squads: dict[int, int], errors: dict[int, str]
) -> list[StopRow]:
    rows = []
    for index, stop in enumerate(template.stops):
        if start is not None:
            day = start + timedelta(days=stop.day - 1)
            when = f"{day.isoformat()} {WEEKDAY_LABELS[day.isoweekday()]} {stop.starts:%H:%M}"
        else:
            when = _("第 %(day)s 天", day=stop.day) + f" {stop.starts:%H:%M}"
        rows.append(
            StopRow(
                index=index,
                when=when,
                kind_label=stop.kind_label,
                label=stop.label,
                minutes=stop.minutes,
                has_site=stop.site is not None,
                squads=squads.get(index, 1),
                error=errors.get(index, ""),
            )
        )
    return rows


def template_booking(training_class: TrainingClass, template_id: int | None):
    templates = bookable_templates(training_class)
    form = forms.TemplateBookingForm()
    form.template_id.choices = [
        SelectChoice(t.id, _("%(name)s（%(days)s 天）", name=t.name, days=t.days))
        for t in templates
    ]
    by_id = {t.id: t for t in templates}
    context: dict[str, Any] = {
        "training_class": training_class,
        "form": form,
        "mode": "template",
        "templates": templates,
        "result": CheckResult(),
        "rows": [],
    }
    if not form.is_submitted():
        form.start_date.data = training_class.starts_on
        form.key.data = one_time_key(None)
        if template_id in by_id:
            form.template_id.data = template_id
        elif template_id:
            flash(
                _("所选线路未发布或不向%(kind)s开放，请另选线路。", kind=training_class.kind_label),
                "warning",
            )
        return render_template("bookings/new.html", **context)
    form.key.data = key = one_time_key(form.key.data)
    apply_suggested_date(form)
    if not form.validate() or not start_within_class(form, training_class):
        return render_template("bookings/new.html", **context), 400
    template = by_id[form.template_id.data]
    squads, errors = template_squads(template, form)
    form.checked_template.data = str(template.id)
    if errors:
        context["rows"] = template_rows(template, form.start_date.data, squads, errors)
        return render_template("bookings/new.html", **context), 400
    try:
        plan = plan_from_template(template, form.start_date.data, squads)
    except ValidationFailed as error:
        form.start_date.errors = list(error.errors.values())
        return render_template("bookings/new.html", **context), 400
    result, booking, status = submit_plan(training_class, plan, squads, form, key, template)
    if booking is not None:
        return booked(booking)
    context["result"] = result
    context["rows"] = template_rows(template, form.start_date.data, squads, {})
    context["template"] = template
    return render_template("bookings/new.html", **context), status


def custom_choices(
    form: forms.CustomBookingForm,
) -> tuple[dict[int, TeachingSite], dict[int, Course]]:
    """Sites taking bookings and their courses, as choices of every row."""
    sites = {s.id: s for s in db.session.scalars(bookable_sites_query())}
    courses = {
        c.id: c
        for c in db.session.scalars(
            select(Course)
            .where(
                Course.status == "active",
                Course.member_id.in_({s.member_id for s in sites.values()}),
            )
            .order_by(Course.member_id, Course.name)
        )
    }
    site_choices = [
        SelectChoice(0, _("请选择")),
        *(SelectChoice(s.id, f"{s.name}（{s.member.short_name}）") for s in sites.values()),
    ]
    course_choices = [
        SelectChoice(0, _("（不选课程：现场参观）")),
        *(
            SelectChoice(c.id, f"{c.name}（{c.site.name if c.site else c.member.short_name}）")
            for c in courses.values()
        ),
    ]
    for entry in form.stops:
        entry.form.site_id.choices = site_choices
        entry.form.course_id.choices = course_choices
    return sites, courses


def custom_plan(
    form: forms.CustomBookingForm, sites: dict[int, TeachingSite], courses: dict[int, Course]
) -> tuple[list[PlannedStop], dict[int, int], bool]:
    """PlannedStops of the filled rows (index = row number); False when a row is wrong."""
    plan: list[PlannedStop] = []
    squads: dict[int, int] = {}
    ok = True

    def fail(row_field: Any, message: str) -> None:
        nonlocal ok
        row_field.errors = [*row_field.errors, message]
        ok = False

    start = form.start_date.data
    for index, entry in enumerate(form.stops):
        row = entry.form
        if row.is_blank():
            continue
        site = sites.get(row.site_id.data)
        course = courses.get(row.course_id.data)
        if row.site_id.data and site is None:
            fail(row.site_id, _("该教学点暂不接受预约。"))
            continue
        if row.course_id.data and course is None:
            fail(row.course_id, _("该课程暂不可预约。"))
            continue
        if site is None and course is not None and course.site_id in sites:
            site = sites[course.site_id]
        if site is None:
            fail(row.site_id, _("请选择教学点。"))
        elif course is not None and course.site_id not in (None, site.id):
            fail(row.course_id, _("该课程不在所选教学点开设。"))
        if row.day.data is None and not row.day.errors:
            fail(row.day, _("请填写第几天。"))
        if row.starts.data is None and not row.starts.errors:
            fail(row.starts, _("请填写开始时间。"))
        if row.minutes.data is None and not row.minutes.errors:
            fail(row.minutes, _("请填写时长。"))
        if not ok or row.errors or start is None:
            ok = False
            continue
        squads[index] = row.squads.data or 1
        plan.append(
            PlannedStop(
                index=index,
                kind="course" if course is not None else "visit",
                starts_at=local_dt(start + timedelta(days=row.day.data - 1), row.starts.data),
                minutes=row.minutes.data,
                site=site,
                course=course,
                teacher=course.teachers[0] if course is not None and course.teachers else None,
                squads=squads[index],
                guide_requested=course is None,
            )
        )
    return plan, squads, ok


def custom_booking(training_class: TrainingClass):
    form = forms.CustomBookingForm()
    sites, courses = custom_choices(form)
    context: dict[str, Any] = {
        "training_class": training_class,
        "form": form,
        "mode": "custom",
        "templates": [],
        "result": CheckResult(),
        "max_rows": forms.MAX_CUSTOM_ROWS,
    }
    if not form.is_submitted():
        form.start_date.data = training_class.starts_on
        form.key.data = one_time_key(None)
        return render_template("bookings/new.html", **context)
    form.key.data = key = one_time_key(form.key.data)
    if form.add_row.data:
        if len(form.stops) < forms.MAX_CUSTOM_ROWS:
            form.stops.append_entry()
            custom_choices(form)
        else:
            flash(_("定制线路最多 %(count)s 个站点。", count=forms.MAX_CUSTOM_ROWS), "warning")
        return render_template("bookings/new.html", **context)
    apply_suggested_date(form)
    valid = form.validate() and start_within_class(form, training_class)
    plan, squads, ok = custom_plan(form, sites, courses)
    if not (valid and ok):
        return render_template("bookings/new.html", **context), 400
    result, booking, status = submit_plan(training_class, plan, squads, form, key, None)
    if booking is not None:
        return booked(booking)
    for index, count in squads.items():
        row = form.stops[index].form
        if row.squads.data != count:
            row.squads.data = count
            row.squads.raw_data = [str(count)]
    context["result"] = result
    return render_template("bookings/new.html", **context), status


# ---------------------------------------------------------------- a booking's page


@dataclass
class EventRow:
    created_at: datetime
    actor_name: str
    action: str
    change: str
    reason: str


def event_rows(booking: Booking) -> list[EventRow]:
    labels = {r.id: r for r in booking.reservations}
    rows = []
    for event in booking_events(booking):
        statuses = RESERVATION_STATUSES if event.reservation_id else BOOKING_STATUSES
        before = (
            str(statuses.get(event.from_status, event.from_status)) if event.from_status else ""
        )
        after = str(statuses.get(event.to_status, event.to_status)) if event.to_status else ""
        change = f"{before} → {after}" if before and after else after or before
        reservation = labels.get(event.reservation_id) if event.reservation_id else None
        action = str(EVENT_ACTIONS.get(event.action, event.action))
        if reservation is not None:
            action = f"{action}（{reservation.site.name}）"
        rows.append(EventRow(event.created_at, event.actor_name, action, change, event.reason))
    return rows


@bp.get(f"/bookings/<{ID}:booking_id>")
@login_required
def detail(booking_id: int):
    expire_offers()
    return render_detail(load_booking(booking_id))


def render_detail(
    booking: Booking,
    move_form: forms.MoveForm | None = None,
    status: int = 200,
    replace: dict[int, Any] | None = None,
):
    """The booking's page; a move or replace form that was refused keeps what was typed,
    with why. Declined stops each get a replace form (replace_views)."""
    from portal.scheduling.replace_views import replace_forms

    deadline = change_deadline(booking)
    today = datetime.now(LOCAL_TZ).date()
    return render_template(
        "bookings/detail.html",
        booking=booking,
        training_class=booking.training_class,
        events=event_rows(booking),
        deadline=deadline,
        may_cancel=booking.status != "cancelled" and (current_user.is_office or today <= deadline),
        cancel_form=forms.CancelForm(formdata=None),
        move_form=move_form or forms.MoveForm(formdata=None),
        replace_forms=replace if replace is not None else replace_forms(booking),
    ), status


@bp.post(f"/bookings/<{ID}:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    booking = load_booking(booking_id)
    form = forms.CancelForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
        return redirect(url_for("bookings.detail", booking_id=booking.id) + "#cancel")
    try:
        cancel_booking(booking, current_user, form.reason.data)
    except NotFound:
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(_("预约已取消。"), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.post(f"/bookings/<{ID}:booking_id>/move")
@login_required
def move(booking_id: int):
    """Move a booking; a date that is refused answers 400 (bad date) or 409 (does not fit)
    on the booking's page, with the reason beside the date typed."""
    booking = load_booking(booking_id)
    form = forms.MoveForm()
    if not form.validate_on_submit():
        return render_detail(booking, form, 400)
    try:
        move_booking(booking, form.start_date.data, current_user)
    except NotFound:
        abort(404)
    except BookingRefused as refused:
        db.session.rollback()
        form.start_date.errors = [_("无法改期：") + "；".join(p.message for p in refused.problems)]
        return render_detail(load_booking(booking_id), form, 409)
    except ValidationFailed as error:
        db.session.rollback()
        form.start_date.errors = list(error.errors.values())
        return render_detail(load_booking(booking_id), form, 400)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return render_detail(load_booking(booking_id), form, 409)
    flash(_("已改期，等待各成员单位重新确认。"), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.post(f"/reservations/<{ID}:reservation_id>/accept")
@login_required
def accept(reservation_id: int):
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None:
        abort(404)
    booking_id = reservation.booking_id
    try:
        require_class_owner(reservation.booking.training_class, current_user)
    except NotFound:
        abort(404)
    if not forms.AcceptOfferForm().validate_on_submit():
        abort(400)
    try:
        accept_offer(reservation, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(_("已接受候补名额。"), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))
