"""Route templates (精品环线): public list and itinerary; the office's editor and settings page."""

from __future__ import annotations

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
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from portal.catalog.photos import photos_by_site
from portal.catalog.views import show_errors
from portal.errors import NotFound, ServiceError
from portal.extensions import db
from portal.maps import services as maps
from portal.maps.drawing import render_svg
from portal.pagecache import CATALOGUE, cached_page
from portal.scheduling import route_forms as forms
from portal.scheduling import route_services as services
from portal.scheduling.models import CLASS_KINDS, RouteStop, RouteTemplate
from portal.scheduling.settings import all_settings

bp = Blueprint("routes", __name__, template_folder="templates")


@bp.app_template_global()
def route_stop_end(stop: RouteStop) -> str:
    return services.stop_end(stop).strftime("%H:%M")


def office_only() -> None:
    if not services.is_office(current_user):
        abort(403)


def template_or_404(template_id: int) -> RouteTemplate:
    try:
        return services.get_template(template_id, current_user)
    except NotFound:
        abort(404)


def booking_url(template: RouteTemplate) -> str | None:
    """The booking page for this template, once the bookings blueprint provides one.

    Only for those who may book a route (and anonymous visitors, who are asked to log in):
    trainees and member staff cannot, so they get no button (a trainee gets 报名 where an
    open run of the route exists, see open_run_links).
    """
    if template.status != "published" or "bookings.new" not in current_app.view_functions:
        return None
    if current_user.is_authenticated and not (
        current_user.is_office or current_user.role == "organizer"
    ):
        return None
    try:
        return url_for("bookings.new", template_id=template.id)
    except BuildError:
        return None


def open_run_links(template: RouteTemplate) -> list[tuple[str, str]]:
    """(label, url) of the open runs of this route that the logged-in trainee may book."""
    if not current_user.is_authenticated or current_user.role not in ("trainee", "organizer"):
        return []
    from portal.trainees import open_runs

    return [
        (run.starts_on.isoformat(), url_for("trainees.run_detail", run_id=run.id))
        for run in open_runs.runs_of_template(template.id)
        if open_runs.may_book(run, current_user)
    ]


# ---------------------------------------------------------------- public pages


@bp.get("/routes")
@cached_page(CATALOGUE)
def index():
    day_options, themes = services.filter_options(current_user)
    form = forms.RouteFilterForm(formdata=request.args)
    chosen_days = form.days.data or ""
    if (
        chosen_days.isascii()
        and chosen_days.isdigit()
        and len(chosen_days) <= 2
        and chosen_days not in {str(d) for d in day_options}
    ):
        day_options = [*day_options, chosen_days]
    form.days.choices = [SelectChoice("", _("全部天数"))] + [
        SelectChoice(str(d), _("%(days)s 天", days=d)) for d in day_options
    ]
    form.theme.choices = [SelectChoice("", _("全部主题"))] + [SelectChoice(t, t) for t in themes]
    office = services.is_office(current_user)
    if not form.validate():
        return render_template(
            "routes/index.html", form=form, templates=None, members={}, office=office
        ), 400
    found = services.list_templates(
        current_user, days=form.days_value(), theme=form.theme.data or ""
    )
    return render_template(
        "routes/index.html",
        form=form,
        templates=found,
        members={t.id: services.members_visited(t) for t in found},
        office=office,
    )


@bp.get("/routes/<int:template_id>")
@cached_page(CATALOGUE)
def detail(template_id: int):
    template = template_or_404(template_id)
    office = services.is_office(current_user)
    sites = services.sites_visited(template)
    spec = maps.template_map(
        template, site_url=lambda site: url_for("catalog.site_detail", site_id=site.id)
    )
    return render_template(
        "routes/detail.html",
        template=template,
        days=services.itinerary(template),
        sites=sites,
        route_map=Markup(render_svg(spec)) if spec else None,
        photos=photos_by_site([site.id for site in sites]),
        hours=services.total_hours(template),
        booking_url=booking_url(template),
        open_runs=open_run_links(template),
        office=office,
        status_form=forms.TemplateStatusForm() if office else None,
        problems=services.publish_problems(template)
        if office and template.status != "published"
        else [],
    )


# ---------------------------------------------------------------- the office: templates


