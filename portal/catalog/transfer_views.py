"""Excel export of catalogue lists and import of sites and teachers from .xlsx / .csv.

Exports take the same filters as the list pages. An import has two steps: the upload is
parsed into a preview (nothing written) and kept on disk under a random token; confirming
parses the stored file again, so validation runs again, and only then writes it.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, SelectChoice, SelectField, SubmitField

from portal.catalog import excel, excel_import, excel_reading, forms, services
from portal.errors import ServiceError
from portal.extensions import db
from portal.members.models import Member
from portal.specs import TEACHER_KINDS
from portal.timeutil import LOCAL_TZ

bp = Blueprint("catalog_transfer", __name__, template_folder="templates")

EXPORT_PAGE_SIZE = 1000
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
# A preview can be confirmed for this long; older stored uploads are removed.
IMPORT_TTL_SECONDS = 2 * 60 * 60
KIND_LABELS = {"sites": _l("教学点"), "teachers": _l("师资")}
LIST_ENDPOINTS = {"sites": "catalog.sites", "teachers": "catalog.teachers"}
FILE_TITLES = {"sites": "教学点", "teachers": "师资", "courses": "课程"}


# ---------------------------------------------------------------- export


def _filter_form(form_class: type) -> Any:
    """The list page's filter form read from the query string; 400 if a filter is invalid."""
    form = form_class(formdata=request.args)
    members = db.session.scalars(select(Member).order_by(Member.id))
    form.member.choices = [SelectChoice("", ""), *(SelectChoice(str(m.id), "") for m in members)]
    if not form.validate():
        abort(400)
    return form


def _all_items(search: Callable[..., services.Page]) -> list[Any]:
    """Every item a search finds, page by page."""
    items: list[Any] = []
    page = 1
    while True:
        found = search(page=page, per_page=EXPORT_PAGE_SIZE)
        items.extend(found.items)
        if page >= found.pages:
            return items
        page += 1


def _xlsx_response(data: bytes, title: str):
    today = datetime.now(LOCAL_TZ).date().isoformat()
    response = send_file(
        io.BytesIO(data),
        mimetype=excel.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{title}_{today}.xlsx",
    )
    # What a list shows depends on who asks (teachers): never cache it in shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/sites/export.xlsx")
def sites_export():
    form = _filter_form(forms.SiteFilterForm)

    def search(**paging: Any) -> services.Page:
        return services.search_sites(
            q=form.q.data or "",
            member_id=form.member_id(),
            theme=form.theme.data or "",
            status=form.status.data or "",
            min_capacity=form.min_capacity.data,
            needs_guide=forms.yes_no(form.guide.data),
            sort=form.sort.data or "name",
            **paging,
        )

    sites = _all_items(search)
    scores = services.latest_scores(s.id for s in sites)
    return _xlsx_response(excel.sites_xlsx(sites, scores), FILE_TITLES["sites"])


@bp.get("/teachers/export.xlsx")
def teachers_export():
    form = _filter_form(forms.TeacherFilterForm)

    def search(**paging: Any) -> services.Page:
        return services.search_teachers(
            current_user,
            q=form.q.data or "",
            member_id=form.member_id(),
            kind=form.kind.data or "",
            title=form.title.data or "",
            topic=form.topic.data or "",
            shared=forms.yes_no(form.shared.data),
            status=form.status.data or "",
            **paging,
        )

    return _xlsx_response(excel.teachers_xlsx(_all_items(search)), FILE_TITLES["teachers"])


@bp.get("/courses/export.xlsx")
def courses_export():
    form = _filter_form(forms.CourseFilterForm)

    def search(**paging: Any) -> services.Page:
        return services.search_courses(
            q=form.q.data or "",
            member_id=form.member_id(),
            kind=form.kind.data or "",
            excellent=forms.yes_no(form.excellent.data),
            status=form.status.data or "",
            **paging,
        )

    courses = _all_items(search)
    # A course names only the teachers the viewer may see (shared, or of their own member).
    data = excel.courses_xlsx(courses, lambda t: services.teacher_visible(t, current_user))
    return _xlsx_response(data, FILE_TITLES["courses"])


# ---------------------------------------------------------------- import: forms and storage


