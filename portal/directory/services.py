"""The site life cycle in the directory: entering (proposed → admitted / returned), change
review, warnings (整改通知), suspension, reinstatement and exit (退出), with history.

Every function checks who acts; callers commit unless a docstring says otherwise. The daily
sweep (``sweep``) suspends sites whose warning is overdue with a conditional UPDATE, so two
servers running it at once act once.
"""

from __future__ import annotations

import logging
from datetime import date, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.audit.services import record
from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.catalog.services import can_edit, display
from portal.directory.models import (
    BOOKING_CHOICES,
    EVENT_ACTIONS,
    DirectoryEvent,
    SiteChangeRequest,
    SiteProposal,
    SiteWarning,
)
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.notifications.services import member_staff, notify
from portal.scheduling.models import HOLDING, Booking, Reservation
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ, utcnow

log_ = logging.getLogger(__name__)
MAX_TEXT = 4000
# The audit log's key of each step (labels in portal/audit/labels.py).
AUDIT_KEYS = {action: f"directory.{action}" for action in EVENT_ACTIONS}
# Fields whose change may need the office's review (setting ``directory_review_changes``).
REVIEWED_FIELDS = ("capacity", "opens", "closes", "open_weekdays")


def today_local() -> date:
    from datetime import datetime

    return datetime.now(LOCAL_TZ).date()


def require_office(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以办理。"))


def require_member_or_office(actor: Any, site: TeachingSite) -> None:
    if not can_edit(actor, site.member_id):
        raise NotFound(_("没有找到该条目。"))


def text(value: str | None, field: str, *, required: bool = False) -> str:
    """Typed text, stripped; a message beside ``field`` if it is missing or cannot be kept."""
    value = (value or "").strip()
    if "\x00" in value or len(value) > MAX_TEXT:
        raise ValidationFailed({field: _("内容过长或包含无效字符。")})
    if required and not value:
        raise ValidationFailed({field: _("请填写此项。")})
    return value


def log(site: TeachingSite, action: str, actor: Any, reason: str = "", **detail: Any) -> None:
    """One step of the site's history, and the same in the audit log."""
    name = getattr(actor, "display_name", "") or _("系统")
    db.session.add(
        DirectoryEvent(
            site_id=site.id,
            action=action,
            reason=reason,
            detail={k: str(v) for k, v in detail.items()},
            actor_id=getattr(actor, "id", None),
            actor_name=name,
        )
    )
    record(actor, AUDIT_KEYS[action], site.name, reason=reason, **detail)


def history(site: TeachingSite) -> list[DirectoryEvent]:
    return list(
        db.session.scalars(
            select(DirectoryEvent)
            .where(DirectoryEvent.site_id == site.id)
            .order_by(DirectoryEvent.id.desc())
        )
    )


def tell_member(site: TeachingSite, subject: str, body: str = "") -> None:
    notify(member_staff([site.member_id]), subject, body, f"/directory/sites/{site.id}")


def office_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "office", User.active)))


def get_site(site_id: int, actor: Any) -> TeachingSite:
    """A site for its member's staff or the office; NotFound for anyone else."""
    site = db.session.get(TeachingSite, site_id)
    if site is None or not can_edit(actor, site.member_id):
        raise NotFound(_("没有找到该条目。"))
    return site


# ---------------------------------------------------------------- entering the directory


def latest_proposal(site: TeachingSite) -> SiteProposal | None:
    return db.session.scalar(
        select(SiteProposal)
        .where(SiteProposal.site_id == site.id)
        .order_by(SiteProposal.id.desc())
        .limit(1)
    )


def submit_proposal(site: TeachingSite, actor: Any, materials: str, safety_notes: str) -> None:
    """The member asks the office to admit a site it created (again, after a return)."""
    require_member_or_office(actor, site)
    if site.admission == "admitted":
        raise ServiceError(_("该教学点已入录目录。"))
    materials = text(materials, "materials", required=True)
    safety_notes = text(safety_notes, "safety_notes", required=True)
    pending = latest_proposal(site)
    if pending is not None and pending.decision == "pending":
        pending.materials, pending.safety_notes = materials, safety_notes
    else:
        db.session.add(
            SiteProposal(
                site_id=site.id,
                materials=materials,
                safety_notes=safety_notes,
                submitted_by_id=actor.id,
            )
        )
    site.admission = "proposed"
    log(site, "propose", actor)
    notify(
        office_users(),
        _("新的教学点入录申请：%(site)s", site=site.name),
        _(
            "%(member)s申请将“%(site)s”入录环线教学点目录。",
            member=site.member.name,
            site=site.name,
        ),
        "/directory/review",
    )


