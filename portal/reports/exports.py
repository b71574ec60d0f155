"""The report as .xlsx (a sheet per table), PDF and .docx (the text, then the tables), text.

Texts arrive translated (``flask_babel``); the PDF uses ``portal.pdf`` with the embedded CJK
font, the Word document the builder of the meetings' records. Every text cell of the .xlsx
passes the formula guard of the catalogue's exports.
"""

from __future__ import annotations

import io

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.catalog.excel import safe_cell
from portal.meetings.exports import build_docx
from portal.pdf import FontUnavailable, PdfSection, build_pdf, find_font
from portal.reports.figures import TABLES, Report
from portal.reports.services import (
    classes_per_member,
    month_labels,
    report_paragraphs,
    report_title,
    site_occupancy,
    trainees_per_month,
)
from portal.scheduling.class_list import state_label
from portal.scheduling.models import ORIGINS

__all__ = ["FontUnavailable", "report_docx", "report_pdf", "report_xlsx"]


def _header(ws, values: list[str]) -> None:
    ws.append([safe_cell(v) for v in values])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)


def figure_rows(report: Report, table: str) -> list[list[str]]:
    return [[str(r.figure.label), str(r.value), str(r.figure.unit)] for r in report.table(table)]


def report_xlsx(report: Report) -> bytes:
    """One sheet per table of figures, then the breakdowns: per member, month, site."""
    wb = Workbook()
    summary = wb.active
    summary.title = _("报告")
    summary.append([safe_cell(report_title(report))])
    summary.append([safe_cell(_("统计期")), safe_cell(report.period.label)])
    summary.append([safe_cell(_("范围")), safe_cell(report.scope.label)])
    for paragraph in report_paragraphs(report):
        summary.append([safe_cell(paragraph)])
    summary.column_dimensions["A"].width = 100
    for table, title in TABLES.items():
        ws = wb.create_sheet(str(title)[:31])
        _header(ws, [_("指标"), _("数值"), _("单位"), _("口径")])
        for result in report.table(table):
            ws.append(
                [
                    safe_cell(str(result.figure.label)),
                    result.value,
                    safe_cell(str(result.figure.unit)),
                    safe_cell(str(result.figure.definition)),
                ]
            )
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["D"].width = 60
    if report.extra:
        ws = wb.create_sheet(_("成员单位自报"))
        _header(ws, [_("成员单位"), _("指标"), _("数值"), _("单位"), _("口径")])
        for member, fig in report.extra:
            ws.append(
                [
                    safe_cell(member),
                    safe_cell(fig.label),
                    fig.value,
                    safe_cell(fig.unit),
                    safe_cell(fig.definition),
                ]
            )
    period, scope = report.period, report.scope
    ws = wb.create_sheet(_("各成员单位"))
    _header(ws, [_("成员单位"), _("承接班次"), _("培训人数")])
    for row in classes_per_member(period, scope):
        ws.append([safe_cell(row.member.name), row.classes, row.trainees])
    ws.column_dimensions["A"].width = 36
    ws = wb.create_sheet(_("各月培训人数"))
    labels = month_labels(period)
    data = trainees_per_month(period, scope)
    _header(ws, [_("来源"), *labels, _("合计")])
    for origin, label in ORIGINS.items():
        ws.append([safe_cell(str(label)), *data[origin], sum(data[origin])])
    ws = wb.create_sheet(_("教学点接待"))
    _header(ws, [_("教学点"), *labels, _("合计")])
    for row in site_occupancy(period, scope):
        ws.append([safe_cell(row.site.name), *row.groups, sum(row.groups)])
    ws.column_dimensions["A"].width = 30
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sections(report: Report) -> list[PdfSection]:
    header = [_("指标"), _("数值"), _("单位")]
    out = [PdfSection(heading=_("报告正文"), paragraphs=report_paragraphs(report))]
    for table, title in TABLES.items():
        out.append(
            PdfSection(
                heading=str(title),
                table=[header, *figure_rows(report, table)],
                widths=(6, 2, 1.5),
            )
        )
    if report.extra:
        rows = [
            [f"{member}：{fig.label}", str(fig.value), fig.unit] for member, fig in report.extra
        ]
        out.append(PdfSection(heading=_("成员单位自报"), table=[header, *rows], widths=(6, 2, 1.5)))
    return out


