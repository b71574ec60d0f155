"""Example external member plugin: 施甸县乡村振兴实训基地, installed with pip beside the portal.

A fifth member shows how an institution outside this repository joins the consortium: a
package of its own that declares an entry point in the ``portal.plugins`` group. It does
not depend on the portal package; the portal it is installed beside provides ``portal``.
"""

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

# Visits to villagers' homes disturb family life; the village takes groups of at most this
# many trainees at a time, and a larger class splits into squads that visit in turn.
MAX_HOME_VISIT_GROUP = 30
# Sites (by key) where the class walks from house to house.
HOME_VISIT_SITE_KEYS = frozenset({"model_village"})


@hookimpl
def portal_institution() -> InstitutionSpec:
    return InstitutionSpec(
        key="example_member",
        name="施甸县乡村振兴实训基地",
        short_name="施甸实训基地",
        kind="training_base",
        address="云南省保山市施甸县甸阳镇",
        phone="0875-8220000",
        contact_person="基地办公室 李老师",
        email="shixun@shidian-base.baoshan.example",
        description="以施甸县现代农业和民族村寨为课堂，开展乡村振兴和民族团结实训教学。",
    )


@hookimpl
def portal_teaching_sites() -> list[SiteSpec]:
    return [
        SiteSpec(
            key="agri_park",
            name="施甸县现代农业产业园",
            theme="乡村振兴",
            capacity=100,
            session_minutes=120,
            open_weekdays=(1, 2, 3, 4, 5, 6),
            opens=time(8, 30),
            closes=time(17, 30),
            needs_guide=True,
            address="云南省保山市施甸县甸阳镇",
            latitude=24.7298,
            longitude=99.1837,
            description="集种植、加工和电商于一体的现代农业园区，展示产业振兴带动农民增收的做法。",
        ),
        SiteSpec(
            key="model_village",
            name="摆榔乡民族团结示范村",
            theme="民族团结",
            capacity=60,
            session_minutes=90,
            open_weekdays=(1, 2, 3, 4, 5, 6, 7),
            opens=time(9, 0),
            closes=time(17, 0),
            needs_guide=False,
            address="云南省保山市施甸县摆榔彝族布朗族乡",
            latitude=24.8012,
            longitude=99.2465,
            description="彝族、布朗族等多民族聚居的村寨，学员入户走访，了解民族团结进步创建成效。",
        ),
    ]


@hookimpl
def portal_teachers() -> list[TeacherSpec]:
    return [
        TeacherSpec(
            key="li_chunhua",
            name="李春华",
            kind="part_time",
            title="讲师",
            topics=("乡村振兴", "农村集体经济"),
            shared=True,
            bio="摆榔乡驻村第一书记，兼职讲授村级集体经济发展。",
        ),
    ]


@hookimpl
def portal_courses() -> list[CourseSpec]:
    return [
        CourseSpec(
            key="village_onsite",
            name="走进民族村寨——乡村振兴与民族团结现场教学",
            kind="onsite",
            teacher_keys=("li_chunhua",),
            site_key="model_village",
            hours=3,
            description="入户走访、座谈交流，了解产业发展和民族团结进步创建。",
        ),
    ]


@hookimpl
def portal_event_types() -> list[EventTypeSpec]:
    return [
        EventTypeSpec(
            key="rural_practice",
            name="乡村振兴实训周",
            description="组织学员在村驻点实训一周，完成调研报告。",
        ),
    ]


@hookimpl
def portal_validate_reservation(reservation: ReservationRequest, site) -> list[str]:
    """Home visits in the village go in groups of at most MAX_HOME_VISIT_GROUP trainees.

    A class split into squads (``reservation.squads``, one after another) is judged squad
    by squad: ``largest_squad`` is the whole class when it is not split.
    """
    if site.key not in HOME_VISIT_SITE_KEYS or reservation.largest_squad <= MAX_HOME_VISIT_GROUP:
        return []
    return [
        f"{site.name}入户走访每批不超过{MAX_HOME_VISIT_GROUP}人，"
        f"本次{reservation.largest_squad}人，请分成小组依次走访。"
    ]
