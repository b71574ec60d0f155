"""The evaluations' part of the demo: a finished class whose trainees scored its stops.

Idempotent (the class is looked up by its name). The class of the demo ``organizer`` ran
the five-day 三点一线 route (every member's sites) three weeks ago with the demo ``trainee`` on
its roster; every other
trainee evaluated every stop (so the catalogue shows averages), the demo trainee left the
last stop to answer. Certificates (portal.certificates.demo) are issued for this class.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.evaluations import services
from portal.evaluations.models import Evaluation, EvaluationScore
from portal.extensions import db
from portal.scheduling.models import Booking, Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees.demo import PEOPLE, TRAINEE_PHONE, _entry
from portal.trainees.models import RosterEntry

FINISHED_CLASS = "某州科级干部党性教育培训班（环线第2期）"
FINISHED_ROUTE = "三点一线五日精品环线"
COMMENTS = [
    "现场教学很震撼，讲解员讲得生动，建议多留一些提问时间。",
    "杨善洲同志的事迹感人至深，回去要把学到的用到工作中。",
    "",
    "行程安排紧凑合理，后勤保障到位。",
    "",
]


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def finished_class() -> TrainingClass | None:
    """The demo's finished class, created (with its roster) if it is not there yet."""
    found = db.session.scalar(select(TrainingClass).where(TrainingClass.name == FINISHED_CLASS))
    if found is not None:
        return found
    users = {u.username: u for u in db.session.scalars(select(User))}
    trainee, organizer = users.get("trainee"), users.get("organizer")
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == FINISHED_ROUTE))
    if trainee is None or organizer is None or template is None:
        return None
    day = today() - timedelta(days=21)
    klass = TrainingClass(
        name=FINISHED_CLASS,
        kind="main",
        origin="city",
        sending_unit="某州委组织部",
        size=len(PEOPLE) + 1,
        starts_on=day,
        ends_on=day + timedelta(days=template.days - 1),
        theme="党性教育",
        contact_name="张联系人",
        contact_phone="13908750000",
        organizer_id=organizer.id,
    )
    db.session.add(klass)
    db.session.flush()
    reservations = []
    for stop in template.stops:
        if stop.site is None:
            continue
        starts = datetime.combine(day + timedelta(days=stop.day - 1), stop.starts, tzinfo=LOCAL_TZ)
        teacher = stop.course.teachers[0] if stop.course and stop.course.teachers else None
        reservations.append(
            Reservation(
                site=stop.site,
                course=stop.course,
                teacher=teacher,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=stop.minutes),
                group_size=klass.size,
                guide_requested=stop.kind == "visit" or stop.site.needs_guide,
                status="confirmed",
                decided_at=utcnow(),
            )
        )
    db.session.add(
        Booking(
            training_class=klass,
            template_id=template.id,
            name=template.name,
            start_date=day,
            status="confirmed",
            created_by_id=organizer.id,
            reservations=reservations,
        )
    )
    _entry(klass, trainee.display_name, "男", trainee.unit_name or "", "科长", "", TRAINEE_PHONE)
    for name, gender, unit, position, rank, phone in PEOPLE:
        _entry(klass, name, gender, unit, position, rank, phone)
    db.session.flush()
    return klass


def load_demo_evaluations() -> None:
    """The finished class and its evaluations, if not there yet. The caller commits."""
    klass = finished_class()
    if klass is None:
        return
    services.ensure_criteria()
    if db.session.scalar(select(Evaluation.id).where(Evaluation.class_id == klass.id).limit(1)):
        return
    trainee = db.session.scalar(select(User).where(User.username == "trainee"))
    entries = db.session.scalars(
        select(RosterEntry).where(RosterEntry.class_id == klass.id).order_by(RosterEntry.id)
    ).all()
    for n, entry in enumerate(entries):
        items = services.answerable_stops(klass, entry)
        if trainee is not None and entry.user_id == trainee.id:
            items = items[:-1]  # the demo trainee still has the last stop to evaluate
        for k, item in enumerate(items):
            reservation = db.session.get(Reservation, item.reservation_id)
            scores = [
                EvaluationScore(criterion_id=c.id, score=5 - (n + k + c.id) % 3 // 2)
                for t in services.targets_of(reservation)
                for c in services.criteria(t)
            ]
            db.session.add(
                Evaluation(
                    class_id=klass.id,
                    entry_id=entry.id,
                    reservation_id=reservation.id,
                    site_id=reservation.site_id,
                    member_id=reservation.site.member_id,
                    course_id=reservation.course_id,
                    teacher_id=reservation.teacher_id,
                    comment=COMMENTS[(n + k) % len(COMMENTS)],
                    scores=scores,
                )
            )
    db.session.flush()
