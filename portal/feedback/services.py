"""Written feedback to units (书面反馈): per class, one report per sending unit (the 单位 of
its roster entries; an entry without one belongs to the class's sending unit) on its
trainees: attendance, leave, withdrawals, certificates, and the class's evaluations as
aggregates only (never one trainee's answers; hidden below ``evaluation_min_answers``).

Nothing is stored: a report is computed from attendance, leave, withdrawals, certificates
and evaluations whenever it is read. Who reads which report:

* the class's organizer, its supervisors and the office: every unit's;
* an organizer account whose unit (``User.unit_name``) is a unit of the roster: that
  unit's only;
* nobody else (404: the class's existence leaks nothing).

The class's organizer or the office sends reports once the class has ended: an inbox
message and an outbox e-mail, with the report's link, to the unit's organizer accounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.attendance.leave import withdrawals
from portal.attendance.models import LeaveRequest, Withdrawal
from portal.attendance.services import Summary as AttendanceSummary
from portal.attendance.services import attendance_summary, can_name_supervisors
from portal.audit.services import record
from portal.auth.models import User
from portal.certificates.models import Certificate
from portal.certificates.services import class_ended, eligible
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.evaluations.services import Summary as EvaluationSummary
from portal.evaluations.services import class_summary
from portal.extensions import db
from portal.notifications.services import notify
from portal.scheduling.models import TrainingClass
from portal.scheduling.settings import setting
from portal.trainees.access import is_class_manager
from portal.trainees.models import RosterEntry

MAX_UNIT = 128


def _signed_in(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_token", False)
    )


def unit_of(entry: RosterEntry, training_class: TrainingClass) -> str:
    return (entry.unit or "").strip() or training_class.sending_unit


def class_units(training_class: TrainingClass) -> list[str]:
    """The sending units of the class's roster, sorted."""
    entries = db.session.scalars(
        select(RosterEntry).where(RosterEntry.class_id == training_class.id)
    )
    return sorted({unit_of(e, training_class) for e in entries})


def visible_units(training_class: TrainingClass, actor: Any) -> list[str]:
    """The units whose report ``actor`` may read (empty: none)."""
    if not _signed_in(actor):
        return []
    units = class_units(training_class)
    if is_class_manager(training_class, actor):
        return units
    own = (getattr(actor, "unit_name", None) or "").strip()
    if getattr(actor, "role", None) == "organizer" and own in units:
        return [own]
    return []


def get_class(class_id: int, actor: Any) -> tuple[TrainingClass, list[str]]:
    """The class and the units ``actor`` may read; NotFound when none (or no such class)."""
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or training_class.is_study_visit:
        raise NotFound(_("没有找到该培训班。"))
    units = visible_units(training_class, actor)
    if not units:
        raise NotFound(_("没有找到该培训班。"))
    return training_class, units


def can_send(training_class: TrainingClass, actor: Any) -> bool:
    """The class's organizer or the office (supervisors and units only read)."""
    return can_name_supervisors(training_class, actor)


# ---------------------------------------------------------------- the report


@dataclass
class TraineeLine:
    entry: RosterEntry
    attendance: AttendanceSummary | None
    leave_asked: int = 0
    leave_approved: int = 0
    leave_refused: int = 0
    withdrawal: Withdrawal | None = None
    completes: bool = True
    not_completing_reason: str = ""
    certificate: Certificate | None = None

    @property
    def withdrawal_text(self) -> str:
        w = self.withdrawal
        if w is None or w.status == "dismissed":
            return ""
        return f"{w.status_label}（{w.reason_label}）"

    @property
    def certificate_text(self) -> str:
        if self.certificate is not None:
            return f"{self.certificate.serial}（{self.certificate.status_label}）"
        if not self.completes:
            return _("不予结业：%(why)s", why=self.not_completing_reason)
        return _("未发放")


@dataclass
class UnitReport:
    training_class: TrainingClass
    unit: str
    lines: list[TraineeLine]
    ended: bool
    evaluations: EvaluationSummary
    min_answers: int
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def evaluations_shown(self) -> bool:
        return self.evaluations.count >= self.min_answers


