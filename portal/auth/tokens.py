"""API tokens: members' own systems read the JSON API with a bearer token instead of a session.

A token is shown once when it is made; only its SHA-256 is stored. It acts as a read-only
member staff user of its member (the office's tokens act as the office), so the API's
visibility rules apply unchanged. Revoking takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from portal.audit.services import record
from portal.auth.models import ApiToken
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import utcnow

PREFIX = "hxp_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenUser(AnonymousUserMixin):
    """Who a request with a token acts as: read-only, for one member (or the office)."""

    token_id: int
    member_id: int | None
    member: Member | None
    display_name: str
    id: None = None

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_office(self) -> bool:
        return self.member_id is None

    @property
    def is_member_user(self) -> bool:
        return self.member_id is not None

    role = "api"
    role_label = "API"
    must_change_password = False
    is_token = True


def can_manage(actor: Any) -> bool:
    return actor is not None and (actor.is_office or getattr(actor, "role", "") == "member_admin")


def create_token(actor: Any, name: str) -> tuple[ApiToken, str]:
    """Make a token for the actor's member (the office's for the office); returns it and its secret."""
    if not can_manage(actor) or getattr(actor, "is_token", False):
        raise PermissionDenied(_("只有成员单位管理员和环线办可以管理 API 密钥。"))
    name = (name or "").strip()
    if not name or len(name) > 64 or "\x00" in name:
        raise ValidationFailed({"name": _("请填写密钥名称（不超过 64 个字符）。")})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        member_id=None if actor.is_office else actor.member_id,
        name=name,
        prefix=secret[:12],
        token_hash=_hash(secret),
        created_by_id=actor.id,
    )
    db.session.add(token)
    record(actor, "account.create_token", name)
    return token, secret


def tokens_for(actor: Any) -> list[ApiToken]:
    if not can_manage(actor):
        raise PermissionDenied(_("只有成员单位管理员和环线办可以管理 API 密钥。"))
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if not actor.is_office:
        query = query.where(ApiToken.member_id == actor.member_id)
    return list(db.session.scalars(query))


def revoke(actor: Any, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if (
        token is None
        or not can_manage(actor)
        or (not actor.is_office and token.member_id != actor.member_id)
    ):
        raise NotFound(_("没有找到该密钥。"))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(actor, "account.revoke_token", token.name)


def user_for_token(secret: str) -> TokenUser | None:
    """The acting user of a bearer token, or None if it is unknown or revoked."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    name = token.member.short_name if token.member else "环线办"
    return TokenUser(token.id, token.member_id, token.member, f"API {name}：{token.name}")
