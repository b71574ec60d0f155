"""Training records' pages: the trainee's own, and those of a unit's cadres for its organizer
(and the office); each as a page, an .xlsx and a PDF. Another unit's cadre answers 404."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import pdf
from portal.errors import NotFound
from portal.records import services
from portal.scheduling.calendar_views import font_missing

log = logging.getLogger(__name__)
bp = Blueprint("records", __name__, template_folder="templates", url_prefix="/records")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def subject(user_id: int | None):
    if user_id is None:
        return current_user
    try:
        return services.get_readable(user_id, current_user)
    except NotFound:
        abort(404)


def page(user_id: int | None):
    record = services.record_of(subject(user_id))
    return render_template("records/record.html", record=record, user_id=user_id)


def xlsx(user_id: int | None):
    record = services.record_of(subject(user_id))
    response = Response(services.record_xlsx(record), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="record-{record.user.id}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def record_pdf(user_id: int | None):
    record = services.record_of(subject(user_id))
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _(
        "服务器上没有可用的中文字体，无法生成 PDF 培训档案。请联系管理员安装中文字体"
        "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
    )
    if font is None:
        return font_missing(missing)
    years = "；".join(_("%(y)s 年 %(h)s 学时", y=y, h=h) for y, h in record.by_year.items())
    try:
        body = pdf.build_pdf(
            title=_("干部培训档案：%(name)s", name=record.name),
            facts=[
                (_("单位"), record.unit or "—"),
                (_("职务职级"), record.rank or "—"),
                (_("学时要求"), standing_text(record)),
                (_("各年学时"), years or "—"),
            ],
            sections=[
                pdf.PdfSection(
                    heading=_("参加的培训班"),
                    table=[list(services.HEADERS), *services.record_rows(record)],
                    widths=services.WIDTHS,
                    empty=_("还没有参加培训班。"),
                )
            ],
            footer=_("环线培训门户 · 干部培训档案"),
            page_label=_("第 {page} 页"),
            font=font,
        )
    except pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return font_missing(missing)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="record-{record.user.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def standing_text(record: services.Record) -> str:
    return _(
        "%(period)s应完成 %(req)s 学时，已完成 %(got)s 学时（%(state)s）",
        period=record.period,
        req=record.required,
        got=record.achieved,
        state=_("已达标") if record.met else _("未达标"),
    )


@bp.app_template_global("record_standing")
def record_standing(record: services.Record) -> str:
    return standing_text(record)


@bp.get("/me")
@login_required
def mine():
    return page(None)


@bp.get("/me.xlsx")
@login_required
def mine_xlsx():
    return xlsx(None)


@bp.get("/me.pdf")
@login_required
def mine_pdf():
    return record_pdf(None)


@bp.get("/people")
@login_required
def people():
    """The cadres a unit's organizer sent (every trainee for the office)."""
    if not (current_user.is_office or current_user.role == "organizer"):
        abort(403)
    return render_template("records/people.html", people=services.cadres_of(current_user))


@bp.get("/people/<int:user_id>")
@login_required
def person(user_id: int):
    return page(user_id)


@bp.get("/people/<int:user_id>.xlsx")
@login_required
def person_xlsx(user_id: int):
    return xlsx(user_id)


@bp.get("/people/<int:user_id>.pdf")
@login_required
def person_pdf(user_id: int):
    return record_pdf(user_id)
