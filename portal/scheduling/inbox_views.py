"""The members' inbox (预约待办): reservations to confirm or decline, by day and tab.

Routes of the ``bookings`` blueprint (booking_views.py), imported by the app factory;
confirming a whole class and naming guides are in staff_views.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from portal.errors import NotFound, ServiceError
from portal.extensions import db
from portal.members.models import Member
from portal.pagecache import private_page
from portal.scheduling import booking_forms as forms
from portal.scheduling.booking import decide, get_reservation_for_member, member_inbox
from portal.scheduling.booking_views import (
    ID,
    MAX_ID,
    bp,
    local_time,
    require_member_staff,
)
from portal.scheduling.fitting import BookingRefused
from portal.scheduling.models import Reservation
from portal.scheduling.waitlist import expire_due_offers
from portal.timeutil import LOCAL_TZ

INBOX_TABS = {
    "pending": _l("待确认"),
    "confirmed": _l("已确认"),
    "declined": _l("已婉拒"),
}


# ---------------------------------------------------------------- the members' inbox


@dataclass
class InboxDay:
    day: date
    reservations: list[Reservation]


def member_filter(form: forms.InboxFilterForm) -> int | None:
    value = form.member.data or ""
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    return None


def page_number() -> int:
    value = request.args.get("page", "")
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    return 1


@bp.get("/inbox")
@login_required
@private_page(before=expire_due_offers)
def inbox():
    require_member_staff()
    status = request.args.get("status", "pending")
    if status not in INBOX_TABS:
        status = "pending"
    earlier = request.args.get("when") == "earlier"
    form = forms.InboxFilterForm(formdata=request.args)
    member_id = None
    if current_user.is_office:
        form.member.choices = [SelectChoice("", _("全部成员单位"))] + [
            SelectChoice(str(m.id), m.short_name)
            for m in db.session.scalars(select(Member).order_by(Member.id))
        ]
        member_id = member_filter(form)
    form.status.data = status
    page = member_inbox(
        current_user, status, member_id=member_id, earlier=earlier, page=page_number()
    )
    days = [
        InboxDay(day, list(rows))
        for day, rows in groupby(page.items, key=lambda r: r.starts_at.astimezone(LOCAL_TZ).date())
    ]
    return render_template(
        "bookings/inbox.html",
        days=days,
        classes=pending_classes(page.items) if status == "pending" else [],
        page=page,
        status=status,
        earlier=earlier,
        tabs=INBOX_TABS,
        form=form if current_user.is_office else None,
        member_id=member_id,
        args={
            "status": status if status != "pending" else None,
            "member": member_id,
            "when": "earlier" if earlier else None,
        },
    )


@dataclass
class InboxClass:
    id: int
    name: str
    count: int


def pending_classes(reservations: list[Reservation]) -> list[InboxClass]:
    """The classes with more than one pending stop on the page: confirmed in one action."""
    counts: dict[int, InboxClass] = {}
    for r in reservations:
        c = r.booking.training_class
        counts.setdefault(c.id, InboxClass(c.id, c.name, 0)).count += 1
    return [c for c in counts.values() if c.count > 1]


def inbox_redirect():
    member = request.form.get("member", "")
    args = {"member": member} if member.isascii() and member.isdigit() else {}
    return redirect(url_for("bookings.inbox", **args))


def decide_view(reservation_id: int, confirm: bool):
    require_member_staff()
    try:
        reservation = get_reservation_for_member(reservation_id, current_user)
    except NotFound:
        abort(404)
    form = forms.ConfirmForm() if confirm else forms.DeclineForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
        return inbox_redirect()
    reason = "" if confirm else form.reason.data
    where = f"{reservation.site.name} {local_time(reservation.starts_at, '%m-%d %H:%M')}"
    try:
        decide(reservation, current_user, confirm, reason)
    except NotFound:
        abort(404)
    except BookingRefused as refused:
        flash(
            _(
                "无法确认%(where)s：%(why)s",
                where=where,
                why="；".join(p.message for p in refused.problems),
            ),
            "danger",
        )
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        if confirm:
            flash(_("已确认：%(where)s。", where=where), "success")
        else:
            flash(_("已婉拒：%(where)s。", where=where), "success")
    return inbox_redirect()


@bp.post(f"/reservations/<{ID}:reservation_id>/confirm")
@login_required
def confirm(reservation_id: int):
    return decide_view(reservation_id, True)


@bp.post(f"/reservations/<{ID}:reservation_id>/decline")
@login_required
def decline(reservation_id: int):
    return decide_view(reservation_id, False)
