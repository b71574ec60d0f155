"""Builders of the attendance tests: a class of seven half days with three trainees."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.attendance import services
from portal.attendance.models import AttendanceSession
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import LOCAL_TZ
from tests.trainees.helpers import class_with_roster, entries


def klass(days: int = 2, start: date | None = None) -> TrainingClass:
    """A class (no route booked) of ``days`` days: 2 × days half-day sessions."""
    training_class = class_with_roster(days=days, start=start)
    services.ensure_sessions(training_class)
    db.session.commit()
    return training_class


def sessions(training_class: TrainingClass) -> list[AttendanceSession]:
    return services.class_sessions(training_class.id)


def at(session: AttendanceSession, minutes: int = 0) -> datetime:
    """``minutes`` after the session starts (UTC)."""
    return session.starts_at + timedelta(minutes=minutes)


def local_day(value: datetime) -> date:
    return value.astimezone(LOCAL_TZ).date()


__all__ = ["at", "entries", "klass", "local_day", "sessions"]
