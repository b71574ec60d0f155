"""Every model of the portal, imported in one place so the metadata is complete (Alembic, tests)."""

import portal.attendance.models  # noqa: F401  (attendance: sessions, marks, leave)
import portal.certificates.models  # noqa: F401  (completion certificates)
import portal.directory.models  # noqa: F401  (the site directory: review, assessment, supervision)
import portal.evaluations.models  # noqa: F401  (trainees' evaluations of stops)
import portal.events.models  # noqa: F401  (joint events: contests, trainings)
import portal.guides.models  # noqa: F401  (the guide corps)
import portal.meetings.models  # noqa: F401  (joint meetings and decisions)
import portal.planner.models  # noqa: F401  (the season planner)
import portal.sharing.models  # noqa: F401  (teacher sharing: loans)
from portal.audit.models import AuditEntry
from portal.auth.models import User
from portal.catalog.models import (
    CatalogChange,
    Course,
    CourseMaterial,
    EventType,
    SiteAssessment,
    SitePhoto,
    Teacher,
    TeacherUnavailability,
    TeachingSite,
)
from portal.members.models import Member, PluginState
from portal.notifications.models import Message, OutboxEmail, OutboxSms
from portal.pagecache import CacheGeneration
from portal.reports.models import PlanTarget
from portal.scheduling.models import (
    Booking,
    BookingEvent,
    Reservation,
    RouteStop,
    RouteTemplate,
    Setting,
    TrainingClass,
)
from portal.trainees.models import (
    ClassNotice,
    ClassProfile,
    Elective,
    ElectiveChoice,
    ElectiveOption,
    OpenRun,
    OpenRunQuota,
    OpenRunSeat,
    RosterEntry,
    RosterImport,
)

__all__ = [
    "ClassNotice",
    "ClassProfile",
    "Elective",
    "ElectiveChoice",
    "ElectiveOption",
    "OpenRun",
    "OpenRunQuota",
    "OpenRunSeat",
    "RosterEntry",
    "RosterImport",
    "AuditEntry",
    "Booking",
    "BookingEvent",
    "CacheGeneration",
    "CatalogChange",
    "Course",
    "CourseMaterial",
    "EventType",
    "Member",
    "Message",
    "OutboxEmail",
    "OutboxSms",
    "PlanTarget",
    "PluginState",
    "Reservation",
    "RouteStop",
    "RouteTemplate",
    "Setting",
    "SiteAssessment",
    "SitePhoto",
    "Teacher",
    "TeacherUnavailability",
    "TeachingSite",
    "TrainingClass",
    "User",
]
