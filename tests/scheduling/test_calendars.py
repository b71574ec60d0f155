"""Calendars: month and week pages, who sees which class, iCalendar feeds, the PDF itinerary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import event, select

from portal import pdf
from portal.auth import services as auth_services
from portal.auth.models import User
from portal.catalog.models import Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling import calendars
from portal.scheduling.booking import book
from portal.scheduling.classes import register_class
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ
from tests.conftest import login

pytestmark = pytest.mark.db

ROUTE = "杨善洲精神一日环线"
CLASS_NAME = "保山市第七期中青年干部培训班"
UNIT = "某州委组织部"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def teacher(key: str) -> Teacher:
    return db.session.scalar(select(Teacher).where(Teacher.key == key))


def member(key: str) -> Member:
    return db.session.scalar(select(Member).where(Member.key == key))


def future_tuesday() -> date:
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=14)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def register(organizer: str = "organizer", name: str = CLASS_NAME) -> TrainingClass:
    day = future_tuesday()
    training_class = register_class(
        user(organizer),
        {
            "name": name,
            "kind": "main",
            "origin": "province",
            "sending_unit": UNIT,
            "size": 30,
            "starts_on": day,
            "ends_on": day,
            "theme": "党性教育",
            "contact_name": "张联系人",
            "contact_phone": "13800000000",
        },
    )
    db.session.commit()
    return training_class


@pytest.fixture
def booked(demo):
    """The one-day 杨善洲 route booked for a class of 30 on a Tuesday two weeks or more ahead."""
    training_class = register()
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == ROUTE))
    booking = book(
        training_class,
        plan_from_template(template, future_tuesday()),
        user("organizer"),
        template=template,
    )
    return {"class_id": training_class.id, "booking_id": booking.id, "day": future_tuesday()}


@pytest.fixture
def other_organizer(demo) -> User:
    other = auth_services.create_user(
        username="organizer2",
        display_name="另一位联系人",
        role="organizer",
        password="huanxian2026",
    )
    db.session.commit()
    return other


def day_cell(page: str, day: date) -> str:
    """The HTML of one day (a month cell or a week section)."""
    match = re.search(
        rf'<(td|section)[^>]*data-day="{day.isoformat()}"[^>]*>(.*?)</\1>', page, re.S
    )
    assert match, f"no cell for {day}"
    return match.group(2)


# ---------------------------------------------------------------- pure helpers


def test_windows_start_on_monday_and_cover_whole_weeks():
    window = calendars.make_window("month", date(2026, 2, 18))
    assert window.first == date(2026, 1, 26) and window.first.weekday() == 0
    assert window.last == date(2026, 3, 1) and window.last.weekday() == 6
    assert all(len(week) == 7 for week in window.weeks)
    assert (window.prev, window.next) == (date(2026, 1, 1), date(2026, 3, 1))
    week = calendars.make_window("week", date(2026, 6, 11))
    assert (week.first, week.last) == (date(2026, 6, 8), date(2026, 6, 14))
    assert (week.prev, week.next) == (date(2026, 6, 1), date(2026, 6, 15))
    december = calendars.make_window("month", date(2026, 12, 31))
    assert (december.prev, december.next) == (date(2026, 11, 1), date(2027, 1, 1))
    start, end = week.utc_bounds()
    assert start == datetime(2026, 6, 7, 16, tzinfo=UTC)
    assert end == datetime(2026, 6, 14, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2026-02-30", "2026-13-01", "26-1-1", "20260101", "tomorrow", "9999-01-01", " "]
)
def test_bad_days_are_refused(text):
    with pytest.raises(ValueError):
        calendars.parse_day(text, date(2026, 1, 1))


def test_font_search(tmp_path):
    assert pdf.find_font(str(tmp_path / "missing.ttc")) is None
    found = pdf.find_font()
    if found is not None and found.path.endswith("NotoSansCJK-Regular.ttc"):
        assert found.face == 2  # Noto Sans CJK SC


# ---------------------------------------------------------------- pages


def test_month_and_week_show_local_day_and_time(client, booked):
    day = booked["day"]
    spirit = site("spirit_base")
    stored = db.session.scalar(
        select(Reservation).where(
            Reservation.booking_id == booked["booking_id"], Reservation.site_id == spirit.id
        )
    )
    # Stored in UTC: 09:00 in Asia/Shanghai is 01:00 UTC.
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert (stored.starts_at.hour, stored.starts_at.minute) == (1, 0)

    month = client.get(f"/calendar/site/{spirit.id}?date={day.isoformat()}")
    assert month.status_code == 200
    page = month.get_data(as_text=True)
    assert "周一" in page and "周日" in page
    cell = day_cell(page, day)
    assert "09:00" in cell and spirit.name in cell and "已预约" in cell
    assert "09:00" not in day_cell(page, day - timedelta(days=1))

    week = client.get(f"/calendar/site/{spirit.id}?view=week&date={day.isoformat()}")
    assert week.status_code == 200
    section = day_cell(week.get_data(as_text=True), day)
    assert "09:00" in section and "12:00" in section

    # The default: the month of today, with prev/next/today links.
    default = client.get(f"/calendar/site/{spirit.id}").get_data(as_text=True)
    this_month = datetime.now(LOCAL_TZ).date()
    assert f"{this_month.year}年{this_month.month}月" in default
    assert 'rel="prev"' in default and 'rel="next"' in default and "今天" in default


def test_anonymous_sees_no_class_but_hosting_staff_does(client, booked):
    spirit = site("spirit_base")
    url = f"/calendar/site/{spirit.id}?date={booked['day'].isoformat()}"
    anonymous = client.get(url).get_data(as_text=True)
    assert "已预约" in anonymous
    assert CLASS_NAME not in anonymous and UNIT not in anonymous

    login(client, "party_school_staff")  # staff of another member
    other = client.get(url).get_data(as_text=True)
    assert CLASS_NAME not in other

    login(client, "yangshanzhou_college_staff")
    hosting = client.get(url).get_data(as_text=True)
    assert CLASS_NAME in day_cell(hosting, booked["day"])
    week = client.get(url + "&view=week").get_data(as_text=True)
    assert CLASS_NAME in week and UNIT in week

    login(client, "office")
    assert CLASS_NAME in client.get(url).get_data(as_text=True)


def test_member_calendar_lists_all_its_sites(client, booked):
    ysz = member("yangshanzhou_college")
    url = f"/calendar/member/{ysz.id}?view=week&date={booked['day'].isoformat()}"
    page = client.get(url).get_data(as_text=True)
    section = day_cell(page, booked["day"])
    for key in ("spirit_base", "exhibition_room", "cemetery"):
        assert site(key).name in section
    assert CLASS_NAME not in page
    login(client, "yangshanzhou_college_admin")
    assert CLASS_NAME in client.get(url).get_data(as_text=True)
    # Another member's calendar shows none of it.
    party = member("party_school")
    other = client.get(f"/calendar/member/{party.id}?date={booked['day'].isoformat()}")
    assert other.status_code == 200 and CLASS_NAME not in other.get_data(as_text=True)


def test_class_calendar_only_for_its_organizer_and_the_office(client, booked, other_organizer):
    url = f"/calendar/class/{booked['class_id']}?view=week&date={booked['day'].isoformat()}"
    assert client.get(url).status_code == 404
    login(client, "organizer2")
    assert client.get(url).status_code == 404
    login(client, "yangshanzhou_college_staff")
    assert client.get(url).status_code == 404
    login(client, "organizer")
    page = client.get(url).get_data(as_text=True)
    assert CLASS_NAME in page and site("cemetery").name in page
    assert "/calendar/feed/" in page  # the private subscription link
    login(client, "office")
    assert client.get(url).status_code == 200
    assert client.get("/calendar/class/999999").status_code == 404


def test_teacher_calendar_follows_sharing(client, booked):
    hidden = teacher("su_wenbin")  # not shared; teaches the 09:00 course at the base
    shared = teacher("zi_yanhong")  # shared; teaches the 13:30 course
    day = booked["day"].isoformat()
    assert not hidden.shared and shared.shared
    assert client.get(f"/calendar/teacher/{hidden.id}?date={day}").status_code == 404
    assert client.get(f"/calendar/teacher/{hidden.id}.ics").status_code == 404
    public = client.get(f"/calendar/teacher/{shared.id}?date={day}")
    assert public.status_code == 200
    cell = day_cell(public.get_data(as_text=True), booked["day"])
    assert "13:30" in cell and CLASS_NAME not in cell

    login(client, "party_school_staff")
    assert client.get(f"/calendar/teacher/{hidden.id}?date={day}").status_code == 404
    login(client, "yangshanzhou_college_staff")
    own = client.get(f"/calendar/teacher/{hidden.id}?date={day}")
    assert own.status_code == 200
    cell = day_cell(own.get_data(as_text=True), booked["day"])
    assert "09:00" in cell and CLASS_NAME in cell


def print_table(page: str) -> str:
    """The week's print-only table (calendar-print.css shows it on paper)."""
    match = re.search(r'<table[^>]*data-testid="print-week"[^>]*>(.*?)</table>', page, re.S)
    assert match, "no print table"
    return match.group(1)


