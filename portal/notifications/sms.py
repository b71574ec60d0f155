"""Text messages (短信) through an outbox: written with the change they report, sent later.

The backend is pluggable: ``SMS_BACKEND`` is "console" (the default: the log, so a new
deployment needs no SMS gateway) or a dotted path "package.module:Class" of a class taking
the app config and offering ``send(sms)``, for the gateway a deployment has a contract with.
Several senders may run at once: each claims a message with a conditional update first.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select, update

from portal.extensions import db
from portal.notifications.models import OutboxSms
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_LENGTH = 500


class SmsBackend(Protocol):
    def send(self, sms: OutboxSms) -> None: ...


class ConsoleSmsBackend:
    """Writes text messages to the log."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config or {}

    def send(self, sms: OutboxSms) -> None:
        log.info("SMS to %s: %s", sms.to_number, sms.body)


def sms_backend() -> SmsBackend:
    """The configured backend (SMS_BACKEND), the console by default."""
    name = current_app.config.get("SMS_BACKEND") or "console"
    if name == "console":
        return ConsoleSmsBackend(current_app.config)
    module, _, attribute = name.partition(":")
    return getattr(import_module(module), attribute)(current_app.config)


def queue_sms(number: str, body: str) -> OutboxSms | None:
    """Put a text message in the outbox (the caller commits); None without a number."""
    number = (number or "").strip()
    if not number:
        return None
    sms = OutboxSms(to_number=number[:16], body=" ".join(body.split())[:MAX_LENGTH])
    db.session.add(sms)
    return sms


def send_sms_outbox(backend: SmsBackend | None = None, limit: int = 100) -> tuple[int, int]:
    """Send what is due; returns (sent, failed). Commits after each message."""
    backend = backend or sms_backend()
    now = utcnow()
    due = db.session.scalars(
        select(OutboxSms.id)
        .where(
            OutboxSms.sent_at.is_(None),
            OutboxSms.next_attempt_at <= now,
            OutboxSms.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxSms.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for sms_id in due:
        sms = db.session.get(OutboxSms, sms_id)
        claimed = db.session.execute(
            update(OutboxSms)
            .where(
                OutboxSms.id == sms_id,
                OutboxSms.attempts == sms.attempts,
                OutboxSms.sent_at.is_(None),
                # Still due: another sender that claimed it moved this into the future. (The
                # row read just above may already show that sender's claim: attempts alone
                # would let this sender claim it again and send it twice.)
                OutboxSms.next_attempt_at <= now,
            )
            .values(
                attempts=sms.attempts + 1,
                next_attempt_at=now + timedelta(minutes=5 * 2**sms.attempts),
            )
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        sms = db.session.get(OutboxSms, sms_id)
        try:
            backend.send(sms)
        except Exception as error:  # a failed send stays in the outbox for the next run
            sms.last_error = f"{type(error).__name__}: {error}"[:2000]
            failed += 1
        else:
            sms.sent_at = utcnow()
            sms.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed
