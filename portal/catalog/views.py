"""Catalogue pages: public browsing of sites, teachers and courses; staff editing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import or_, select
from wtforms import SelectChoice

from portal.catalog import forms, photos, services, uploads
from portal.catalog.models import (
    Course,
    CourseMaterial,
    Teacher,
    TeacherUnavailability,
    TeachingSite,
)
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.formfields import show_errors
from portal.maps import geo
from portal.maps import services as maps
from portal.maps.drawing import render_svg
from portal.members.models import Member
from portal.members.parts import site_fields
from portal.pagecache import CATALOGUE, cached_page
from portal.scheduling.fitting import bookable_sites_query
from portal.scheduling.models import RouteStop, RouteTemplate
from portal.specs import DetailField

bp = Blueprint("catalog", __name__, template_folder="templates")


@dataclass(frozen=True)
class ItemKind:
    """What differs between sites, teachers and courses in the shared edit flows."""

    model: type
    form: type
    label: Any
    list_endpoint: str
    detail_endpoint: str
    id_arg: str


KINDS = {
    "sites": ItemKind(
        TeachingSite,
        forms.SiteForm,
        _l("教学点"),
        "catalog.sites",
        "catalog.site_detail",
        "site_id",
    ),
    "teachers": ItemKind(
        Teacher,
        forms.TeacherForm,
        _l("师资"),
        "catalog.teachers",
        "catalog.teacher_detail",
        "teacher_id",
    ),
    "courses": ItemKind(
        Course,
        forms.CourseForm,
        _l("课程"),
        "catalog.courses",
        "catalog.course_detail",
        "course_id",
    ),
}


@bp.app_template_global()
def field_label(name: str) -> str:
    """How the history names a field (a year, for assessments, stays as it is)."""
    return str(services.FIELD_LABELS.get(name, name))


def member_choices(blank: str | None = None) -> list[SelectChoice]:
    members = db.session.scalars(select(Member).order_by(Member.id))
    found = [SelectChoice(str(m.id), m.short_name) for m in members]
    return [SelectChoice("", blank), *found] if blank else found


def members_with(model: type, *conditions: Any, chosen: int | None = None) -> list[SelectChoice]:
    """A filter's member options: only members that have items of ``model`` (one query).

    The member asked for stays listed even without items, so the form shows the filter in use.
    """
    has_items = select(model.id).where(model.member_id == Member.id, *conditions).exists()
    wanted = or_(has_items, Member.id == chosen) if chosen is not None else has_items
    rows = db.session.execute(
        select(Member.id, Member.short_name).where(wanted).order_by(Member.id)
    )
    return [SelectChoice("", _("全部成员单位"))] + [
        SelectChoice(str(member_id), name) for member_id, name in rows
    ]


def filter_form(form_class: type, model: type, *visible: Any) -> Any:
    """The list's filter form from the query string; members offered are those with items."""
    form = form_class(formdata=request.args)
    form.member.choices = members_with(model, *visible, chosen=form.member_id())
    if not form.validate():
        return form, False
    return form, True


def page_args() -> dict[str, Any]:
    """The current query string without ``page``, for paging links."""
    return {k: v for k, v in request.args.items() if k != "page"}


def editable(member_id: int) -> bool:
    return services.can_edit(current_user, member_id)


def coowner_form(item: Any) -> dict[str, Any] | None:
    """The co-owner picker for those who may name co-owners, else None."""
    if not services.may_name_coowners(current_user, item):
        return None
    chosen = services.coowner_ids(item)
    members = db.session.scalars(
        select(Member).where(Member.id != item.member_id).order_by(Member.id)
    ).all()
    return {"form": forms.ConfirmForm(prefix="co"), "members": members, "chosen": chosen}


# ---------------------------------------------------------------- lists


