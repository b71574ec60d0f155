"""The trainees' part of the demo consortium (called from portal.demo.load_demo).

Relative to the day it is loaded, and idempotent (each piece is looked up by its name):

* a class of the demo ``organizer`` under way now (from yesterday to three days on), with
  the 滇西抗战 route booked and confirmed, its roster (the demo ``trainee`` on it), rules
  some have not acknowledged yet, a notice, a shared calendar, and an elective slot whose
  choosing deadline is tomorrow;
* an open run of the 杨善洲精神 route in about six weeks, published by the office, with
  seats left that the demo ``trainee`` can book.

The class under way started before today, so the engine would refuse its stops as past:
its booking is written as the members confirmed it when it was made.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import Course, TeachingSite
from portal.errors import ServiceError
from portal.extensions import db
from portal.scheduling.fitting import check_plan, plan_from_template
from portal.scheduling.models import Booking, Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees import open_runs, roster, run_publishing
from portal.trainees.models import (
    ClassNotice,
    ClassProfile,
    Elective,
    ElectiveOption,
    OpenRun,
    RosterEntry,
)

log = logging.getLogger(__name__)

DEMO_CLASS = "省外处级干部党性教育培训班（环线第3期）"
DEMO_ROUTE = "滇西抗战精神三日环线"
DEMO_RUN = "杨善洲精神一日环线 · 开放班次"
RUN_ROUTE = "杨善洲精神一日环线"
TRAINEE_PHONE = "13800138000"
ELECTIVE_TITLE = "第四天上午现场教学（任选其一）"

RULES = """一、严格遵守中央八项规定及其实施细则精神，不安排宴请，不参观与教学无关的景点。
二、按时参加每一项教学活动，不迟到、不早退；请假须经班主任批准。
三、现场教学时听从讲解员和带队老师安排，注意安全，爱护文物和环境。
四、统一着装、佩戴学员证，文明礼貌，维护干部形象。
五、遵守保密纪律，不在网上发布未经允许的教学内容。"""
CONTACTS = """班主任：王老师 13908750001
带队老师：赵老师 13908750002
车辆：滇M·A1234 司机杨师傅 13908750003"""
PEOPLE = [
    ("王建国", "男", "某省发展改革委", "处长", "二级调研员", "13900010001"),
    ("刘晓燕", "女", "某市财政局", "副局长", "四级调研员", "13900010002"),
    ("陈志强", "男", "某县委办公室", "主任", "一级主任科员", "13900010003"),
    ("杨丽华", "女", "某省教育厅", "副处长", "四级调研员", "13900010004"),
    ("赵明", "男", "某市交通运输局", "科长", "一级主任科员", "13900010005"),
    ("孙海燕", "女", "某县人民政府", "副县长", "县处级副职", "13900010006"),
    ("周伟", "男", "某省生态环境厅", "处长", "三级调研员", "13900010007"),
    ("吴静", "女", "某市卫生健康委", "副主任", "四级调研员", "13900010008"),
    ("郑凯", "男", "某县乡村振兴局", "局长", "县处级正职", "13900010009"),
    ("冯雪", "女", "某省农业农村厅", "副处长", "四级调研员", "13900010010"),
    ("蒋涛", "男", "某市应急管理局", "副局长", "四级调研员", "13900010011"),
]
RUN_PEOPLE = [
    ("何平", "某县委组织部", "13900020001"),
    ("罗敏", "某县委党校", "13900020002"),
    ("高翔", "某县发展改革局", "13900020003"),
    ("梁红", "某县民政局", "13900020004"),
    ("宋磊", "某县人社局", "13900020005"),
    ("唐娟", "某县水务局", "13900020006"),
]


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def load_demo_trainees() -> None:
    """Add the trainees' demo data that is not there yet. The caller commits."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    trainee, organizer, office = users.get("trainee"), users.get("organizer"), users.get("office")
    if trainee is None or organizer is None or office is None:
        return
    if not trainee.phone:
        trainee.phone = TRAINEE_PHONE
    db.session.commit()
    _current_class(trainee, organizer)
    _open_run(office)


