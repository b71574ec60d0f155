"""A known year of data (2025) whose every figure is counted by hand in the tests.

Members A (party_school) and B (tengchong_college), their demo sites, and:

=====  ==============  ====  ==========  =======================================
class  origin          size  starts      what counts
=====  ==============  ====  ==========  =======================================
c1     city            10    2025-01-01  ring route, confirmed at A (first day)
c2     province        20    2025-12-31  custom route at B; spans into 2026
c3     other_province  30    2025-06-10  ring route: two squads at A, then B; a
                                         declined stop at B
c4     city            40    2025-03-01  cancelled: not counted
c5     province (visit) 5    2025-04-01  study visit at A
c6     city            50    2024-12-31  before the year
c7     other_province  60    2026-01-01  after the year
c8     international    7    2025-07-01  its ring booking was cancelled
c9     city             8    2025-08-01  ring booking still pending: not ring
=====  ==============  ====  ==========  =======================================
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import Course, CourseMaterial, EventType, Teacher, TeachingSite
from portal.certificates.models import Certificate
from portal.events.models import EventSession, JointEvent
from portal.extensions import db
from portal.meetings.models import Meeting, MeetingInvitation
from portal.members.models import Member
from portal.scheduling.models import Booking, Reservation, RouteStop, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local (Shanghai) time as an aware datetime."""
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)