def print_rows(table: str, day: date) -> list[str]:
    """The rows of one day in the print table."""
    match = re.search(rf'<tbody data-print-day="{day.isoformat()}">(.*?)</tbody>', table, re.S)
    assert match, f"no print rows for {day}"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S)


def test_week_prints_every_reservation_with_class_contact_size_and_status(client, booked):
    """The 打印 button, the print stylesheet and a table with a row per reservation."""
    day = booked["day"]
    spirit = site("spirit_base")
    week_url = f"/calendar/site/{spirit.id}?view=week&date={day.isoformat()}"
    login(client, "yangshanzhou_college_staff")
    page = client.get(week_url).get_data(as_text=True)
    # The button is shown by print.js (hidden without JavaScript); both files are served.
    assert re.search(r"<button[^>]*data-print[^>]*hidden[^>]*>打印</button>", page)
    assert '<script src="/static/print.js" defer></script>' in page
    assert '<link rel="stylesheet" media="print" href="/static/calendar-print.css">' in page
    for path in ("/static/print.js", "/static/calendar-print.css"):
        assert client.get(path).status_code == 200
    assert "@page { size: A4 landscape" in client.get("/static/calendar-print.css").get_data(
        as_text=True
    )
    assert "生成日期" in page

    table = print_table(page)
    headers = re.findall(r'<th scope="col">(.*?)</th>', table)
    assert headers == ["日期", "时间", "培训班（选派单位）", "安排", "联系人", "人数", "状态"]
    rows = print_rows(table, day)
    assert len(rows) == 1  # the 09:00 lesson at the base; its other stops are at other sites
    row = rows[0]
    for expected in ("09:00–12:00", CLASS_NAME, UNIT, "张联系人 13800000000", "30 人", "待确认"):
        assert expected in row, expected
    assert f"{day.isoformat()}<br>周二" in row
    # Every day of the week has its row, with 无安排 when nothing is booked.
    for offset in range(7):
        other = day - timedelta(days=day.weekday()) + timedelta(days=offset)
        if other != day:
            assert "无安排" in print_rows(table, other)[0]
    # The screen's week list says how many come too.
    assert "30 人" in day_cell(page, day)

    # The month view has no print table and no button; the public sees no class on paper.
    month = client.get(f"/calendar/site/{spirit.id}?date={day.isoformat()}").get_data(as_text=True)
    assert "data-print" not in month and 'data-testid="print-week"' not in month
    login(client, "party_school_staff")
    other = print_table(client.get(week_url).get_data(as_text=True))
    assert re.findall(r'<th scope="col">(.*?)</th>', other) == ["日期", "时间", "状态"]
    assert "已预约" in print_rows(other, day)[0]
    assert CLASS_NAME not in other and "张联系人" not in other and "13800000000" not in other


