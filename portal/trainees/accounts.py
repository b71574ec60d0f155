"""Trainee accounts: one-time activation links (QR code on the class sheet, SMS and e-mail).

A link is a signed, time-stamped token naming the account and its session version. Setting
the password bumps that version with a conditional update, so a link works once (two
clicks or two servers: one wins) and stops working as soon as the account is used. Nothing
is written when a link is made: the printable sheet is an ordinary page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from portal.audit.services import record
from portal.auth.models import User
from portal.auth.services import password_problems
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.notifications.services import notify
from portal.notifications.sms import queue_sms
from portal.scheduling.models import TrainingClass
from portal.timeutil import utcnow
from portal.trainees import roster
from portal.trainees.access import require_manager
from portal.trainees.models import RosterEntry

SALT = "trainee-activation"
LINK_DAYS = 30


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "v": user.session_version})


def activation_url(token: str) -> str:
    """The link as the trainee opens it: the deployment's address (PORTAL_BASE_URL), else the
    address of the current request, else a path (the command line without a base URL)."""
    base = current_app.config.get("PORTAL_BASE_URL", "").rstrip("/")
    if base or not has_request_context():
        return f"{base}/activate/{token}"
    return url_for("trainees.activate", token=token, _external=True)


def needs_activation(user: User) -> bool:
    """The account has never been used: nobody has logged in with it yet."""
    return user.role == "trainee" and user.last_login_at is None


@dataclass
class SheetRow:
    entry: RosterEntry
    url: str | None  # None: the trainee has already activated the account


def class_sheet(training_class: TrainingClass, actor: Any) -> list[SheetRow]:
    """The printable class sheet: an activation link for each trainee not yet activated."""
    require_manager(training_class, actor)
    return [
        SheetRow(e, activation_url(make_token(e.user)) if needs_activation(e.user) else None)
        for e in roster.entries_of(training_class)
    ]


def send_links(training_class: TrainingClass, actor: Any) -> int:
    """Send a link by SMS (and inbox/e-mail) to every trainee not yet activated. Commits."""
    require_manager(training_class, actor)
    sent = 0
    for entry in roster.entries_of(training_class):
        user = entry.user
        if not needs_activation(user):
            continue
        url = activation_url(make_token(user))
        text = _(
            "【环线培训门户】%(name)s您好，您已列入“%(klass)s”学员名单。请打开 %(url)s 设置密码，"
            "登录名为您的手机号。链接仅可使用一次。",
            name=entry.name,
            klass=training_class.name,
            url=url,
        )
        queue_sms(entry.phone, text)
        if user.email:
            notify([user], _("请激活您的学员账号"), text)
        sent += 1
    record(actor, "account.send_links", training_class.name, count=sent)
    db.session.commit()
    return sent


def account_of(token: str) -> User:
    """The account a valid link activates; NotFound if forged, expired or already used."""
    message = _("激活链接无效、已过期或已使用。如需新的链接，请联系培训班联系人。")
    if not isinstance(token, str) or len(token) > 300:
        raise NotFound(message)
    try:
        data = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except (BadSignature, SignatureExpired):
        raise NotFound(message) from None
    if not isinstance(data, dict):
        raise NotFound(message)
    user_id, version = data.get("u"), data.get("v")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (user_id, version)):
        raise NotFound(message)
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version or user.role != "trainee":
        raise NotFound(message)
    return user


def activate(token: str, password: str, confirm: str) -> User:
    """Set the password through a one-time link. Commits."""
    user = account_of(token)
    if password != confirm:
        raise ValidationFailed({"confirm": _("两次输入的密码不一致。")})
    problems = password_problems(password or "", user.username)
    if problems:
        raise ValidationFailed({"password": "".join(problems)})
    version = user.session_version
    probe = User(username=user.username)
    probe.set_password(password)
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.session_version == version)
        .values(
            password_hash=probe.password_hash,
            session_version=version + 1,
            must_change_password=False,
            failed_logins=0,
            locked_until=None,
            last_login_at=utcnow(),
        )
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise NotFound(_("激活链接已被使用。"))
    record(user, "account.activate", user.username)
    db.session.commit()
    db.session.refresh(user)
    return user
