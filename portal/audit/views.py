"""The office's audit log: browse and export who did what and when."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.audit import services
from portal.catalog.excel import workbook
from portal.formfields import DayField
from portal.timeutil import LOCAL_TZ

bp = Blueprint("audit", __name__, template_folder="templates")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    area = SelectField(
        _l("类别"),
        choices=[
            SelectChoice("", _l("全部")),
            *(SelectChoice(k, v) for k, v in services.AREAS.items()),
        ],
        default="",
    )
    who = StringField(_l("操作人"), validators=[Optional(), Length(max=64)])
    start = DayField(_l("开始日期"), validators=[Optional()])
    end = DayField(_l("结束日期"), validators=[Optional()])


# The export holds at most this many rows (the newest), however long the log.
EXPORT_LIMIT = 20000


def _page(form: AuditFilterForm, page: int, per_page: int) -> services.AuditPage:
    return services.entries(
        current_user,
        area=form.area.data or "",
        who=form.who.data or "",
        start=form.start.data,
        end=form.end.data,
        page=page,
        per_page=per_page,
    )


def _form() -> tuple[AuditFilterForm, bool]:
    """The filters of the query string, and whether they are valid."""
    if not current_user.is_office:
        abort(403)
    form = AuditFilterForm(formdata=request.args)
    return form, form.validate() and "\x00" not in (form.who.data or "")


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < len(value) < 7 else 1


@bp.get("/admin/audit")
@login_required
def index():
    form, valid = _form()
    args = {k: v for k, v in request.args.items() if k != "page"}
    if not valid:
        return render_template("audit/index.html", form=form, page=None, args=args), 400
    page = _page(form, _page_number(), services.PER_PAGE)
    return render_template("audit/index.html", form=form, page=page, args=args)


@bp.get("/admin/audit.xlsx")
@login_required
def export():
    form, valid = _form()
    if not valid:
        abort(400)
    rows = _page(form, 1, EXPORT_LIMIT).rows
    data = workbook(
        "审计日志",
        ["时间", "操作人", "类别", "操作", "对象", "原因或内容"],
        [18, 16, 10, 20, 40, 40],
        (
            [
                r.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.area_label,
                r.action_label,
                r.subject,
                r.reason or r.detail,
            ]
            for r in rows
        ),
    )
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"审计日志_{date.today().isoformat()}.xlsx",
    )