def test_week_prints_each_squad_of_a_split_class(client, booked):
    """A class in squads: one row per squad, with its size and the whole class's."""
    day = booked["day"] + timedelta(days=7)
    training_class = register_class(
        user("organizer"),
        {
            "name": "滇西片区基层党组织书记示范班",
            "kind": "commissioned",
            "origin": "other_province",
            "sending_unit": "某省委组织部",
            "size": 46,
            "starts_on": day,
            "ends_on": day,
            "theme": "党性教育",
            "contact_name": "赵联系人",
            "contact_phone": "13900000000",
        },
    )
    db.session.commit()
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == ROUTE))
    cemetery = site("cemetery")
    index = next(i for i, stop in enumerate(template.stops) if stop.site_id == cemetery.id)
    book(
        training_class,
        plan_from_template(template, day, squads={index: 2}),
        user("organizer"),
        template=template,
    )
    login(client, "office")
    page = client.get(f"/calendar/site/{cemetery.id}?view=week&date={day.isoformat()}").get_data(
        as_text=True
    )
    rows = print_rows(print_table(page), day)
    assert len(rows) == 2
    assert "23 人" in rows[0] and "第 1 组，全班 46 人" in rows[0]
    assert "23 人" in rows[1] and "第 2 组，全班 46 人" in rows[1]
    assert 'rowspan="2"' in rows[0] and "rowspan" not in rows[1]
    assert "赵联系人 13900000000" in rows[1]
    section = day_cell(page, day)
    assert "第 1 组" in section and "第 2 组" in section