@bp.get("/sites")
@cached_page(CATALOGUE)
def sites():
    form, ok = filter_form(forms.SiteFilterForm, TeachingSite)
    form.theme.choices = [SelectChoice("", _("全部主题"))] + [
        SelectChoice(t, t) for t in services.distinct_values(TeachingSite.theme)
    ]
    if not ok:
        return render_template(
            "catalog/sites.html", form=form, page=None, scores={}, bookable=set()
        ), 400
    page = services.search_sites(
        q=form.q.data or "",
        member_id=form.member_id(),
        theme=form.theme.data or "",
        status=form.status.data or "",
        min_capacity=form.min_capacity.data,
        needs_guide=forms.yes_no(form.guide.data),
        sort=form.sort.data or "name",
        page=form.page.data or 1,
    )
    ids = [s.id for s in page.items]
    bookable = set(
        db.session.scalars(
            bookable_sites_query()
            .where(TeachingSite.id.in_(ids))
            .with_only_columns(TeachingSite.id)
        )
    )
    return render_template(
        "catalog/sites.html",
        form=form,
        page=page,
        scores=services.latest_scores(ids),
        bookable=bookable,
        args=page_args(),
    )


@bp.get("/teachers")
@cached_page(CATALOGUE)
def teachers():
    form, ok = filter_form(
        forms.TeacherFilterForm, Teacher, *services.teacher_visibility(current_user)
    )
    form.title.choices = [SelectChoice("", _("全部职称"))] + [
        SelectChoice(t, t) for t in services.distinct_values(Teacher.title)
    ]
    if not ok:
        return render_template("catalog/teachers.html", form=form, page=None), 400
    page = services.search_teachers(
        current_user,
        q=form.q.data or "",
        member_id=form.member_id(),
        kind=form.kind.data or "",
        title=form.title.data or "",
        topic=form.topic.data or "",
        shared=forms.yes_no(form.shared.data),
        status=form.status.data or "",
        page=form.page.data or 1,
    )
    return render_template("catalog/teachers.html", form=form, page=page, args=page_args())


@bp.get("/courses")
@cached_page(CATALOGUE)
def courses():
    form, ok = filter_form(forms.CourseFilterForm, Course)
    if not ok:
        return render_template("catalog/courses.html", form=form, page=None), 400
    page = services.search_courses(
        q=form.q.data or "",
        member_id=form.member_id(),
        kind=form.kind.data or "",
        excellent=forms.yes_no(form.excellent.data),
        status=form.status.data or "",
        page=form.page.data or 1,
    )
    return render_template("catalog/courses.html", form=form, page=page, args=page_args())


# ---------------------------------------------------------------- detail pages


def plugin_fields(site: TeachingSite) -> list[tuple[str, list[DetailField]]]:
    """Fields plugins added to a site's page at the last sync, under each plugin's member."""
    kept = site_fields(site)
    if not kept:
        return []
    names = {m.plugin: m.short_name for m in db.session.scalars(select(Member))}
    return [(names.get(name, name), fields) for name, fields in kept if fields]


def site_map_svg(site: TeachingSite) -> Markup | None:
    """The small map of a site and its neighbours, as inline SVG (None without coordinates)."""
    spec = maps.site_map(
        site, site_url=lambda other: url_for("catalog.site_detail", site_id=other.id)
    )
    return Markup(render_svg(spec, css_class="route-map route-map-small")) if spec else None


