"""Builders of the trainee tests: a class with a roster, an open run, an elective."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.trainees import roster, run_publishing
from portal.trainees.models import RosterEntry
from tests.scheduling.helpers import future_weekday, new_class, user

PEOPLE = [
    ("张三", "13900000001", "甲县发改局"),
    ("李四", "13900000002", "甲县财政局"),
    ("王五", "13900000003", "乙县教育局"),
]


def class_with_roster(size: int = 30, people=PEOPLE, **extra) -> TrainingClass:
    """An organizer's class with these trainees (name, phone, unit) on its roster."""
    klass = new_class(size, **extra)
    organizer = user("organizer")
    for name, phone, unit in people:
        roster.add_trainee(klass, organizer, {"name": name, "phone": phone, "unit": unit})
    return klass


def entries(klass: TrainingClass) -> list[RosterEntry]:
    return list(
        db.session.scalars(
            select(RosterEntry).where(RosterEntry.class_id == klass.id).order_by(RosterEntry.id)
        )
    )


def one_day_route() -> RouteTemplate:
    return db.session.scalar(
        select(RouteTemplate).where(RouteTemplate.name == "杨善洲精神一日环线")
    )


def run_start(at_least_days: int = 21) -> date:
    """A Tuesday on which the one-day route fits (the base is closed one weekday)."""
    return future_weekday(2, at_least_days)


def publish(
    seats: int = 10,
    minimum: int | None = None,
    *,
    publisher: str = "office",
    start: date | None = None,
    quotas: str = "",
    deadline_days: int = 7,
):
    start = start or run_start()
    return run_publishing.publish_run(
        user(publisher),
        {
            "title": f"测试开放班次{seats}",
            "description": "",
            "template_id": one_day_route().id,
            "starts_on": start,
            "booking_deadline": start - timedelta(days=deadline_days),
            "cancel_deadline": start - timedelta(days=3),
            "seats": seats,
            "min_participants": minimum if minimum is not None else min(2, seats),
            "open_to": "units" if quotas else "all",
            "quotas": quotas,
        },
    )


def trainee_account(name: str, phone: str, unit: str = "甲县发改局"):
    account, _created = roster.ensure_account(
        roster.TraineeValues(name=name, phone=phone, unit=unit)
    )
    account.unit_name = unit
    db.session.commit()
    return account