@pytest.mark.parametrize(
    "query",
    [
        "date=2026-02-30",
        "date=2026-13-01",
        "date=yesterday",
        "date=9999-12-31",
        "date=0001-01-01",
        "date=2026-1-5",
        "view=year",
        "view=week&date=2025-02-29",
    ],
)
def test_bad_dates_and_views_are_400(client, demo, query):
    spirit = site("spirit_base")
    response = client.get(f"/calendar/site/{spirit.id}?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "日期无效" in text or "视图只能是" in text


def test_one_query_for_the_reservations(app, client, booked):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    url = f"/calendar/member/{member('yangshanzhou_college').id}?date={booked['day'].isoformat()}"
    login(client, "office")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    from_reservations = [s for s in statements if re.search(r"FROM reservations\b", s)]
    assert len(from_reservations) == 1, from_reservations
    assert len(statements) <= 12, statements


# ---------------------------------------------------------------- iCalendar feeds


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.get_data())


def test_public_site_feed(client, booked):
    spirit = site("spirit_base")
    first = client.get(f"/calendar/site/{spirit.id}.ics")
    cal = parse(first)
    raw = first.get_data(as_text=True)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in raw
    assert "X-PUBLISHED-TTL:PT1H" in raw
    assert str(cal["X-WR-CALNAME"]).endswith(spirit.name)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    vevent = events[0]
    assert vevent["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert vevent.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == (
        f"{booked['day'].isoformat()} 09:00"
    )
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(vevent["STATUS"]) == "TENTATIVE"
    assert spirit.name in str(vevent["LOCATION"]) and spirit.address in str(vevent["LOCATION"])
    assert "已预约" in str(vevent["SUMMARY"])
    assert CLASS_NAME not in raw and UNIT not in raw

    again = parse(client.get(f"/calendar/site/{spirit.id}.ics"))
    uids = [str(e["UID"]) for e in events]
    assert uids == [str(e["UID"]) for e in again.walk("VEVENT")]
    assert re.fullmatch(r"reservation-\d+", uids[0])


def test_uids_never_depend_on_the_host_asked(app, client, booked):
    """One booking fetched through two host names is one event in a calendar app."""
    spirit = site("spirit_base")
    url = f"/calendar/site/{spirit.id}.ics"

    def uids(**kwargs) -> list[str]:
        return [str(e["UID"]) for e in parse(client.get(url, **kwargs)).walk("VEVENT")]

    inside = uids(base_url="http://portal.internal:5081")
    outside = uids(base_url="https://huanxian.example.org")
    assert inside == outside and "internal" not in inside[0]
    app.config["CALENDAR_UID_DOMAIN"] = "huanxian.example.org"
    try:
        configured = uids(base_url="http://portal.internal:5081")
    finally:
        app.config["CALENDAR_UID_DOMAIN"] = None
    assert configured == [f"{uid}@huanxian.example.org" for uid in inside]


def test_member_and_teacher_feeds(client, booked):
    ysz = member("yangshanzhou_college")
    cal = parse(client.get(f"/calendar/member/{ysz.id}.ics"))
    assert len(cal.walk("VEVENT")) == 3
    shared = teacher("zi_yanhong")
    cal = parse(client.get(f"/calendar/teacher/{shared.id}.ics"))
    (vevent,) = cal.walk("VEVENT")
    assert vevent.decoded("DTSTART").strftime("%H:%M") == "13:30"
    # With a session the hosting staff get the details in the same feed.
    login(client, "yangshanzhou_college_staff")
    raw = client.get(f"/calendar/member/{ysz.id}.ics").get_data(as_text=True)
    assert CLASS_NAME in raw