def pending_proposals() -> list[SiteProposal]:
    return list(
        db.session.scalars(
            select(SiteProposal)
            .join(SiteProposal.site)
            .where(SiteProposal.decision == "pending", TeachingSite.admission == "proposed")
            .order_by(SiteProposal.submitted_at)
        )
    )


def decide_proposal(site: TeachingSite, actor: Any, admit: bool, reason: str) -> None:
    """The office admits a proposed site into the directory, or sends it back with a reason."""
    require_office(actor)
    if site.admission != "proposed":
        raise ServiceError(
            _("该教学点当前不在待审核状态（%(state)s）。", state=site.admission_label)
        )
    reason = text(reason, "reason", required=not admit)
    proposal = latest_proposal(site)
    if proposal is not None and proposal.decision == "pending":
        proposal.decision = "admitted" if admit else "returned"
        proposal.reason, proposal.decided_by_id, proposal.decided_at = reason, actor.id, utcnow()
    site.admission = "admitted" if admit else "returned"
    log(site, "admit" if admit else "return", actor, reason)
    if admit:
        tell_member(site, _("“%(site)s”已入录环线教学点目录", site=site.name), reason)
    else:
        tell_member(
            site,
            _("“%(site)s”的入录申请被退回", site=site.name),
            _("退回原因：%(reason)s", reason=reason),
        )


# ---------------------------------------------------------------- changes under review


def _stored(value: Any) -> Any:
    return value.strftime("%H:%M") if isinstance(value, time) else value


def hold_reviewed_changes(site: TeachingSite, actor: Any, values: dict[str, Any]) -> dict:
    """Called by the catalogue before a site is edited: when the office requires review,
    a member's new capacity or opening hours of an admitted site are held in a change
    request, and the values returned keep the current ones for those fields."""
    if actor.is_office or site.admission != "admitted" or not setting("directory_review_changes"):
        return values
    held = {f: values[f] for f in REVIEWED_FIELDS if f in values and values[f] != getattr(site, f)}
    if not held:
        return values
    db.session.add(
        SiteChangeRequest(
            site_id=site.id,
            values={f: _stored(v) for f, v in held.items()},
            changes={f: [display(getattr(site, f), f), display(v, f)] for f, v in held.items()},
            requested_by_id=actor.id,
        )
    )
    log(site, "change_request", actor, **{f: _stored(v) for f, v in held.items()})
    notify(
        office_users(),
        _("教学点变更待审核：%(site)s", site=site.name),
        _("%(site)s申请变更容量或开放时间。", site=site.name),
        "/directory/review",
    )
    return {**values, **{f: getattr(site, f) for f in held}}


def pending_changes() -> list[SiteChangeRequest]:
    return list(
        db.session.scalars(
            select(SiteChangeRequest)
            .where(SiteChangeRequest.status == "pending")
            .order_by(SiteChangeRequest.requested_at)
        )
    )


def decide_change(change: SiteChangeRequest, actor: Any, approve: bool, reason: str) -> None:
    require_office(actor)
    if change.status != "pending":
        raise ServiceError(_("该变更申请已处理。"))
    reason = text(reason, "reason", required=not approve)
    site = change.site
    if approve:
        for field, value in change.values.items():
            if field in ("opens", "closes"):
                hours, minutes = value.split(":")
                value = time(int(hours), int(minutes))
            setattr(site, field, value)
        if site.opens >= site.closes:
            raise ServiceError(_("变更后开放时间早于或等于闭馆时间，无法同意。"))
        site.edited_locally = True
    change.status = "approved" if approve else "rejected"
    change.reason, change.decided_by_id, change.decided_at = reason, actor.id, utcnow()
    log(site, "change_approve" if approve else "change_reject", actor, reason)
    tell_member(
        site,
        _("“%(site)s”的变更申请：%(result)s", site=site.name, result=change.status_label),
        reason,
    )


# ---------------------------------------------------------------- warning, suspension, exit


def _checked_choice(on_bookings: str) -> str:
    if on_bookings not in BOOKING_CHOICES:
        raise ValidationFailed({"on_bookings": _("请选择如何处理已有预约。")})
    return on_bookings


def open_warning(site: TeachingSite) -> SiteWarning | None:
    return db.session.scalar(
        select(SiteWarning).where(SiteWarning.site_id == site.id, SiteWarning.status == "open")
    )


