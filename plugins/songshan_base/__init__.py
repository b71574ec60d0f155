"""Member plugin of 松山干部教育培训基地 (龙陵): the 松山 battle site, its guides and squads."""

from __future__ import annotations

from datetime import time

from portal import hookimpl
from portal.specs import (
    CourseSpec,
    EventFieldSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReportFigure,
    ReservationRequest,
    SiteSpec,
    TeacherSpec,
)

# Sites (by key) on the battlefield's trenches and trails: every group needs a guide there.
BATTLEFIELD_SITE_KEYS = frozenset({"battlefield"})
# The trails are narrow: a group larger than this must split into squads (about
# SQUAD_SIZE trainees, each with its own guide) that walk them one after another.
MAX_BATTLEFIELD_GROUP = 60
SQUAD_SIZE = 20

INSTITUTION = InstitutionSpec(
    key="songshan_base",
    name="松山干部教育培训基地",
    short_name="松山基地",
    kind="training_base",
    address="云南省保山市龙陵县腊勐镇",
    phone="0875-6120000",
    contact_person="办公室 杨老师",
    email="office@songshan-base.baoshan.example",
    website="https://songshan-base.baoshan.example/",
    description=(
        "依托保存完好的松山战役遗址开展抗战历史和爱国主义教育，以现场教学、"
        "情景教学为主，是环线“三点一线”的重要一站。"
    ),
    colour="#8e5b00",
)

_SONGSHAN = "云南省保山市龙陵县腊勐镇大垭口村松山"

SITES = [
    SiteSpec(
        key="battlefield",
        name="松山战役遗址",
        theme="抗战历史",
        capacity=120,
        session_minutes=180,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 30),
        closes=time(17, 0),
        needs_guide=True,
        address=_SONGSHAN,
        latitude=24.8049,
        longitude=98.8623,
        description="中国远征军攻克松山的战场遗址，保留大量战壕、堑壕和坑道，须由讲解员带领沿山路分组教学。",
    ),
    SiteSpec(
        key="expedition_statues",
        name="中国远征军雕塑群",
        theme="抗战历史",
        capacity=200,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 0),
        closes=time(18, 0),
        needs_guide=False,
        address=_SONGSHAN,
        latitude=24.8062,
        longitude=98.8601,
        description="以远征军将士形象塑造的大型群雕，学员在此集体默哀、重温入党誓词。",
    ),
    SiteSpec(
        key="battle_museum",
        name="松山战役纪念馆",
        theme="抗战历史",
        capacity=80,
        session_minutes=90,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address=_SONGSHAN,
        latitude=24.8071,
        longitude=98.8589,
        description="以文物、史料和影像还原松山战役全过程，展示滇西军民支前抗战的历史。",
    ),
    SiteSpec(
        key="base_classroom",
        name="基地教学楼报告厅",
        theme="革命传统",
        capacity=120,
        session_minutes=120,
        open_weekdays=(1, 2, 3, 4, 5, 6),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=False,
        address="云南省保山市龙陵县腊勐镇",
        latitude=24.8110,
        longitude=98.8552,
        description="基地的理论教学和研讨场所，用于专题讲座和现场教学后的交流研讨。",
    ),
]

TEACHERS = [
    TeacherSpec(
        key="yang_zhengwei",
        name="杨正伟",
        kind="full_time",
        title="副教授",
        topics=("松山战役", "滇西抗战史"),
        shared=True,
        bio="基地教研室负责人，长期研究松山战役和中国远征军史料。",
    ),
    TeacherSpec(
        key="li_xiaomei",
        name="李晓梅",
        kind="full_time",
        title="高级讲解员",
        topics=("松山战役遗址讲解",),
        shared=False,
        bio="松山战役遗址现场教学的主讲讲解员，带领学员走遍主峰和子高地阵地。",
    ),
    TeacherSpec(
        key="zhou_jun",
        name="周军",
        kind="full_time",
        title="讲师",
        topics=("爱国主义教育", "情景教学"),
        shared=False,
        bio="负责情景教学和研讨课的组织。",
    ),
    TeacherSpec(
        key="wang_desheng",
        name="王德胜",
        kind="part_time",
        title="研究员",
        topics=("抗战文物", "遗址保护"),
        shared=True,
        bio="兼职研究员，从事抗战遗址保护和文物研究。",
    ),
]

