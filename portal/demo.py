"""The demo consortium: the four members (from their plugins) and a user for every role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.auth import services as auth_services
from portal.auth.models import User
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins

DEMO_PASSWORD = "huanxian2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    member_key: str | None = None
    unit_name: str | None = None


def demo_accounts(member_keys: list[str]) -> list[DemoAccount]:
    accounts = [DemoAccount("office", "环线办 王主任", "office")]
    staff_names = {"admin": "管理员", "staff": "工作人员"}
    for key in member_keys:
        for suffix, label in staff_names.items():
            role = "member_admin" if suffix == "admin" else "member_staff"
            accounts.append(DemoAccount(f"{key}_{suffix}", label, role, key))
    accounts.append(DemoAccount("organizer", "张联系人", "organizer", unit_name="某省委组织部"))
    accounts.append(DemoAccount("trainee", "李学员", "trainee", unit_name="某县发展改革局"))
    return accounts


def load_demo() -> list[DemoAccount]:
    """Sync the plugins and create the demo accounts that do not exist yet. Commits."""
    sync_plugins()
    db.session.flush()
    members = {m.key: m for m in db.session.scalars(select(Member))}
    accounts = demo_accounts(sorted(members))
    existing = set(db.session.scalars(select(User.username)))
    for account in accounts:
        if account.username in existing:
            continue
        member = members.get(account.member_key) if account.member_key else None
        display = f"{member.short_name}{account.display_name}" if member else account.display_name
        auth_services.create_user(
            username=account.username,
            display_name=display,
            role=account.role,
            password=DEMO_PASSWORD,
            member_id=member.id if member else None,
            unit_name=account.unit_name,
        )
    db.session.commit()
    return accounts