def warn(
    site: TeachingSite,
    actor: Any,
    reason: str,
    due_on: date | None,
    on_suspend: str = "keep",
    today: date | None = None,
) -> SiteWarning:
    """The office sends a rectification notice (整改通知) with a deadline to the site's member."""
    require_office(actor)
    today = today or today_local()
    if site.admission != "admitted" or site.status == "retired":
        raise ServiceError(_("只能向目录中的教学点发出整改通知。"))
    if open_warning(site) is not None:
        raise ServiceError(_("该教学点已有未完成的整改通知。"))
    reason = text(reason, "reason", required=True)
    due_on = due_on or today + timedelta(days=setting("directory_fix_days"))
    if not today <= due_on <= today + timedelta(days=366):
        raise ValidationFailed({"due_on": _("整改期限须在今天到一年之内。")})
    warning = SiteWarning(
        site_id=site.id,
        reason=reason,
        issued_on=today,
        due_on=due_on,
        on_suspend=_checked_choice(on_suspend),
        created_by_id=actor.id,
    )
    db.session.add(warning)
    log(site, "warn", actor, reason, due_on=due_on.isoformat())
    tell_member(
        site,
        _("整改通知：%(site)s", site=site.name),
        _(
            "请于 %(day)s 前完成整改：%(reason)s。逾期未整改的，教学点将被暂停。",
            day=due_on.isoformat(),
            reason=reason,
        ),
    )
    return warning


def mark_fixed(warning: SiteWarning, actor: Any, note: str) -> None:
    """The office records that a warned site fixed what it was told."""
    require_office(actor)
    note = text(note, "note")
    done = db.session.execute(
        update(SiteWarning)
        .where(SiteWarning.id == warning.id, SiteWarning.status == "open")
        .values(status="fixed", resolved_note=note, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise ServiceError(_("该整改通知已处理。"))
    db.session.refresh(warning)
    log(warning.site, "fixed", actor, note)
    tell_member(warning.site, _("整改已确认完成：%(site)s", site=warning.site.name), note)


def affected_bookings(site: TeachingSite, today: date | None = None) -> list[Booking]:
    """Bookings with a stop at the site still to come and still held."""
    from datetime import datetime

    today = today or today_local()
    start = datetime.combine(today, time(0), LOCAL_TZ)
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.status != "cancelled",
                Booking.reservations.any(
                    (Reservation.site_id == site.id)
                    & Reservation.status.in_(HOLDING)
                    & (Reservation.starts_at >= start)
                ),
            )
            .order_by(Booking.start_date, Booking.id)
        )
    )


def handle_bookings(site: TeachingSite, actor: Any, on_bookings: str, reason: str) -> int:
    """Cancel (through the scheduling cancel service, which notifies hosts and frees places
    for the waiting list) or keep the site's bookings still to come. Commits each
    cancellation; returns how many were cancelled."""
    from portal.scheduling.booking import cancel_booking
    from portal.scheduling.history import notify_organizer

    if on_bookings != "cancel":
        return 0
    site_id, site_name = site.id, site.name
    cancelled = 0
    for booking_id in [b.id for b in affected_bookings(site)]:
        booking = db.session.get(Booking, booking_id)
        note = _("教学点“%(site)s”%(reason)s，预约已取消。", site=site_name, reason=reason)
        try:
            cancel_booking(booking, actor, note)
        except ServiceError as error:  # cancelled meanwhile by its organizer: nothing to do
            db.session.rollback()
            log_.info("booking %s not cancelled: %s", booking_id, error.message)
            continue
        booking = db.session.get(Booking, booking_id)
        notify_organizer(
            booking,
            _(
                "预约已取消：“%(site)s”已暂停或退出环线目录，请另选教学点或联系环线办。",
                site=site_name,
            ),
        )
        db.session.commit()
        cancelled += 1
    db.session.get(TeachingSite, site_id)
    return cancelled


def suspend(site: TeachingSite, actor: Any, reason: str, on_bookings: str = "keep") -> int:
    """The office suspends a site (暂停): it takes no bookings until reinstated. Commits."""
    require_office(actor)
    reason = text(reason, "reason", required=True)
    on_bookings = _checked_choice(on_bookings)
    if site.status != "active" or site.admission != "admitted":
        raise ServiceError(_("只能暂停目录中启用的教学点。"))
    site.status = "suspended"
    site.edited_locally = True
    log(site, "suspend", actor, reason, bookings=on_bookings)
    tell_member(site, _("教学点已暂停：%(site)s", site=site.name), reason)
    db.session.commit()
    return handle_bookings(site, actor, on_bookings, _("暂停"))


def reinstate(site: TeachingSite, actor: Any, reason: str) -> None:
    require_office(actor)
    reason = text(reason, "reason", required=True)
    if site.status != "suspended":
        raise ServiceError(_("只能恢复已暂停的教学点。"))
    site.status = "active"
    log(site, "reinstate", actor, reason)
    tell_member(site, _("教学点已恢复启用：%(site)s", site=site.name), reason)


