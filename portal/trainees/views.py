"""The organizer's side of trainees: rosters, import/export, activation sheet, notices, rules.

Thin: each view parses its form, calls a service in portal/trainees/ and renders. Who sees
what is decided by ``portal.trainees.access`` (another organizer's class answers 404).
The trainee's own pages are in my_views.py, open runs in run_views.py, electives in
elective_views.py; all on this one blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from portal.errors import NotFound, ServiceError
from portal.extensions import db
from portal.formfields import show_errors
from portal.pagecache import private_page
from portal.scheduling.models import TrainingClass
from portal.trainees import access, accounts, notices, roster, roster_excel
from portal.trainees.forms import (
    ActionForm,
    ActivateForm,
    ConfirmImportForm,
    NoticeForm,
    ProfileForm,
    RosterImportForm,
    TraineeForm,
)
from portal.trainees.qr import qr_svg

bp = Blueprint("trainees", __name__, template_folder="templates")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"qr_svg": qr_svg}


def managed_class(class_id: int) -> TrainingClass:
    """The class if the current user manages it (organizer, supervisor, office); else 404."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        return access.get_managed_class(class_id, current_user)
    except NotFound:
        abort(404)


def xlsx_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- the roster


def roster_page(training_class: TrainingClass, form: TraineeForm, status: int = 200):
    entries = roster.entries_of(training_class)
    return (
        render_template(
            "trainees/roster.html",
            training_class=training_class,
            entries=entries,
            form=form,
            import_form=RosterImportForm(),
            action_form=ActionForm(),
            not_acknowledged=[e for e in entries if e.rules_acknowledged_at is None],
            profile=notices.profile_of(training_class),
            needs_activation=accounts.needs_activation,
        ),
        status,
    )


@bp.route("/classes/<int:class_id>/trainees", methods=["GET", "POST"])
@login_required
@private_page()
def roster_index(class_id: int):
    training_class = managed_class(class_id)
    form = TraineeForm()
    if form.validate_on_submit():
        try:
            entry = roster.add_trainee(training_class, current_user, form.values())
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("已保存学员：%(name)s", name=entry.name), "success")
            return redirect(url_for(".roster_index", class_id=class_id))
    return roster_page(training_class, form, 400 if form.is_submitted() else 200)


@bp.route("/classes/<int:class_id>/trainees/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def roster_edit(class_id: int, entry_id: int):
    training_class = managed_class(class_id)
    try:
        entry = roster.get_entry(training_class, entry_id, current_user)
    except NotFound:
        abort(404)
    form = TraineeForm(obj=None if request.method == "POST" else entry)
    if request.method == "GET":
        form.id_card.data = ""
    if form.validate_on_submit():
        try:
            roster.update_trainee(training_class, entry_id, current_user, form.values())
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for(".roster_index", class_id=class_id))
    return (
        render_template(
            "trainees/roster_edit.html", training_class=training_class, entry=entry, form=form
        ),
        400 if form.is_submitted() else 200,
    )


@bp.post("/classes/<int:class_id>/trainees/<int:entry_id>/delete")
@login_required
def roster_delete(class_id: int, entry_id: int):
    training_class = managed_class(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        roster.remove_trainee(training_class, entry_id, current_user)
    except NotFound:
        abort(404)
    flash(_("已从名单中移除。"), "info")
    return redirect(url_for(".roster_index", class_id=class_id))


@bp.route("/classes/<int:class_id>/trainees/import", methods=["GET", "POST"])
@login_required
def roster_import(class_id: int):
    training_class = managed_class(class_id)
    form = RosterImportForm()
    preview = token = None
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("请选择要上传的文件。")]
        else:
            data = upload.read(roster_excel.excel_reading.MAX_UPLOAD_BYTES + 1)
            preview, token = roster_excel.preview_upload(
                training_class, current_user, upload.filename, data
            )
    confirm = ConfirmImportForm(token=token) if token else None
    status = 400 if form.is_submitted() and (preview is None or preview.has_errors) else 200
    return (
        render_template(
            "trainees/roster_import.html",
            training_class=training_class,
            form=form,
            preview=preview,
            confirm=confirm,
            actions=roster_excel,
        ),
        status,
    )


