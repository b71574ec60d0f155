"""The itinerary PDF read back: whole times, Chinese line breaks, declined stops, legs, contacts, map."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.members.models import Member
from portal.pdf import NO_LINE_END, NO_LINE_START, wrap_text
from portal.scheduling import itinerary
from portal.scheduling.booking import book, decide
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import RouteTemplate
from tests.conftest import login
from tests.scheduling.helpers import future_weekday, new_class, user

PROJECT = Path(__file__).resolve().parents[2]
TIME_RANGE = re.compile(r"\b\d{2}:\d{2}–\d{2}:\d{2}\b")


def test_line_breaks_follow_chinese_rules():
    text = "杨善洲精神教育基地（大亮山林场）、善洲墓园，滇西抗战纪念馆。09:00–12:00（上午）"
    for width in range(4, 30):  # a cell holds at least four characters
        lines = wrap_text(text, width, len)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in NO_LINE_START, (width, lines)
        for line in lines[:-1]:
            assert line[-1] not in NO_LINE_END, (width, lines)
        if width >= 11:
            assert any("09:00–12:00" in line for line in lines), (width, lines)


def test_numbers_and_times_stay_whole_and_explicit_breaks_are_kept():
    lines = wrap_text("联系电话：0875-2120000", 12, len)
    assert "0875-2120000" in lines[-1]
    assert wrap_text("第一行\n第二行", 10, len) == ["第一行", "第二行"]


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} (Debian poppler-utils) is required in CI")
    return found


@pytest.fixture
def five_days(demo):
    """A class on the five-day route with one stop declined by its member."""
    route = db.session.scalar(
        select(RouteTemplate).where(RouteTemplate.name == "三点一线五日精品环线")
    )
    klass = new_class(
        36, name="某省委组织部县处级干部党性教育培训班", days=5, start=future_weekday(2)
    )
    booking = book(
        klass,
        plan_from_template(route, klass.starts_on),
        user("organizer"),
        template=route,
    )
    db.session.commit()
    declined = next(r for r in booking.reservations if r.site.key == "dianxi_memorial")
    decide(declined, user("tengchong_college_staff"), confirm=False, reason="闭馆维护")
    db.session.commit()
    return klass, booking, declined


@pytest.mark.db
def test_the_itinerary_shows_declined_stops_legs_and_contacts(five_days):
    klass, booking, declined = five_days
    shown = itinerary.build(klass)
    rows = [row for day in shown.days for row in day.rows]
    stops = [r for r in booking.reservations if r.status != "cancelled"]
    assert shown.declined == 1
    marked = [row for row in rows if row.status == "已婉拒"]
    assert len(marked) == 1 and marked[0].muted and declined.site.name in marked[0].place
    legs = [row for row in rows if row.arrangement.startswith("车程约")]
    assert len(legs) == shown.legs >= 3
    assert len(rows) == len(stops) + len(legs)
    # Nobody is told to go to the declined stop: no leg leads there or away from it.
    assert not any(declined.site.name in row.place for row in legs)
    hosts = {c.member for c in shown.contacts}
    assert hosts == {
        m.short_name
        for m in db.session.scalars(select(Member))
        if any(r.site.member_id == m.id and r.status != "declined" for r in stops)
    }
    assert shown.map is not None and len(shown.map.stops) == len({r.site_id for r in stops})


@pytest.mark.db
def test_the_pdf_read_back(five_days, client, tmp_path):
    klass, booking, declined = five_days
    login(client, "organizer")
    response = client.get(f"/classes/{klass.id}/itinerary.pdf")
    if response.status_code == 503 and os.environ.get("CI") != "true":
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk)")
    assert response.status_code == 200
    pdf = tmp_path / "itinerary.pdf"
    pdf.write_bytes(response.data)
    pdftotext = _tool("pdftotext")
    if not pdftotext:
        pytest.skip("poppler-utils missing")
    # -raw: each line of each table cell on a line of its own, in the order written.
    raw = subprocess.run(
        [pdftotext, "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.strip() for line in raw.splitlines() if line.strip()]

    shown = itinerary.build(klass)
    expected_times = [row.time for day in shown.days for row in day.rows]
    assert TIME_RANGE.findall(raw) == expected_times  # every time whole, none missing
    # No time broken over two lines ("09:00–12:0" / "0", "09:" / "00–12:00") in the days'
    # tables (the map before them numbers its stops).
    tables = raw[raw.index(shown.days[0].heading) :]
    assert not re.search(r"\d{2}:\d?$|\d{2}:\d{2}–(\d{1,2}(:\d?)?)?$", tables, re.M)
    assert not re.search(r"^(\d$|\d?\d?:\d\d(?!–)|\d?\d?–)", tables, re.M)
    for line in lines:
        assert line[0] not in NO_LINE_START, line
        assert line[-1] not in NO_LINE_END, line
    assert "已婉拒" in raw and "该站已被婉拒" in raw and declined.site.name in raw
    assert raw.count("车程约") == shown.legs
    for member in {r.site.member for r in booking.reservations if r.status != "declined"}:
        assert member.phone in raw and member.short_name in raw
    assert "接待单位联系方式" in raw and "行程路线图" in raw and "公里" in raw

    pdftoppm = _tool("pdftoppm")
    target = os.environ.get("PORTAL_SCREENSHOTS")
    if pdftoppm and target:
        folder = Path(target) if Path(target).is_absolute() else PROJECT / target
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(folder / "itinerary-pdf-first-page"),
            ],
            check=True,
        )
