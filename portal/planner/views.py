"""The season planner's pages: seasons, requests, running the planner, the plan, accepting it.

Thin: each view parses its form and calls portal.planner.services, which decides who may
do what (another organizer's request answers 404, non-office users 403).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.catalog.models import TeachingSite
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import db
from portal.formfields import show_errors
from portal.planner import services
from portal.planner.forms import ActionForm, RequestForm, RunForm, SeasonForm
from portal.planner.models import PlanItem
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow

bp = Blueprint("planner", __name__, url_prefix="/planner", template_folder="templates")


def guarded(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service lookup; who may not gets 403, what they may not see 404."""
    try:
        return call(*args, **kwargs)
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)


@bp.get("")
@login_required
def index():
    seasons = guarded(services.seasons, current_user)
    form = SeasonForm() if current_user.is_office else None
    return render_template("planner/index.html", seasons=seasons, form=form)


@bp.route("/seasons/new", methods=["GET", "POST"])
@login_required
def season_new():
    guarded(services.require_office, current_user)
    form = SeasonForm()
    if form.validate_on_submit():
        try:
            season = services.create_season(current_user, form.values())
            db.session.commit()
            flash(_("调训季已开启，培训班联系人可以提交请求。"), "success")
            return redirect(url_for("planner.season", season_id=season.id))
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
    return render_template("planner/season_form.html", form=form), 400 if form.errors else 200


@bp.get("/seasons/<int:season_id>")
@login_required
def season(season_id: int):
    found = guarded(services.get_season, season_id, current_user)
    run = services.latest_run(found) if current_user.is_office else None
    run_form = RunForm(time_limit=found.time_limit) if current_user.is_office else None
    return render_template(
        "planner/season.html",
        season=found,
        requests=services.requests_of(found, current_user),
        run=run,
        run_form=run_form,
        action_form=ActionForm(),
    )


@bp.post("/seasons/<int:season_id>/status")
@login_required
def season_status(season_id: int):
    guarded(services.require_office, current_user)
    found = guarded(services.get_season, season_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            services.set_season_status(found, current_user, request.form.get("status", ""))
            db.session.commit()
            flash(_("调训季状态已更新。"), "success")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
    return redirect(url_for("planner.season", season_id=found.id))


def _request_form(form: RequestForm, actor: Any) -> RequestForm:
    query = select(TrainingClass).where(TrainingClass.cancelled.is_(False))
    if not actor.is_office:
        query = query.where(TrainingClass.organizer_id == actor.id)
    classes = db.session.scalars(query.order_by(TrainingClass.starts_on, TrainingClass.id))
    form.class_id.choices = [("", _("请选择"))] + [
        (str(c.id), f"{c.name}（{c.starts_on.isoformat()} 至 {c.ends_on.isoformat()}）")
        for c in classes
    ]
    form.template_ids.choices = [
        (str(t.id), _("%(name)s（%(days)s 天）", name=t.name, days=t.days))
        for t in services.published_templates()
    ]
    sites = [
        (str(s.id), s.name)
        for s in db.session.scalars(
            select(TeachingSite).where(TeachingSite.status == "active").order_by(TeachingSite.id)
        )
    ]
    form.must_sites.choices = sites
    form.avoid_sites.choices = sites
    return form


@bp.route("/seasons/<int:season_id>/requests/new", methods=["GET", "POST"])
@login_required
def request_new(season_id: int):
    found = guarded(services.get_season, season_id, current_user)
    form = _request_form(RequestForm(), current_user)
    if form.validate_on_submit():
        try:
            services.submit_request(found, current_user, form.values())
            db.session.commit()
            flash(_("调训请求已提交。"), "success")
            return redirect(url_for("planner.season", season_id=found.id))
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
    status = 400 if request.method == "POST" else 200
    return render_template("planner/request_form.html", form=form, season=found), status


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@login_required
def request_edit(request_id: int):
    found = guarded(services.get_request, request_id, current_user)
    form = _request_form(RequestForm(), current_user)
    # A request stays with its class: the choice is shown, not sent (the service keeps it).
    form.class_id.render_kw = {"disabled": True}
    form.class_id.data = str(found.class_id)
    if request.method == "GET":
        form.size.data = found.size
        form.dates_text.data = services.dates_text(found)
        form.template_ids.data = [str(t) for t in found.template_ids]
        form.days.data = found.days
        form.must_sites.data = [str(s) for s in found.must_sites]
        form.avoid_sites.data = [str(s) for s in found.avoid_sites]
        form.squads_allowed.data = found.squads_allowed
        form.note.data = found.note
    elif form.validate_on_submit():
        try:
            services.update_request(found, current_user, form.values())
            db.session.commit()
            flash(_("调训请求已修改。"), "success")
            return redirect(url_for("planner.season", season_id=found.season_id))
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "planner/request_form.html",
        form=form,
        season=found.season,
        found=found,
        action_form=ActionForm(),
    ), status


