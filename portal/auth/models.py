"""Accounts: users, their roles and the member institution they act for."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

# Labels are lazy: translated into the current locale whenever they are shown.
ROLES = {
    "office": _l("环线办"),
    "member_admin": _l("成员单位管理员"),
    "member_staff": _l("成员单位工作人员"),
    "organizer": _l("培训班联系人"),
    "trainee": _l("学员"),
}
MEMBER_ROLES = ("member_admin", "member_staff")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('office','member_admin','member_staff','organizer','trainee')", name="role"
        ),
        CheckConstraint(
            "(role IN ('member_admin','member_staff')) = (member_id IS NOT NULL)",
            name="member_roles_have_member",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    unit_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Bumped on password change, reset or deactivation: every older session stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed logins in a row, and until when the account refuses logins after too many.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member | None] = relationship()

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # Flask-Login keeps this in the session and remember cookie: the version part makes
        # every existing session invalid when it is bumped; the login's token names its row
        # in user_sessions, which logging out deletes (portal/auth/sessions.py).
        token = getattr(self, "session_token", None)
        if token:
            return f"{self.id}:{self.session_version}:{token}"
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return str(ROLES[self.role])

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def is_member_user(self) -> bool:
        return self.role in MEMBER_ROLES

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """One login of a user (a browser's session and its remember cookie), kept on the server.

    The cookie carries a random token; only its SHA-256 is stored. Logging out deletes the
    row, so a cookie copied before is refused from then on, while the user's other
    devices stay logged in.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A member's key for its own systems to read the JSON API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # The first characters, to recognise a token in lists; the rest is never stored.
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16), default="read")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member | None] = relationship()