def unit_reports(training_class: TrainingClass, units: list[str]) -> list[UnitReport]:
    """The reports on ``units``' trainees in the class, in that order (the caller checked the
    permission); the class's attendance, leave, certificates and evaluations are read once."""
    summaries = attendance_summary(training_class.id)
    withdrawn = withdrawals(training_class)
    certificates = {
        c.entry_id: c
        for c in db.session.scalars(
            select(Certificate).where(Certificate.class_id == training_class.id)
        )
    }
    leave_counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry_id, status in db.session.execute(
        select(LeaveRequest.entry_id, LeaveRequest.status).where(
            LeaveRequest.class_id == training_class.id
        )
    ):
        leave_counts[entry_id][status] += 1
    lines: dict[str, list[TraineeLine]] = {unit: [] for unit in units}
    for entry in db.session.scalars(
        select(RosterEntry)
        .where(RosterEntry.class_id == training_class.id)
        .order_by(RosterEntry.name, RosterEntry.id)
    ):
        unit = unit_of(entry, training_class)
        if unit not in lines:
            continue
        summary = summaries.get(entry.id)
        ok, why = eligible(entry, summary)
        counts = leave_counts.get(entry.id, {})
        lines[unit].append(
            TraineeLine(
                entry=entry,
                attendance=summary,
                leave_asked=sum(counts.values()),
                leave_approved=counts.get("approved", 0),
                leave_refused=counts.get("refused", 0),
                withdrawal=withdrawn.get(entry.id),
                completes=ok,
                not_completing_reason=why,
                certificate=certificates.get(entry.id),
            )
        )
    ended = class_ended(training_class)
    evaluations = class_summary(training_class)
    min_answers = setting("evaluation_min_answers")
    return [
        UnitReport(
            training_class=training_class,
            unit=unit,
            lines=lines[unit],
            ended=ended,
            evaluations=evaluations,
            min_answers=min_answers,
            totals=totals_of(lines[unit]),
        )
        for unit in units
    ]


def totals_of(lines: list[TraineeLine]) -> dict[str, int]:
    attended = [line.attendance for line in lines if line.attendance]
    return {
        "trainees": len(lines),
        "hours": sum(a.hours_attended for a in attended),
        "leave": sum(a.leave for a in attended),
        "absent": sum(a.absent for a in attended),
        "withdrawn": sum(1 for a in attended if a.withdrawn),
        "certificates": sum(
            1 for line in lines if line.certificate and line.certificate.status == "issued"
        ),
    }


def unit_report(training_class: TrainingClass, unit: str) -> UnitReport:
    """The report on ``unit``'s trainees in the class (the caller checked the permission)."""
    return unit_reports(training_class, [unit])[0]


# ---------------------------------------------------------------- exports

HEADERS = (
    "姓名",
    "职务",
    "职务职级",
    "获得学时",
    "班级学时",
    "出勤",
    "迟到",
    "早退",
    "请假（半天）",
    "旷课（半天）",
    "请假申请",
    "退学",
    "结业证书",
)
WIDTHS = (12, 18, 12, 10, 10, 8, 8, 8, 12, 12, 18, 24, 28)
PDF_HEADERS = ("姓名", "学时", "出勤", "请假", "旷课", "退学", "结业证书")
PDF_WIDTHS = (14, 12, 8, 8, 8, 22, 30)


def leave_text(line: TraineeLine) -> str:
    if not line.leave_asked:
        return "—"
    return _(
        "%(n)s 次（批准 %(a)s，未批准 %(r)s）",
        n=line.leave_asked,
        a=line.leave_approved,
        r=line.leave_refused,
    )


def report_rows(report: UnitReport) -> list[list[Any]]:
    rows = []
    for line in report.lines:
        a = line.attendance or AttendanceSummary(entry_id=line.entry.id)
        rows.append(
            [
                line.entry.name,
                line.entry.position,
                line.entry.rank,
                a.hours_attended,
                a.class_hours,
                a.present,
                a.late,
                a.early,
                a.leave,
                a.absent,
                leave_text(line),
                line.withdrawal_text,
                line.certificate_text,
            ]
        )
    return rows


