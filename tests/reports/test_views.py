"""The 统计报表 pages, exports and CLI: who sees what, and that every file reads back."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from docx import Document
from openpyxl import load_workbook

from portal.extensions import db
from portal.reports.exports import report_xlsx
from portal.reports.figures import compute
from portal.reports.period import Scope, year_period
from tests.conftest import login

pytestmark = pytest.mark.db


def test_office_reads_the_report_and_opens_a_figure(year, client):
    login(client, "office")
    page = client.get("/reports/?year=2025")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "总班次5期，培训总人数75人" in html
    assert 'data-testid="figure-classes">5</a>' in html
    assert "data:image/svg+xml;base64," in html  # the charts, drawn on the server
    assert 'data-testid="occupancy"' in html
    assert 'data-testid="overdue-chart"' in html
    records = client.get("/reports/figures/ring_classes?start=2025-01-01&end=2025-12-31")
    text = records.get_data(as_text=True)
    assert records.status_code == 200
    assert 'data-testid="figure-value">2<' in text
    assert ">c1<" in text and ">c3<" in text and ">c9<" not in text
    assert client.get("/reports/figures/nothing?year=2025").status_code == 404
    records = client.get("/reports/figures/certificates_withdrawn?year=2025")
    text = records.get_data(as_text=True)
    assert records.status_code == 200 and "已撤销" in text and "暂缓发放" in text


def test_member_sees_its_own_scope_only(year, client):
    login(client, "party_school_staff")
    html = client.get("/reports/?year=2025").get_data(as_text=True)
    assert "总班次2期，培训总人数40人" in html
    # Asking for the consortium still gives its own member; another member's is not there.
    assert "总班次2期" in client.get("/reports/?year=2025&member=").get_data(as_text=True)
    assert client.get("/reports/?year=2025&member=tengchong_college").status_code == 404
    assert client.get("/reports/export.xlsx?year=2025&member=tengchong_college").status_code == 404
    assert (
        client.get("/reports/figures/classes?year=2025&member=tengchong_college").status_code == 404
    )


def test_office_picks_a_member(year, client):
    login(client, "office")
    html = client.get("/reports/?year=2025&member=tengchong_college").get_data(as_text=True)
    assert "总班次2期，培训总人数50人" in html
    assert client.get("/reports/?year=2025&member=nobody").status_code == 404


def test_organizer_and_trainee_are_refused(year, client):
    for username in ("organizer", "trainee"):
        login(client, username)
        assert client.get("/reports/").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "year=1999",
        "year=abc",
        "year=2026&quarter=9",
        "start=2026-05-01&end=2026-01-01",
        "start=x&end=y",
        "start=2026-01-01",
        "start=2000-01-01&end=2100-12-31",
    ],
)
def test_wrong_periods_answer_in_chinese_and_keep_what_was_typed(demo, client, query):
    login(client, "office")
    page = client.get(f"/reports/?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "所填统计期有误" in html and "is-invalid" in html
    typed = query.split("&")[0].split("=")[1]
    assert f'value="{typed}"' in html


def test_exports_read_back(year, client):
    login(client, "office")
    xlsx = client.get("/reports/export.xlsx?year=2025")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames[:6] == [
        "报告",
        "培训班次与人数",
        "接待参观学习",
        "资源建设",
        "师资队伍",
        "联席会议与联动活动",
    ]
    rows = {r[0]: r[1] for r in book["培训班次与人数"].iter_rows(min_row=2, values_only=True)}
    assert rows["举办培训班次"] == 5 and rows["环线培训人数"] == 40
    certificates = {r[0]: r[1] for r in book["结业证书"].iter_rows(min_row=2, values_only=True)}
    assert certificates == {"颁发结业证书": 3, "暂缓发放或撤销的结业证书": 2}
    members = {r[0]: r[1:] for r in book["各成员单位"].iter_rows(min_row=2, values_only=True)}
    assert members[year["a"].name] == (2, 40)
    docx = client.get("/reports/export.docx?year=2025")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    assert "共接待参观学习和培训班次5批95人次" in text
    assert "颁发结业证书3份，暂缓发放或撤销2份" in text
    txt = client.get("/reports/export.txt?year=2025").get_data(as_text=True)
    assert txt.startswith("全联盟2025年工作报告")
    pdf = client.get("/reports/export.pdf?year=2025")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
        ).stdout.decode()
        assert "培训总人数75人" in out.replace("\n", "")


def test_xlsx_guards_against_formulas(year):
    year["a"].name = '=HYPERLINK("http://x")'
    db.session.flush()
    book = load_workbook(io.BytesIO(report_xlsx(compute(year_period(2025), Scope(year["a"])))))
    cells = [c.value for row in book["各成员单位"].iter_rows() for c in row]
    assert '\'=HYPERLINK("http://x")' in cells
    assert all(c.data_type != "f" for ws in book for row in ws.iter_rows() for c in row)


def test_cli_writes_every_format(year, app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "report", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "总班次5期" in result.output
    result = runner.invoke(args=["portal", "report", "--year", "2025", "--member", "party_school"])
    assert "总班次2期" in result.output
    for fmt in ("xlsx", "pdf", "docx"):
        out = tmp_path / f"r.{fmt}"
        result = runner.invoke(
            args=["portal", "report", "--year", "2025", "--format", fmt, "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    assert load_workbook(tmp_path / "r.xlsx")["培训班次与人数"]["B2"].value == 5
    bad = runner.invoke(args=["portal", "report", "--year", "1999"])
    assert bad.exit_code != 0 and "2000" in bad.output
    bad = runner.invoke(args=["portal", "report", "--year", "2025", "--member", "nobody"])
    assert bad.exit_code != 0
    bad = runner.invoke(args=["portal", "report", "--year", "2025", "--format", "xlsx"])
    assert bad.exit_code != 0


def test_demo_shows_figures(demo, client):
    from portal.demo import load_demo

    load_demo(season=["reports"])
    load_demo(season=["reports"])  # idempotent
    login(client, "office")
    html = client.get("/reports/").get_data(as_text=True)
    assert 'data-testid="figure-classes">0<' not in html
    assert 'data-testid="figure-ring_classes">0<' not in html
    assert 'data-testid="plan-progress"' in client.get("/dashboard").get_data(as_text=True)
    assert "党性教育培训班" in client.get("/reports/plan").get_data(as_text=True)
    login(client, "organizer")
    assert 'data-next="book_ring"' in client.get("/dashboard").get_data(as_text=True)


def test_classes_list_shows_origin_and_exports(year, client):
    login(client, "office")
    html = client.get("/classes").get_data(as_text=True)
    assert "市外省内" in html and "已取消" in html
    book = load_workbook(io.BytesIO(client.get("/reports/classes.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("班级名称", "类别", "来源")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["c2"][2] == "市外省内" and by_name["c2"][7] == 3
    assert by_name["c4"][10] == "已取消"
    login(client, "organizer")
    assert client.get("/reports/classes.xlsx").status_code == 200
    login(client, "party_school_staff")
    assert client.get("/reports/classes.xlsx").status_code == 403


def test_hook_portal_report_figures(year, client, app):
    """A member adds a figure of its own (松山基地: guided groups on the battlefield); in
    another member's scope it is not asked; a plugin that raises adds nothing."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal import hookimpl
    from portal.catalog.models import TeachingSite
    from portal.scheduling.models import Booking, Reservation
    from tests.members.test_plugins import registered
    from tests.reports.conftest import at

    battlefield = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "battlefield"))
    booking = db.session.scalar(select(Booking).where(Booking.class_id == year["c3"].id))
    for guided in (True, True, False):
        starts = at(date(2025, 6, 12), 14)
        booking.reservations.append(
            Reservation(
                site_id=battlefield.id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                group_size=10,
                guide_requested=guided,
                status="confirmed",
            )
        )
    db.session.commit()
    login(client, "office")
    page = client.get("/reports/?year=2025").get_data(as_text=True)
    assert 'data-testid="plugin-figures"' in page
    assert "战场遗址讲解批次" in page and ">2 批<" in page.replace("</td>", "<")
    own = client.get("/reports/?year=2025&member=songshan_base").get_data(as_text=True)
    assert "战场遗址讲解批次" in own
    other = client.get("/reports/?year=2025&member=party_school").get_data(as_text=True)
    assert "战场遗址讲解批次" not in other
    book = load_workbook(io.BytesIO(client.get("/reports/export.xlsx?year=2025").data))
    rows = list(book["成员单位自报"].iter_rows(min_row=2, values_only=True))
    assert rows == [("松山基地", "战场遗址讲解批次", 2, "批", rows[0][4])]

    class Faulty:
        @hookimpl
        def portal_report_figures(self, start, end, member_key):
            raise RuntimeError("statistics service down")

    with registered(app, Faulty(), "faulty"):
        page = client.get("/reports/?year=2025")
        assert page.status_code == 200 and "战场遗址讲解批次" in page.get_data(as_text=True)