@bp.post("/classes/<int:class_id>/trainees/import/confirm")
@login_required
def roster_import_confirm(class_id: int):
    training_class = managed_class(class_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        counts = roster_excel.confirm_import(training_class, current_user, form.token.data or "")
    except NotFound as error:
        flash(error.message, "warning")
        return redirect(url_for(".roster_import", class_id=class_id))
    except ServiceError as error:
        flash(error.message, "danger")
        return redirect(url_for(".roster_import", class_id=class_id))
    flash(
        _("导入完成：新增 %(created)s 人，更新 %(updated)s 人。", **counts),
        "success",
    )
    return redirect(url_for(".roster_index", class_id=class_id))


@bp.get("/classes/<int:class_id>/trainees/template.xlsx")
@login_required
def roster_template(class_id: int):
    managed_class(class_id)
    return xlsx_response(roster_excel.template_xlsx(), "roster-template.xlsx")


@bp.get("/classes/<int:class_id>/trainees/export.xlsx")
@login_required
def roster_export(class_id: int):
    training_class = managed_class(class_id)
    return xlsx_response(
        roster_excel.export_xlsx(training_class, current_user), f"roster-{class_id}.xlsx"
    )


@bp.get("/classes/<int:class_id>/trainees/sheet")
@login_required
def roster_sheet(class_id: int):
    """The printable class sheet: each trainee's activation QR code (nothing is written)."""
    training_class = managed_class(class_id)
    rows = accounts.class_sheet(training_class, current_user)
    return render_template("trainees/sheet.html", training_class=training_class, rows=rows)


@bp.post("/classes/<int:class_id>/trainees/send-links")
@login_required
def roster_send_links(class_id: int):
    training_class = managed_class(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    count = accounts.send_links(training_class, current_user)
    flash(_("已通过短信发送 %(count)s 条激活链接。", count=count), "success")
    return redirect(url_for(".roster_index", class_id=class_id))


@bp.get("/classes/<int:class_id>/trainees/summary")
@login_required
def roster_summary(class_id: int):
    """Name, unit and count only: what a hosting member sees of a class's trainees."""
    training_class = db.session.get(TrainingClass, class_id)
    level = access.roster_access(training_class, current_user) if training_class else None
    if level is None:
        abort(404)
    entries = roster.entries_of(training_class)
    return render_template(
        "trainees/summary.html",
        training_class=training_class,
        people=[(e.name, e.unit) for e in entries],
        full=level == access.FULL,
    )


# ---------------------------------------------------------------- notices, rules, sharing


@bp.route("/classes/<int:class_id>/notices", methods=["GET", "POST"])
@login_required
def class_notices(class_id: int):
    training_class = managed_class(class_id)
    form = NoticeForm()
    if form.validate_on_submit():
        try:
            notices.post_notice(training_class, current_user, form.title.data, form.body.data)
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("通知已发布，并已通过站内消息和短信发给学员。"), "success")
            return redirect(url_for(".class_notices", class_id=class_id))
    return (
        render_template(
            "trainees/notices.html",
            training_class=training_class,
            form=form,
            notices=notices.notices_of(training_class),
        ),
        400 if form.is_submitted() else 200,
    )


@bp.route("/classes/<int:class_id>/trainees/profile", methods=["GET", "POST"])
@login_required
def class_profile(class_id: int):
    training_class = managed_class(class_id)
    profile = notices.profile_of(training_class)
    form = ProfileForm(obj=None if request.method == "POST" else profile)
    if form.validate_on_submit():
        try:
            notices.save_profile(
                training_class,
                current_user,
                form.rules_text.data,
                form.contacts_text.data,
                form.calendar_shared.data,
            )
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for(".roster_index", class_id=class_id))
    return (
        render_template(
            "trainees/profile.html",
            training_class=training_class,
            form=form,
            reset_form=ActionForm(),
            profile=profile,
        ),
        400 if form.is_submitted() else 200,
    )


@bp.post("/classes/<int:class_id>/trainees/share-reset")
@login_required
def class_share_reset(class_id: int):
    training_class = managed_class(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    notices.reset_share_links(training_class, current_user)
    flash(_("学员的日历订阅链接已重置，旧链接失效。"), "info")
    return redirect(url_for(".class_profile", class_id=class_id))


# ---------------------------------------------------------------- activation


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str):
    """A trainee sets their password from the one-time link (QR code or SMS)."""
    try:
        user = accounts.account_of(token)
    except NotFound as error:
        return render_template("error.html", code=404, title=_("链接无效"), hint=error.message), 404
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = accounts.activate(token, form.password.data or "", form.confirm.data or "")
        except NotFound as error:
            return (
                render_template("error.html", code=404, title=_("链接无效"), hint=error.message),
                404,
            )
        except ServiceError as error:
            show_errors(form, error)
        else:
            login_user(user)
            flash(_("账号已激活。以后请用手机号 %(name)s 登录。", name=user.username), "success")
            return redirect(url_for(".me"))
    return (
        render_template("trainees/activate.html", form=form, user=user),
        400 if form.is_submitted() else 200,
    )


from portal.trainees import elective_views, my_views, run_views  # noqa: E402, F401  (routes on bp)