@bp.get("/sites/<int:site_id>")
@cached_page(CATALOGUE)
def site_detail(site_id: int):
    site = db.session.get(TeachingSite, site_id) or abort(404)
    if site.admission != "admitted" and not editable(site.member_id):
        abort(404)  # under review: not in the directory yet, seen only by its member and the office
    courses_here = db.session.scalars(
        select(Course)
        .where(Course.site_id == site.id, Course.status != "retired")
        .order_by(Course.name)
    ).all()
    bookable = db.session.scalar(
        bookable_sites_query().where(TeachingSite.id == site.id).with_only_columns(TeachingSite.id)
    )
    can = services.can_edit_item(current_user, site)
    return render_template(
        "catalog/site_detail.html",
        site=site,
        courses=courses_here,
        routes=db.session.scalars(
            select(RouteTemplate)
            .where(
                RouteTemplate.status == "published",
                RouteTemplate.stops.any(RouteStop.site_id == site.id),
            )
            .order_by(RouteTemplate.days, RouteTemplate.name)
        ).all(),
        bookable=bookable is not None,
        assessments=services.assessments(site),
        history=services.history(site) if current_user.is_authenticated else [],
        extra=plugin_fields(site),
        site_map=site_map_svg(site),
        navigation=geo.navigation_links(site.latitude, site.longitude, site.name, site.address)
        if site.latitude is not None and site.longitude is not None
        else [],
        photos=photos.photos_of(site),
        photo_form=forms.PhotoForm(prefix="photo") if can else None,
        delete_form=forms.ConfirmForm(prefix="x") if can else None,
        can_edit=can,
        coowner_form=coowner_form(site),
        status_form=forms.StatusForm(prefix="status") if can else None,
        assess_form=forms.AssessmentForm(prefix="assess")
        if current_user.is_authenticated and current_user.is_office
        else None,
    )


@bp.get("/teachers/<int:teacher_id>")
def teacher_detail(teacher_id: int):
    teacher = db.session.get(Teacher, teacher_id)
    if teacher is None or not services.teacher_visible(teacher, current_user):
        abort(404)
    can = editable(teacher.member_id)
    return render_template(
        "catalog/teacher_detail.html",
        teacher=teacher,
        courses=[c for c in teacher.courses if c.status != "retired"],
        history=services.history(teacher) if current_user.is_authenticated else [],
        spans=services.unavailable_spans(teacher, after=date.today()) if can else [],
        can_edit=can,
        status_form=forms.StatusForm(prefix="status") if can else None,
        unavailable_form=forms.UnavailabilityForm(prefix="off") if can else None,
        remove_form=forms.ConfirmForm(prefix="rm") if can else None,
    )


@bp.get("/courses/<int:course_id>")
def course_detail(course_id: int):
    course = db.session.get(Course, course_id) or abort(404)
    can = services.can_edit_item(current_user, course)
    return render_template(
        "catalog/course_detail.html",
        course=course,
        teachers=[t for t in course.teachers if services.teacher_visible(t, current_user)],
        history=services.history(course) if current_user.is_authenticated else [],
        can_edit=can,
        coowner_form=coowner_form(course),
        is_office=current_user.is_authenticated and current_user.is_office,
        status_form=forms.StatusForm(prefix="status") if can else None,
        material_form=forms.MaterialForm(prefix="mat") if can else None,
        plain_form=forms.ConfirmForm(prefix="x"),
    )


# ---------------------------------------------------------------- new and edit (shared by the three kinds)


def prepare_form(kind: ItemKind, form: Any, member_id: int | None, editing: bool) -> None:
    """Fill the choices that depend on the database and on who is acting."""
    if editing or not current_user.is_office:
        del form.member_id
    else:
        form.member_id.choices = [SelectChoice(0, _("请选择"))] + [
            SelectChoice(int(c.value), c.label) for c in member_choices()
        ]
    if kind.model is Course:
        owner = member_id or current_user.member_id
        pool = (
            services.teachers_for_courses(owner)
            if owner
            else db.session.scalars(
                select(Teacher)
                .where(Teacher.status != "retired")
                .order_by(Teacher.member_id, Teacher.name)
            )
        )
        form.teacher_ids.choices = [
            SelectChoice(
                t.id,
                f"{t.name}（{t.member.short_name}{'，' + _('共享') if t.shared and t.member_id != owner else ''}）",
            )
            for t in pool
        ]
        active_sites = db.session.scalars(
            select(TeachingSite)
            .where(TeachingSite.status != "retired")
            .order_by(TeachingSite.member_id, TeachingSite.name)
        )
        form.site_id.choices = [SelectChoice(0, _("（不指定）"))] + [
            SelectChoice(s.id, f"{s.name}（{s.member.short_name}）") for s in active_sites
        ]


def require_staff() -> None:
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


