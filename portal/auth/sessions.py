"""Sessions on the server: one row per login, so that logging out ends that login for good.

Cookies are signed, not stored: without a record on the server, a session cookie (or a
remember cookie) copied before logging out would still open the portal until it expires.
Each login (``flask_login.login_user``, from any view) gets a random token whose SHA-256 is a
``UserSession`` row; the session id Flask-Login keeps in the cookie is
``"<user id>:<session version>:<token>"``. A request is let in only while that row exists,
the user's ``session_version`` matches (a password change, a reset or deactivation bumps
it: every login ends) and the row is younger than the longest session allowed. Logging out
deletes the row: that login ends, the user's other devices stay logged in (ASVS 3.3.1).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context, session
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import bindparam, delete, select

from portal.auth import login_cache
from portal.auth.models import User, UserSession
from portal.extensions import db
from portal.pagecache import EXPIRED_LOGINS_ONLY
from portal.timeutil import utcnow


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def longest_session() -> timedelta:
    """How long a login may last at most: the remember cookie's life, or the session's."""
    if not has_app_context():
        return timedelta(days=14)
    config = current_app.config
    return max(config["PERMANENT_SESSION_LIFETIME"], config["REMEMBER_COOKIE_DURATION"])


def start_session(user: User) -> str:
    """Record a new login of ``user`` (and forget its logins too old to be used). The caller
    commits. The token is kept on the user object, so ``user.get_id()`` names this login."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user.id, UserSession.created_at < now - longest_session())
        .execution_options(**EXPIRED_LOGINS_ONLY)
    )
    db.session.add(UserSession(user_id=user.id, token_hash=digest(token), created_at=now))
    user.session_token = token
    return token


def end_session(user: Any) -> None:
    """Forget the login ``user`` was loaded with (logging out). The caller commits."""
    token = getattr(user, "session_token", None)
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == digest(token)))
        login_cache.forget(digest(token))
        user.session_token = None


def end_all_sessions(user: User) -> None:
    """Forget every login of ``user`` (password changed or reset, account disabled)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# Every signed-in request whose login is not held in Redis runs this statement: built once,
# with parameters (building and coercing a select costs more than running it on a cached
# page).
SESSION_USER = (
    select(User, UserSession.created_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.created_at > bindparam("since"),
    )
)


def load_session_user(session_id: str) -> User | None:
    """The user of a session or remember cookie, if its login and version still hold.

    Held in Redis (login_cache) while no user or login changed; else one query: the user
    joined with the login's row.
    """
    user_id, version, token = (session_id.split(":") + ["", "", ""])[:3]
    if not user_id.isdigit() or not version.isdigit() or not token or len(token) > 128:
        return None
    token_hash, since = digest(token), utcnow() - longest_session()
    user, generation = login_cache.held_user(int(user_id), token_hash, since)
    if user is None:
        row = db.session.execute(
            SESSION_USER, {"user_id": int(user_id), "token_hash": token_hash, "since": since}
        ).first()
        if row is None:
            return None
        user, created_at = row
        login_cache.keep(user, token_hash, created_at, generation)
    if user.session_version != int(version) or not user.active:
        return None
    user.session_token = token
    return user


def _logged_in(sender: Any, user: Any, **extra: Any) -> None:
    """Every login_user() call gets a login of its own, whichever view makes it."""
    if not isinstance(user, User):
        return
    start_session(user)
    db.session.commit()
    session["_user_id"] = user.get_id()


def _logged_out(sender: Any, user: Any, **extra: Any) -> None:
    if isinstance(user, User):
        end_session(user)
        db.session.commit()


user_logged_in.connect(_logged_in)
user_logged_out.connect(_logged_out)
