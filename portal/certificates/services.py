"""Completion rules and certificates: who completes a class, issuing, withholding, revoking.

Completion (结业) follows the national rules (docs/trainees.md): a trainee on the roster who
is not withdrawn (退学) and whose attendance does not call for withdrawal: approved leave of
at most 1/7 of the class's 学时 and 旷课 below ``attendance_absence_limit``
(``portal.attendance.services.attendance_summary``). Certificates are issued once the class
has ended, by its organizer or the office; only the office withholds or revokes one, with a
reason, audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.attendance.services import Summary as AttendanceSummary
from portal.attendance.services import attendance_summary
from portal.audit.services import record
from portal.certificates.models import Certificate
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees.access import is_class_manager
from portal.trainees.models import RosterEntry

# Serials: an unambiguous alphabet (no 0/O, 1/I/L), 10 random characters after the year.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REASON_MAX = 500


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def new_serial(year: int) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"HX{year}-{body[:5]}-{body[5:]}"


def normalise_serial(text: str) -> str:
    return "".join(str(text or "").split()).upper()[:24]


# ---------------------------------------------------------------- completion


@dataclass
class Standing:
    """One trainee's completion standing in a class."""

    entry: RosterEntry
    attendance: AttendanceSummary | None
    eligible: bool
    reason: str
    certificate: Certificate | None


def eligible(entry: RosterEntry, summary: AttendanceSummary | None) -> tuple[bool, str]:
    """Whether the trainee meets the completion rules, and if not, why (in words)."""
    if summary is None:
        return True, ""
    if summary.withdrawn:
        return False, _("已退学")
    if summary.withdrawal_due == "leave":
        return False, _("请假超过总学时的七分之一")
    if summary.withdrawal_due == "absence":
        return False, _("旷课达到退学条件")
    return True, ""


def class_ended(training_class: TrainingClass) -> bool:
    return training_class.ends_on < today()


def standings(training_class: TrainingClass) -> list[Standing]:
    """Every trainee of the class with their completion standing and certificate."""
    summaries = attendance_summary(training_class.id)
    certificates = {
        c.entry_id: c
        for c in db.session.scalars(
            select(Certificate).where(Certificate.class_id == training_class.id)
        )
    }
    found = []
    for entry in db.session.scalars(
        select(RosterEntry)
        .where(RosterEntry.class_id == training_class.id)
        .order_by(RosterEntry.id)
    ):
        summary = summaries.get(entry.id)
        ok, why = eligible(entry, summary)
        found.append(Standing(entry, summary, ok, why, certificates.get(entry.id)))
    return found


def require_manager(training_class: TrainingClass | None, actor: Any) -> TrainingClass:
    if training_class is None or not is_class_manager(training_class, actor):
        raise NotFound(_("没有找到该培训班。"))
    return training_class


def can_issue(training_class: TrainingClass, actor: Any) -> bool:
    """The class's organizer or the office (supervisors see the list but do not issue)."""
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_token", False)
        and (actor.is_office or training_class.organizer_id == actor.id)
    )


def issue_certificates(training_class: TrainingClass, actor: Any) -> list[Certificate]:
    """Issue a certificate to every trainee who completes the class and has none yet.

    Idempotent: one certificate per roster entry (a unique constraint), so a double click
    or two managers at once issue each certificate once. The caller commits.
    """
    if not can_issue(training_class, actor):
        raise PermissionDenied(_("只有培训班联系人或环线办可以发放结业证书。"))
    if training_class.cancelled:
        raise ServiceError(_("培训班已取消。"))
    if not class_ended(training_class):
        raise ServiceError(_("培训班结束后才能发放结业证书。"))
    issued = []
    for standing in standings(training_class):
        if not standing.eligible or standing.certificate is not None:
            continue
        certificate = Certificate(
            serial=new_serial(training_class.ends_on.year),
            class_id=training_class.id,
            entry_id=standing.entry.id,
            name=standing.entry.name,
            unit=standing.entry.unit,
            hours=standing.attendance.hours_attended if standing.attendance else 0,
            issued_by_id=actor.id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
        except IntegrityError:
            continue
        issued.append(certificate)
    if issued:
        record(actor, "certificate.issue", training_class.name, count=len(issued))
    return issued


# ---------------------------------------------------------------- the office's decisions

TRANSITIONS = {
    "withhold": ("issued", "withheld"),
    "release": ("withheld", "issued"),
    "revoke": (None, "revoked"),
}
AUDIT_ACTIONS = {
    "withhold": "certificate.withhold",
    "release": "certificate.release",
    "revoke": "certificate.revoke",
}


def decide(certificate: Certificate, action: str, reason: str, actor: Any) -> None:
    """The office withholds (暂缓发放), releases or revokes (撤销) a certificate, with a reason.

    The caller commits."""
    if actor is None or not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以暂缓发放或撤销结业证书。"))
    if action not in TRANSITIONS:
        raise ServiceError(_("没有这项操作。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("请填写原因。")})
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise ValidationFailed({"reason": _("原因不超过 %(n)s 个字。", n=REASON_MAX)})
    before, after = TRANSITIONS[action]
    if certificate.status == "revoked" or (before and certificate.status != before):
        raise ServiceError(_("该证书当前为“%(s)s”，不能这样处理。", s=certificate.status_label))
    certificate.status = after
    certificate.reason = reason
    certificate.decided_at = utcnow()
    certificate.decided_by_id = actor.id
    record(
        actor,
        AUDIT_ACTIONS[action],
        f"{certificate.serial} {certificate.name}",
        reason=reason,
    )


def by_serial(serial: str) -> Certificate | None:
    serial = normalise_serial(serial)
    if not serial:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.serial == serial))


def certificates_of_user(user: Any) -> list[Certificate]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(Certificate)
            .join(RosterEntry, RosterEntry.id == Certificate.entry_id)
            .where(RosterEntry.user_id == user.id, Certificate.status == "issued")
            .order_by(Certificate.issued_at.desc())
        )
    )