@bp.route("/routes/new", methods=["GET", "POST"])
@login_required
def new():
    office_only()
    form = forms.TemplateForm()
    if not form.is_submitted():
        form.class_kinds.data = list(CLASS_KINDS)
    if form.validate_on_submit():
        try:
            template = services.create_template(current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已新建线路“%(name)s”（草稿），请添加站点。", name=template.name), "success")
            return redirect(url_for("routes.stops", template_id=template.id))
    status = 400 if form.is_submitted() else 200
    return render_template("routes/template_form.html", form=form, template=None), status


@bp.route("/routes/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def edit(template_id: int):
    office_only()
    template = template_or_404(template_id)
    form = forms.TemplateForm(obj=template)
    if not form.is_submitted():
        form.class_kinds.data = template.kinds
    if form.validate_on_submit():
        try:
            changed = services.update_template(template, current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("已保存。") if changed else _("没有需要保存的修改。"),
                "success" if changed else "info",
            )
            return redirect(url_for("routes.detail", template_id=template.id))
    status = 400 if form.is_submitted() else 200
    return render_template("routes/template_form.html", form=form, template=template), status


@bp.post("/routes/<int:template_id>/status")
@login_required
def status(template_id: int):
    office_only()
    template = template_or_404(template_id)
    form = forms.TemplateStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_template_status(template, current_user, form.status.data)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("线路状态已改为“%(status)s”。", status=template.status_label), "success")
    endpoint = "routes.stops" if form.back.data == "stops" else "routes.detail"
    return redirect(url_for(endpoint, template_id=template_id))


# ---------------------------------------------------------------- the office: stops


def prepare_stop_form(form: forms.StopForm, template: RouteTemplate, stop: Any = None) -> None:
    """Fill the choices: the template's days, active sites by member, active courses."""
    form.day.choices = [
        SelectChoice(str(d), _("第%(day)s天", day=d)) for d in range(1, template.days + 1)
    ]
    sites = services.active_sites()
    if stop is not None and stop.site is not None and stop.site not in sites:
        sites.append(stop.site)
    form.site_id.choices = [SelectChoice("", _("（不选）"))] + [
        SelectChoice(str(s.id), s.name, optgroup=s.member.short_name) for s in sites
    ]
    courses = services.active_courses()
    if stop is not None and stop.course is not None and stop.course not in courses:
        courses.append(stop.course)
    form.course_id.choices = [SelectChoice("", _("（不选）"))] + [
        SelectChoice(
            str(c.id),
            _(
                "%(course)s（%(member)s · %(site)s）",
                course=c.name,
                member=c.member.short_name,
                site=c.site.name if c.site else _("不限教学点"),
            ),
        )
        for c in courses
    ]


def stop_data(stop: RouteStop) -> dict[str, Any]:
    return {
        "day": str(stop.day),
        "starts": stop.starts,
        "minutes": str(stop.minutes),
        "kind": stop.kind,
        "site_id": str(stop.site_id or ""),
        "course_id": str(stop.course_id or ""),
        "title": stop.title,
        "note": stop.note,
    }


@bp.route("/routes/<int:template_id>/stops", methods=["GET", "POST"])
@login_required
def stops(template_id: int):
    office_only()
    template = template_or_404(template_id)
    form = forms.StopForm(data=services.next_stop_defaults(template))
    prepare_stop_form(form, template)
    if form.validate_on_submit():
        try:
            stop = services.add_stop(template, current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已添加站点：%(stop)s", stop=stop.label), "success")
            return redirect(url_for("routes.stops", template_id=template.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "routes/stops.html",
        template=template,
        form=form,
        days=services.itinerary(template),
        problems=services.publish_problems(template) if template.status != "published" else [],
        status_form=forms.TemplateStatusForm(),
        confirm_form=forms.ConfirmForm(),
    ), status


def stop_or_404(template: RouteTemplate, stop_id: int) -> RouteStop:
    try:
        return services.get_stop(template, stop_id)
    except NotFound:
        abort(404)


@bp.route("/routes/<int:template_id>/stops/<int:stop_id>/edit", methods=["GET", "POST"])
@login_required
def stop_edit(template_id: int, stop_id: int):
    office_only()
    template = template_or_404(template_id)
    stop = stop_or_404(template, stop_id)
    form = forms.StopForm(data=stop_data(stop))
    prepare_stop_form(form, template, stop)
    if form.validate_on_submit():
        try:
            services.update_stop(stop, current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已保存站点：%(stop)s", stop=stop.label), "success")
            return redirect(url_for("routes.stops", template_id=template.id))
    status = 400 if form.is_submitted() else 200
    return render_template("routes/stop_form.html", template=template, stop=stop, form=form), status


@bp.post("/routes/<int:template_id>/stops/<int:stop_id>/delete")
@login_required
def stop_delete(template_id: int, stop_id: int):
    office_only()
    template = template_or_404(template_id)
    stop = stop_or_404(template, stop_id)
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    label = stop.label
    try:
        services.remove_stop(stop, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已删除站点：%(stop)s", stop=label), "success")
    return redirect(url_for("routes.stops", template_id=template_id))


# ---------------------------------------------------------------- the office: consortium rules


@bp.route("/admin/settings", methods=["GET", "POST"])
@login_required
def settings():
    office_only()
    form = forms.settings_form(all_settings())
    if form.validate_on_submit():
        try:
            changed = services.save_settings(current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            if changed:
                flash(_("环线规则已保存。"), "success")
            else:
                flash(_("没有需要保存的修改。"), "info")
            return redirect(url_for("routes.settings"))
    status = 400 if form.is_submitted() else 200
    return render_template("routes/settings.html", form=form), status
