"""Who may see a trainee (个人信息保护法): the one place every page and export asks.

* ``full``: the trainee themself (their own entry), the class's organizer, the class's
  supervisors (see ``class_supervisor_ids``), and the office;
* ``summary``: staff of a member whose site the class visits: name, unit and the count only;
* nobody else sees anything (404: the class's existence leaks nothing).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.models import TeachingSite
from portal.errors import NotFound
from portal.extensions import db
from portal.scheduling.models import HOLDING, Booking, Reservation, TrainingClass

FULL = "full"
SUMMARY = "summary"


def class_supervisor_ids(training_class: TrainingClass) -> set[int]:
    """Users who supervise the class (班主任 / 督导) and see its roster like its organizer.

    The organizer names them on the class's attendance page (portal/attendance).
    """
    from portal.attendance.models import ClassSupervisor

    return set(
        db.session.scalars(
            select(ClassSupervisor.user_id).where(ClassSupervisor.class_id == training_class.id)
        )
    )


def is_class_manager(training_class: TrainingClass, actor: Any) -> bool:
    """The office, the class's organizer, or one of its supervisors."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if getattr(actor, "is_token", False):
        return False
    return (
        actor.is_office
        or training_class.organizer_id == actor.id
        or actor.id in class_supervisor_ids(training_class)
    )


def hosting_member_ids(training_class: TrainingClass) -> set[int]:
    """Members whose sites hold a live reservation of the class."""
    return set(
        db.session.scalars(
            select(TeachingSite.member_id)
            .join(Reservation, Reservation.site_id == TeachingSite.id)
            .join(Booking, Booking.id == Reservation.booking_id)
            .where(
                Booking.class_id == training_class.id,
                Booking.status != "cancelled",
                Reservation.status.in_(HOLDING),
            )
            .distinct()
        )
    )


def roster_access(training_class: TrainingClass, actor: Any) -> str | None:
    """How much of the class's roster ``actor`` sees: FULL, SUMMARY or None."""
    if is_class_manager(training_class, actor):
        return FULL
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and getattr(actor, "is_member_user", False)
        and not getattr(actor, "is_token", False)
        and actor.member_id in hosting_member_ids(training_class)
    ):
        return SUMMARY
    return None


def require_manager(training_class: TrainingClass | None, actor: Any) -> TrainingClass:
    """The class if ``actor`` manages it; NotFound (404) otherwise."""
    if training_class is None or not is_class_manager(training_class, actor):
        raise NotFound(_("没有找到该培训班。"))
    return training_class


def get_managed_class(class_id: int, actor: Any) -> TrainingClass:
    return require_manager(db.session.get(TrainingClass, class_id), actor)