@bp.post("/requests/<int:request_id>/withdraw")
@login_required
def request_withdraw(request_id: int):
    found = guarded(services.get_request, request_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            services.withdraw_request(found, current_user)
            db.session.commit()
            flash(_("调训请求已撤回。"), "success")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
    return redirect(url_for("planner.season", season_id=found.season_id))


@bp.post("/requests/<int:request_id>/pin")
@login_required
def request_pin(request_id: int):
    guarded(services.require_office, current_user)
    found = guarded(services.get_request, request_id, current_user)
    if ActionForm().validate_on_submit():
        item_id = request.form.get("item_id", "")
        item = db.session.get(PlanItem, int(item_id)) if item_id.isdigit() else None
        try:
            services.pin_request(found, current_user, request.form.get("action", ""), item)
            db.session.commit()
            flash(_("已更新，重新运行规划后生效。"), "success")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
    back = request.form.get("back", "")
    if back.isdigit():
        return redirect(url_for("planner.run_detail", run_id=int(back)))
    return redirect(url_for("planner.season", season_id=found.season_id))


@bp.post("/seasons/<int:season_id>/run")
@login_required
def run(season_id: int):
    guarded(services.require_office, current_user)
    found = guarded(services.get_season, season_id, current_user)
    form = RunForm()
    if not form.validate_on_submit():
        for message in form.time_limit.errors or [_("表单已失效，请刷新页面后重试。")]:
            flash(str(message), "danger")
        return redirect(url_for("planner.season", season_id=found.id))
    try:
        started = services.start_run(found, current_user, time_limit=form.time_limit.data)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("planner.season", season_id=found.id))
    run_id = started.id
    if current_app.config.get("PLANNER_BACKGROUND", True):
        services.compute_in_background(current_app._get_current_object(), run_id)
    else:
        try:
            services.compute_run(run_id)
        except Exception:  # noqa: BLE001  (recorded on the run, shown on its page)
            current_app.logger.exception("planner run %s failed", run_id)
    return redirect(url_for("planner.run_detail", run_id=run_id))


@bp.get("/runs/<int:run_id>")
@login_required
def run_detail(run_id: int):
    found = guarded(services.get_run, run_id, current_user)
    if found.status == "running":
        elapsed = int((utcnow() - found.created_at).total_seconds())
        return render_template(
            "planner/running.html",
            run=found,
            elapsed=min(elapsed, found.time_limit),
            stalled=services.run_stalled(found),
        )
    weeks = services.calendar_weeks(found)
    week = None
    try:
        week = date.fromisoformat(request.args.get("week", ""))
        week -= timedelta(days=week.weekday())
    except ValueError:
        week = weeks[0] if weeks else None
    site_arg = request.args.get("site", "")
    site_id = int(site_arg) if site_arg.isdigit() and len(site_arg) < 10 else None
    every_site = services.calendar(found, week) if week else []
    sites = sorted(
        {e["site"].id: e["site"] for d in every_site for e in d["entries"]}.values(),
        key=lambda s: s.id,
    )
    days = services.calendar(found, week, site_id) if site_id else every_site
    return render_template(
        "planner/run.html",
        run=found,
        weeks=weeks,
        week=week,
        days=days,
        sites=sites,
        site_id=site_id,
        action_form=ActionForm(),
        is_latest=services.latest_run(found.season) is found,
    )


@bp.post("/runs/<int:run_id>/accept")
@login_required
def accept(run_id: int):
    found = guarded(services.get_run, run_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            counts = services.accept_run(found, current_user)
            flash(
                _(
                    "方案已接受：%(booked)s 个培训班已预约，%(conflict)s 个因冲突未能预约。",
                    **counts,
                ),
                "success" if not counts["conflict"] else "warning",
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
    return redirect(url_for("planner.run_detail", run_id=run_id))