def test_class_feed_needs_owner_or_token(app, client, booked, other_organizer):
    class_id = booked["class_id"]
    assert client.get(f"/calendar/class/{class_id}.ics").status_code == 404
    login(client, "organizer2")
    assert client.get(f"/calendar/class/{class_id}.ics").status_code == 404

    login(client, "organizer")
    page = client.get(f"/calendar/class/{class_id}").get_data(as_text=True)
    link = re.search(r'value="(http://localhost/calendar/feed/[^"]+\.ics)"', page).group(1)
    with_session = parse(client.get(f"/calendar/class/{class_id}.ics"))
    assert len(with_session.walk("VEVENT")) == 3

    # A calendar app: no session at all.
    app_client = app.test_client()
    path = link.removeprefix("http://localhost")
    cal = parse(app_client.get(path))
    events = cal.walk("VEVENT")
    assert len(events) == 3
    assert all(CLASS_NAME in str(e["SUMMARY"]) for e in events)
    assert "选派单位" in str(events[0]["DESCRIPTION"])
    assert str(cal["X-WR-CALNAME"]).endswith(CLASS_NAME)
    assert [str(e["UID"]) for e in events] == [
        str(e["UID"]) for e in parse(app_client.get(path)).walk("VEVENT")
    ]

    assert app_client.get("/calendar/feed/garbage.ics").status_code == 404
    token = path.split("/")[-1].removesuffix(".ics")
    tampered = token[:-2] + ("BB" if token.endswith("AA") else "AA")
    assert app_client.get(f"/calendar/feed/{tampered}.ics").status_code == 404

    # A password change (any session-version bump) ends the link.
    organizer = user("organizer")
    organizer.session_version += 1
    db.session.commit()
    assert app_client.get(path).status_code == 404


def test_token_is_checked_against_current_rights(app, client, booked):
    """A member's staff token for its site feed stops when the user leaves that member."""
    from portal.scheduling.calendar_views import feed_token

    spirit = site("spirit_base")
    staff = user("yangshanzhou_college_staff")
    with app.test_request_context():
        token = feed_token("site", spirit.id, staff)
        forged = feed_token("site", spirit.id, user("organizer"))  # organizers get no details
    raw = client.get(f"/calendar/feed/{token}.ics").get_data(as_text=True)
    assert CLASS_NAME in raw
    assert client.get(f"/calendar/feed/{forged}.ics").status_code == 404
    staff.member_id = member("party_school").id
    db.session.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404


# ---------------------------------------------------------------- PDF itinerary


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} (Debian poppler-utils) is required in CI")
    return found


def test_itinerary_pdf(client, booked, other_organizer, tmp_path):
    url = f"/classes/{booked['class_id']}/itinerary.pdf"
    assert client.get(url).status_code == 404
    login(client, "organizer2")
    assert client.get(url).status_code == 404
    login(client, "organizer")
    response = client.get(url)
    if response.status_code == 503 and os.environ.get("CI") != "true":
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk)")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    pdf = tmp_path / "itinerary.pdf"
    pdf.write_bytes(body)

    pdffonts = _tool("pdffonts")
    if pdffonts:
        lines = subprocess.run(
            [pdffonts, str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        assert lines, "no font in the PDF"
        header = subprocess.run(
            [pdffonts, str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        emb = header.index("emb")
        assert all(line[emb : emb + 3] == "yes" for line in lines), lines
    pdftotext = _tool("pdftotext")
    if pdftotext:
        text = subprocess.run(
            [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in ("培训班行程单", CLASS_NAME, UNIT, "30 人", "09:00", "午餐", "生成日期"):
            assert expected in text, expected
        assert site("spirit_base").name[:6] in text

    login(client, "office")
    assert client.get(url).status_code == 200


def test_itinerary_without_a_font_is_503(app, client, booked):
    app.config["PDF_FONT_PATH"] = "/nonexistent/font.ttc"
    login(client, "organizer")
    response = client.get(f"/classes/{booked['class_id']}/itinerary.pdf")
    assert response.status_code == 503
    assert "中文字体" in response.get_data(as_text=True)