def facts(report: Report) -> list[tuple[str, str]]:
    return [(_("统计期"), report.period.label), (_("范围"), report.scope.label)]


def report_pdf(report: Report) -> bytes:
    font = find_font(current_app.config.get("PDF_FONT_PATH"))
    if font is None:
        raise FontUnavailable("no CJK font")
    return build_pdf(
        title=report_title(report),
        facts=facts(report),
        sections=sections(report),
        footer=_("环线培训门户 · 数据来自门户登记"),
        page_label=_("第 {page} 页"),
        font=font,
    )


def report_docx(report: Report) -> bytes:
    return build_docx(
        title=report_title(report),
        facts=facts(report),
        sections=sections(report),
        footer=_("环线培训门户 · 数据来自门户登记"),
    )


def classes_xlsx(classes, with_organizer: bool) -> bytes:
    """The /classes list as a sheet: origin, kind, dates and status of every class."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("培训班"))
    header = [
        _("班级名称"),
        _("类别"),
        _("来源"),
        _("派出单位"),
        _("人数"),
        _("开始日期"),
        _("结束日期"),
        _("天数"),
        _("培训主题"),
        _("参观学习"),
        _("状态"),
        _("环线预约"),
    ]
    if with_organizer:
        header.append(_("联系人"))
    ws.append([safe_cell(h) for h in header])
    for c in classes:
        bookings = "；".join(f"{b.name}（{b.status_label}）" for b in c.bookings)
        row = [
            safe_cell(c.name),
            safe_cell(c.kind_label),
            safe_cell(c.origin_label),
            safe_cell(c.sending_unit),
            c.size,
            c.starts_on,
            c.ends_on,
            c.days,
            safe_cell(c.theme),
            _("是") if c.is_study_visit else _("否"),
            safe_cell(state_label(c)),
            safe_cell(bookings),
        ]
        if with_organizer:
            row.append(safe_cell(c.organizer.display_name))
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def survey_xlsx(summary) -> bytes:
    """A needs survey's summary (by topic, format, month, rank) and every unit's answer."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("按专题")
    survey = summary.survey
    ws.append([safe_cell(survey.title), safe_cell(survey.status_label)])
    for title, rows in (
        (None, summary.topics),
        (_("按方式"), summary.formats),
        (_("按月份"), summary.months),
    ):
        if title is not None:
            ws = wb.create_sheet(str(title))
        _header(ws, [_("选项"), _("单位数"), _("涉及干部人数"), _("单位")])
        for t in rows:
            ws.append([safe_cell(t.label), t.units, t.cadres, safe_cell("、".join(t.unit_names))])
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["D"].width = 60
    ws = wb.create_sheet(_("按职级"))
    _header(ws, [_("职级"), _("单位数"), _("干部人数")])
    for t in summary.ranks:
        ws.append([safe_cell(t.label), t.units, t.cadres])
    ws = wb.create_sheet(_("各单位填报"))
    _header(
        ws,
        [
            _("单位"),
            _("培训专题"),
            _("培训方式"),
            _("月份"),
            *(safe_cell(rank) for rank in survey.ranks),
            _("其他需求"),
        ],
    )
    for answer in summary.answers:
        ws.append(
            [
                safe_cell(answer.unit),
                safe_cell("、".join(answer.topics)),
                safe_cell("、".join(answer.formats)),
                safe_cell("、".join(str(m) for m in answer.months)),
                *(answer.cadres.get(rank, 0) for rank in survey.ranks),
                safe_cell(answer.note),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
