"""Written feedback's pages: a class's units, one unit's report (page, PDF, .xlsx), sending.

Thin: rules and permission checks are in ``services``; a class or unit one may not read
answers 404.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
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

from portal import pdf
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import db
from portal.feedback import services
from portal.feedback.forms import SendForm
from portal.scheduling.calendar_views import font_missing
from portal.trainees.access import is_class_manager

log = logging.getLogger(__name__)
bp = Blueprint("feedback", __name__, template_folder="templates", url_prefix="/feedback")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def readable(class_id: int):
    try:
        return services.get_class(class_id, current_user)
    except NotFound:
        abort(404)


def chosen_report(class_id: int) -> services.UnitReport:
    """The report of ``?unit=`` (default: the first unit one may read); another unit: 404."""
    training_class, units = readable(class_id)
    unit = request.args.get("unit", "").strip() or units[0]
    if unit not in units:
        abort(404)
    return services.unit_report(training_class, unit)


def download_name(report: services.UnitReport, ext: str) -> str:
    name = f"书面反馈-{report.training_class.name}-{report.unit}.{ext}"
    return f"attachment; filename=\"feedback-{report.training_class.id}.{ext}\"; filename*=UTF-8''{quote(name)}"


@bp.get("/classes/<int:class_id>")
@login_required
def index(class_id: int):
    """The class's units, each with its report; sending for the organizer and the office."""
    training_class, units = readable(class_id)
    reports = services.unit_reports(training_class, units)
    contacts = {unit: services.unit_contacts(unit) for unit in units}
    return render_template(
        "feedback/index.html",
        training_class=training_class,
        reports=reports,
        contacts=contacts,
        can_send=services.can_send(training_class, current_user),
        manager=is_class_manager(training_class, current_user),
        ended=reports[0].ended if reports else False,
        form=SendForm(),
    )


@bp.get("/classes/<int:class_id>/report")
@login_required
def report(class_id: int):
    found = chosen_report(class_id)
    return render_template(
        "feedback/report.html",
        report=found,
        evaluation_lines=services.evaluation_lines(found),
        leave_text=services.leave_text,
    )


@bp.get("/classes/<int:class_id>/report.xlsx")
@login_required
def report_xlsx(class_id: int):
    found = chosen_report(class_id)
    response = Response(services.report_xlsx(found), mimetype=XLSX)
    response.headers["Content-Disposition"] = download_name(found, "xlsx")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/classes/<int:class_id>/report.pdf")
@login_required
def report_pdf(class_id: int):
    found = chosen_report(class_id)
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _(
        "服务器上没有可用的中文字体，无法生成 PDF 书面反馈。请联系管理员安装中文字体"
        "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
    )
    if font is None:
        return font_missing(missing)
    c, t = found.training_class, found.totals
    try:
        body = pdf.build_pdf(
            title=_("培训情况书面反馈：%(unit)s", unit=found.unit),
            facts=[
                (_("培训班"), c.name),
                (_("日期"), f"{c.starts_on.isoformat()} — {c.ends_on.isoformat()}"),
                (_("单位"), found.unit),
                (
                    _("概况"),
                    _(
                        "学员 %(n)s 人，获得学时共 %(h)s；请假 %(l)s 个半天，旷课 %(x)s 个半天，"
                        "退学 %(w)s 人，获发结业证书 %(c)s 人。",
                        n=t["trainees"],
                        h=t["hours"],
                        l=t["leave"],
                        x=t["absent"],
                        w=t["withdrawn"],
                        c=t["certificates"],
                    ),
                ),
            ],
            sections=[
                pdf.PdfSection(
                    heading=_("学员考勤、请假、退学与结业"),
                    table=[list(services.PDF_HEADERS), *services.pdf_rows(found)],
                    widths=services.PDF_WIDTHS,
                    empty=_("该单位在本班没有学员。"),
                ),
                pdf.PdfSection(
                    heading=_("本班教学评估汇总（仅汇总，不含个人评价）"),
                    paragraphs=services.evaluation_lines(found),
                ),
            ],
            footer=_("环线培训门户 · 培训情况书面反馈"),
            page_label=_("第 {page} 页"),
            font=font,
        )
    except pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return font_missing(missing)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = download_name(found, "pdf").replace(
        "attachment", "inline", 1
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/classes/<int:class_id>/send")
@login_required
def send(class_id: int):
    training_class, units = readable(class_id)
    form = SendForm()
    if not form.validate_on_submit():
        abort(400)
    unit = (form.unit.data or "").strip()
    if unit and unit not in units:
        abort(404)
    try:
        sent = services.send(training_class, [unit] if unit else units, current_user)
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "warning")
    else:
        db.session.commit()
        reached = [u for u, n in sent.items() if n]
        unknown = [u for u, n in sent.items() if not n]
        if reached:
            flash(_("已向 %(units)s 发送书面反馈。", units="、".join(reached)), "success")
        if unknown:
            flash(
                _(
                    "%(units)s 没有联系人账号，未能发送；请下载 PDF 或 Excel 后另行送达。",
                    units="、".join(unknown),
                ),
                "warning",
            )
    return redirect(url_for(".index", class_id=class_id))
