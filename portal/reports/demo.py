"""The reports' part of the demo consortium (called from portal.demo.load_demo).

Past classes of this year (before the day it is loaded) from every origin, most on a ring
route, one a study visit at one site, one cancelled, so that 统计报表 shows figures that
are not zero; and a class in three weeks that has not booked its ring route yet, so that
the organizer's dashboard has something to do; and this year's plan (培训计划) if the office
has none yet. Idempotent: each class is looked up by its name. The classes are in the
past, so the engine would refuse their stops: their bookings are written as the members
confirmed them at the time (as the trainees' demo does for its class under way).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.reports.models import PlanTarget
from portal.scheduling.models import Booking, Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow

# (days before today, name, origin, kind, size, route name or None, study visit, cancelled)
PAST_CLASSES = [
    (
        300,
        "市直机关处级干部党性教育培训班",
        "city",
        "main",
        48,
        "滇西抗战精神三日环线",
        False,
        False,
    ),
    (
        270,
        "某州科级干部专题培训班",
        "province",
        "commissioned",
        36,
        "杨善洲精神一日环线",
        False,
        False,
    ),
    (
        240,
        "某省直机关青年干部培训班",
        "other_province",
        "commissioned",
        52,
        "三点一线五日精品环线",
        False,
        False,
    ),
    (200, "市委党校主体班（第1期）", "city", "main", 60, "杨善洲精神一日环线", False, False),
    (160, "某市乡村振兴干部培训班", "province", "adhoc", 40, "滇西抗战精神三日环线", False, False),
    (
        130,
        "某省国资委党性教育培训班",
        "other_province",
        "commissioned",
        45,
        "滇西抗战精神三日环线",
        False,
        False,
    ),
    (100, "某县党政代表团参观学习", "province", "adhoc", 25, None, True, False),
    (75, "市直机关新任职干部培训班", "city", "main", 55, None, False, False),
    (
        40,
        "某省妇联干部培训班",
        "other_province",
        "commissioned",
        38,
        "杨善洲精神一日环线",
        False,
        False,
    ),
    (20, "某县乡镇党委书记培训班（取消）", "city", "adhoc", 30, "杨善洲精神一日环线", False, True),
]
STUDY_SITE = "spirit_base"
# A class coming up that has not booked its ring route yet: the organizer's dashboard shows
# what it needs next (须预约环线教学).
UPCOMING = ("市直机关处级干部党性教育培训班（第2期）", 21, 3, 50)
# This year's plan (label, kind, origin, theme word, classes, trainees, rank word, cadres).
PLAN = [
    ("全年培训班", "", "", "", 12, 500, "", None),
    ("党性教育培训班", "", "", "党性教育", 10, None, "", None),
    ("市内主体班", "main", "city", "", 4, 200, "", None),
    ("省外委托班", "commissioned", "other_province", "", 3, None, "", None),
    ("县处级领导干部轮训一遍", "", "", "", 2, None, "处级", 20),
]


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def load_demo_reports() -> None:
    """Add the past classes that are not there yet. The caller commits."""
    organizer = db.session.scalar(select(User).where(User.username == "organizer"))
    if organizer is None:
        return
    existing = set(db.session.scalars(select(TrainingClass.name)))
    routes = {r.name: r for r in db.session.scalars(select(RouteTemplate))}
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.key == STUDY_SITE))
    this_year = today().year
    for before, name, origin, kind, size, route, visit, cancelled in PAST_CLASSES:
        starts_on = today() - timedelta(days=before)
        if name in existing or starts_on.year != this_year:
            continue
        template = routes.get(route) if route else None
        days = template.days if template is not None else 1
        klass = TrainingClass(
            name=name,
            kind=kind,
            origin=origin,
            sending_unit=organizer.unit_name or "某省委组织部",
            size=size,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=max(days, 1) - 1),
            theme="党性教育",
            contact_name="张联系人",
            contact_phone="13908750000",
            is_study_visit=visit,
            cancelled=cancelled,
            organizer_id=organizer.id,
        )
        db.session.add(klass)
        db.session.flush()
        _book(klass, template, site, organizer, cancelled)
    name, days_ahead, days, size = UPCOMING
    if name not in existing:
        starts_on = today() + timedelta(days=days_ahead)
        db.session.add(
            TrainingClass(
                name=name,
                kind="main",
                origin="city",
                sending_unit="市委组织部",
                size=size,
                starts_on=starts_on,
                ends_on=starts_on + timedelta(days=days - 1),
                theme="党性教育",
                contact_name="张联系人",
                contact_phone="13908750000",
                organizer_id=organizer.id,
            )
        )
    if not db.session.scalar(select(PlanTarget.id).where(PlanTarget.year == this_year)):
        office = db.session.scalar(select(User).where(User.username == "office"))
        for label, kind, origin, theme, planned, trainees, rank, cadres in PLAN:
            db.session.add(
                PlanTarget(
                    year=this_year,
                    label=label,
                    kind=kind,
                    origin=origin,
                    theme=theme,
                    planned_classes=planned,
                    planned_trainees=trainees,
                    rank=rank,
                    cadres=cadres,
                    created_by_id=office.id if office else None,
                )
            )
    db.session.commit()


def _book(klass, template, site, organizer, cancelled: bool) -> None:
    now = utcnow()
    status = "cancelled" if cancelled else "confirmed"
    reservations = []
    if template is not None:
        for stop in template.stops:
            if stop.site is None:
                continue
            starts = datetime.combine(
                klass.starts_on + timedelta(days=stop.day - 1), stop.starts, tzinfo=LOCAL_TZ
            )
            reservations.append(
                Reservation(
                    site=stop.site,
                    course=stop.course,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=stop.minutes),
                    group_size=klass.size,
                    guide_requested=stop.kind == "visit" or stop.site.needs_guide,
                    status=status,
                    decided_at=now,
                )
            )
    elif site is not None:
        starts = datetime.combine(klass.starts_on, site.opens, tzinfo=LOCAL_TZ)
        reservations.append(
            Reservation(
                site=site,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=site.session_minutes),
                group_size=klass.size,
                status=status,
                decided_at=now,
            )
        )
    if not reservations:
        return
    db.session.add(
        Booking(
            training_class=klass,
            template_id=template.id if template is not None else None,
            name=template.name if template is not None else site.name,
            start_date=klass.starts_on,
            status=status,
            created_by_id=organizer.id,
            reservations=reservations,
        )
    )
