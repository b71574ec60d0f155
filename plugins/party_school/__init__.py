"""Member plugin of 中共保山市委党校: its lecture halls, teachers, courses and booking rule."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from portal import hookimpl
from portal.specs import (
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    ReservationRequest,
    SiteSpec,
    TeacherSpec,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# The school's lecture halls are shared with its own 主体班 and are scheduled each week,
# so a ring-route class must book them at least this many calendar days before the day.
LECTURE_HALL_LEAD_DAYS = 3
# Sites (by key) that the lead-time rule applies to: the lecture halls, not the bases.
LECTURE_HALL_KEYS = frozenset({"main_hall", "multi_hall"})

INSTITUTION = InstitutionSpec(
    key="party_school",
    name="中共保山市委党校",
    short_name="市委党校",
    kind="party_school",
    address="云南省保山市隆阳区永昌街道",
    phone="0875-2120000",
    contact_person="教务处 赵老师",
    email="jiaowu@dangxiao.baoshan.example",
    website="https://dangxiao.baoshan.example/",
    description=(
        "中共保山市委党校是培训轮训全市党员领导干部的主阵地，承担环线培训的理论教学、"
        "专题研讨和集中住训，负责环线课程的理论讲授与结业考核。"
    ),
    colour="#b22222",
)

SITES = [
    SiteSpec(
        key="main_hall",
        name="党校主报告厅",
        theme="党性教育",
        capacity=200,
        session_minutes=180,
        open_weekdays=(1, 2, 3, 4, 5, 6),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=False,
        address="云南省保山市隆阳区永昌街道 市委党校教学楼一楼",
        latitude=25.1205,
        longitude=99.1671,
        description="市委党校主报告厅，可容纳200人，配备同声传译和录播设备，承担环线开班式和专题讲座。",
    ),
    SiteSpec(
        key="multi_hall",
        name="党校多功能报告厅",
        theme="党性教育",
        capacity=80,
        session_minutes=120,
        open_weekdays=(1, 2, 3, 4, 5),
        opens=time(8, 30),
        closes=time(17, 30),
        needs_guide=False,
        address="云南省保山市隆阳区永昌街道 市委党校教学楼三楼",
        latitude=25.1207,
        longitude=99.1673,
        description="可分组研讨的多功能报告厅，适合结构化研讨、案例教学和学员论坛。",
    ),
    SiteSpec(
        key="party_spirit_hall",
        name="党性教育体验馆",
        theme="党性教育",
        capacity=60,
        session_minutes=90,
        open_weekdays=(1, 2, 3, 4, 5),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address="云南省保山市隆阳区永昌街道 市委党校校园内",
        latitude=25.1211,
        longitude=99.1679,
        description="以党的百年奋斗历程和保山本地红色资源为主线，设重温入党誓词、党章学习等体验环节。",
    ),
    SiteSpec(
        key="clean_gov_base",
        name="保山市廉政教育基地",
        theme="廉政教育",
        capacity=80,
        session_minutes=90,
        open_weekdays=(1, 2, 3, 4, 5, 6),
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address="云南省保山市隆阳区",
        latitude=25.1128,
        longitude=99.1612,
        description="通过本地典型案例和廉洁文化展陈开展警示教育，引导党员干部筑牢拒腐防变思想防线。",
    ),
]

TEACHERS = [
    TeacherSpec(
        key="zhang_hong",
        name="张红",
        kind="full_time",
        title="教授",
        topics=("党的创新理论", "党史党建"),
        shared=True,
        bio="市委党校党史党建教研室主任，长期承担主体班理论教学。",
    ),
    TeacherSpec(
        key="li_jianguo",
        name="李建国",
        kind="full_time",
        title="副教授",
        topics=("基层治理", "边疆治理"),
        shared=True,
        bio="研究方向为边疆民族地区基层治理，主持多项省级课题。",
    ),
    TeacherSpec(
        key="yang_li",
        name="杨丽",
        kind="full_time",
        title="讲师",
        topics=("廉政建设", "党纪党规"),
        shared=False,
        bio="负责廉政教育基地的现场教学设计和警示教育课程。",
    ),
    TeacherSpec(
        key="chen_zhiyuan",
        name="陈志远",
        kind="part_time",
        title="教授",
        topics=("区域经济", "沿边开放"),
        shared=False,
        bio="特聘兼职教授，讲授保山沿边开放与区域经济发展。",
    ),
]

COURSES = [
    CourseSpec(
        key="theory_lecture",
        name="党的创新理论专题辅导",
        kind="lecture",
        teacher_keys=("zhang_hong",),
        site_key="main_hall",
        hours=3,
        description="系统辅导党的创新理论的核心要义和实践要求，结合保山发展实际开展学习。",
        excellent=True,
    ),
    CourseSpec(
        key="grassroots_case",
        name="边疆民族地区基层治理案例教学",
        kind="case",
        teacher_keys=("li_jianguo",),
        site_key="multi_hall",
        hours=3,
        description="以保山边境乡镇的治理实践为案例，分组研讨、交流点评。",
    ),
    CourseSpec(
        key="clean_gov_onsite",
        name="以案为鉴 警钟长鸣——廉政警示教育现场教学",
        kind="onsite",
        teacher_keys=("yang_li",),
        site_key="clean_gov_base",
        hours=2,
        description="参观廉政教育基地并开展警示教育，重温党纪党规。",
    ),
    CourseSpec(
        key="opening_seminar",
        name="沿边开放与高质量发展专题研讨",
        kind="seminar",
        teacher_keys=("chen_zhiyuan", "li_jianguo"),
        site_key="multi_hall",
        hours=2,
        description="围绕保山沿边开放和产业发展开展结构化研讨。",
    ),
]

EVENT_TYPES = [
    EventTypeSpec(
        key="themed_seminar",
        name="专题研讨班",
        description="由市委党校牵头、各成员单位参与的专题研讨班，围绕年度重点主题集中研讨。",
    ),
    EventTypeSpec(
        key="course_contest",
        name="课程评比大赛",
        description="环线课程评比，评选精品课程，由党校组织评委打分。",
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
    """The lecture halls must be booked at least LECTURE_HALL_LEAD_DAYS days ahead."""
    if site.key not in LECTURE_HALL_KEYS:
        return []
    day = reservation.starts_at.astimezone(LOCAL_TZ).date()
    asked_on = reservation.requested_at.astimezone(LOCAL_TZ).date()
    if (day - asked_on).days >= LECTURE_HALL_LEAD_DAYS:
        return []
    earliest = asked_on + timedelta(days=LECTURE_HALL_LEAD_DAYS)
    return [
        f"{site.name}须至少提前{LECTURE_HALL_LEAD_DAYS}天预约，"
        f"请选择{earliest.year}年{earliest.month}月{earliest.day}日或之后的日期。"
    ]
