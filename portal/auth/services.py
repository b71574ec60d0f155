"""Account rules: authentication, creating users, passwords and deactivation."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.auth.models import MEMBER_ROLES, ROLES, User
from portal.auth.sessions import end_all_sessions
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import utcnow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def _min_length() -> int:
    return current_app.config["PASSWORD_MIN_LENGTH"] if has_app_context() else 8


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a new password is not acceptable, in the current locale; [] when it is."""
    problems = []
    if len(password) < _min_length():
        problems.append(_("密码至少需要 %(count)s 个字符。", count=_min_length()))
    if len(password) > 128:
        problems.append(_("密码不能超过 128 个字符。"))
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        problems.append(_("密码须同时包含字母和数字。"))
    if username and password.lower() == username.lower():
        problems.append(_("密码不能与用户名相同。"))
    return problems


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (the caller shows one generic message).

    After LOGIN_MAX_FAILURES failures in a row the account refuses every login, right or
    wrong, for LOGIN_LOCKOUT_MINUTES; the caller commits (the count must be kept on failure).
    """
    if "\x00" in username or "\x00" in password:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not user.active:
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        return None
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def _require_office(actor: User | None) -> None:
    if actor is not None and not actor.is_office:
        raise PermissionDenied(_("只有环线办可以管理用户账号。"))


def create_user(
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    member_id: int | None = None,
    unit_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    actor: User | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account. ``actor`` None means the command line (trusted). The caller commits."""
    _require_office(actor)
    username = username.strip()
    display_name = display_name.strip()
    if not USERNAME_PATTERN.match(username):
        raise ServiceError(_("用户名须为 3–64 位字母、数字或 _ . -"), "username")
    if not display_name or len(display_name) > 64 or "\x00" in display_name:
        raise ServiceError(_("请填写姓名（不超过 64 个字符）。"), "display_name")
    if role not in ROLES:
        raise ServiceError(_("请选择有效的角色。"), "role")
    if role in MEMBER_ROLES:
        if member_id is None or db.session.get(Member, member_id) is None:
            raise ServiceError(_("成员单位的管理员和工作人员必须选择所属成员单位。"), "member_id")
    else:
        member_id = None
    taken = db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise ServiceError(_("该用户名已被使用。"), "username")
    problems = password_problems(password, username)
    if problems:
        raise ServiceError(" ".join(problems), "password")
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        member_id=member_id,
        unit_name=(unit_name or "").strip() or None,
        email=(email or "").strip() or None,
        phone=(phone or "").strip() or None,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "account.create", user.username, role=role, member_id=member_id)
    return user


def get_user(user_id: int, actor: User) -> User:
    _require_office(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("没有这个用户。"))
    return user


def change_own_password(user: User, current: str, new: str) -> None:
    """The user changes their password; every other session of theirs ends. The caller commits."""
    if not user.check_password(current):
        raise ServiceError(_("当前密码不正确。"), "current_password")
    problems = password_problems(new, user.username)
    if problems:
        raise ServiceError(" ".join(problems), "new_password")
    if user.check_password(new):
        raise ServiceError(_("新密码不能与当前密码相同。"), "new_password")
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    end_all_sessions(user)
    record(user, "account.change_password", user.username)


def reset_password(user: User, new: str, actor: User) -> None:
    """The office sets a temporary password; the user must change it at next login."""
    _require_office(actor)
    problems = password_problems(new, user.username)
    if problems:
        raise ServiceError(" ".join(problems), "password")
    user.set_password(new)
    user.must_change_password = True
    user.session_version += 1
    end_all_sessions(user)
    record(actor, "account.reset_password", user.username)


def set_active(user: User, active: bool, actor: User) -> None:
    """Enable or disable an account; disabling ends all its sessions at once."""
    _require_office(actor)
    if user.id == actor.id and not active:
        raise ServiceError(_("不能停用自己的账号。"))
    if user.active != active:
        user.active = active
        user.session_version += 1
        end_all_sessions(user)
        record(actor, "account.enable" if active else "account.disable", user.username)


def list_users(actor: User) -> list[User]:
    _require_office(actor)
    query = select(User).options(selectinload(User.member))
    return list(db.session.scalars(query.order_by(User.role, User.member_id, User.username)))
