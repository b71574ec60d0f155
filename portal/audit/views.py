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


def _rows(form: AuditFilterForm) -> list[services.Row]:
    return services.entries(
        current_user,
        area=form.area.data or "",
        who=form.who.data or "",
        start=form.start.data,
        end=form.end.data,
    )


def _filtered():
    if not current_user.is_office:
        abort(403)
    form = AuditFilterForm(formdata=request.args)
    if not form.validate() or "\x00" in (form.who.data or ""):
        return form, None
    return form, _rows(form)


@bp.get("/admin/audit")
@login_required
def index():
    form, rows = _filtered()
    if rows is None:
        return render_template("audit/index.html", form=form, rows=[]), 400
    return render_template("audit/index.html", form=form, rows=rows)


@bp.get("/admin/audit.xlsx")
@login_required
def export():
    form, rows = _filtered()
    if rows is None:
        abort(400)
    data = workbook(
        "审计日志",
        ["时间", "操作人", "类别", "操作", "对象", "原因"],
        [18, 16, 10, 24, 30, 40],
        (
            [
                r.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.area_label,
                r.action,
                r.subject,
                r.reason,
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
