"""A trainee's training record (干部培训档案): classes, 学时 per year, attendance, evaluations
given (how many, never their content), certificates, and where they stand against the rule
for their rank (550 学时 in 5 years for 县处级 and above, 90 a year for others; settings).

学时 are credited per attended half-day session (出勤, 迟到, 早退) at
``attendance_hours_per_half_day``, in the year of the session's day. Who may read a record:
the trainee, the organizer of a class the trainee was on (the unit that sent them), the office.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.attendance.services import class_sessions, session_statuses
from portal.auth.models import User
from portal.certificates.models import Certificate
from portal.errors import NotFound
from portal.evaluations.models import Evaluation
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ
from portal.trainees.models import RosterEntry

ATTENDED = ("present", "late", "early")
# Ranks (职务职级) at 县处级 and above: held to the five-year rule.
LEADING_RANKS = ("县处级", "厅局级", "省部级", "调研员", "巡视员")


def is_leading(rank: str) -> bool:
    return any(word in (rank or "") for word in LEADING_RANKS)


@dataclass
class ClassLine:
    training_class: TrainingClass
    entry: RosterEntry
    hours: int = 0
    class_hours: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    evaluations: int = 0
    certificate: Certificate | None = None


@dataclass
class Record:
    user: User
    name: str
    unit: str
    rank: str
    leading: bool
    lines: list[ClassLine]
    by_year: dict[int, int]
    year: int
    required: int
    achieved: int
    period: str

    @property
    def met(self) -> bool:
        return self.achieved >= self.required

    @property
    def total(self) -> int:
        return sum(self.by_year.values())


def record_of(user: User, today: date | None = None) -> Record:
    """The user's record across every class whose roster holds them."""
    today = today or datetime.now(LOCAL_TZ).date()
    per_half_day = setting("attendance_hours_per_half_day")
    entries = db.session.execute(
        select(RosterEntry, TrainingClass)
        .join(TrainingClass, TrainingClass.id == RosterEntry.class_id)
        .where(RosterEntry.user_id == user.id, TrainingClass.cancelled.is_(False))
        .order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
    ).all()
    by_year: dict[int, int] = defaultdict(int)
    lines = []
    for entry, training_class in entries:
        sessions = {s.id: s for s in class_sessions(training_class.id)}
        statuses = session_statuses(training_class.id)
        line = ClassLine(training_class, entry, class_hours=len(sessions) * per_half_day)
        counts: dict[str, int] = defaultdict(int)
        for (entry_id, session_id), status in statuses.items():
            if entry_id != entry.id or session_id not in sessions:
                continue
            counts[status] += 1
            if status in ATTENDED:
                line.hours += per_half_day
                by_year[sessions[session_id].day.year] += per_half_day
        line.counts = dict(counts)
        line.evaluations = (
            db.session.scalar(
                select(func.count()).select_from(Evaluation).where(Evaluation.entry_id == entry.id)
            )
            or 0
        )
        line.certificate = db.session.scalar(
            select(Certificate).where(Certificate.entry_id == entry.id)
        )
        lines.append(line)
    latest = entries[0][0] if entries else None
    rank = latest.rank if latest else ""
    leading = is_leading(rank)
    if leading:
        required = setting("records_leading_hours_5y")
        achieved = sum(h for y, h in by_year.items() if today.year - 4 <= y <= today.year)
        period = _("%(a)s—%(b)s 年", a=today.year - 4, b=today.year)
    else:
        required = setting("records_other_hours_year")
        achieved = by_year.get(today.year, 0)
        period = _("%(y)s 年", y=today.year)
    return Record(
        user=user,
        name=latest.name if latest else user.display_name,
        unit=latest.unit if latest else (user.unit_name or ""),
        rank=rank,
        leading=leading,
        lines=lines,
        by_year=dict(sorted(by_year.items(), reverse=True)),
        year=today.year,
        required=required,
        achieved=achieved,
        period=period,
    )


def can_read(user: User, actor: Any) -> bool:
    """The trainee, the office, or the organizer of a class the trainee was on."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if getattr(actor, "is_token", False):
        return False
    if actor.id == user.id or actor.is_office:
        return True
    return (
        db.session.scalar(
            select(RosterEntry.id)
            .join(TrainingClass, TrainingClass.id == RosterEntry.class_id)
            .where(RosterEntry.user_id == user.id, TrainingClass.organizer_id == actor.id)
            .limit(1)
        )
        is not None
    )


def get_readable(user_id: int, actor: Any) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_read(user, actor):
        raise NotFound(_("没有找到该学员。"))
    return user


def cadres_of(actor: Any) -> list[tuple[int, str, str]]:
    """The trainees a unit's organizer sent (on their classes' rosters): (user id, name, unit)."""
    query = select(RosterEntry.user_id, RosterEntry.name, RosterEntry.unit).join(
        TrainingClass, TrainingClass.id == RosterEntry.class_id
    )
    if not actor.is_office:
        query = query.where(TrainingClass.organizer_id == actor.id)
    seen: dict[int, tuple[int, str, str]] = {}
    for user_id, name, unit in db.session.execute(query.order_by(RosterEntry.id.desc())):
        seen.setdefault(user_id, (user_id, name, unit))
    return sorted(seen.values(), key=lambda r: (r[2], r[1]))


# ---------------------------------------------------------------- exports

HEADERS = (
    "培训班",
    "开始日期",
    "结束日期",
    "获得学时",
    "班级学时",
    "出勤",
    "请假",
    "旷课",
    "评估（份）",
    "结业证书",
)
WIDTHS = (40, 12, 12, 10, 10, 8, 8, 8, 10, 22)


def record_rows(record: Record) -> list[list[Any]]:
    rows = []
    for line in record.lines:
        c = line.counts
        rows.append(
            [
                line.training_class.name,
                line.training_class.starts_on.isoformat(),
                line.training_class.ends_on.isoformat(),
                line.hours,
                line.class_hours,
                c.get("present", 0) + c.get("late", 0) + c.get("early", 0),
                c.get("leave", 0),
                c.get("absent", 0),
                line.evaluations,
                f"{line.certificate.serial}（{line.certificate.status_label}）"
                if line.certificate
                else "",
            ]
        )
    return rows


def record_xlsx(record: Record) -> bytes:
    from portal.catalog import excel

    return excel.workbook("培训档案", HEADERS, WIDTHS, record_rows(record))
