"""Member staff's pages beside the inbox: confirm a class at once, name a guide, the guide sheet.

Routes of the ``bookings`` blueprint (imported by ``portal.create_app``); the rules are in
``portal.scheduling.staffing``.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.guides.services import assign_guide
from portal.members.models import Member
from portal.scheduling import booking_forms as forms
from portal.scheduling.booking_views import ID, bp, local_time, require_member_staff
from portal.scheduling.inbox_views import inbox_redirect, member_filter
from portal.scheduling.staffing import (
    class_for_member,
    confirm_class,
    guide_sheet,
    parse_day,
)
from portal.timeutil import LOCAL_TZ


def whole_id(value: str | None) -> int | None:
    """A posted id (a roster guide's), or None when empty or not an id."""
    value = value or ""
    if value.isascii() and value.isdigit() and 0 < int(value) <= 2147483647:
        return int(value)
    return None


def posted_member() -> int | None:
    """The office's member filter, carried by the inbox's forms."""
    value = request.form.get("member", "")
    if current_user.is_office and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


@bp.post(f"/inbox/classes/<{ID}:class_id>/confirm", endpoint="confirm_class")
@login_required
def confirm_class_view(class_id: int):
    """Confirm all stops of one class at the member's sites; each stop is checked."""
    require_member_staff()
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    try:
        training_class = class_for_member(class_id, current_user)
        result = confirm_class(training_class, current_user, posted_member())
    except NotFound:
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return inbox_redirect()
    if result.confirmed:
        flash(
            _(
                "已确认 %(count)s 站：%(stops)s。",
                count=len(result.confirmed),
                stops="、".join(result.confirmed),
            ),
            "success",
        )
    for where, why in result.refused:
        flash(_("无法确认%(where)s：%(why)s", where=where, why=why), "danger")
    return inbox_redirect()


@bp.post(f"/reservations/<{ID}:reservation_id>/guide")
@login_required
def guide(reservation_id: int):
    """Name (or clear) the guide who takes the group at a stop."""
    require_member_staff()
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    try:
        # A roster guide when one is chosen (checked free at that time), else the free text.
        reservation = assign_guide(
            reservation_id,
            current_user,
            whole_id(request.form.get("guide_id")),
            request.form.get("guide_name"),
        )
    except NotFound:
        abort(404)
    except ValidationFailed as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(str(message), "danger")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        where = f"{reservation.site.name} {local_time(reservation.starts_at, '%m-%d %H:%M')}"
        if reservation.guide_name:
            flash(
                _("已安排讲解员：%(where)s，%(name)s。", where=where, name=reservation.guide_name),
                "success",
            )
        else:
            flash(_("已取消讲解员安排：%(where)s。", where=where), "success")
    return inbox_redirect()


@bp.get("/inbox/guides", endpoint="guide_sheet")
@login_required
def guide_sheet_view():
    """A day's groups and their guides at the member's sites, readable on a phone."""
    require_member_staff()
    today = datetime.now(LOCAL_TZ).date()
    status = 200
    try:
        day = parse_day(request.args.get("day"), today)
    except ValidationFailed as error:
        flash(str(error.errors["day"]), "danger")
        day, status = today, 400
    form = forms.InboxFilterForm(formdata=request.args)
    member_id = None
    if current_user.is_office:
        form.member.choices = [SelectChoice("", _("全部成员单位"))] + [
            SelectChoice(str(m.id), m.short_name)
            for m in db.session.scalars(select(Member).order_by(Member.id))
        ]
        member_id = member_filter(form)
    rows = guide_sheet(current_user, day, member_id)
    return render_template(
        "bookings/guide_sheet.html",
        day=day,
        rows=rows,
        member_id=member_id,
        form=form if current_user.is_office else None,
    ), status
