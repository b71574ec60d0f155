"""Open runs (开放班次): the list, a run's page with 报名, publishing and managing a run."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import db
from portal.formfields import show_errors
from portal.pagecache import private_page
from portal.scheduling.fitting import BookingRefused
from portal.scheduling.models import RouteTemplate
from portal.trainees import open_runs, run_publishing
from portal.trainees.forms import ActionForm, BookSeatForm, CadreForm, RunForm
from portal.trainees.views import bp


@bp.get("/runs")
@private_page()
def runs():
    runs = open_runs.bookable_runs()
    return render_template(
        "trainees/runs.html",
        runs=runs,
        left=open_runs.seats_left_of(runs),
        may_book=open_runs.may_book,
        can_publish=open_runs.can_publish(current_user),
    )


def run_or_404(run_id: int):
    try:
        return open_runs.get_run(run_id)
    except NotFound:
        abort(404)


@bp.get("/runs/<int:run_id>")
@private_page()
def run_detail(run_id: int):
    run = run_or_404(run_id)
    seat = open_runs.seat_of(run, current_user)
    left = open_runs.seats_left(run)
    booked_for = []
    if current_user.is_authenticated and current_user.role == "organizer":
        booked_for = [
            s
            for s in open_runs.my_seats(current_user)
            if s.run_id == run.id and s.user_id != current_user.id
        ]
    return render_template(
        "trainees/run_detail.html",
        run=run,
        seat=seat if seat is not None and seat.status != "cancelled" else None,
        left=left,
        may_book=open_runs.may_book(run, current_user),
        can_manage=open_runs.can_manage(run, current_user),
        book_form=BookSeatForm(),
        cadre_form=CadreForm(),
        action_form=ActionForm(),
        booked_for=booked_for,
        units=open_runs.units_summary(run) if run.quotas else [],
    )


@bp.post("/runs/<int:run_id>/book")
@login_required
def run_book(run_id: int):
    # The run is read by book_seat (a missing one is 404 there): in a rush every statement
    # saved is one round trip less for a thousand requests.
    if current_user.role not in ("trainee", "organizer"):
        abort(403)
    if current_user.role == "organizer":
        run_or_404(run_id)  # before a cadre's account is made for it
        form = CadreForm()
        if not form.validate_on_submit():
            abort(400)
        cadre = {"name": form.name.data, "phone": form.phone.data}
        waitlist = bool(form.waitlist.data)
    else:
        form = BookSeatForm()
        if not form.validate_on_submit():
            abort(400)
        cadre, waitlist = None, form.waitlist.data == "1"
    try:
        seat = open_runs.book_seat(run_id, current_user, cadre=cadre, waitlist=waitlist)
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        if seat.status == "waitlisted":
            flash(_("名额已满，已加入候补名单。有空位时会通知您。"), "info")
        else:
            flash(_("报名成功：%(name)s", name=seat.name), "success")
    return redirect(url_for(".run_detail", run_id=run_id))


@bp.post("/runs/<int:run_id>/seats/<int:seat_id>/cancel")
@login_required
def run_seat_cancel(run_id: int, seat_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        open_runs.cancel_seat(run_id, seat_id, current_user)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("已取消报名，名额已释放。"), "info")
    return redirect(url_for(".run_detail", run_id=run_id))


@bp.post("/runs/<int:run_id>/seats/<int:seat_id>/accept")
@login_required
def run_seat_accept(run_id: int, seat_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        open_runs.accept_offer(run_id, seat_id, current_user)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("已确认候补名额，报名成功。"), "success")
    return redirect(url_for(".run_detail", run_id=run_id))


def template_choices() -> list[tuple[str, str]]:
    templates = db.session.scalars(
        select(RouteTemplate).where(RouteTemplate.status == "published").order_by(RouteTemplate.id)
    )
    return [("", _("请选择"))] + [(str(t.id), f"{t.name}（{t.days} 天）") for t in templates]


@bp.route("/runs/new", methods=["GET", "POST"])
@login_required
def run_new():
    if not open_runs.can_publish(current_user):
        abort(403)
    form = RunForm()
    form.template_id.choices = template_choices()
    problems = []
    if form.validate_on_submit():
        try:
            run = run_publishing.publish_run(current_user, form.values())
        except BookingRefused as refused:
            problems = [p.message for p in refused.problems]
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("开放班次已发布，线路已按名额预约。"), "success")
            return redirect(url_for(".run_manage", run_id=run.id))
    return (
        render_template("trainees/run_form.html", form=form, problems=problems),
        400 if form.is_submitted() else 200,
    )


@bp.get("/runs/manage")
@login_required
def runs_manage():
    if not open_runs.can_publish(current_user):
        abort(403)
    runs = open_runs.all_runs(current_user)
    return render_template(
        "trainees/runs_manage.html",
        runs=runs,
        left=open_runs.seats_left_of(runs),
    )


@bp.get("/runs/<int:run_id>/manage")
@login_required
def run_manage(run_id: int):
    try:
        run = open_runs.get_managed_run(run_id, current_user)
    except NotFound:
        abort(404)
    return render_template(
        "trainees/run_manage.html",
        run=run,
        seats=open_runs.seats_of(run),
        left=open_runs.seats_left(run),
        units=open_runs.units_summary(run),
        action_form=ActionForm(),
    )


@bp.post("/runs/<int:run_id>/cancel")
@login_required
def run_cancel(run_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        open_runs.cancel_run(run_id, current_user)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("班次已取消，已通知报名学员。"), "info")
    return redirect(url_for(".run_manage", run_id=run_id))
