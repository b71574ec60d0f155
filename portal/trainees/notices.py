"""What a class tells its trainees: notices (通知), the class rules (学前纪律教育) and contacts.

A notice goes to the class page, to every trainee's inbox (and e-mail when they have an
address) and by SMS. The rules are acknowledged by each trainee before the class starts;
the organizer sees who has not. Changing the rules asks everyone to read them again.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.notifications.services import notify
from portal.notifications.sms import queue_sms
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow
from portal.trainees import roster
from portal.trainees.access import require_manager
from portal.trainees.models import ClassNotice, ClassProfile, RosterEntry

MAX_NOTICE = 5000
MAX_RULES = 20000


def profile_of(training_class: TrainingClass) -> ClassProfile:
    """The class's profile (not yet added to the session when it is new)."""
    found = db.session.get(ClassProfile, training_class.id)
    return found or ClassProfile(class_id=training_class.id, rules_text="", contacts_text="")


def _text(
    errors: dict[str, str], field: str, value: Any, label: str, limit: int, required: bool
) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        errors[field] = _("%(label)s包含无效字符。", label=label)
    elif required and not text:
        errors[field] = _("请填写%(label)s。", label=label)
    elif len(text) > limit:
        errors[field] = _("%(label)s不能超过 %(limit)s 个字符。", label=label, limit=limit)
    return text


def post_notice(training_class: TrainingClass, actor: Any, title: str, body: str) -> ClassNotice:
    """Post a notice to the class: page, inbox, e-mail and SMS of every trainee. Commits."""
    require_manager(training_class, actor)
    errors: dict[str, str] = {}
    title = _text(errors, "title", title, _("标题"), 120, True)
    body = _text(errors, "body", body, _("内容"), MAX_NOTICE, True)
    if errors:
        raise ValidationFailed(errors)
    notice = ClassNotice(class_id=training_class.id, title=title, body=body, created_by_id=actor.id)
    db.session.add(notice)
    db.session.flush()
    entries = roster.entries_of(training_class)
    link = f"/me/classes/{training_class.id}#notice-{notice.id}"
    notify(
        [e.user for e in entries],
        _("【%(klass)s】%(title)s", klass=training_class.name, title=title),
        body,
        link,
    )
    for entry in entries:
        queue_sms(
            entry.phone,
            _(
                "【%(klass)s】%(title)s：%(body)s",
                klass=training_class.name,
                title=title,
                body=body,
            ),
        )
    record(actor, "roster.notice", training_class.name, title=title)
    db.session.commit()
    return notice


def notices_of(training_class: TrainingClass) -> list[ClassNotice]:
    return list(
        db.session.scalars(
            select(ClassNotice)
            .where(ClassNotice.class_id == training_class.id)
            .order_by(ClassNotice.id.desc())
        )
    )


def save_profile(
    training_class: TrainingClass,
    actor: Any,
    rules_text: str,
    contacts_text: str,
    calendar_shared: bool,
) -> ClassProfile:
    """The organizer sets the rules, the contacts and whether trainees get the calendar. Commits."""
    require_manager(training_class, actor)
    errors: dict[str, str] = {}
    rules_text = _text(errors, "rules_text", rules_text, _("学前纪律"), MAX_RULES, False)
    contacts_text = _text(errors, "contacts_text", contacts_text, _("联系方式"), 2000, False)
    if errors:
        raise ValidationFailed(errors)
    profile = profile_of(training_class)
    if profile.rules_text != rules_text:
        profile.rules_text = rules_text
        profile.rules_updated_at = utcnow()
        # New rules: everyone reads them again.
        for entry in roster.entries_of(training_class):
            entry.rules_acknowledged_at = None
    profile.contacts_text = contacts_text
    profile.calendar_shared = bool(calendar_shared)
    db.session.add(profile)
    record(actor, "roster.profile", training_class.name)
    db.session.commit()
    return profile


def reset_share_links(training_class: TrainingClass, actor: Any) -> None:
    """Every trainee's calendar link of the class stops working; new ones are shown. Commits."""
    require_manager(training_class, actor)
    profile = profile_of(training_class)
    profile.share_version = (profile.share_version or 1) + 1
    db.session.add(profile)
    record(actor, "roster.share_reset", training_class.name)
    db.session.commit()


def acknowledge_rules(entry: RosterEntry) -> None:
    """The trainee has read the class rules and says so. Commits."""
    profile = db.session.get(ClassProfile, entry.class_id)
    if profile is None or not profile.rules_text:
        raise ServiceError(_("本班尚未发布学前纪律。"))
    if entry.rules_acknowledged_at is None:
        entry.rules_acknowledged_at = utcnow()
        db.session.commit()


def not_acknowledged(training_class: TrainingClass) -> list[RosterEntry]:
    return [e for e in roster.entries_of(training_class) if e.rules_acknowledged_at is None]
