"""A meeting's agenda and, after the meeting, its attendance and minutes.

The office adds, removes and reorders agenda items before the meeting; once it has begun it
records who attended and writes the minutes. Routes of the ``meetings`` blueprint
(views.py, with the meeting's page these forms are shown on), imported by the app factory.
"""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.catalog.views import show_errors
from portal.extensions import db
from portal.meetings import forms
from portal.meetings.decisions import record_attendance, save_minutes
from portal.meetings.meetings import add_agenda_item, move_agenda_item, remove_agenda_item
from portal.meetings.models import AgendaItem
from portal.meetings.views import (
    attempt,
    bp,
    flash_error,
    load,
    render_detail,
    require_office,
    to_detail,
)

# ---------------------------------------------------------------- agenda


@bp.post("/<int:meeting_id>/agenda")
@login_required
def agenda_add(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.AgendaForm(prefix="agenda")
    form.validate_on_submit()
    error = attempt(
        add_agenda_item,
        meeting,
        current_user,
        form.title.data or "",
        form.presenter_member_id.data or None,
        form.note.data or "",
    )
    if error is not None:
        show_errors(form, error)
        return render_detail(load(meeting_id), 400, agenda_form=form)
    flash(_("已添加议题。"), "success")
    return to_detail(meeting, "agenda")


def load_agenda_item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    load(item.meeting_id)
    return item


@bp.post("/agenda/<int:item_id>/delete")
@login_required
def agenda_delete(item_id: int):
    require_office()
    item = load_agenda_item(item_id)
    meeting = item.meeting
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(remove_agenda_item, item, current_user)
    flash(error.message if error else _("已删除议题。"), "danger" if error else "success")
    return to_detail(meeting, "agenda")


@bp.post("/agenda/<int:item_id>/move")
@login_required
def agenda_move(item_id: int):
    require_office()
    item = load_agenda_item(item_id)
    meeting = item.meeting
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    step = -1 if request.form.get("direction") == "up" else 1
    error = attempt(move_agenda_item, item, current_user, step)
    if error:
        flash(error.message, "danger")
    return to_detail(meeting, "agenda")


# ---------------------------------------------------------------- attendance and minutes


@bp.post("/<int:meeting_id>/attendance")
@login_required
def attendance(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    marks = {
        i.member_id: (
            request.form.get(f"attendance-{i.member_id}", ""),
            request.form.get(f"names-{i.member_id}", ""),
        )
        for i in meeting.invitations
    }
    error = attempt(record_attendance, meeting, current_user, marks)
    if error:
        flash_error(error)
        return render_detail(load(meeting_id), 400, attendance_given=marks)
    flash(_("已记录出席情况。"), "success")
    return to_detail(meeting, "attendance")


@bp.route("/<int:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.MinutesForm(prefix="minutes")
    if not form.is_submitted():
        form.minutes.data = meeting.minutes
    if form.validate_on_submit():
        error = attempt(save_minutes, meeting, current_user, form.minutes.data or "")
        if error is None:
            flash(_("已保存会议纪要。"), "success")
            return to_detail(meeting, "minutes")
        show_errors(form, error)
        meeting = load(meeting_id)
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/minutes.html", meeting=meeting, form=form), status
