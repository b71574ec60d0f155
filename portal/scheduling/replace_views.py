"""The organizer replaces one declined stop of a booking (rules in ``replacing``)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling import booking_forms as forms
from portal.scheduling.booking_views import ID, bp, load_booking, render_detail
from portal.scheduling.models import Booking
from portal.scheduling.replacing import declined_stops, replace_declined, replaceable_sites


def replace_form(booking: Booking, reservation_id: int, formdata: object = None):
    """The replace form of one declined stop (its fields prefixed by the stop's id)."""
    form = forms.ReplaceForm(prefix=f"replace-{reservation_id}", formdata=formdata)
    form.site.choices = [SelectChoice("", _("原教学点"))] + [
        SelectChoice(str(s.id), f"{s.name}（{s.member.short_name}）") for s in replaceable_sites()
    ]
    return form


def replace_forms(booking: Booking) -> dict[int, forms.ReplaceForm]:
    return {stop.first.id: replace_form(booking, stop.first.id) for stop in declined_stops(booking)}


@bp.post(f"/bookings/<{ID}:booking_id>/stops/<{ID}:reservation_id>/replace", endpoint="replace")
@login_required
def replace(booking_id: int, reservation_id: int):
    """Replace a declined stop; refused ones answer 400 (bad input) or 409 (does not fit) on
    the booking's page, the reasons beside what was typed."""
    booking = load_booking(booking_id)
    if not any(r.id == reservation_id for r in booking.reservations):
        abort(404)
    stops = replace_forms(booking)
    first = next(
        (
            stop.first.id
            for stop in declined_stops(booking)
            if any(r.id == reservation_id for r in stop.reservations)
        ),
        None,
    )
    if first is None:
        flash(_("该站点不是待替换的被婉拒站点（可能已替换）。"), "danger")
        return render_detail(booking, replace=stops, status=409)
    form = replace_form(booking, reservation_id, formdata=request.form)
    stops[first] = form
    if not form.validate_on_submit():
        return render_detail(booking, replace=stops, status=400)
    site = None
    if form.site.data:
        site = next((s for s in replaceable_sites() if str(s.id) == form.site.data), None)
    try:
        made = replace_declined(
            booking,
            reservation_id,
            current_user,
            day=form.day.data,
            starts=form.starts.data,
            site=site,
        )
    except NotFound:
        abort(404)
    except ValidationFailed as error:
        db.session.rollback()
        for key, message in error.errors.items():
            getattr(form, key, form.day).errors = [*getattr(form, key, form.day).errors, message]
        return render_detail(load_booking(booking_id), replace=stops, status=400)
    except ServiceError as error:  # BookingRefused too: every problem, in words
        db.session.rollback()
        problems = getattr(error, "problems", None)
        message = "；".join(p.message for p in problems) if problems else error.message
        form.day.errors = [*form.day.errors, _("无法替换：") + message]
        return render_detail(load_booking(booking_id), replace=stops, status=409)
    if made[0].status == "confirmed":
        flash(_("已替换该站点，新站点已确认。"), "success")
    else:
        flash(_("已替换该站点，等待成员单位确认。"), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))