def test_classes_list_has_kind_dates_state_and_filters(year, client):
    from datetime import date

    from portal.scheduling.class_list import class_state

    c1, c4 = year["c1"], year["c4"]
    assert class_state(c1, date(2024, 12, 31)) == "upcoming"
    assert class_state(c1, date(2025, 1, 1)) == "ongoing"
    assert class_state(c1, date(2025, 1, 2)) == "finished"
    assert class_state(c4, date(2024, 1, 1)) == "cancelled"
    login(client, "office")
    html = client.get("/classes").get_data(as_text=True)
    assert "主体班" in html and "2025-12-31 – 2026-01-02" in html and "已结业" in html

    def names(query: str) -> set[str]:
        response = client.get("/classes?" + query)
        assert response.status_code == 200, query
        text = response.get_data(as_text=True)
        return {
            c for c in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9") if f">{c}<" in text
        }

    assert names("origin=other_province") == {"c3", "c7"}
    assert names("state=cancelled") == {"c4"}
    # Overlapping the days: c2 spans New Year, c6 ends on 2024-12-31.
    assert names("from=2026-01-01&to=2026-01-31") == {"c2", "c7"}
    assert names("kind=commissioned") == set()
    wrong = client.get("/classes?from=2025-02-30&state=nonsense&to=1800-01-01")
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "2025-02-30" in text and "请选择状态" in text  # typed text kept, a message each
    reversed_days = client.get("/classes?from=2025-06-01&to=2025-01-01")
    assert "结束日期不能早于开始日期" in reversed_days.get_data(as_text=True)
    # The export follows the filters.
    book = load_workbook(io.BytesIO(client.get("/reports/classes.xlsx?state=cancelled").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["c4"]
    assert rows[1][10] == "已取消"