def pdf_rows(report: UnitReport) -> list[list[str]]:
    rows = []
    for line in report.lines:
        a = line.attendance or AttendanceSummary(entry_id=line.entry.id)
        rows.append(
            [
                line.entry.name,
                f"{a.hours_attended} / {a.class_hours}",
                str(a.attended),
                str(a.leave),
                str(a.absent),
                line.withdrawal_text or "—",
                line.certificate_text,
            ]
        )
    return rows


def evaluation_lines(report: UnitReport) -> list[str]:
    """The class's evaluations in words: counts and averages, or why they are not shown."""
    summary = report.evaluations
    if not summary.count:
        return [_("本班尚无教学评估。")]
    if not report.evaluations_shown:
        return [
            _(
                "本班收到评估 %(n)s 份，少于 %(m)s 份，为保护学员匿名不显示平均分。",
                n=summary.count,
                m=report.min_answers,
            )
        ]
    lines = [
        _(
            "本班收到评估 %(n)s 份，总平均分 %(avg)s（满分 5 分）。",
            n=summary.count,
            avg=summary.average_text,
        )
    ]
    lines += [
        f"{target} · {label}：{average:.2f}" for target, label, average in summary.by_criterion
    ]
    return lines


def report_xlsx(report: UnitReport) -> bytes:
    """Sheet one: the unit's trainees; sheet two: the class's evaluations (aggregates)."""
    import io

    from openpyxl import load_workbook

    from portal.catalog import excel

    body = excel.workbook("学员情况", HEADERS, WIDTHS, report_rows(report))
    wb = load_workbook(io.BytesIO(body))
    ws = wb.create_sheet("评估汇总")
    ws.column_dimensions["A"].width = 80
    facts = [
        ("培训班", report.training_class.name),
        ("单位", report.unit),
        (
            "日期",
            f"{report.training_class.starts_on.isoformat()} — "
            f"{report.training_class.ends_on.isoformat()}",
        ),
    ]
    for label, value in facts:
        ws.append([excel.safe_cell(f"{label}：{value}")])
    for text in evaluation_lines(report):
        ws.append([excel.safe_cell(text)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- sending


def unit_contacts(unit: str) -> list[User]:
    """The unit's organizer accounts (active), where known."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "organizer", User.unit_name == unit, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _link(training_class: TrainingClass, unit: str) -> str:
    try:
        return url_for("feedback.report", class_id=training_class.id, unit=unit)
    except RuntimeError:  # no request (command line)
        return ""


def send(training_class: TrainingClass, units: list[str], actor: Any) -> dict[str, int]:
    """Send the reports of ``units`` to their organizer accounts; unit → recipients (0: none
    known). Only the class's organizer or the office, once the class has ended."""
    if not can_send(training_class, actor):
        raise PermissionDenied(_("只有培训班联系人或管理办公室可以发送书面反馈。"))
    if not class_ended(training_class):
        raise ServiceError(_("培训班结束后才能发送书面反馈。"))
    known = set(class_units(training_class))
    if any(unit not in known for unit in units):
        raise NotFound(_("该培训班没有这个单位的学员。"))
    sent: dict[str, int] = {}
    for report in unit_reports(training_class, units):
        unit, t = report.unit, report.totals
        body = _(
            "“%(cls)s”（%(a)s 至 %(b)s）已结束。贵单位参训学员 %(n)s 人，共获得 %(h)s 学时；"
            "请假 %(l)s 个半天，旷课 %(x)s 个半天，退学 %(w)s 人，获发结业证书 %(c)s 人。"
            "详细的书面反馈（可下载 PDF 和 Excel）见下方链接。",
            cls=training_class.name,
            a=training_class.starts_on.isoformat(),
            b=training_class.ends_on.isoformat(),
            n=t["trainees"],
            h=t["hours"],
            l=t["leave"],
            x=t["absent"],
            w=t["withdrawn"],
            c=t["certificates"],
        )
        recipients = unit_contacts(unit)
        sent[unit] = notify(
            recipients,
            _("培训情况书面反馈：%(cls)s", cls=training_class.name),
            body,
            _link(training_class, unit),
        )
        record(
            actor,
            "feedback.send",
            f"{training_class.name} · {unit}",
            recipients=sent[unit],
        )
    return sent