def item_new(kind_name: str):
    require_staff()
    kind = KINDS[kind_name]
    form = kind.form()
    member_id = form.member_id.data if current_user.is_office and form.is_submitted() else None
    if not services.valid_id(member_id):
        member_id = None
    prepare_form(kind, form, member_id, editing=False)
    if kind.model is TeachingSite and not form.is_submitted():
        form.open_weekdays.data = list("1234567")
    if form.validate_on_submit():
        try:
            item = services.create_item(
                kind.model, current_user, member_id or None, form.values(), form.reason.data or ""
            )
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已新建%(kind)s：%(name)s", kind=kind.label, name=item.name), "success")
            if kind.model is TeachingSite and item.admission == "proposed":
                flash(
                    _("请填写申报材料和安全说明，提交环线办审核；审核通过后即可接受预约。"), "info"
                )
                return redirect(url_for("directory.site", site_id=item.id))
            return redirect(url_for(kind.detail_endpoint, **{kind.id_arg: item.id}))
    status = 400 if form.is_submitted() else 200
    return render_template("catalog/item_form.html", form=form, kind=kind, item=None), status


def item_edit(kind_name: str, item_id: int):
    require_staff()
    kind = KINDS[kind_name]
    try:
        item = services.get_for_edit(kind.model, item_id, current_user)
    except NotFound:
        abort(404)
    form = kind.form(obj=item)
    prepare_form(kind, form, item.member_id, editing=True)
    if not form.is_submitted():
        if kind.model is TeachingSite:
            form.open_weekdays.data = list(item.open_weekdays)
        if kind.model is Course:
            form.teacher_ids.data = [t.id for t in item.teachers]
            form.site_id.data = item.site_id or 0
    if form.validate_on_submit():
        try:
            changed = services.update_item(
                item, current_user, form.values(), form.reason.data or ""
            )
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("已保存。") if changed else _("没有需要保存的修改。"),
                "success" if changed else "info",
            )
            return redirect(url_for(kind.detail_endpoint, **{kind.id_arg: item.id}))
    status = 400 if form.is_submitted() else 200
    return render_template("catalog/item_form.html", form=form, kind=kind, item=item), status


def item_status(kind_name: str, item_id: int):
    require_staff()
    kind = KINDS[kind_name]
    try:
        item = services.get_for_edit(kind.model, item_id, current_user)
    except NotFound:
        abort(404)
    form = forms.StatusForm(prefix="status")
    if not form.validate_on_submit():
        flash(_("请选择新状态。"), "danger")
    else:
        try:
            services.change_status(item, current_user, form.status.data, form.reason.data or "")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("状态已改为“%(status)s”。", status=item.status_label), "success")
    return redirect(url_for(kind.detail_endpoint, **{kind.id_arg: item.id}))


for _name, _kind in KINDS.items():
    bp.add_url_rule(
        f"/{_name}/new",
        f"{_name}_new",
        login_required(item_new),
        methods=["GET", "POST"],
        defaults={"kind_name": _name},
    )
    bp.add_url_rule(
        f"/{_name}/<int:item_id>/edit",
        f"{_name}_edit",
        login_required(item_edit),
        methods=["GET", "POST"],
        defaults={"kind_name": _name},
    )
    bp.add_url_rule(
        f"/{_name}/<int:item_id>/status",
        f"{_name}_status",
        login_required(item_status),
        methods=["POST"],
        defaults={"kind_name": _name},
    )


# ---------------------------------------------------------------- assessments, availability, marks, materials


@bp.post("/sites/<int:site_id>/assessments")
@login_required
def site_assess(site_id: int):
    site = db.session.get(TeachingSite, site_id) or abort(404)
    if not current_user.is_office:
        abort(403)
    form = forms.AssessmentForm(prefix="assess")
    if form.validate_on_submit():
        try:
            services.record_assessment(
                site, current_user, form.year.data, float(form.score.data), form.remarks.data or ""
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("已记录 %(year)s 年度考核。", year=form.year.data), "success")
    else:
        flash("；".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("catalog.site_detail", site_id=site.id) + "#assessments")