def utc(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def build_year() -> dict[str, Any]:
    members = {m.key: m for m in db.session.scalars(select(Member))}
    a, b = members["party_school"], members["tengchong_college"]
    site_a = db.session.scalar(
        select(TeachingSite).where(TeachingSite.member_id == a.id).order_by(TeachingSite.id)
    )
    site_b = db.session.scalar(
        select(TeachingSite).where(TeachingSite.member_id == b.id).order_by(TeachingSite.id)
    )
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    route = RouteTemplate(
        name="二〇二五年新线",
        theme="党性教育",
        days=1,
        status="published",
        created_at=utc(2025, 2, 1),
    )
    route.stops.append(
        RouteStop(day=1, starts=time(9), minutes=60, kind="visit", site_id=site_a.id)
    )
    draft = RouteTemplate(
        name="草稿线路", theme="党性教育", days=1, status="draft", created_at=utc(2025, 2, 2)
    )
    db.session.add_all([route, draft])
    db.session.flush()

    def klass(name, origin, size, starts, *, days=1, visit=False, cancelled=False):
        c = TrainingClass(
            name=name,
            kind="main",
            origin=origin,
            sending_unit="某单位",
            size=size,
            starts_on=starts,
            ends_on=starts + timedelta(days=days - 1),
            theme="党性教育",
            contact_name="联系人",
            contact_phone="13900000000",
            is_study_visit=visit,
            cancelled=cancelled,
            organizer_id=organizer.id,
        )
        db.session.add(c)
        db.session.flush()
        return c

    def book(c, stops, *, template=None, status="confirmed"):
        booking = Booking(
            class_id=c.id,
            template_id=template.id if template else None,
            name="线路",
            start_date=c.starts_on,
            status=status,
            created_by_id=organizer.id,
        )
        for site, starts, size, stop_status in stops:
            booking.reservations.append(
                Reservation(
                    site_id=site.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    group_size=size,
                    status=stop_status,
                )
            )
        db.session.add(booking)
        db.session.flush()
        return booking

    c = {}
    c["c1"] = klass("c1", "city", 10, date(2025, 1, 1))
    book(c["c1"], [(site_a, at(date(2025, 1, 1)), 10, "confirmed")], template=route)
    c["c2"] = klass("c2", "province", 20, date(2025, 12, 31), days=3)
    book(
        c["c2"],
        [
            (site_b, at(date(2025, 12, 31)), 20, "confirmed"),
            (site_b, at(date(2026, 1, 1)), 20, "confirmed"),
        ],
    )
    c["c3"] = klass("c3", "other_province", 30, date(2025, 6, 10), days=3)
    book(
        c["c3"],
        [
            (site_a, at(date(2025, 6, 10)), 15, "confirmed"),
            (site_a, at(date(2025, 6, 10), 11), 15, "confirmed"),
            (site_b, at(date(2025, 6, 11)), 30, "confirmed"),
            (site_b, at(date(2025, 6, 12)), 30, "declined"),
        ],
        template=route,
    )
    c["c4"] = klass("c4", "city", 40, date(2025, 3, 1), cancelled=True)
    book(c["c4"], [(site_a, at(date(2025, 3, 1)), 40, "confirmed")], template=route)
    c["c5"] = klass("c5", "province", 5, date(2025, 4, 1), visit=True)
    book(c["c5"], [(site_a, at(date(2025, 4, 1)), 5, "confirmed")])
    c["c6"] = klass("c6", "city", 50, date(2024, 12, 31))
    book(c["c6"], [(site_a, at(date(2024, 12, 31), 23, 30), 50, "confirmed")], template=route)
    c["c7"] = klass("c7", "other_province", 60, date(2026, 1, 1))
    book(c["c7"], [(site_b, at(date(2026, 1, 1), 0, 0), 60, "confirmed")], template=route)
    c["c8"] = klass("c8", "international", 7, date(2025, 7, 1))
    book(
        c["c8"],
        [(site_a, at(date(2025, 7, 1)), 7, "cancelled")],
        template=route,
        status="cancelled",
    )
    c["c9"] = klass("c9", "city", 8, date(2025, 8, 1))
    book(c["c9"], [(site_a, at(date(2025, 8, 1)), 8, "pending")], template=route, status="pending")

    # Catalogue items added: a site on New Year's morning in Shanghai (still 2024 in UTC),
    # one on New Year's Eve in Shanghai (outside), a course and a material of member B.
    common = dict(theme="党性教育", capacity=50, opens=time(8), closes=time(17))
    db.session.add_all(
        [
            TeachingSite(
                member_id=a.id, name="新点一", created_at=utc(2024, 12, 31, 16, 10), **common
            ),
            TeachingSite(
                member_id=a.id, name="旧点", created_at=utc(2024, 12, 31, 15, 30), **common
            ),
            TeachingSite(member_id=b.id, name="新点二", created_at=utc(2025, 9, 1), **common),
        ]
    )
    course = Course(
        member_id=b.id, name="新课", kind="lecture", hours=2, created_at=utc(2025, 5, 1)
    )
    db.session.add(course)
    db.session.flush()
    db.session.add(
        CourseMaterial(course_id=course.id, kind="case", title="案例一", created_at=utc(2025, 5, 2))
    )
    db.session.add_all(
        [
            Teacher(member_id=a.id, name="甲", kind="full_time", created_at=utc(2025, 1, 5)),
            Teacher(member_id=b.id, name="乙", kind="part_time", created_at=utc(2025, 2, 1)),
            Teacher(
                member_id=a.id,
                name="丙",
                kind="full_time",
                status="retired",
                created_at=utc(2025, 3, 1),
            ),
        ]
    )
    held = Meeting(
        title="联席会议", status="held", starts_at=utc(2025, 9, 1, 2), ends_at=utc(2025, 9, 1, 4)
    )
    cancelled = Meeting(
        title="取消", status="cancelled", starts_at=utc(2025, 10, 1, 2), ends_at=utc(2025, 10, 1, 4)
    )
    early = Meeting(
        title="去年", status="held", starts_at=utc(2024, 12, 1, 2), ends_at=utc(2024, 12, 1, 4)
    )
    db.session.add_all([held, cancelled, early])
    db.session.flush()
    db.session.add(MeetingInvitation(meeting_id=held.id, member_id=a.id))
    event_type = db.session.scalar(select(EventType).where(EventType.member_id == b.id))
    if event_type is None:
        event_type = EventType(member_id=b.id, name="联动活动")
        db.session.add(event_type)
        db.session.flush()
    for title, status in (("集训", "published"), ("草稿活动", "draft")):
        event = JointEvent(
            event_type_id=event_type.id, category="training", title=title, status=status
        )
        db.session.add(event)
        db.session.flush()
        db.session.add(
            EventSession(
                event_id=event.id,
                number=1,
                title="第一场",
                starts_at=utc(2025, 11, 1, 1),
                ends_at=utc(2025, 11, 1, 3),
            )
        )
    # Certificates: c1 (A) two issued in 2025, one of them on New Year's morning in Shanghai
    # (still 2025 in UTC: counted in 2026); c3 (A and B) one issued, one revoked in 2025 though
    # issued in 2024 (counted by its decision); c2 (B) one withheld in 2025 with no decision
    # time (counted by its issue); c9 (its stop is pending: no member hosts it) one issued.
    certificates = [
        ("c1", "issued", utc(2025, 8, 1), None),
        ("c1", "issued", utc(2025, 12, 31, 16, 30), None),
        ("c3", "issued", utc(2025, 6, 1), None),
        ("c3", "revoked", utc(2024, 6, 1), utc(2025, 7, 1)),
        ("c2", "withheld", utc(2025, 11, 1), None),
        ("c9", "issued", utc(2025, 9, 1), None),
    ]
    for number, (name, status, issued, decided) in enumerate(certificates):
        db.session.add(
            Certificate(
                serial=f"T{c[name].id}-{number}",
                class_id=c[name].id,
                name=f"学员{number}",
                status=status,
                issued_at=issued,
                decided_at=decided,
            )
        )
    db.session.commit()
    return {"a": a, "b": b, "site_a": site_a, "site_b": site_b, **c}


@pytest.fixture
def year(demo: Flask) -> dict[str, Any]:
    return build_year()
