"""The reports' part of the demo consortium (called from portal.demo.load_demo).

Past classes of this year (before the day it is loaded) from every origin, most on a ring
route, one a study visit at one site, one cancelled, so that 统计报表 shows figures that
are not zero; and a class in three weeks that has not booked its ring route yet, so that
the organizer's dashboard has something to do; and this year's plan (培训计划) if the office
has none yet. Plan review: the first past class's plan approved, the upcoming class's
awaiting review (须安排环线教学); next year's needs survey, open, with the answers of the
demo organizer and of the attendance demo's 班主任 (when loaded). Idempotent: each class is looked up by its name. The classes are in the
past, so the engine would refuse their stops: their bookings are written as the members
confirmed them at the time (as the trainees' demo does for its class under way).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.reports.models import ClassPlan, NeedsSurvey, PlanTarget, SurveyAnswer
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
    db.session.flush()
    _plans_and_survey(organizer, this_year)
    db.session.commit()


# Needs survey for next year's plan: the offered answers and the demo units' answers
# (unit, topics, formats, months, cadres per rank, note).
SURVEY_TITLE = "%s年度干部教育培训需求征集"
SURVEY_TOPICS = ["党性教育", "乡村振兴", "基层治理", "数字政府", "生态文明"]
SURVEY_FORMATS = ["现场教学", "专题讲座", "情景模拟", "访谈教学"]
SURVEY_RANKS = ["县处级", "乡科级", "一般干部"]
SURVEY_ANSWERS = [
    (
        "organizer",
        ["党性教育", "乡村振兴"],
        ["现场教学", "访谈教学"],
        [4, 5, 9],
        {"县处级": 40, "乡科级": 120},
        "希望安排杨善洲精神现场教学。",
    ),
    (
        "banzhuren",
        ["党性教育", "基层治理"],
        ["现场教学"],
        [5, 10],
        {"乡科级": 60, "一般干部": 80},
        "",
    ),
]


def _plans_and_survey(organizer: User, this_year: int) -> None:
    """An approved plan (a past city class that booked its ring route), one awaiting
    review (the upcoming class without its ring route yet), and next year's needs survey
    with the demo units' answers."""
    office = db.session.scalar(select(User).where(User.username == "office"))
    if office is None:
        return
    reviewed = {c for c in db.session.scalars(select(ClassPlan.class_id))}
    for name, status in ((PAST_CLASSES[0][1], "approved"), (UPCOMING[0], "submitted")):
        klass = db.session.scalar(select(TrainingClass).where(TrainingClass.name == name))
        if klass is None or klass.id in reviewed:
            continue
        booking = next((b for b in klass.bookings if b.status != "cancelled"), None)
        db.session.add(
            ClassPlan(
                class_id=klass.id,
                status=status,
                starts_on=klass.starts_on,
                ends_on=klass.ends_on,
                theme=klass.theme,
                size=klass.size,
                template_id=booking.template_id if booking is not None else None,
                itinerary=""
                if booking is not None
                else "第一天：杨善洲干部学院专题教学；"
                "第二天：大亮山林场现场教学；第三天：分组研讨、结业。",
                comments="同意按此方案实施。" if status == "approved" else "",
                submitted_by_id=organizer.id,
                decided_by_id=office.id if status == "approved" else None,
                decided_at=utcnow() if status == "approved" else None,
            )
        )
    title = SURVEY_TITLE % (this_year + 1)
    if db.session.scalar(select(NeedsSurvey.id).where(NeedsSurvey.title == title)):
        return
    survey = NeedsSurvey(
        year=this_year + 1,
        title=title,
        intro="请各选派单位填报明年的培训需求，环线办据此编制年度培训计划。",
        topics=SURVEY_TOPICS,
        formats=SURVEY_FORMATS,
        ranks=SURVEY_RANKS,
        closes_on=today() + timedelta(days=25),
        created_by_id=office.id,
    )
    db.session.add(survey)
    db.session.flush()
    for username, topics, formats, months, cadres, note in SURVEY_ANSWERS:
        unit = db.session.scalar(select(User).where(User.username == username))
        if unit is None:
            continue
        db.session.add(
            SurveyAnswer(
                survey_id=survey.id,
                organizer_id=unit.id,
                unit=unit.unit_name or unit.display_name,
                topics=topics,
                formats=formats,
                months=months,
                cadres=cadres,
                note=note,
            )
        )


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
