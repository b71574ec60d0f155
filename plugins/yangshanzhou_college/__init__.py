"""Member plugin of 保山杨善洲干部学院: the 大亮山 sites of 杨善洲精神 and their closing day."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from portal import hookimpl
from portal.specs import (
    WEEKDAY_NAMES,
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReservationRequest,
    SiteSpec,
    TeacherSpec,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# The indoor halls at 大亮山 close one day a week for upkeep (ISO weekday: 1 = Monday).
CLOSED_WEEKDAY = 1
# Sites (by key) that close on CLOSED_WEEKDAY; the cemetery and former residence stay open.
CLOSED_WEEKDAY_SITE_KEYS = frozenset({"spirit_base", "exhibition_room"})

INSTITUTION = InstitutionSpec(
    key="yangshanzhou_college",
    name="保山杨善洲干部学院",
    short_name="杨善洲干部学院",
    kind="cadre_college",
    address="云南省保山市施甸县姚关镇",
    phone="0875-8120000",
    contact_person="培训部 段老师",
    email="peixun@ysz-college.baoshan.example",
    website="https://ysz-college.baoshan.example/",
    description=(
        "依托杨善洲同志退休后扎根大亮山植树造林的事迹办学，以杨善洲精神为主线开展党性教育、"
        "生态文明教育和群众路线教育。"
    ),
    colour="#2e7d32",
)

_DALIANGSHAN = "云南省保山市施甸县姚关镇大亮山林场"

SITES = [
    SiteSpec(
        key="spirit_base",
        name="杨善洲精神教育基地（大亮山林场）",
        theme="生态文明",
        capacity=150,
        session_minutes=180,
        open_weekdays=(2, 3, 4, 5, 6, 7),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=True,
        address=_DALIANGSHAN,
        latitude=24.6034,
        longitude=99.2698,
        description="杨善洲同志退休后带领群众植树造林的大亮山林场，学员在林间步道和造林点开展现场教学。",
    ),
    SiteSpec(
        key="cemetery",
        name="善洲墓园",
        theme="党性教育",
        capacity=120,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 0),
        closes=time(18, 0),
        needs_guide=False,
        address=_DALIANGSHAN,
        latitude=24.6018,
        longitude=99.2711,
        description="杨善洲同志长眠于他亲手种下的林海之中，学员在此敬献花篮、重温入党誓词。",
    ),
    SiteSpec(
        key="exhibition_room",
        name="杨善洲事迹陈列室",
        theme="党性教育",
        capacity=60,
        session_minutes=60,
        open_weekdays=(2, 3, 4, 5, 6, 7),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address=_DALIANGSHAN,
        latitude=24.6029,
        longitude=99.2703,
        description="以实物、照片和影像展示杨善洲同志一生为民、清正廉洁的事迹，每周一闭馆。",
    ),
    SiteSpec(
        key="former_residence",
        name="善洲故居",
        theme="党性教育",
        capacity=40,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=True,
        address="云南省保山市施甸县姚关镇陡坡村",
        latitude=24.6262,
        longitude=99.2177,
        description="杨善洲同志出生和成长的农家小院，保留了他生前简朴的生活原貌。",
    ),
]

TEACHERS = [
    TeacherSpec(
        key="duan_ming",
        name="段明",
        kind="full_time",
        title="副教授",
        topics=("杨善洲精神", "党性修养"),
        shared=True,
        bio="学院教研部主任，长期研究杨善洲精神的内涵与时代价值。",
    ),
    TeacherSpec(
        key="zi_yanhong",
        name="字艳红",
        kind="full_time",
        title="高级讲解员",
        topics=("杨善洲事迹", "现场讲解"),
        shared=True,
        bio="事迹陈列室和大亮山现场教学的主讲讲解员，曾获全省讲解员大赛一等奖。",
    ),
    TeacherSpec(
        key="su_wenbin",
        name="苏文彬",
        kind="full_time",
        title="讲师",
        topics=("生态文明", "林业改革"),
        shared=False,
        bio="讲授大亮山造林与生态文明建设，带领学员开展林间现场教学。",
    ),
    TeacherSpec(
        key="luo_guofu",
        name="罗国富",
        kind="part_time",
        title="特聘讲述人",
        topics=("大亮山造林亲历",),
        shared=False,
        bio="大亮山林场退休职工，曾随杨善洲同志上山种树，讲述亲历的造林故事。",
    ),
]

COURSES = [
    CourseSpec(
        key="spirit_lecture",
        name="杨善洲精神的时代价值",
        kind="lecture",
        teacher_keys=("duan_ming",),
        hours=3,
        description="从一心为民、清正廉洁、艰苦奋斗三个方面解读杨善洲精神及其时代价值。",
        excellent=True,
    ),
    CourseSpec(
        key="daliangshan_onsite",
        name="走进大亮山——杨善洲精神现场教学",
        kind="onsite",
        teacher_keys=("su_wenbin", "luo_guofu"),
        site_key="spirit_base",
        hours=4,
        description="在大亮山林场沿造林路线现场教学，听老职工讲述二十二年植树造林的故事。",
    ),
    CourseSpec(
        key="exhibition_onsite",
        name="一生为民 清廉一生——事迹陈列室现场教学",
        kind="onsite",
        teacher_keys=("zi_yanhong",),
        site_key="exhibition_room",
        hours=2,
        description="在事迹陈列室通过实物和影像追寻杨善洲同志一生为民、清正廉洁的足迹。",
    ),
]

EVENT_TYPES = [
    EventTypeSpec(
        key="guide_contest",
        name="讲解员大赛",
        description="环线各现场教学点讲解员同台比赛，提升讲解水平，由杨善洲干部学院承办。",
    ),
]


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
def portal_validate_reservation(reservation: ReservationRequest, site) -> list[str]:
    """The base and the exhibition room are closed (闭馆) every CLOSED_WEEKDAY."""
    if site.key not in CLOSED_WEEKDAY_SITE_KEYS:
        return []
    if reservation.starts_at.astimezone(LOCAL_TZ).isoweekday() != CLOSED_WEEKDAY:
        return []
    day_name = WEEKDAY_NAMES[CLOSED_WEEKDAY].replace("周", "每周")
    return [f"{site.name}{day_name}闭馆，请改选其他日期。"]