def exit_directory(site: TeachingSite, actor: Any, reason: str, on_bookings: str = "keep") -> int:
    """The office decides that a site leaves the directory (退出). Commits."""
    require_office(actor)
    reason = text(reason, "reason", required=True)
    on_bookings = _checked_choice(on_bookings)
    if site.status == "retired":
        raise ServiceError(_("该教学点已退出目录。"))
    site.status = "retired"
    site.edited_locally = True
    warning = open_warning(site)
    if warning is not None:
        warning.status, warning.resolved_at = "suspended", utcnow()
    log(site, "exit", actor, reason, bookings=on_bookings)
    tell_member(site, _("教学点已退出目录：%(site)s", site=site.name), reason)
    db.session.commit()
    return handle_bookings(site, actor, on_bookings, _("退出目录"))


class SweepActor:
    """The daily job, as the history and the cancel service see it: acts with the office's
    authority, named as the system."""

    id = None
    display_name = "系统（每日检查）"
    username = "directory-sweep"
    is_authenticated = True
    is_office = True
    is_member_user = False
    member_id = None
    role = "office"


def sweep(today: date | None = None) -> list[int]:
    """Suspend every site whose warning passed its deadline unfixed. Commits.

    Each warning is claimed with a conditional UPDATE (``status = 'open'`` in the WHERE): of
    two servers running the sweep at once, only the one whose UPDATE changed the row acts
    on it. Returns the ids of the warnings this run acted on.
    """
    today = today or today_local()
    actor = SweepActor()
    due = list(
        db.session.scalars(
            select(SiteWarning.id).where(SiteWarning.status == "open", SiteWarning.due_on < today)
        )
    )
    acted = []
    for warning_id in due:
        claimed = db.session.execute(
            update(SiteWarning)
            .where(SiteWarning.id == warning_id, SiteWarning.status == "open")
            .values(status="suspended", resolved_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another run took it
        acted.append(warning_id)
        warning = db.session.get(SiteWarning, warning_id)
        site = warning.site
        reason = _(
            "整改通知（期限 %(day)s）逾期未完成整改：%(reason)s",
            day=warning.due_on.isoformat(),
            reason=warning.reason,
        )
        if site.status != "active":
            db.session.commit()  # suspended or retired meanwhile: its bookings were handled then
            continue
        site.status = "suspended"
        site.edited_locally = True
        log(site, "suspend", actor, reason, bookings=warning.on_suspend)
        tell_member(site, _("教学点已暂停：%(site)s", site=site.name), reason)
        db.session.commit()
        handle_bookings(site, actor, warning.on_suspend, _("逾期未整改被暂停"))
    return acted


def warnings_of(site: TeachingSite) -> list[SiteWarning]:
    return list(
        db.session.scalars(
            select(SiteWarning)
            .where(SiteWarning.site_id == site.id)
            .order_by(SiteWarning.id.desc())
        )
    )


def all_open_warnings() -> list[SiteWarning]:
    return list(
        db.session.scalars(
            select(SiteWarning).where(SiteWarning.status == "open").order_by(SiteWarning.due_on)
        )
    )


def member_sites(actor: Any) -> list[TeachingSite]:
    """The sites the actor keeps: its member's (the office: all), proposals first."""
    query = select(TeachingSite).order_by(TeachingSite.admission.desc(), TeachingSite.name)
    if not actor.is_office:
        query = query.where(TeachingSite.member_id == actor.member_id)
    return list(db.session.scalars(query))


def below_threshold(year: int) -> list[tuple[TeachingSite, float]]:
    """Active sites in the directory whose assessment of ``year`` is below the rule
    ``directory_warning_threshold`` and that have no open warning: those to warn."""
    from portal.catalog.models import SiteAssessment

    threshold = setting("directory_warning_threshold")
    rows = db.session.execute(
        select(TeachingSite, SiteAssessment.score)
        .join(SiteAssessment, SiteAssessment.site_id == TeachingSite.id)
        .where(
            SiteAssessment.year == year,
            SiteAssessment.score < threshold,
            TeachingSite.admission == "admitted",
            TeachingSite.status != "retired",
            ~select(SiteWarning.id)
            .where(SiteWarning.site_id == TeachingSite.id, SiteWarning.status == "open")
            .exists(),
        )
        .order_by(SiteAssessment.score)
    ).all()
    return [(site, score) for site, score in rows]


def set_trusted(member_id: int, actor: Any, trusted: bool) -> Member:
    """The office marks a member as trusted (its plugin's new sites enter admitted) or not.
    Commits."""
    require_office(actor)
    member = db.session.get(Member, member_id)
    if member is None:
        raise NotFound(_("没有找到该成员单位。"))
    if member.trusted != trusted:
        member.trusted = trusted
        record(
            actor,
            "directory.trust" if trusted else "directory.distrust",
            member.short_name,
            member=member.id,
        )
        db.session.commit()
    return member


def members_for_trust() -> list[Member]:
    return list(db.session.scalars(select(Member).order_by(Member.id)))
