"""The yearly directory (年度现场教学点目录): the sites in the directory in a year, with that
year's assessment, as a public page, an .xlsx and a PDF (``portal.pdf``, CJK font)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.excel import workbook
from portal.catalog.models import SiteAssessment, TeachingSite
from portal.directory.models import DirectoryEvent
from portal.extensions import db
from portal.pdf import FontChoice, PdfSection, build_pdf
from portal.timeutil import LOCAL_TZ

FIRST_YEAR = 2000


@dataclass(frozen=True)
class Entry:
    site: TeachingSite
    score: float | None
    status: str


def entries(year: int) -> list[Entry]:
    """Admitted sites that existed by the end of ``year`` and had not left before it began,
    by member then name, with the year's assessment total."""
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), LOCAL_TZ)
    begin = datetime.combine(datetime(year, 1, 1).date(), time(0), LOCAL_TZ)
    left_before = {
        site_id
        for (site_id,) in db.session.execute(
            select(DirectoryEvent.site_id).where(
                DirectoryEvent.action == "exit", DirectoryEvent.created_at < begin
            )
        )
    }
    sites = db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.admission == "admitted", TeachingSite.created_at < end)
        .options(selectinload(TeachingSite.member))
        .order_by(TeachingSite.member_id, TeachingSite.name)
    ).all()
    scores = dict(
        db.session.execute(
            select(SiteAssessment.site_id, SiteAssessment.score).where(SiteAssessment.year == year)
        ).all()
    )
    return [
        Entry(site, scores.get(site.id), site.status_label)
        for site in sites
        if site.id not in left_before and not (site.status == "retired" and site.id not in scores)
    ]


def headers() -> list[str]:
    return [
        _("序号"),
        _("教学点"),
        _("成员单位"),
        _("主题"),
        _("地址"),
        _("容量"),
        _("考核得分"),
        _("状态"),
    ]


def rows(items: Sequence[Entry]) -> list[list]:
    return [
        [
            i,
            e.site.name,
            e.site.member.name,
            e.site.theme,
            e.site.address,
            e.site.capacity,
            e.score if e.score is not None else "",
            e.status,
        ]
        for i, e in enumerate(items, start=1)
    ]


def title(year: int) -> str:
    return _("%(year)s 年度现场教学点目录", year=year)


def xlsx(year: int) -> bytes:
    return workbook(str(year), headers(), [6, 28, 22, 12, 30, 8, 10, 8], rows(entries(year)))


def pdf(year: int, font: FontChoice) -> bytes:
    items = entries(year)
    table = [headers()] + [[str(v) for v in row] for row in rows(items)]
    now = datetime.now(LOCAL_TZ)
    return build_pdf(
        title=title(year),
        facts=[(_("教学点数"), str(len(items)))],
        sections=[
            PdfSection(
                heading=_("目录"),
                table=table,
                widths=[10, 34, 28, 16, 40, 12, 14, 12],
                empty=_("本年度目录中没有教学点。"),
            )
        ],
        footer=_("环线培训门户 · 生成日期：%(date)s", date=now.strftime("%Y-%m-%d %H:%M")),
        page_label=_("第 %(page)s 页", page="{page}"),
        font=font,
    )
