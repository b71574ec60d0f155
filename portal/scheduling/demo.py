"""The bookings' part of the demo consortium (called from portal.demo.load_demo).

Relative to the day it is loaded, and idempotent (each class is looked up by its name):
classes of several kinds and origins booked through the engine (``booking.book``) and
decided through ``booking.decide``, so that history and notifications exist:

* a city class on the 杨善洲精神 route, one stop confirmed by 杨善洲干部学院, one declined,
  one waiting;
* a notice to the trainees' demo class (the demo trainee's 消息);
* a provincial class with a stop waiting at each of the three other members (预约待办);
* a class confirmed at 艾思奇纪念馆, a group on the session's waiting list, and the first class
  cancelling so that the place is offered to the group (待接受);

Dates that a site cannot take (a closed day) move the class a day on, up to two weeks.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.errors import ServiceError
from portal.extensions import db
from portal.scheduling import booking as booking_service
from portal.scheduling.fitting import PlannedStop, local_dt, plan_from_template
from portal.scheduling.models import Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

# (name, origin, kind, size, days ahead, days, route name or stops (day, "HH:MM", minutes,
# site key), waiting list, decisions: (site key, confirm, reason))
DEMO_CLASSES = [
    (
        "市直机关科级干部党性教育培训班（第4期）",
        "city",
        "main",
        45,
        18,
        1,
        "杨善洲精神一日环线",
        False,
        [
            ("spirit_base", True, ""),
            ("cemetery", False, "当日墓园修缮，暂停接待，请改选其他日期。"),
        ],
    ),
    (
        "某州党政干部滇西抗战精神专题培训班",
        "province",
        "commissioned",
        36,
        26,
        3,
        [
            (1, "09:00", 180, "main_hall"),
            (2, "10:00", 180, "battlefield"),
            (3, "09:00", 90, "dianxi_memorial"),
        ],
        False,
        [],
    ),
    (
        "某省直机关青年干部现场教学班",
        "other_province",
        "commissioned",
        40,
        33,
        1,
        [(1, "14:00", 60, "aisiqi_residence")],
        False,
        [("aisiqi_residence", True, "")],
    ),
    (
        "某县乡村振兴干部参观学习团",
        "province",
        "adhoc",
        30,
        33,
        1,
        [(1, "14:00", 60, "aisiqi_residence")],
        True,
        [],
    ),
]


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def load_demo_bookings() -> None:
    """Register and book the demo classes that are not there yet. Commits (the engine does)."""
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    if organizer is None:
        return
    existing = set(db.session.scalars(select(TrainingClass.name)))
    routes = {r.name: r for r in db.session.scalars(select(RouteTemplate))}
    sites = {
        s.key: s
        for s in db.session.scalars(select(TeachingSite).where(TeachingSite.key.is_not(None)))
    }
    for name, origin, kind, size, ahead, days, stops, waitlist, decisions in DEMO_CLASSES:
        if name in existing:
            continue
        klass = TrainingClass(
            name=name,
            kind=kind,
            origin=origin,
            sending_unit=organizer.unit_name or "某省委组织部",
            size=size,
            starts_on=today() + timedelta(days=ahead),
            ends_on=today() + timedelta(days=ahead + days - 1),
            theme="党性教育",
            contact_name="张联系人",
            contact_phone="13908750000",
            is_study_visit=kind == "adhoc",
            organizer_id=organizer.id,
        )
        db.session.add(klass)
        db.session.commit()
        booking = _book(klass, stops, routes, sites, organizer, waitlist)
        if booking is None:
            continue
        for site_key, confirm, reason in decisions:
            _decide(booking.id, site_key, confirm, reason)
        if waitlist:
            _free_place(booking.id)
    _notice(organizer)


FREED = (DEMO_CLASSES[2][0], "该班行程调整，取消现场教学。")


def _free_place(waiting_booking_id: int) -> None:
    """The class ahead of the waiting one cancels (through the office): the place is offered."""
    waiting = db.session.scalar(
        select(Reservation).where(
            Reservation.booking_id == waiting_booking_id, Reservation.status == "waitlisted"
        )
    )
    office = db.session.scalar(select(User).where(User.username == "office"))
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.name == FREED[0]))
    if waiting is None or office is None or klass is None:
        return
    for booking in [b for b in klass.bookings if b.status != "cancelled"]:
        try:
            booking_service.cancel_booking(booking, office, FREED[1])
        except ServiceError as refused:
            db.session.rollback()
            log.warning("demo cancellation refused: %s", refused)


NOTICE = ("结业式安排", "结业式定于最后一天下午 3 点在党校报告厅举行，请全体学员着正装参加。")


def _notice(organizer: User) -> None:
    """A notice to the trainees' demo class through the trainees' service (their inbox)."""
    from portal.trainees.demo import DEMO_CLASS
    from portal.trainees.models import ClassNotice
    from portal.trainees.notices import post_notice

    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.name == DEMO_CLASS))
    if klass is None or db.session.scalar(
        select(ClassNotice.id).where(
            ClassNotice.class_id == klass.id, ClassNotice.title == NOTICE[0]
        )
    ):
        return
    post_notice(klass, organizer, *NOTICE)


def _plan(stops, routes, sites, start: date) -> tuple[list[PlannedStop], RouteTemplate | None]:
    if isinstance(stops, str):
        template = routes.get(stops)
        return (plan_from_template(template, start) if template else []), template
    plan = []
    for index, (day, at, minutes, site_key) in enumerate(stops):
        site = sites.get(site_key)
        if site is None:
            continue
        hour, minute = map(int, at.split(":"))
        plan.append(
            PlannedStop(
                index=index,
                kind="visit",
                starts_at=local_dt(start + timedelta(days=day - 1), time(hour, minute)),
                minutes=minutes,
                site=site,
                guide_requested=False,
            )
        )
    return plan, None


def _book(klass, stops, routes, sites, organizer, waitlist):
    """Book the class's stops, moving the class a day on while a site cannot take them."""
    length = (klass.ends_on - klass.starts_on).days
    for _shift in range(14):
        plan, template = _plan(stops, routes, sites, klass.starts_on)
        if not plan:
            return None
        try:
            return booking_service.book(
                klass, plan, organizer, template=template, waitlist_full=waitlist
            )
        except ServiceError as refused:
            log.debug("demo class %s on %s: %s", klass.name, klass.starts_on, refused)
            db.session.rollback()
            klass.starts_on += timedelta(days=1)
            klass.ends_on = klass.starts_on + timedelta(days=length)
            db.session.commit()
    log.warning("demo class %s could not be booked", klass.name)
    return None


def _decide(booking_id: int, site_key: str, confirm: bool, reason: str) -> None:
    reservation = db.session.scalar(
        select(Reservation)
        .join(Reservation.site)
        .where(
            Reservation.booking_id == booking_id,
            Reservation.status == "pending",
            TeachingSite.key == site_key,
        )
    )
    if reservation is None:
        return
    host = db.session.scalar(
        select(User).where(User.username == f"{reservation.site.member.key}_admin")
    )
    if host is None:
        return
    try:
        booking_service.decide(reservation, host, confirm, reason)
    except ServiceError as refused:
        db.session.rollback()
        log.warning("demo decision at %s refused: %s", site_key, refused)
