"""Notify users: an inbox message and an outbox e-mail per recipient, in the caller's transaction.

Because both rows are written in the same transaction as the change they report, a change
is never committed without its notices, and a mail server that is down loses nothing: the
outbox keeps the e-mail and ``send_outbox`` retries it (``flask portal send-mail``).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, select, update

from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import Message, OutboxEmail
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def notify(users: Iterable[User], subject: str, body: str = "", link: str = "") -> int:
    """Write an inbox message (and an e-mail if the user has an address) for each active user."""
    subject = " ".join(subject.split())  # a subject is one line: e-mail headers refuse breaks
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(Message(user_id=user.id, subject=subject[:200], body=body, link=link[:300]))
        if user.email:
            text = body + (
                f"\n\n{current_app.config.get('PORTAL_BASE_URL', '')}{link}" if link else ""
            )
            db.session.add(OutboxEmail(to_address=user.email, subject=subject[:200], body=text))
    return len(seen)


def member_staff(member_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(member_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User).where(
                User.member_id.in_(ids),
                User.role.in_(("member_admin", "member_staff")),
                User.active.is_(True),
            )
        )
    )


def inbox(user: User, limit: int = 100) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.user_id == user.id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user.id, Message.read_at.is_(None))
    )


def mark_read(user: User, message_id: int | None = None) -> None:
    """Mark one message (or all) of ``user`` read; others' messages are never touched."""
    query = update(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
    if message_id is not None:
        query = query.where(Message.id == message_id)
    db.session.execute(query.values(read_at=utcnow()))


class MailBackend(Protocol):
    def send(self, email: OutboxEmail) -> None: ...


class ConsoleBackend:
    """Writes e-mails to the log: the default, so a new deployment needs no mail server."""

    def send(self, email: OutboxEmail) -> None:
        log.info("e-mail to %s: %s\n%s", email.to_address, email.subject, email.body)


class SMTPBackend:
    """Sends through the SMTP server in MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, email: OutboxEmail) -> None:
        message = EmailMessage()
        message["From"] = self.config.get("MAIL_FROM", "noreply@localhost")
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message.set_content(email.body)
        port = int(self.config.get("MAIL_PORT", 587))
        with smtplib.SMTP(self.config["MAIL_SERVER"], port, timeout=30) as smtp:
            if self.config.get("MAIL_USE_TLS", True):
                smtp.starttls()
            if self.config.get("MAIL_USERNAME"):
                smtp.login(self.config["MAIL_USERNAME"], self.config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)


def mail_backend() -> MailBackend:
    if current_app.config.get("MAIL_BACKEND") == "smtp":
        return SMTPBackend(current_app.config)
    return ConsoleBackend()


def send_outbox(backend: MailBackend | None = None, limit: int = 100) -> tuple[int, int]:
    """Send what is due in the outbox; returns (sent, failed). Commits after each e-mail.

    Several senders may run at once: each claims an e-mail by bumping its attempt count
    with a conditional update before sending, so no e-mail is sent twice by two senders.
    """
    backend = backend or mail_backend()
    now = utcnow()
    due = db.session.scalars(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.next_attempt_at <= now,
            OutboxEmail.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for email_id in due:
        email = db.session.get(OutboxEmail, email_id)
        claimed = db.session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == email_id,
                OutboxEmail.attempts == email.attempts,
                OutboxEmail.sent_at.is_(None),
                # Still due: another sender that claimed it moved this into the future. (The
                # row read just above may already show that sender's claim: attempts alone
                # would let this sender claim it again and send it twice.)
                OutboxEmail.next_attempt_at <= now,
            )
            .values(
                attempts=email.attempts + 1,
                next_attempt_at=now + timedelta(minutes=5 * 2**email.attempts),
            )
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        email = db.session.get(OutboxEmail, email_id)
        try:
            backend.send(email)
        except Exception as error:  # a failed send stays in the outbox for the next run
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            failed += 1
        else:
            email.sent_at = utcnow()
            sent += 1
        db.session.commit()
    return sent, failed
