"""The locks every change of seats takes: a transaction that holds its sites and teachers.

* SQLite: the transaction starts with BEGIN IMMEDIATE, so only one such change at a time
  reads and then writes;
* PostgreSQL: ``SELECT … FOR UPDATE`` on the sites and teachers involved, in id order, so
  two changes that share a site or a teacher run one after the other, and others in parallel.

Booking, confirming, cancelling and moving (``booking.py``) and expiring waiting-list offers
(``waitlist.py``) all begin with ``begin_locked``; see docs/scheduling.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, has_app_context
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.catalog.models import Teacher, TeachingSite
from portal.extensions import SQLITE_IMMEDIATE, db

# The rows begin_locked locks, in id order, with what the checks read of them (built once).
READ_SITES = (
    select(TeachingSite)
    .where(TeachingSite.id.in_(bindparam("ids", expanding=True)))
    .order_by(TeachingSite.id)
    .options(joinedload(TeachingSite.member, innerjoin=True))
)
LOCK_SITES = READ_SITES.with_for_update(of=TeachingSite)
READ_TEACHERS = (
    select(Teacher).where(Teacher.id.in_(bindparam("ids", expanding=True))).order_by(Teacher.id)
)
LOCK_TEACHERS = READ_TEACHERS.with_for_update()


def begin_locked(site_ids: Iterable[int], teacher_ids: Iterable[int]) -> None:
    """Start a transaction that holds the locks a change of seats needs (module docstring).

    Everything loaded before is expired (the rollback); the locking queries load the locked
    sites (with their members) and teachers again, so the checks that follow read them as
    they are under the lock without a query each.
    """
    locking = locks_enabled()
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_IMMEDIATE: locking})
    sites = sorted(set(site_ids))
    teachers = sorted(set(teacher_ids))
    if sites:
        db.session.scalars(LOCK_SITES if locking else READ_SITES, {"ids": sites}).all()
    if teachers:
        db.session.scalars(LOCK_TEACHERS if locking else READ_TEACHERS, {"ids": teachers}).all()


def locks_enabled() -> bool:
    """Always on; a test switches it off to show the race it prevents."""
    return not has_app_context() or current_app.config.get("SCHEDULING_LOCKS", True)