@bp.post("/teachers/<int:teacher_id>/unavailable")
@login_required
def teacher_unavailable(teacher_id: int):
    try:
        teacher = services.get_for_edit(Teacher, teacher_id, current_user)
    except NotFound:
        abort(404)
    form = forms.UnavailabilityForm(prefix="off")
    if form.validate_on_submit():
        try:
            services.add_unavailability(
                teacher,
                current_user,
                form.starts_on.data,
                form.ends_on.data,
                form.reason.data or "",
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("已登记不可用日期。"), "success")
    else:
        flash("；".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("catalog.teacher_detail", teacher_id=teacher.id) + "#availability")


@bp.post("/teachers/unavailable/<int:entry_id>/delete")
@login_required
def teacher_unavailable_delete(entry_id: int):
    entry = db.session.get(TeacherUnavailability, entry_id) or abort(404)
    teacher_id = entry.teacher_id
    if not forms.ConfirmForm(prefix="rm").validate_on_submit():
        abort(400)
    try:
        services.remove_unavailability(entry_id, current_user)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("已删除不可用日期。"), "success")
    return redirect(url_for("catalog.teacher_detail", teacher_id=teacher_id) + "#availability")


@bp.post("/courses/<int:course_id>/excellent")
@login_required
def course_excellent(course_id: int):
    course = db.session.get(Course, course_id) or abort(404)
    if not forms.ConfirmForm(prefix="x").validate_on_submit():
        abort(400)
    try:
        services.set_excellent(course, current_user, request.form.get("excellent") == "1")
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("已更新精品课程标记。"), "success")
    return redirect(url_for("catalog.course_detail", course_id=course.id))


def _set_coowners(model: type, item_id: int, endpoint: str, arg: str):
    item = db.session.get(model, item_id)
    if item is None or not services.may_name_coowners(current_user, item):
        abort(404)
    if not forms.ConfirmForm(prefix="co").validate_on_submit():
        abort(400)
    try:
        services.set_coowners(item, current_user, request.form.getlist("coowners"))
    except ValidationFailed as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "danger")
    else:
        db.session.commit()
        flash(_("已更新共建单位。"), "success")
    return redirect(url_for(endpoint, **{arg: item_id}))


@bp.post("/sites/<int:item_id>/coowners")
@login_required
def sites_coowners(item_id: int):
    """Name a site's co-owning members (共建): the office or the owner's admin."""
    return _set_coowners(TeachingSite, item_id, "catalog.site_detail", "site_id")


@bp.post("/courses/<int:item_id>/coowners")
@login_required
def courses_coowners(item_id: int):
    """Name a course's co-owning members (共建): the office or the owner's admin."""
    return _set_coowners(Course, item_id, "catalog.course_detail", "course_id")


@bp.post("/courses/<int:course_id>/materials")
@login_required
def course_material_add(course_id: int):
    try:
        course = services.get_for_edit(Course, course_id, current_user)
    except NotFound:
        abort(404)
    form = forms.MaterialForm(prefix="mat")
    if form.validate_on_submit():
        try:
            services.add_material(
                course, current_user, form.kind.data, form.title.data or "", form.file.data
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("已添加。"), "success")
    return redirect(url_for("catalog.course_detail", course_id=course.id) + "#materials")


@bp.get("/materials/<int:material_id>/file")
def material_file(material_id: int):
    material = db.session.get(CourseMaterial, material_id)
    if material is None or not material.stored_name:
        abort(404)
    path = uploads.stored_path(material.stored_name)
    if not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype=material.content_type,
        as_attachment=True,
        download_name=material.original_name or path.name,
    )


@bp.post("/materials/<int:material_id>/delete")
@login_required
def material_delete(material_id: int):
    material = db.session.get(CourseMaterial, material_id) or abort(404)
    course_id = material.course_id
    if not forms.ConfirmForm(prefix="x").validate_on_submit():
        abort(400)
    try:
        services.remove_material(material, current_user)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("已删除。"), "success")
    return redirect(url_for("catalog.course_detail", course_id=course_id) + "#materials")
