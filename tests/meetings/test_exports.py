"""The meeting's PDF and text exports, the consortium meeting calendar and its .ics feed,
and members' busy times."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.meetings.decisions import add_decisions, record_attendance, save_minutes
from portal.meetings.meetings import add_agenda_item, cancel_meeting, reply
from portal.meetings.models import MemberBusyTime
from portal.meetings.times import today_local
from tests.conftest import login
from tests.meetings.helpers import at, future_weekday, make_meeting, member, user

pytestmark = pytest.mark.db

TITLE = "2026年第四季度环线联席会议"


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} (Debian poppler-utils) is required in CI")
    return found


def full_meeting():
    """A meeting held ten days ago with agenda, replies, attendance, minutes and decisions."""
    day = today_local() - timedelta(days=10)
    meeting = make_meeting(
        ("party_school", "songshan_base"),
        title=TITLE,
        day=day,
        start_time=time(9),
        end_time=time(11, 30),
        online_url="https://meeting.example.cn/j/123",
    )
    office = user("office")
    add_agenda_item(meeting, office, "通报全年环线教学情况", member("party_school").id)
    add_agenda_item(meeting, office, "研究2027年联合集训方案")
    reply(meeting, user("party_school_staff"), "attend", "张红、李建国")
    reply(meeting, user("songshan_base_staff"), "decline", reason="承办省外培训班")
    record_attendance(
        meeting,
        office,
        {
            member("party_school").id: ("present", ""),
            member("songshan_base").id: ("absent", ""),
        },
    )
    save_minutes(meeting, office, "会议听取了市委党校的工作汇报。\n会议同意联合集训方案。")
    add_decisions(
        meeting,
        office,
        [member("party_school").id],
        "牵头制定联合集训实施细则",
        today_local() + timedelta(days=20),
    )
    db.session.commit()
    return meeting


def test_meeting_pdf_has_embedded_font_and_chinese_text(client, demo, tmp_path):
    meeting = full_meeting()
    url = f"/meetings/{meeting.id}/export.pdf"
    login(client, "tengchong_college_staff")
    assert client.get(url).status_code == 404
    login(client, "party_school_staff")
    response = client.get(url)
    if response.status_code == 503 and os.environ.get("CI") != "true":
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk)")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    pdf = tmp_path / "meeting.pdf"
    pdf.write_bytes(body)
    pdffonts = _tool("pdffonts")
    if pdffonts:
        output = subprocess.run(
            [pdffonts, str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        lines = output[2:]
        assert lines, "no font in the PDF"
        emb = output[0].index("emb")
        assert all(line[emb : emb + 3] == "yes" for line in lines), lines
    pdftotext = _tool("pdftotext")
    if pdftotext:
        text = subprocess.run(
            [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in (
            TITLE,
            "议程",
            "通报全年环线教学情况",
            "出席情况",
            "张红、李建国",
            "会议纪要",
            "会议同意联合集训方案",
            "议定事项",
            "牵头制定联合集训实施细则",
            "09:00",
        ):
            assert expected in text, expected


def test_pdf_without_a_font_is_503(app, client, demo):
    meeting = full_meeting()
    app.config["PDF_FONT_PATH"] = "/nonexistent/font.ttc"
    login(client, "office")
    response = client.get(f"/meetings/{meeting.id}/export.pdf")
    assert response.status_code == 503
    assert "中文字体" in response.get_data(as_text=True)


def test_text_exports_paste_into_word(client, demo):
    meeting = full_meeting()
    login(client, "office")
    response = client.get(f"/meetings/{meeting.id}/export.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    for expected in (
        TITLE,
        "一、议程",
        "1. 通报全年环线教学情况（汇报单位：市委党校）",
        "2. 研究2027年联合集训方案（汇报单位：环线办）",
        "二、出席情况",
        "出席（张红、李建国）",
        "缺席",
        "三、会议纪要",
        "会议同意联合集训方案。",
        "四、议定事项",
        "牵头制定联合集训实施细则（承办单位：市委党校",
        "https://meeting.example.cn/j/123",
    ):
        assert expected in text, expected
    assert "#" not in text
    markdown = client.get(f"/meetings/{meeting.id}/export.md").get_data().decode("utf-8-sig")
    assert f"# {TITLE}" in markdown and "## 一、议程" in markdown
    assert client.get(f"/meetings/{meeting.id}/export.doc").status_code == 404


def test_office_staff_get_word_and_pdf_offered_not_markdown(client, demo):
    meeting = full_meeting()
    login(client, "office")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "导出 Word" in page and "导出 PDF" in page and "Markdown" not in page


def test_the_word_export_holds_the_whole_record(client, demo):
    import io

    import docx

    meeting = full_meeting()
    login(client, "party_school_staff")
    response = client.get(f"/meetings/{meeting.id}/export.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == TITLE
    for heading in ("一、议程", "二、出席情况", "三、会议纪要", "四、议定事项"):
        assert heading in paragraphs
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert "https://meeting.example.cn/j/123" in cells
    assert "通报全年环线教学情况" in cells and "牵头制定联合集训实施细则" in "".join(cells)
    # A member is named one way in the whole record: its short name.
    assert "市委党校" in cells and member("party_school").name not in "".join(cells)
    assert document.styles["Normal"].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    )
    login(client, "tengchong_college_staff")  # not invited
    assert client.get(f"/meetings/{meeting.id}/export.docx").status_code == 404


def test_a_place_is_said_once(demo):
    from portal.catalog.models import TeachingSite
    from portal.meetings.models import Meeting

    hall = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "main_hall"))
    meeting = Meeting(title="x", place_text="")
    assert meeting.place_label == ""
    meeting.place_text = "市委党校三楼第一会议室"
    assert meeting.place_label == "市委党校三楼第一会议室"
    meeting.site = hall
    meeting.place_text = f"{hall.name}东侧贵宾室"
    assert meeting.place_label == f"{hall.name}东侧贵宾室"
    meeting.place_text = hall.name
    assert meeting.place_label == hall.name
    meeting.place_text = "三楼"
    assert meeting.place_label == f"{hall.name} · 三楼"


# ---------------------------------------------------------------- calendar and feed


def test_ics_feed_parses_with_stable_uids(client, demo):
    day = future_weekday(3)
    fixed = make_meeting(
        ("party_school",), title="已定时间的会议", day=day, start_time=time(9), end_time=time(11)
    )
    make_meeting(("party_school",), title="时间待定的会议")
    make_meeting(
        ("songshan_base",), title="别家的会议", day=day, start_time=time(14), end_time=time(15)
    )
    login(client, "party_school_staff")
    first = client.get("/meetings/calendar.ics")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    raw = first.get_data(as_text=True)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in raw
    cal = icalendar.Calendar.from_ical(first.get_data())
    timezones = [c for c in cal.walk("VTIMEZONE")]
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Shanghai"]
    events = cal.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["联席会议：已定时间的会议"]
    event = events[0]
    assert str(event["UID"]) == f"meeting-{fixed.id}"  # never the host asked (portal/ical.py)
    assert "DTSTART;TZID=Asia/Shanghai:" in raw
    start = event.decoded("DTSTART")
    assert start.strftime("%H:%M") == "09:00"
    assert start.astimezone(UTC).hour == 1
    assert "市委党校三楼第一会议室" in str(event["LOCATION"])
    second = client.get("/meetings/calendar.ics")
    again = icalendar.Calendar.from_ical(second.get_data())
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(event["UID"])]

    # The office sees every dated meeting; a cancelled one stays, marked cancelled.
    cancel_meeting(fixed, user("office"), "改期")
    db.session.commit()
    login(client, "office")
    cal = icalendar.Calendar.from_ical(client.get("/meetings/calendar.ics").get_data())
    states = {str(e["SUMMARY"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in cal.walk("VEVENT")}
    assert states == {
        "联席会议：已定时间的会议": ("CANCELLED", 1),
        "联席会议：别家的会议": ("CONFIRMED", 0),
    }


def test_private_feed_link_for_calendar_apps(app, client, demo):
    day = future_weekday(3)
    make_meeting(
        ("party_school",), title="订阅测试会议", day=day, start_time=time(9), end_time=time(10)
    )
    from portal.meetings.export_views import feed_token

    staff = user("party_school_staff")
    with app.test_request_context():
        token = feed_token(staff)
        organizer_token = feed_token(user("organizer"))
    client.post("/logout")
    response = client.get(f"/meetings/feed/{token}.ics")
    assert response.status_code == 200
    assert "订阅测试会议" in response.get_data(as_text=True)
    assert client.get(f"/meetings/feed/{organizer_token}.ics").status_code == 404
    assert client.get("/meetings/feed/forged.ics").status_code == 404
    staff.session_version += 1
    db.session.commit()
    assert client.get(f"/meetings/feed/{token}.ics").status_code == 404


def test_month_calendar_page(client, demo):
    day = future_weekday(3)
    make_meeting(
        ("party_school",), title="月历里的会议", day=day, start_time=time(9), end_time=time(10)
    )
    login(client, "party_school_staff")
    page = client.get("/meetings/calendar", query_string={"month": day.strftime("%Y-%m")})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "月历里的会议" in html and "09:00–10:00" in html
    assert f"{day.year}年{day.month}月" in html
    assert "/meetings/feed/" in html
    for bad in ("2026-13", "abc", "2026-1\x00", "99999-01"):
        response = client.get("/meetings/calendar", query_string={"month": bad})
        assert response.status_code == 400, bad
        assert "月份无效" in response.get_data(as_text=True)
    login(client, "songshan_base_staff")
    other = client.get("/meetings/calendar", query_string={"month": day.strftime("%Y-%m")})
    assert "月历里的会议" not in other.get_data(as_text=True)


# ---------------------------------------------------------------- busy times


def test_member_staff_keep_their_busy_times(client, demo):
    day = future_weekday(2)
    login(client, "party_school_staff")
    response = client.post(
        "/meetings/busy",
        data={
            "busy-starts_on": day.isoformat(),
            "busy-starts_time": "08:00",
            "busy-ends_on": "",
            "busy-ends_time": "12:00",
            "busy-note": "承办省外培训班开班式",
        },
    )
    assert response.status_code == 302
    entry = db.session.scalar(select(MemberBusyTime))
    assert entry.member_id == member("party_school").id
    assert entry.starts_at == at(day, 8).astimezone(UTC)
    assert entry.ends_at == at(day, 12).astimezone(UTC)
    entry_id = entry.id
    # Whole days when no time is given.
    client.post("/meetings/busy", data={"busy-starts_on": (day + timedelta(days=1)).isoformat()})
    whole = db.session.scalars(select(MemberBusyTime).order_by(MemberBusyTime.id)).all()[1]
    assert whole.ends_at - whole.starts_at == timedelta(days=1)
    page = client.get("/meetings/busy").get_data(as_text=True)
    assert "承办省外培训班开班式" in page

    for data, message in (
        (
            {
                "busy-starts_on": day.isoformat(),
                "busy-starts_time": "12:00",
                "busy-ends_time": "08:00",
            },
            "结束时间须晚于开始时间。",
        ),
        (
            {
                "busy-starts_on": day.isoformat(),
                "busy-ends_on": (day - timedelta(days=3)).isoformat(),
            },
            "结束时间须晚于开始时间。",
        ),
        ({"busy-starts_on": ""}, "请填写开始日期。"),
        ({"busy-starts_on": day.isoformat(), "busy-note": "x\x00"}, "事由包含无效字符。"),
        ({"busy-starts_on": day.isoformat(), "busy-note": "长" * 300}, "事由不能超过 256 个字符。"),
        (
            {
                "busy-starts_on": day.isoformat(),
                "busy-ends_on": (day + timedelta(days=400)).isoformat(),
            },
            "一次登记不能超过 366 天。",
        ),
    ):
        response = client.post("/meetings/busy", data=data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert len(db.session.scalars(select(MemberBusyTime)).all()) == 2

    # Another member's staff cannot delete it; the office only reads.
    login(client, "songshan_base_staff")
    assert "承办省外培训班开班式" not in client.get("/meetings/busy").get_data(as_text=True)
    client.post(f"/meetings/busy/{entry_id}/delete")
    assert db.session.get(MemberBusyTime, entry_id) is not None
    login(client, "office")
    assert "承办省外培训班开班式" in client.get("/meetings/busy").get_data(as_text=True)
    assert (
        client.post("/meetings/busy", data={"busy-starts_on": day.isoformat()}).status_code == 403
    )
    login(client, "party_school_admin")
    client.post(f"/meetings/busy/{entry_id}/delete")
    db.session.expire_all()
    assert db.session.get(MemberBusyTime, entry_id) is None


def test_fixed_time_stored_utc(demo):
    day = future_weekday(2)
    meeting = make_meeting(day=day, start_time=time(9), end_time=time(10))
    assert meeting.starts_at == datetime.combine(day, time(1), tzinfo=UTC)


def test_a_decision_for_several_members_is_one_item_of_the_record(client, demo):
    meeting = full_meeting()
    add_decisions(
        meeting,
        user("office"),
        [member("party_school").id, member("songshan_base").id],
        "共同编写现场教学案例",
        today_local() + timedelta(days=30),
    )
    db.session.commit()
    login(client, "office")
    text = client.get(f"/meetings/{meeting.id}/export.txt").get_data().decode("utf-8-sig")
    assert text.count("共同编写现场教学案例") == 1
    assert "2. 共同编写现场教学案例（承办单位：市委党校、松山基地" in text
