"""Small builders shared by the meeting tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.meetings.busy import add_busy_time
from portal.meetings.meetings import create_meeting
from portal.meetings.models import Meeting
from portal.members.models import Member
from portal.notifications.models import Message, OutboxEmail
from portal.scheduling.models import Booking, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ

MEMBERS = ("party_school", "yangshanzhou_college", "tengchong_college", "songshan_base")


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member(key: str) -> Member:
    return db.session.scalar(select(Member).where(Member.key == key))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def future_weekday(isoweekday: int = 2, at_least_days: int = 14) -> date:
    """The first given weekday (1 = Monday) at least ``at_least_days`` from today."""
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=at_least_days)
    while day.isoweekday() != isoweekday:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def make_meeting(
    members: tuple[str, ...] = MEMBERS,
    *,
    title: str = "2026年第四季度环线联席会议",
    commit: bool = True,
    **values: Any,
) -> Meeting:
    data = {
        "title": title,
        "kind": "joint",
        "place_text": "市委党校三楼第一会议室",
        "duration_minutes": 120,
        "member_ids": [member(k).id for k in members],
        **values,
    }
    meeting = create_meeting(user("office"), data)
    if commit:
        db.session.commit()
    return meeting


def busy(member_key: str, starts: datetime, ends: datetime, note: str = "外出办班") -> None:
    staff = user(f"{member_key}_staff")
    add_busy_time(
        staff,
        {
            "starts_on": starts.date(),
            "starts_time": starts.time(),
            "ends_on": ends.date(),
            "ends_time": ends.time(),
            "note": note,
        },
    )
    db.session.commit()


def reserve(site_key: str, starts: datetime, ends: datetime, status: str = "confirmed") -> None:
    """A reservation of a site by a class, written directly (the booking rules are not tested here)."""
    organizer = user("organizer")
    training_class = TrainingClass(
        name="测试班",
        kind="main",
        origin="city",
        sending_unit="某县委组织部",
        size=20,
        starts_on=starts.date(),
        ends_on=ends.date(),
        theme="党性教育",
        contact_name="张联系人",
        contact_phone="13800000000",
        organizer_id=organizer.id,
    )
    booking = Booking(
        training_class=training_class,
        name="测试预约",
        start_date=starts.date(),
        status="confirmed",
        created_by_id=organizer.id,
    )
    db.session.add_all([training_class, booking])
    db.session.flush()
    db.session.add(
        Reservation(
            booking_id=booking.id,
            site_id=site(site_key).id,
            starts_at=starts,
            ends_at=ends,
            group_size=20,
            status=status,
        )
    )
    db.session.commit()


def inbox_subjects(username: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Message.subject).where(Message.user_id == user(username).id).order_by(Message.id)
        )
    )


def message_count() -> int:
    return len(db.session.scalars(select(Message.id)).all())


def outbox_count() -> int:
    return len(db.session.scalars(select(OutboxEmail.id)).all())


def meeting_count() -> int:
    return len(db.session.scalars(select(Meeting.id)).all())
