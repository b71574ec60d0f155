"""Member plugin of 腾冲干部教育培训学院: 滇西抗战, 和顺 and 司莫拉 sites, and their daily group limit."""

from __future__ import annotations

from datetime import time

from portal import hookimpl
from portal.specs import (
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReservationRequest,
    SiteSpec,
    TeacherSpec,
)

# The memorial hall and the small former residence also receive tourists, so the college
# reserves them for at most this many training groups a day; a new booking is refused
# when this many groups are already booked there on that day.
MAX_GROUPS_PER_DAY = 2
# Sites (by key) that the daily group limit applies to.
DAILY_LIMITED_SITE_KEYS = frozenset({"dianxi_memorial", "aisiqi_residence"})

INSTITUTION = InstitutionSpec(
    key="tengchong_college",
    name="腾冲干部教育培训学院",
    short_name="腾冲干部学院",
    kind="cadre_college",
    address="云南省保山市腾冲市腾越街道",
    phone="0875-5120000",
    contact_person="教学科 寸老师",
    email="jiaoxue@tc-college.baoshan.example",
    website="https://tc-college.baoshan.example/",
    description=(
        "依托滇西抗战、和顺侨乡和边疆民族村寨资源，开展抗战历史、革命传统、民族团结和"
        "乡村振兴现场教学，承接省外和国际培训班。"
    ),
    colour="#1f6f8b",
)

SITES = [
    SiteSpec(
        key="dianxi_memorial",
        name="滇西抗战纪念馆",
        theme="抗战历史",
        capacity=100,
        session_minutes=90,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address="云南省保山市腾冲市腾越街道叠水河畔",
        latitude=25.0047,
        longitude=98.4935,
        description="全面展示滇西抗战历史的专题纪念馆，馆藏中国远征军和滇西军民抗战文物数万件。",
    ),
    SiteSpec(
        key="guoshang_cemetery",
        name="国殇墓园",
        theme="抗战历史",
        capacity=150,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=True,
        address="云南省保山市腾冲市腾越街道叠水河畔",
        latitude=25.0052,
        longitude=98.4922,
        description="为纪念腾冲战役阵亡将士而建的墓园，学员在此祭扫烈士、缅怀先烈。",
    ),
    SiteSpec(
        key="aisiqi_residence",
        name="和顺艾思奇故居",
        theme="革命传统",
        capacity=40,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address="云南省保山市腾冲市和顺镇水碓村",
        latitude=24.9996,
        longitude=98.4562,
        description="马克思主义哲学家艾思奇的故居，展示他推动马克思主义大众化的生平事迹。",
    ),
    SiteSpec(
        key="heshun_library",
        name="和顺图书馆",
        theme="乡村振兴",
        capacity=40,
        session_minutes=60,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=False,
        address="云南省保山市腾冲市和顺镇",
        latitude=24.9981,
        longitude=98.4578,
        description="侨乡和顺的乡村图书馆，见证华侨回报桑梓、耕读传家的传统，是乡村文化振兴的生动课堂。",
    ),
    SiteSpec(
        key="simola_village",
        name="司莫拉佤族村（清水乡）",
        theme="民族团结",
        capacity=80,
        session_minutes=120,
        open_weekdays=(1, 2, 3, 4, 5, 6, 7),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=False,
        address="云南省保山市腾冲市清水乡三家村中寨司莫拉",
        latitude=24.9187,
        longitude=98.4371,
        description="佤族聚居的自然村，通过发展乡村旅游和特色产业实现脱贫，是民族团结进步和乡村振兴的示范点。",
    ),
]

TEACHERS = [
    TeacherSpec(
        key="cun_haiyan",
        name="寸海燕",
        kind="full_time",
        title="教授",
        topics=("滇西抗战史", "中国远征军"),
        shared=True,
        bio="学院抗战历史教研室主任，长期研究滇西抗战和中国远征军史。",
    ),
    TeacherSpec(
        key="li_yunfei",
        name="李云飞",
        kind="full_time",
        title="副教授",
        topics=("马克思主义大众化", "艾思奇思想"),
        shared=False,
        bio="研究艾思奇哲学思想，承担和顺现场教学。",
    ),
    TeacherSpec(
        key="zhao_na",
        name="赵娜",
        kind="full_time",
        title="高级讲解员",
        topics=("滇西抗战纪念馆讲解", "国殇墓园讲解"),
        shared=True,
        bio="滇西抗战纪念馆资深讲解员，多次为省外培训班和国际培训班讲解。",
    ),
    TeacherSpec(
        key="ai_kang",
        name="艾康",
        kind="part_time",
        title="讲师",
        topics=("民族团结进步", "佤族村寨发展"),
        shared=False,
        bio="清水乡驻村干部，兼职讲授司莫拉佤族村的发展变化。",
    ),
]

COURSES = [
    CourseSpec(
        key="dianxi_lecture",
        name="滇西抗战历史与伟大抗战精神",
        kind="lecture",
        teacher_keys=("cun_haiyan",),
        hours=3,
        description="讲述滇西抗战的历史进程和边疆各族军民同仇敌忾、共御外侮的抗战精神。",
        excellent=True,
    ),
    CourseSpec(
        key="memorial_onsite",
        name="铭记历史 缅怀先烈——滇西抗战纪念馆、国殇墓园现场教学",
        kind="onsite",
        teacher_keys=("zhao_na",),
        site_key="dianxi_memorial",
        hours=2,
        description="参观滇西抗战纪念馆，在国殇墓园祭扫烈士并重温入党誓词。",
    ),
    CourseSpec(
        key="aisiqi_onsite",
        name="艾思奇与马克思主义大众化",
        kind="onsite",
        teacher_keys=("li_yunfei",),
        site_key="aisiqi_residence",
        hours=2,
        description="在艾思奇故居学习《大众哲学》的写作背景和马克思主义大众化的历史经验。",
    ),
    CourseSpec(
        key="simola_case",
        name="司莫拉佤族村：民族团结与乡村振兴",
        kind="case",
        teacher_keys=("ai_kang",),
        site_key="simola_village",
        hours=3,
        description="走进佤族村寨，围绕产业发展、人居环境和民族团结进步开展案例教学。",
    ),
]

EVENT_TYPES = [
    EventTypeSpec(
        key="joint_training",
        name="联合集训",
        description="各成员单位教师和讲解员在腾冲集中培训，统一环线教学标准。",
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
    """The limited sites take at most MAX_GROUPS_PER_DAY training groups a day."""
    if site.key not in DAILY_LIMITED_SITE_KEYS:
        return []
    if reservation.groups_already_that_day < MAX_GROUPS_PER_DAY:
        return []
    return [
        f"{site.name}每天最多接待{MAX_GROUPS_PER_DAY}批培训班，"
        f"当天已有{reservation.groups_already_that_day}批，请改选其他日期。"
    ]
