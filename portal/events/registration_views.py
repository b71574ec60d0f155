"""Registrations for a training event: registering a participant, cancelling, the list as Excel.

Member staff register their own people and the office any member's; a full event puts the
participant on the waiting list, and a cancelled place goes to the next one waiting. The
form is shown on the event's page (``render_detail`` in views.py). Routes of the ``events``
blueprint (views.py), imported by the app factory.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.catalog import excel
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.events import forms
from portal.events.access import is_member_user, is_office
from portal.events.models import EventRegistration
from portal.events.registrations import (
    can_manage_registration,
    cancel_registration,
    registrations_for,
)
from portal.events.registrations import register as register_participant
from portal.events.views import (
    bp,
    load_event,
    refuse,
    registration_form,
    render_detail,
    xlsx_response,
)
from portal.extensions import db
from portal.formfields import show_errors
from portal.timeutil import LOCAL_TZ

# ---------------------------------------------------------------- registrations


@bp.post("/events/<int:event_id>/registrations")
@login_required
def register(event_id: int):
    event = load_event(event_id)
    if not (is_office(current_user) or is_member_user(current_user)):
        return refuse(_("只有成员单位工作人员或环线办可以报名。"))
    form = registration_form(event)
    if form.validate_on_submit():
        member_id = form.member_id.data if "member_id" in form else None
        try:
            registration = register_participant(event.id, current_user, form.values(), member_id)
        except PermissionDenied as error:
            db.session.rollback()
            return refuse(error.message)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            if registration.status == "registered":
                flash(_("%(name)s 报名成功。", name=registration.participant_name), "success")
            else:
                flash(
                    _(
                        "名额已满，%(name)s 已进入候补名单；有人取消时将按顺序自动递补。",
                        name=registration.participant_name,
                    ),
                    "warning",
                )
            return redirect(url_for(".detail", event_id=event_id) + "#registrations")
    event = load_event(event_id)
    return render_detail(event, registration_form=form), 400


@bp.post("/events/registrations/<int:registration_id>/cancel")
@login_required
def registration_cancel(registration_id: int):
    registration = db.session.get(EventRegistration, registration_id)
    if registration is None or not can_manage_registration(current_user, registration):
        abort(404)
    event_id = registration.event_id
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    try:
        promoted = cancel_registration(registration_id, current_user)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("已取消报名。"), "success")
        for r in promoted:
            flash(_("候补人员 %(name)s 已自动递补。", name=r.participant_name), "info")
    return redirect(url_for(".detail", event_id=event_id) + "#registrations")


@bp.get("/events/<int:event_id>/registrations.xlsx")
@login_required
def registrations_export(event_id: int):
    event = load_event(event_id)
    if not (is_office(current_user) or is_member_user(current_user)):
        abort(403)
    rows = registrations_for(event, current_user)
    data = excel.workbook(
        "报名名单",
        ("序号", "成员单位", "姓名", "职务", "联系电话", "状态", "报名时间"),
        (6, 16, 12, 20, 16, 8, 18),
        (
            (
                i,
                r.member.short_name,
                r.participant_name,
                r.participant_title,
                r.phone,
                r.status_label,
                r.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            )
            for i, r in enumerate(rows, start=1)
        ),
    )
    return xlsx_response(data, f"报名名单_{event.id}")
