"""Training records: 学时 summed per year across classes (a class over New Year splits), the
standing against the rule for the rank, who may read a record, the exports."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from portal.attendance.models import AttendanceMark, AttendanceSession
from portal.demo import load_demo
from portal.extensions import db
from portal.records import services
from portal.scheduling.models import TrainingClass
from portal.timeutil import LOCAL_TZ
from portal.trainees.models import RosterEntry
from tests.conftest import login
from tests.scheduling.helpers import user


@pytest.fixture
def records_demo(app):
    load_demo(season=["trainees", "attendance", "evaluations", "certificates"])
    return app


def year_end_class(rank: str = "") -> TrainingClass:
    """A class from 2025-12-31 to 2026-01-01 (organizer B's), the demo trainee attending all
    four half days: 8 学时 in 2025 and 8 in 2026."""
    from portal.auth import services as auth_services

    other = auth_services.create_user(
        username="organizer_x", display_name="另一联系人", role="organizer", password="huanxian2026"
    )
    klass = TrainingClass(
        name="跨年培训班",
        kind="main",
        origin="city",
        sending_unit="另一单位",
        size=5,
        starts_on=date(2025, 12, 31),
        ends_on=date(2026, 1, 1),
        theme="党性教育",
        contact_name="x",
        contact_phone="13900000000",
        organizer_id=other.id,
    )
    db.session.add(klass)
    db.session.flush()
    trainee = user("trainee")
    entry = RosterEntry(
        class_id=klass.id, user_id=trainee.id, name="李学员", phone=trainee.phone, rank=rank
    )
    db.session.add(entry)
    db.session.flush()
    for day in (date(2025, 12, 31), date(2026, 1, 1)):
        for half, hour in (("am", 9), ("pm", 14)):
            starts = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(
                hours=hour
            )
            session = AttendanceSession(
                class_id=klass.id,
                day=day,
                half=half,
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                opens_at=starts - timedelta(minutes=30),
                title="课程",
            )
            db.session.add(session)
            db.session.flush()
            db.session.add(
                AttendanceMark(session_id=session.id, entry_id=entry.id, status="present")
            )
    db.session.commit()
    return klass


def test_hours_sum_across_years_and_classes(records_demo):
    year_end_class()
    record = services.record_of(user("trainee"), today=date(2026, 12, 6))
    names = [line.training_class.name for line in record.lines]
    assert "跨年培训班" in names and "某州科级干部党性教育培训班（环线第2期）" in names
    finished = next(line for line in record.lines if "环线第2期" in line.training_class.name)
    assert finished.hours == finished.class_hours > 8 and finished.certificate is not None
    assert finished.evaluations >= 2  # given, counted, never shown
    assert record.by_year[2025] == 8
    others = sum(line.hours for line in record.lines if line.training_class.name != "跨年培训班")
    assert record.by_year[2026] == others + 8  # the New Year class adds its second day
    assert record.total == sum(line.hours for line in record.lines)
    # A cadre below 县处级: 90 学时 this year.
    assert not record.leading and record.required == 90
    assert record.achieved == record.by_year[2026]


def test_leading_cadres_count_five_years(records_demo):
    year_end_class()
    trainee = user("trainee")
    for entry in db.session.scalars(select(RosterEntry).where(RosterEntry.user_id == trainee.id)):
        entry.rank = "二级调研员"
    db.session.commit()
    assert services.is_leading("县处级副职") and services.is_leading("四级调研员")
    assert not services.is_leading("一级主任科员")
    within = services.record_of(trainee, today=date(2029, 6, 1))
    assert within.leading and within.required == 550
    assert within.achieved == within.total  # 2025–2029 holds every year
    later = services.record_of(trainee, today=date(2030, 6, 1))
    assert later.achieved == within.total - 8  # 2025 has left the five years
    assert not later.met


def test_who_reads_a_record(records_demo, client):
    trainee = user("trainee")
    login(client, "organizer")
    assert client.get(f"/records/people/{trainee.id}").status_code == 200
    assert "李学员" in client.get("/records/people").get_data(as_text=True)
    # Another organizer's cadre (only on organizer_x's class): not organizer A's to read.
    year_end_class()
    from portal.trainees import roster

    stranger, _new = roster.ensure_account(roster.TraineeValues(name="外单位", phone="13911112222"))
    db.session.add(
        RosterEntry(
            class_id=db.session.scalar(
                select(TrainingClass.id).where(TrainingClass.name == "跨年培训班")
            ),
            user_id=stranger.id,
            name="外单位",
            phone="13911112222",
        )
    )
    db.session.commit()
    assert client.get(f"/records/people/{stranger.id}").status_code == 404
    login(client, "office")
    assert client.get(f"/records/people/{stranger.id}").status_code == 200
    login(client, "party_school_staff")
    assert client.get(f"/records/people/{trainee.id}").status_code == 404
    login(client, "trainee")
    page = client.get("/records/me").get_data(as_text=True)
    assert "应完成 90 学时" in page
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/records/me.xlsx").data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "培训班" and len(rows) >= 3
    pdf = client.get("/records/me.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
