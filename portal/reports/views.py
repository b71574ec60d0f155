"""The 统计报表 pages: the figures, the report text, charts, a figure's records, exports.

Thin: the period is parsed by ``period.parse_period``, who may see which scope is decided
by ``services.scope_for`` (another member's scope answers 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.reports import charts, exports, services
from portal.reports.figures import TABLES, remembered
from portal.reports.period import Period, Scope, parse_period, year_period
from portal.timeutil import LOCAL_TZ

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain; charset=utf-8",
}


def _scope() -> Scope:
    try:
        return services.scope_for(current_user, request.args.get("member"))
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)


def _period() -> tuple[Period, dict[str, str]]:
    """The asked period, or (when it is wrong) this year with the errors per field."""
    try:
        return parse_period(request.args), {}
    except ValidationFailed as error:
        return year_period(datetime.now(LOCAL_TZ).year), error.errors


def link_args(period: Period, scope: Scope) -> dict[str, str]:
    args = period.query_args()
    if scope.member is not None:
        args["member"] = scope.member.key
    return args


@bp.get("/")
@login_required
def index():
    scope = _scope()
    period, errors = _period()
    with remembered():
        return _index(period, scope, errors)


def _index(period: Period, scope: Scope, errors: dict[str, str]):
    report = services.build_report(period, scope)
    months, occupancy, top = charts.occupancy_table(period, scope)
    return render_template(
        "reports/index.html",
        report=report,
        tables=TABLES,
        errors=errors,
        typed=request.args,
        choices=services.scope_choices(current_user),
        args=link_args(period, scope),
        title=services.report_title(report),
        paragraphs=services.report_paragraphs(report),
        charts=charts.charts(period, scope),
        months=months,
        occupancy=occupancy,
        heat=lambda value: charts.heat_level(value, top),
        this_year=datetime.now(LOCAL_TZ).year,
    )


@bp.get("/figures/<key>")
@login_required
def records(key: str):
    scope = _scope()
    period, errors = _period()
    if errors:
        abort(404)
    try:
        fig, rows, more = services.figure_records(key, period, scope)
    except NotFound:
        abort(404)
    value = fig.compute(period, scope)
    return render_template(
        "reports/records.html",
        fig=fig,
        rows=[record_row(fig.kind, row) for row in rows],
        headers=RECORD_HEADERS[fig.kind](),
        more=more,
        value=value,
        period=period,
        scope=scope,
        args=link_args(period, scope),
    )


@bp.get("/export.<any(xlsx, pdf, docx, txt):fmt>")
@login_required
def export(fmt: str):
    scope = _scope()
    period, errors = _period()
    if errors:
        abort(404)
    with remembered():
        report = services.build_report(period, scope)
        data = _export_data(report, fmt)
    if data is None:
        return Response(
            _(
                "服务器上没有可用的中文字体，无法生成 PDF。请安装 fonts-noto-cjk 或设置 PDF_FONT_PATH。"
            ),
            status=503,
            mimetype="text/plain",
        )
    name = quote(f"{services.report_title(report)}.{fmt}")
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


def _export_data(report, fmt: str) -> bytes | None:
    """The file's bytes, or None when the PDF has no Chinese font."""
    if fmt == "xlsx":
        data = exports.report_xlsx(report)
    elif fmt == "docx":
        data = exports.report_docx(report)
    elif fmt == "txt":
        data = services.report_text(report).encode()
    else:
        try:
            data = exports.report_pdf(report)
        except exports.FontUnavailable:
            return None
    return data


@bp.get("/classes.xlsx")
@login_required
def classes_export():
    """The /classes list (the office's all, an organizer's own) as .xlsx, with its filters."""
    from portal.scheduling.class_list import filtered_classes, parse_filters

    if not (current_user.is_office or current_user.role == "organizer"):
        abort(403)
    filters, _errors = parse_filters(request.args)  # a wrong filter is dropped, as on the page
    data = exports.classes_xlsx(filtered_classes(current_user, filters), current_user.is_office)
    response = Response(data, mimetype=MIMETYPES["xlsx"])
    name = quote(_("培训班") + ".xlsx")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


# ---------------------------------------------------------------- a figure's records


def _day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


RECORD_HEADERS = {
    "class": lambda: [_("名称"), _("类别"), _("来源"), _("派出单位"), _("人数"), _("日期")],
    "reservation": lambda: [_("时间"), _("教学点"), _("班次"), _("人数")],
    "site": lambda: [_("教学点"), _("成员单位"), _("创建时间")],
    "course": lambda: [_("课程"), _("成员单位"), _("创建时间")],
    "material": lambda: [_("资料"), _("课程"), _("创建时间")],
    "route": lambda: [_("线路"), _("天数"), _("创建时间")],
    "teacher": lambda: [_("姓名"), _("类别"), _("职称"), _("成员单位")],
    "meeting": lambda: [_("会议"), _("时间")],
    "event": lambda: [_("活动"), _("类别")],
    "certificate": lambda: [_("编号"), _("姓名"), _("班次"), _("状态"), _("时间")],
}


