"""Charts as SVG drawn on the server with pygal (no script, no CDN: the portal runs offline).

The SVG is shown as an image (a data: URL), so its own styles stay inside it and the
page's Content-Security-Policy needs no exception; printed, it is a vector image.
Colours are few and strong, labels large, so a chart reads on a black-and-white printout.
"""

from __future__ import annotations

import base64
from datetime import datetime

import pygal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pygal.style import Style
from sqlalchemy import func, select

from portal.evaluations.models import Evaluation, EvaluationCriterion, EvaluationScore
from portal.evaluations.services import ITEM_COLUMNS, ITEM_MODELS
from portal.extensions import db
from portal.reports.period import Period, Scope
from portal.reports.services import (
    MemberRow,
    OccupancyRow,
    classes_per_member,
    month_labels,
    overdue_per_member,
    site_occupancy,
    trainees_per_month,
)
from portal.scheduling.models import ORIGINS
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#777777",
    colors=("#8b1a1a", "#d98c1f", "#2f6f9f", "#5a8f3c", "#6b4c9a"),
    font_family="'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=14,
    title_font_size=16,
)


def _config(**extra) -> dict:
    return {
        "style": STYLE,
        "js": [],  # pygal's default loads a script from a CDN: none here
        "disable_xml_declaration": True,
        "width": 800,
        "height": 380,
        "print_values": False,
        "legend_at_bottom": True,
        "show_y_guides": True,
        **extra,
    }


def trainees_by_origin_chart(period: Period, scope: Scope) -> str:
    data = trainees_per_month(period, scope)
    chart = pygal.StackedBar(**_config(title=_("各月培训人数（按来源）")))
    chart.x_labels = month_labels(period)
    for origin, label in ORIGINS.items():
        if origin == "international" and not any(data[origin]):
            continue
        chart.add(str(label), data[origin])
    return chart.render(is_unicode=True)


def classes_per_member_chart(rows: list[MemberRow]) -> str:
    chart = pygal.HorizontalBar(
        **_config(title=_("各成员单位承接班次"), print_values=True, show_legend=False)
    )
    chart.x_labels = [row.member.short_name for row in rows]
    chart.add(_("班次"), [row.classes for row in rows])
    return chart.render(is_unicode=True)


def overdue_chart(rows) -> str:
    chart = pygal.HorizontalBar(
        **_config(
            title=_("各成员单位逾期未办结的会议决定"),
            print_values=True,
            show_legend=False,
            height=300,
        )
    )
    chart.x_labels = [member.short_name for member, _count in rows]
    chart.add(_("逾期决定"), [count for _member, count in rows])
    return chart.render(is_unicode=True)


def evaluation_averages(period: Period, scope: Scope, target: str) -> list[tuple[str, float, int]]:
    """(name, average, answers) of each site or teacher evaluated in the period (in the
    scope: the evaluations the member hosted), best first; only those with at least
    ``evaluation_min_answers`` answers, as the catalogue pages show. One query."""
    column = ITEM_COLUMNS[target]
    model = ITEM_MODELS[target]
    answers = func.count(func.distinct(Evaluation.id))
    query = (
        select(model.name, func.avg(EvaluationScore.score), answers)
        .select_from(EvaluationScore)
        .join(Evaluation, Evaluation.id == EvaluationScore.evaluation_id)
        .join(EvaluationCriterion, EvaluationCriterion.id == EvaluationScore.criterion_id)
        .join(model, model.id == column)
        .where(
            EvaluationCriterion.target == target,
            Evaluation.created_at >= period.starts_at,
            Evaluation.created_at < period.ends_before,
        )
        .group_by(model.id, model.name)
        .having(answers >= setting("evaluation_min_answers"))
    )
    if scope.member is not None:
        query = query.where(Evaluation.member_id == scope.member.id)
    rows = [(name, round(float(avg), 2), count) for name, avg, count in db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


EVALUATION_TITLES = {"site": _l("各教学点评估平均分"), "teacher": _l("各师资评估平均分")}


def evaluation_chart(rows: list[tuple[str, float, int]], target: str) -> str:
    chart = pygal.HorizontalBar(
        **_config(
            title=str(EVALUATION_TITLES[target]),
            print_values=True,
            show_legend=False,
            height=max(220, 80 + 30 * len(rows)),
            range=(0, 5),
            no_data_text=_("暂无达到最少评价数的评估"),
        )
    )
    chart.x_labels = [f"{name}（{count}）" for name, _avg, count in rows]
    chart.add(_("平均分"), [avg for _name, avg, _count in rows])
    return chart.render(is_unicode=True)


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def heat_level(value: int, top: int) -> int:
    """0 (none) to 4 (the busiest month of any site): the shade of a heat-map cell."""
    if value <= 0 or top <= 0:
        return 0
    return min(4, 1 + (value * 4 - 1) // top)


def occupancy_table(period: Period, scope: Scope) -> tuple[list[str], list[OccupancyRow], int]:
    """Month labels, rows per site, and the busiest cell (for the shades)."""
    rows = site_occupancy(period, scope)
    top = max((max(row.groups) for row in rows), default=0)
    return month_labels(period), rows, top


def charts(period: Period, scope: Scope) -> dict[str, str]:
    """Every chart of the page as a data: URL."""
    out = {"trainees": data_url(trainees_by_origin_chart(period, scope))}
    for target in EVALUATION_TITLES:
        rows = evaluation_averages(period, scope, target)
        out[f"evaluations_{target}"] = data_url(evaluation_chart(rows, target))
    if scope.member is None:
        out["members"] = data_url(classes_per_member_chart(classes_per_member(period, scope)))
        today = datetime.now(LOCAL_TZ).date()
        out["overdue"] = data_url(overdue_chart(overdue_per_member(today)))
    return out
