"""Plain dataclasses that plugins return from hooks and that core passes to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from flask_babel import lazy_gettext as _l

# Kinds and their display labels. The labels are lazy: translated into the current locale
# whenever they are shown (plugins only use the keys).
INSTITUTION_KINDS = {
    "party_school": _l("党校"),
    "cadre_college": _l("干部学院"),
    "training_base": _l("干部教育培训基地"),
}
TEACHER_KINDS = {"full_time": _l("专职"), "part_time": _l("兼职")}
COURSE_KINDS = {
    "lecture": _l("专题讲座"),
    "onsite": _l("现场教学"),
    "case": _l("案例教学"),
    "seminar": _l("研讨"),
}
# Chinese weekday names, for plugins that write their own (Chinese) messages: not translated.
WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
# The same names for display in the portal, translated into the current locale.
WEEKDAY_LABELS = {
    1: _l("周一"),
    2: _l("周二"),
    3: _l("周三"),
    4: _l("周四"),
    5: _l("周五"),
    6: _l("周六"),
    7: _l("周日"),
}


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
    # The member's colour on maps, "#rrggbb" (empty: the portal picks one).
    colour: str = ""


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
class Squad:
    """One squad (小组) of a class that visits a site in turn: its number, window and size.

    Times are aware datetimes in Asia/Shanghai.
    """

    number: int
    starts_at: datetime
    ends_at: datetime
    size: int


@dataclass(frozen=True)
class ReservationRequest:
    """One stop that a class asks for, as the member's rules see it.

    Times are aware datetimes in Asia/Shanghai: rules speak of local days and hours.
    ``starts_at``/``ends_at`` span the whole stop (every squad); ``group_size`` is the whole
    class. A class split into squads visits one squad after another: ``squads`` holds each
    squad's window and size (one entry when the class is not split). ``class_name`` is
    ``""`` when the portal tries dates for its date suggestions rather than a real class.
    ``groups_already_that_day`` counts the other bookings at the site on that local day.
    """

    site_id: int
    starts_at: datetime
    ends_at: datetime
    group_size: int
    requested_at: datetime
    guide_requested: bool = False
    class_name: str = ""
    groups_already_that_day: int = 0
    squads: tuple[Squad, ...] = ()

    @property
    def squad_count(self) -> int:
        """How many squads visit in turn (1 when the class is not split)."""
        return max(1, len(self.squads))

    @property
    def largest_squad(self) -> int:
        """The size of the largest squad (the whole class when it is not split)."""
        return max((s.size for s in self.squads), default=self.group_size)


@dataclass(frozen=True)
class NavAudience:
    """A kind of user a menu is built for, given to ``portal_nav_items`` as ``user``.

    Menus are asked once per kind of user at ``flask portal sync`` and kept, not once per
    page: anonymous visitors (``role`` ``""``), each role, and the member staff of each
    member (``member_id`` and ``member_key`` set for ``member_admin`` / ``member_staff``).
    It answers the questions a menu asks of a user: ``is_authenticated``, ``role``,
    ``is_office``, ``is_member_user``, ``member_key``.
    """

    role: str = ""
    member_id: int | None = None
    member_key: str | None = None

    @property
    def key(self) -> str:
        if self.member_id is not None:
            return f"{self.role}:{self.member_id}"
        return self.role or "anonymous"

    @property
    def is_authenticated(self) -> bool:
        return bool(self.role)

    @property
    def is_anonymous(self) -> bool:
        return not self.role

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def is_member_user(self) -> bool:
        return self.role in ("member_admin", "member_staff")


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    children: list[NavItem] = field(default_factory=list)


@dataclass(frozen=True)
class DetailField:
    """A labelled value a plugin adds to an item's page; both are shown as plain text."""

    label: str
    value: str


@dataclass(frozen=True)
class ReportFigure:
    """A figure a member adds to the work report (``portal_report_figures``)."""

    label: str
    value: int | float
    unit: str = ""
    definition: str = ""


# Form fields of plugin values are named with this prefix, so they never clash with the
# core fields of the event form; services report errors under the same names.
EVENT_FIELD_PREFIX = "x_"


@dataclass(frozen=True)
class EventFieldSpec:
    """One field of a plugin's event kind.

    ``kind`` is ``text``, ``int``, ``date`` (YYYY-MM-DD) or ``choice`` (one of ``choices``,
    each a string shown and stored as it is). ``min_value``/``max_value`` bound an ``int``;
    ``max_length`` bounds a ``text``. ``help`` is shown under the field.
    """

    key: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 200

    @property
    def form_name(self) -> str:
        return EVENT_FIELD_PREFIX + self.key