class ImportForm(FlaskForm):
    member_id = SelectField(_l("导入到成员单位"), coerce=str, validate_choice=False)
    file = FileField(
        _l("数据文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要上传的文件。"))]
    )
    submit = SubmitField(_l("上传并预览"))


class ConfirmForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("确认导入"))


def _require_importer() -> None:
    """Member staff and admins import into their own member, the office into any; else 403."""
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


def _imports_dir() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[Path, Path]:
    """The stored upload and its sidecar; 404 unless the token has the expected form."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        abort(404)
    folder = _imports_dir()
    return folder / f"{token}.bin", folder / f"{token}.json"


def _remove_stale(folder: Path) -> None:
    cutoff = time.time() - IMPORT_TTL_SECONDS
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def _store(data: bytes, kind: str, member_id: int, filename: str) -> str:
    """Keep an upload for its confirmation; returns the token that names it."""
    folder = _imports_dir()
    _remove_stale(folder)
    token = secrets.token_urlsafe(32)
    blob, sidecar = _paths(token)
    blob.write_bytes(data)
    meta = {
        "user_id": current_user.id,
        "member_id": member_id,
        "kind": kind,
        "filename": filename[:200],
        "created": time.time(),
    }
    sidecar.write_text(json.dumps(meta), encoding="utf-8")
    return token


def _discard(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _claim(token: str, kind: str) -> tuple[dict[str, Any], bytes]:
    """The sidecar and bytes of the current user's stored upload, taken so it is used once.

    404 for an unknown token, or one of another user or import kind.
    """
    blob, sidecar = _paths(token)
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        abort(404)
    if (
        not isinstance(meta, dict)
        or meta.get("user_id") != current_user.id
        or meta.get("kind") != kind
        or not isinstance(meta.get("member_id"), int)
    ):
        abort(404)
    if current_user.is_member_user and meta["member_id"] != current_user.member_id:
        abort(404)
    # Renaming is atomic: a second confirmation of the same upload finds nothing.
    claimed = blob.with_name(f"{token}.{secrets.token_hex(8)}.claimed")
    try:
        os.rename(blob, claimed)
    except FileNotFoundError:
        abort(404)
    try:
        data = claimed.read_bytes()
    finally:
        _discard(claimed, sidecar)
    if time.time() - float(meta.get("created", 0)) > IMPORT_TTL_SECONDS:
        flash(_("预览已过期，请重新上传文件。"), "warning")
        abort(redirect(url_for(f"catalog_transfer.{kind}_import")))
    return meta, data


# ---------------------------------------------------------------- import: pages


def _member_choices() -> list[SelectChoice]:
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [
        SelectChoice("", _("请选择成员单位")),
        *(SelectChoice(str(m.id), m.short_name) for m in members),
    ]


def _target_member(form: ImportForm) -> int | None:
    """The member to import into: staff always their own, the office the one chosen."""
    if current_user.is_member_user:
        return current_user.member_id
    value = form.member_id.data or ""
    if value.isdigit() and db.session.get(Member, int(value)) is not None:
        return int(value)
    form.member_id.errors = [*form.member_id.errors, _("请选择所属成员单位。")]
    return None


def _preview_rows(kind: str, preview: excel_import.ImportPreview) -> list[dict[str, Any]]:
    """What the preview table shows of each row."""
    shown = []
    for row in preview.rows:
        values = row.values
        entry: dict[str, Any] = {"row": row, "name": row.name}
        if kind == "sites":
            days = values.get("open_weekdays")
            opens, closes = values.get("opens"), values.get("closes")
            entry.update(
                theme=values.get("theme") or "",
                capacity=values.get("capacity"),
                days=services.weekday_label(days)
                if isinstance(days, str) and days and set(days) <= set("1234567")
                else "",
                hours=f"{excel.time_text(opens)}–{excel.time_text(closes)}"
                if hasattr(opens, "strftime") and hasattr(closes, "strftime")
                else "",
                flag=values.get("needs_guide"),
            )
        else:
            kind_value = values.get("kind")
            entry.update(
                kind=str(TEACHER_KINDS[kind_value]) if kind_value in TEACHER_KINDS else "",
                title=values.get("title") or "",
                topics=values.get("topics") or "",
                flag=values.get("shared"),
            )
        shown.append(entry)
    return shown


def _render_preview(
    kind: str, preview: excel_import.ImportPreview, member_id: int, token: str | None
):
    confirm = None
    if token is not None:
        confirm = ConfirmForm(formdata=None)
        confirm.token.data = token
    member = db.session.get(Member, member_id)
    return render_template(
        "catalog/transfer/import_preview.html",
        kind=kind,
        kind_label=KIND_LABELS[kind],
        preview=preview,
        rows=_preview_rows(kind, preview),
        member=member,
        confirm_form=confirm,
        confirm_url=url_for(f"catalog_transfer.{kind}_import_confirm"),
        upload_url=url_for(f"catalog_transfer.{kind}_import"),
    ), (400 if preview.has_errors else 200)


def _import_page(kind: str):
    _require_importer()
    form = ImportForm()
    if current_user.is_office:
        form.member_id.choices = _member_choices()
    else:
        del form.member_id
    if form.validate_on_submit():
        member_id = _target_member(form)
        upload = form.file.data
        data = upload.stream.read(excel_reading.MAX_UPLOAD_BYTES + 1)
        if len(data) > excel_reading.MAX_UPLOAD_BYTES:
            form.file.errors = [
                *form.file.errors,
                _(
                    "文件不能超过 %(size)s MB。",
                    size=excel_reading.MAX_UPLOAD_BYTES // (1024 * 1024),
                ),
            ]
        elif member_id is not None:
            filename = upload.filename or ""
            preview = excel_import.parse_upload(filename, data, kind, member_id)
            token = None if preview.has_errors else _store(data, kind, member_id, filename)
            return _render_preview(kind, preview, member_id, token)
    spec = excel_import.SPECS[kind]
    status = 400 if form.is_submitted() else 200
    return render_template(
        "catalog/transfer/import_upload.html",
        kind=kind,
        kind_label=KIND_LABELS[kind],
        form=form,
        required=spec.required,
        optional=[h for h in spec.headers if h not in spec.required],
        max_mb=excel_reading.MAX_UPLOAD_BYTES // (1024 * 1024),
        max_rows=excel_reading.MAX_DATA_ROWS,
        template_url=url_for(f"catalog_transfer.{kind}_import_template"),
        list_url=url_for(LIST_ENDPOINTS[kind]),
    ), status


def _confirm(kind: str):
    _require_importer()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    meta, data = _claim(form.token.data or "", kind)
    member_id = meta["member_id"]
    preview = excel_import.parse_upload(str(meta.get("filename") or ""), data, kind, member_id)
    if preview.has_errors:
        return _render_preview(kind, preview, member_id, None)
    try:
        counts = excel_import.apply_import(preview, current_user, member_id)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        flash(_("未导入任何数据。"), "danger")
        return redirect(url_for(f"catalog_transfer.{kind}_import"))
    message = _(
        "已导入：新建 %(created)s 条，更新 %(updated)s 条。",
        created=counts["created"],
        updated=counts["updated"],
    )
    if counts["unchanged"]:
        message += _("另有 %(count)s 条与现有数据相同，未作修改。", count=counts["unchanged"])
    flash(message, "success")
    return redirect(url_for(LIST_ENDPOINTS[kind]))


def _template(kind: str):
    _require_importer()
    today = datetime.now(LOCAL_TZ).date().isoformat()
    return send_file(
        io.BytesIO(excel_import.template_xlsx(kind)),
        mimetype=excel.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{FILE_TITLES[kind]}导入模板_{today}.xlsx",
    )


@bp.route("/sites/import", methods=["GET", "POST"])
@login_required
def sites_import():
    return _import_page("sites")


@bp.route("/teachers/import", methods=["GET", "POST"])
@login_required
def teachers_import():
    return _import_page("teachers")


@bp.post("/sites/import/confirm")
@login_required
def sites_import_confirm():
    return _confirm("sites")


@bp.post("/teachers/import/confirm")
@login_required
def teachers_import_confirm():
    return _confirm("teachers")


@bp.get("/sites/import/template.xlsx")
@login_required
def sites_import_template():
    return _template("sites")


@bp.get("/teachers/import/template.xlsx")
@login_required
def teachers_import_template():
    return _template("teachers")