def _site(key: str) -> TeachingSite | None:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def _current_class(trainee: User, organizer: User) -> None:
    if db.session.scalar(select(TrainingClass.id).where(TrainingClass.name == DEMO_CLASS)):
        return
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == DEMO_ROUTE))
    if template is None:
        return
    start = today() - timedelta(days=1)
    klass = TrainingClass(
        name=DEMO_CLASS,
        kind="commissioned",
        origin="other_province",
        sending_unit="某省委组织部",
        size=len(PEOPLE) + 1,
        starts_on=start,
        ends_on=start + timedelta(days=4),
        theme="党性教育",
        contact_name="张联系人",
        contact_phone="13908750000",
        organizer_id=organizer.id,
    )
    db.session.add(klass)
    db.session.flush()
    # The route from today: day 1 today, so today's and tomorrow's stops show.
    route_start = today()
    now = utcnow()
    reservations = []
    for stop in template.stops:
        if stop.site is None:
            continue
        starts = datetime.combine(
            route_start + timedelta(days=stop.day - 1), stop.starts, tzinfo=LOCAL_TZ
        )
        teacher = (
            stop.course.teachers[0] if stop.course is not None and stop.course.teachers else None
        )
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
                decided_at=now,
            )
        )
    db.session.add(
        Booking(
            training_class=klass,
            template_id=template.id,
            name=template.name,
            start_date=route_start,
            status="confirmed",
            created_by_id=organizer.id,
            reservations=reservations,
        )
    )
    entries = [
        _entry(
            klass, trainee.display_name, "男", trainee.unit_name or "", "科长", "", trainee.phone
        )
    ]
    for name, gender, unit, position, rank, phone in PEOPLE:
        entries.append(_entry(klass, name, gender, unit, position, rank, phone))
    db.session.add(
        ClassProfile(
            class_id=klass.id,
            rules_text=RULES,
            rules_updated_at=now,
            contacts_text=CONTACTS,
            calendar_shared=True,
        )
    )
    for entry in entries[1:8]:  # most have acknowledged; the demo trainee and a few have not
        entry.rules_acknowledged_at = now
    db.session.add(
        ClassNotice(
            class_id=klass.id,
            title="明日集合时间调整",
            body="明天早上 7:40 在酒店大堂集合，统一乘车前往滇西抗战纪念馆，请提前用早餐。",
            created_by_id=organizer.id,
        )
    )
    _elective(klass, organizer, route_start + timedelta(days=3), len(entries))
    db.session.commit()


def _entry(klass, name, gender, unit, position, rank, phone) -> RosterEntry:
    values = roster.TraineeValues(
        name=name, phone=phone, gender=gender, unit=unit, position=position, rank=rank
    )
    user, _created = roster.ensure_account(values)
    entry = RosterEntry(class_id=klass.id, user_id=user.id, phone=phone, source="manual")
    roster.apply_values(entry, values)
    db.session.add(entry)
    return entry


def _elective(klass: TrainingClass, organizer: User, day: date, people: int) -> None:
    """Day 4, 09:00–10:30: the Simola Wa village or the 国殇墓园 (each held for half the class)."""
    starts = datetime.combine(day, time(9, 0), tzinfo=LOCAL_TZ)
    ends = starts + timedelta(minutes=90)
    seats = people // 2 + 2
    options = []
    for key, course_key in (("simola_village", None), ("guoshang_cemetery", None)):
        site = _site(key)
        if site is None:
            continue
        course = (
            db.session.scalar(select(Course).where(Course.key == course_key))
            if course_key
            else None
        )
        booking = Booking(
            training_class=klass,
            name=f"选学：{ELECTIVE_TITLE}（{site.name}）",
            start_date=day,
            status="confirmed",
            created_by_id=organizer.id,
            reservations=[
                Reservation(
                    site=site,
                    course=course,
                    starts_at=starts,
                    ends_at=ends,
                    group_size=seats,
                    guide_requested=True,
                    status="confirmed",
                    decided_at=utcnow(),
                )
            ],
        )
        db.session.add(booking)
        db.session.flush()
        options.append(
            ElectiveOption(site_id=site.id, course_id=None, seats=seats, booking_id=booking.id)
        )
    if len(options) < 2:
        return
    db.session.add(
        Elective(
            class_id=klass.id,
            title=ELECTIVE_TITLE,
            starts_at=starts,
            ends_at=ends,
            choose_by=datetime.combine(today() + timedelta(days=1), time(23, 59), tzinfo=LOCAL_TZ),
            created_by_id=organizer.id,
            options=options,
        )
    )


def _open_run(office: User) -> None:
    if db.session.scalar(select(OpenRun.id).where(OpenRun.title == DEMO_RUN)):
        return
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == RUN_ROUTE))
    if template is None:
        return
    seats = 30
    # Six weeks on or more: clear of the dates the test suite books on the same sites.
    for offset in range(43, 57):
        start = today() + timedelta(days=offset)
        plan = plan_from_template(template, start)
        if any(p.code != "capacity" for p in check_plan(plan, seats)):
            continue
        values = {
            "title": DEMO_RUN,
            "description": "面向全市各级干部开放报名，满 10 人成班。大亮山林场现场教学、事迹陈列室、善洲墓园。",
            "template_id": template.id,
            "starts_on": start,
            "booking_deadline": start - timedelta(days=7),
            "cancel_deadline": start - timedelta(days=3),
            "seats": seats,
            "min_participants": 10,
            "open_to": "all",
            "quotas": "",
        }
        try:
            run = run_publishing.publish_run(office, values)
        except ServiceError as error:
            log.warning("demo open run not published for %s: %s", start, error.message)
            continue
        run_id = run.id
        for name, unit, phone in RUN_PEOPLE:
            account, _created = roster.ensure_account(
                roster.TraineeValues(name=name, phone=phone, unit=unit)
            )
            account.unit_name = unit
            db.session.commit()
            open_runs.book_seat(run_id, account)
        return
