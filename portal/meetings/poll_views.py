"""Finding a meeting's time: the scheduling assistant, the time poll and members' busy times.

The office searches for free times (the assistant), offers candidate times to the invited
members, removes one or fixes the meeting's time; member staff answer the poll and enter
the times their member is busy, which the assistant takes into account. Routes of the
``meetings`` blueprint (views.py), imported by the app factory.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.catalog.views import show_errors
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.meetings import forms
from portal.meetings.assistant import (
    DEFAULT_DAY_END,
    DEFAULT_DAY_START,
    add_poll_slots,
    answer_poll,
    fix_time,
    parse_slot_value,
    remove_poll_slot,
    suggest_times,
)
from portal.meetings.busy import add_busy_time, busy_times, remove_busy_time
from portal.meetings.models import Meeting, PollSlot
from portal.meetings.times import local_dt, today_local, when_label
from portal.meetings.views import (
    attempt,
    bp,
    flash_error,
    load,
    render_detail,
    require_office,
    require_staff,
    to_detail,
)
from portal.timeutil import LOCAL_TZ

# ---------------------------------------------------------------- assistant and time poll


@bp.get("/<int:meeting_id>/assistant")
@login_required
def assistant(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    today = today_local()
    defaults = {
        "first_day": today + timedelta(days=1),
        "last_day": today + timedelta(days=14),
        "minutes": meeting.duration_minutes,
        "day_start": DEFAULT_DAY_START,
        "day_end": DEFAULT_DAY_END,
    }
    if request.args:
        form = forms.SearchForm(formdata=request.args)
    else:
        form = forms.SearchForm(formdata=None, data=defaults)
    form.validate()
    values = {name: form[name].data for name in defaults}
    result = None
    status = 200
    try:
        result = suggest_times(meeting, current_user, values)
    except ValidationFailed as error:
        show_errors(form, error)
        status = 400
    return render_template(
        "meetings/assistant.html",
        meeting=meeting,
        form=form,
        result=result,
        action_form=forms.ActionForm(prefix="act"),
    ), status


@bp.post("/<int:meeting_id>/poll")
@login_required
def poll_add(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.SlotForm(prefix="slot")
    form.validate_on_submit()
    raw = request.form.getlist("slot")
    starts = [parse_slot_value(v) for v in raw]
    if any(s is None for s in starts):
        flash(_("候选时间无效，请重新选择。"), "danger")
        return to_detail(meeting, "poll")
    if form.day.data is not None or form.start_time.data is not None:
        if form.day.data is None:
            form.day.errors = [*form.day.errors, _("请填写日期。")]
        if form.start_time.data is None:
            form.start_time.errors = [*form.start_time.errors, _("请填写开始时间。")]
        if form.day.data is None or form.start_time.data is None:
            return render_detail(meeting, 400, slot_form=form)
        starts.append(local_dt(form.day.data, form.start_time.data))
    elif form.errors:
        return render_detail(meeting, 400, slot_form=form)
    error = attempt(add_poll_slots, meeting, current_user, starts)
    if error is not None:
        if raw:
            flash_error(error)
            return to_detail(load(meeting_id), "poll")
        if isinstance(error, ValidationFailed) and "slots" in error.errors:
            form.day.errors = [*form.day.errors, error.errors["slots"]]
        else:
            show_errors(form, error)
        return render_detail(load(meeting_id), 400, slot_form=form)
    flash(_("已发起时间征询，已通知受邀单位。"), "success")
    return to_detail(meeting, "poll")


def load_slot(meeting: Meeting, slot_id: int) -> PollSlot:
    slot = db.session.get(PollSlot, slot_id)
    if slot is None or slot.meeting_id != meeting.id:
        abort(404)
    return slot


@bp.post("/<int:meeting_id>/poll/<int:slot_id>/delete")
@login_required
def poll_delete(meeting_id: int, slot_id: int):
    require_office()
    meeting = load(meeting_id)
    slot = load_slot(meeting, slot_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(remove_poll_slot, slot, current_user)
    flash(error.message if error else _("已删除候选时间。"), "danger" if error else "success")
    return to_detail(meeting, "poll")


@bp.post("/<int:meeting_id>/poll/<int:slot_id>/fix")
@login_required
def poll_fix(meeting_id: int, slot_id: int):
    require_office()
    meeting = load(meeting_id)
    slot = load_slot(meeting, slot_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(fix_time, meeting, current_user, slot)
    if error:
        flash(error.message, "danger")
    else:
        flash(
            _(
                "会议时间已确定为 %(when)s，已通知受邀单位。",
                when=when_label(meeting.starts_at, meeting.ends_at),
            ),
            "success",
        )
    return to_detail(meeting)


@bp.post("/<int:meeting_id>/poll/answer")
@login_required
def poll_answer(meeting_id: int):
    require_staff()
    meeting = load(meeting_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    answers = {s.id: request.form.get(f"slot-{s.id}", "") for s in meeting.slots}
    error = attempt(answer_poll, meeting, current_user, answers)
    if error:
        flash_error(error)
        return render_detail(load(meeting_id), 400, poll_given=answers)
    flash(_("已提交时间征询的回复。"), "success")
    return to_detail(meeting, "poll")


# ---------------------------------------------------------------- busy times


@bp.route("/busy", methods=["GET", "POST"])
@login_required
def busy():
    require_staff()
    form = forms.BusyForm(prefix="busy")
    can_add = current_user.is_member_user
    status = 200
    if form.is_submitted():
        if not can_add:
            abort(403)
        if form.validate_on_submit():
            values = {
                name: form[name].data
                for name in ("starts_on", "starts_time", "ends_on", "ends_time", "note")
            }
            error = attempt(add_busy_time, current_user, values)
            if error is None:
                flash(_("已登记忙碌时间。"), "success")
                return redirect(url_for(".busy"))
            show_errors(form, error)
        status = 400
    after = datetime.combine(today_local(), time(0), tzinfo=LOCAL_TZ)
    return render_template(
        "meetings/busy.html",
        form=form if can_add else None,
        entries=busy_times(current_user, after=after.astimezone(UTC)),
        action_form=forms.ActionForm(prefix="act"),
    ), status


@bp.post("/busy/<int:entry_id>/delete")
@login_required
def busy_delete(entry_id: int):
    require_staff()
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    attempt(remove_busy_time, entry_id, current_user)
    flash(_("已删除。"), "success")
    return redirect(url_for(".busy"))