def record_row(kind: str, row: Any) -> tuple[str | None, list[str]]:
    """(link or None, cells) of one record; a class links only for the office."""
    if kind == "class":
        link = url_for("bookings.class_detail", class_id=row.id) if current_user.is_office else None
        dates = f"{_day(row.starts_on)} – {_day(row.ends_on)}"
        return link, [
            row.name,
            row.kind_label,
            row.origin_label,
            row.sending_unit,
            str(row.size),
            dates,
        ]
    if kind == "reservation":
        c = row.booking.training_class
        return None, [_day(row.starts_at), row.site.name, c.name, str(row.group_size)]
    if kind == "site":
        return url_for("catalog.site_detail", site_id=row.id), [
            row.name,
            row.member.short_name,
            _day(row.created_at),
        ]
    if kind == "course":
        return url_for("catalog.course_detail", course_id=row.id), [
            row.name,
            row.member.short_name,
            _day(row.created_at),
        ]
    if kind == "material":
        return url_for("catalog.course_detail", course_id=row.course_id), [
            row.title,
            row.course.name,
            _day(row.created_at),
        ]
    if kind == "route":
        return url_for("routes.detail", template_id=row.id), [
            row.name,
            str(row.days),
            _day(row.created_at),
        ]
    if kind == "teacher":
        return url_for("catalog.teacher_detail", teacher_id=row.id), [
            row.name,
            getattr(row, "kind_label", row.kind),
            row.title,
            row.member.short_name,
        ]
    if kind == "meeting":
        return url_for("meetings.detail", meeting_id=row.id), [row.title, _day(row.starts_at)]
    if kind == "event":
        return url_for("events.detail", event_id=row.id), [
            row.title,
            row.event_type.name,
        ]
    if kind == "certificate":
        return None, [
            row.serial,
            row.name,
            row.training_class.name,
            row.status_label,
            _day(row.decided_at or row.issued_at),
        ]
    return None, [str(row)]


# ---------------------------------------------------------------- the year's plan


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan():
    """The office's yearly plan: its targets against the classes held so far."""
    from portal.reports import plan as plans
    from portal.reports.forms import DeleteTargetForm, PlanTargetForm

    if not current_user.is_office:
        abort(403)
    today = datetime.now(LOCAL_TZ).date()
    year_text = request.args.get("year", "")
    year = (
        int(year_text)
        if year_text.isdigit() and len(year_text) == 4 and 2000 <= int(year_text) <= 2100
        else today.year
    )
    form = PlanTargetForm()
    delete_form = DeleteTargetForm()
    status = 200
    if request.method == "POST" and "delete" in request.form:
        target_text = delete_form.target_id.data or ""
        if delete_form.validate_on_submit() and target_text.isdigit() and len(target_text) < 10:
            try:
                plans.delete_target(current_user, int(target_text))
            except NotFound:
                db.session.rollback()
                abort(404)
            db.session.commit()
            flash(_("已删除计划项目。"), "success")
            return redirect(url_for("reports.plan", year=year))
        abort(400)
    if form.is_submitted():
        parsed = form.validate()
        values = {
            "year": year,
            "label": form.label.data,
            "kind": form.kind.data,
            "origin": form.origin.data,
            "theme": form.theme.data,
            "planned_classes": form.planned_classes.data,
            "planned_trainees": form.planned_trainees.data,
            "rank": form.rank.data,
            "cadres": form.cadres.data,
        }
        try:
            plans.validate_target(values)
        except ValidationFailed as error:
            # Every field's message at once, the typing errors first.
            for name, message in error.errors.items():
                field = getattr(form, name, None)
                if field is not None and not field.errors:
                    field.errors = [*field.errors, message]
                elif field is None:
                    flash(message, "danger")
            parsed = False
        if parsed:
            target = plans.add_target(current_user, values)
            db.session.commit()
            flash(_("已添加计划项目：%(label)s", label=target.label), "success")
            return redirect(url_for("reports.plan", year=year))
        status = 400
    return render_template(
        "reports/plan.html",
        form=form,
        delete_form=delete_form,
        year=year,
        rows=plans.progress(year, today),
        today=today,
    ), status


# The pages of plan review and needs surveys live on this blueprint too.
from portal.reports import review_views  # noqa: E402, F401