COURSES = [
    CourseSpec(
        key="songshan_lecture",
        name="松山战役与中国远征军",
        kind="lecture",
        teacher_keys=("yang_zhengwei",),
        site_key="base_classroom",
        hours=3,
        description="讲述松山战役的历史背景、作战经过和历史意义。",
    ),
    CourseSpec(
        key="battlefield_onsite",
        name="重走松山战场——松山战役遗址现场教学",
        kind="onsite",
        teacher_keys=("li_xiaomei", "wang_desheng"),
        site_key="battlefield",
        hours=4,
        description="在讲解员带领下沿战壕和坑道踏勘遗址，感悟伟大抗战精神。",
        excellent=True,
    ),
    CourseSpec(
        key="spirit_seminar",
        name="伟大抗战精神与新时代担当研讨",
        kind="seminar",
        teacher_keys=("zhou_jun",),
        site_key="base_classroom",
        hours=2,
        description="现场教学后的结构化研讨，交流心得体会。",
    ),
]

EVENT_TYPES = [
    EventTypeSpec(
        key="supervision",
        name="调研督查",
        description="对环线现场教学点的教学质量、讲解服务和安全保障开展调研督查。",
    ),
    EventTypeSpec(
        key="battlefield_trek",
        name="重走松山战场徒步研学",
        description="沿松山战役遗址的战壕和山路徒步研学，由基地讲解员分组带领。",
    ),
]

# The fields of the base's own kinds of joint event (hook portal_event_fields).
TREK_FIELDS = [
    EventFieldSpec(
        key="distance_km",
        label="徒步距离（公里）",
        kind="int",
        required=True,
        min_value=1,
        max_value=50,
        help="全程徒步的距离，整数公里。",
    ),
    EventFieldSpec(
        key="equipment",
        label="装备要求",
        kind="text",
        help="如：运动鞋、雨具、饮用水。",
    ),
    EventFieldSpec(
        key="difficulty",
        label="难度",
        kind="choice",
        choices=("较易", "中等", "较难"),
    ),
]
EVENT_FIELDS = {"battlefield_trek": TREK_FIELDS}


@hookimpl
def portal_institution() -> InstitutionSpec:
    return INSTITUTION


@hookimpl
def portal_teaching_sites() -> list[SiteSpec]:
    return list(SITES)


@hookimpl
def portal_teachers() -> list[TeacherSpec]:
    return list(TEACHERS)


@hookimpl
def portal_courses() -> list[CourseSpec]:
    return list(COURSES)


@hookimpl
def portal_event_types() -> list[EventTypeSpec]:
    return list(EVENT_TYPES)


@hookimpl
def portal_event_fields(event_type_key: str) -> list[EventFieldSpec]:
    return list(EVENT_FIELDS.get(event_type_key, []))


@hookimpl
def portal_validate_reservation(reservation: ReservationRequest, site) -> list[str]:
    """On the battlefield every group needs a guide and big groups go in squads."""
    if site.key not in BATTLEFIELD_SITE_KEYS:
        return []
    problems = []
    if not reservation.guide_requested:
        problems.append(f"{site.name}现场教学须配备讲解员，请勾选“需要讲解员”。")
    # A class split into squads walks the trails squad by squad: each squad is judged.
    if reservation.largest_squad > MAX_BATTLEFIELD_GROUP:
        problems.append(
            f"{site.name}山路狭窄，每批不超过{MAX_BATTLEFIELD_GROUP}人；"
            f"本次{reservation.largest_squad}人，请分成每组约{SQUAD_SIZE}人的小组依次参观，"
            "每组配一名讲解员。"
        )
    return problems


@hookimpl
def portal_report_figures(start, end, member_key) -> list[ReportFigure]:
    """Guided groups on the battlefield: confirmed stops with a guide in the period."""
    if member_key not in (None, INSTITUTION.key):
        return []
    from datetime import datetime, timedelta

    from sqlalchemy import func, select

    from portal.catalog.models import TeachingSite
    from portal.extensions import db
    from portal.scheduling.models import Reservation
    from portal.timeutil import LOCAL_TZ

    first = datetime.combine(start, time(0), LOCAL_TZ)
    after = datetime.combine(end + timedelta(days=1), time(0), LOCAL_TZ)
    count = db.session.scalar(
        select(func.count(Reservation.id))
        .join(TeachingSite, TeachingSite.id == Reservation.site_id)
        .where(
            TeachingSite.plugin == "songshan_base",
            TeachingSite.key.in_(BATTLEFIELD_SITE_KEYS),
            Reservation.status == "confirmed",
            Reservation.guide_requested.is_(True),
            Reservation.starts_at >= first,
            Reservation.starts_at < after,
        )
    )
    return [
        ReportFigure(
            "战场遗址讲解批次",
            count or 0,
            "批",
            "松山战役遗址已确认、配备讲解员的现场教学安排（每组一批）",
        )
    ]
