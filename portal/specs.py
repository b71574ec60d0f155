"""Plain dataclasses that plugins return from hooks and that core passes to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

INSTITUTION_KINDS = {
    "party_school": "党校",
    "cadre_college": "干部学院",
    "training_base": "干部教育培训基地",
}
TEACHER_KINDS = {"full_time": "专职", "part_time": "兼职"}
COURSE_KINDS = {"lecture": "专题讲座", "onsite": "现场教学", "case": "案例教学", "seminar": "研讨"}
WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


@dataclass(frozen=True)
class InstitutionSpec:
    key: str
    name: str
    short_name: str
    kind: str
    address: str = ""
    phone: str = ""
    contact_person: str = ""
    email: str = ""
    website: str = ""
    description: str = ""


@dataclass(frozen=True)
class SiteSpec:
    key: str
    name: str
    theme: str
    capacity: int
    session_minutes: int = 90
    open_weekdays: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    opens: time = time(8, 30)
    closes: time = time(17, 30)
    needs_guide: bool = False
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    description: str = ""


@dataclass(frozen=True)
class TeacherSpec:
    key: str
    name: str
    kind: str
    title: str = ""
    topics: tuple[str, ...] = ()
    shared: bool = False
    bio: str = ""


@dataclass(frozen=True)
class CourseSpec:
    key: str
    name: str
    kind: str
    teacher_keys: tuple[str, ...] = ()
    site_key: str | None = None
    hours: float = 4
    description: str = ""
    excellent: bool = False


@dataclass(frozen=True)
class EventTypeSpec:
    key: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class ReservationRequest:
    """One stop that a class asks for, as the member's rules see it.

    Times are aware datetimes in Asia/Shanghai: rules speak of local days and hours.
    """

    site_id: int
    starts_at: datetime
    ends_at: datetime
    group_size: int
    requested_at: datetime
    guide_requested: bool = False
    class_name: str = ""
    groups_already_that_day: int = 0


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    children: list[NavItem] = field(default_factory=list)
