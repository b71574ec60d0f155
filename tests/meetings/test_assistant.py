"""The scheduling assistant: common free times, the least-busy fallback, the place's bookings."""

from __future__ import annotations

from datetime import UTC, time, timedelta

import pytest

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.meetings.assistant import suggest_times
from tests.conftest import login
from tests.meetings.helpers import at, busy, future_weekday, make_meeting, reserve, user

pytestmark = pytest.mark.db


def search(day, last=None, minutes=120, **extra):
    return {"first_day": day, "last_day": last or day, "minutes": minutes, **extra}


def test_common_slot_found_earliest_first(demo):
    day = future_weekday(2)  # a Tuesday
    meeting = make_meeting()
    busy("party_school", at(day, 8, 0), at(day, 10, 0))
    busy("songshan_base", at(day, 10, 0), at(day, 11, 0))
    result = suggest_times(meeting, user("office"), search(day))
    assert result.all_free
    assert "没有所有成员都空闲的时间" not in result.message
    assert len(result.slots) == 5
    # 08:30–11:00 is taken by one member or another: the first common start is 11:00.
    assert [s.local_starts.strftime("%H:%M") for s in result.slots] == [
        "11:00",
        "11:30",
        "12:00",
        "12:30",
        "13:00",
    ]
    assert all(not s.busy_members for s in result.slots)
    assert result.slots == sorted(result.slots, key=lambda s: s.starts_at)


def test_times_are_shanghai_stored_as_utc(demo):
    day = future_weekday(3)
    meeting = make_meeting()
    busy("party_school", at(day, 8, 30), at(day, 9, 0))
    result = suggest_times(meeting, user("office"), search(day))
    first = result.slots[0]
    assert first.local_starts.strftime("%H:%M") == "09:00"
    assert first.starts_at.tzinfo is not None
    utc = first.starts_at.astimezone(UTC)
    assert (utc.hour, utc.minute) == (1, 0)
    assert utc.date() == day
    assert first.value.endswith("09:00+08:00")


def test_only_weekdays_and_working_hours(demo):
    saturday = future_weekday(6)
    meeting = make_meeting()
    result = suggest_times(
        meeting, user("office"), search(saturday, saturday + timedelta(days=2), minutes=60)
    )
    # Saturday and Sunday are skipped: the first slot is Monday 08:30, the last starts by 16:30.
    assert result.slots[0].local_starts.date() == saturday + timedelta(days=2)
    assert result.slots[0].local_starts.time() == time(8, 30)
    result = suggest_times(
        meeting,
        user("office"),
        search(
            saturday + timedelta(days=2),
            minutes=60,
            day_start=time(16, 0),
            day_end=time(17, 30),
        ),
    )
    assert [s.local_starts.strftime("%H:%M") for s in result.slots] == ["16:00", "16:30"]


def test_no_common_time_proposes_least_busy_naming_them(demo):
    day = future_weekday(4)
    meeting = make_meeting()
    # The whole day: the party school is busy all day, the Songshan base in the morning.
    busy("party_school", at(day, 0, 0), at(day + timedelta(days=1), 0, 0))
    busy("songshan_base", at(day, 8, 30), at(day, 12, 30))
    result = suggest_times(meeting, user("office"), search(day))
    assert not result.all_free
    assert "没有所有成员都空闲的时间" in result.message
    assert result.slots
    # The afternoon slots only miss the party school; they come first.
    first = result.slots[0]
    assert first.busy_members == ("市委党校",)
    assert first.local_starts.strftime("%H:%M") == "12:30"
    assert all(len(s.busy_members) == 1 for s in result.slots)


def test_no_common_time_page_names_busy_members(client, demo):
    day = future_weekday(4)
    meeting = make_meeting()
    busy("party_school", at(day, 0, 0), at(day + timedelta(days=1), 0, 0))
    login(client, "office")
    page = client.get(
        f"/meetings/{meeting.id}/assistant",
        query_string={
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "minutes": "120",
            "day_start": "08:30",
            "day_end": "17:30",
        },
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "没有所有成员都空闲的时间" in text
    assert "不便参加：市委党校" in text
    assert "08:30–10:30" in text


def test_reservation_at_the_place_is_avoided(demo):
    day = future_weekday(2)
    meeting = make_meeting(site_id=None)
    hall = make_meeting(title="党校报告厅会议", site_id=str(_site_id("main_hall")))
    reserve("main_hall", at(day, 8, 30), at(day, 12, 0))
    # A cancelled reservation holds nothing.
    reserve("main_hall", at(day, 12, 0), at(day, 17, 30), status="cancelled")
    without_place = suggest_times(meeting, user("office"), search(day))
    assert without_place.slots[0].local_starts.strftime("%H:%M") == "08:30"
    at_hall = suggest_times(hall, user("office"), search(day))
    assert at_hall.all_free
    assert at_hall.slots[0].local_starts.strftime("%H:%M") == "12:00"
    assert "会议地点" in at_hall.message


def test_place_busy_all_day_is_said(demo):
    day = future_weekday(2)
    hall = make_meeting(title="党校报告厅会议", site_id=str(_site_id("main_hall")))
    reserve("main_hall", at(day, 8, 0), at(day, 18, 0))
    result = suggest_times(hall, user("office"), search(day))
    assert not result.all_free
    assert "没有所有成员都空闲的时间" in result.message
    assert all(s.place_busy for s in result.slots)


def test_other_fixed_meeting_makes_members_busy(demo):
    day = future_weekday(2)
    make_meeting(
        ("party_school",),
        title="党校专题会",
        day=day,
        start_time=time(8, 30),
        end_time=time(12, 0),
    )
    meeting = make_meeting()
    result = suggest_times(meeting, user("office"), search(day))
    assert result.slots[0].local_starts.strftime("%H:%M") == "12:00"


def test_bad_search_is_refused(demo):
    meeting = make_meeting()
    day = future_weekday(2)
    with pytest.raises(ValidationFailed) as error:
        suggest_times(meeting, user("office"), search(day, day - timedelta(days=1)))
    assert error.value.errors["last_day"] == "结束日期不能早于开始日期。"
    with pytest.raises(ValidationFailed) as error:
        suggest_times(meeting, user("office"), search(day, minutes=0))
    assert "会议时长" in error.value.errors["minutes"]
    with pytest.raises(ValidationFailed) as error:
        suggest_times(meeting, user("office"), search(day, day_start=time(17), day_end=time(9)))
    assert "day_end" in error.value.errors


def test_assistant_page_bad_input_never_500(client, demo):
    meeting = make_meeting()
    login(client, "office")
    for args in (
        {"first_day": "2026-02-30", "last_day": "x", "minutes": "abc"},
        {"first_day": "\x00", "minutes": "99999999999999999999"},
        {"first_day": "2026-11-10", "last_day": "2026-11-01", "minutes": "60"},
    ):
        response = client.get(f"/meetings/{meeting.id}/assistant", query_string=args)
        assert response.status_code == 400, args
        assert "请" in response.get_data(as_text=True) or "不能" in response.get_data(as_text=True)
    assert client.get(f"/meetings/{meeting.id}/assistant").status_code == 200


def test_assistant_is_for_the_office(client, demo):
    meeting = make_meeting()
    login(client, "party_school_staff")
    assert client.get(f"/meetings/{meeting.id}/assistant").status_code == 403
    login(client, "organizer")
    assert client.get(f"/meetings/{meeting.id}/assistant").status_code == 404


def _site_id(key):
    from tests.meetings.helpers import site

    db.session.expire_all()
    return site(key).id
