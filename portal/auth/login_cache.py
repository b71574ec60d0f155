"""Logins held in Redis: a signed-in request checks its login without the database.

Every signed-in request needs its user and the proof that its login still holds (the
``user_sessions`` row, the user's ``session_version``, ``active``): on PostgreSQL that was a
statement with its BEGIN and ROLLBACK, three round trips, on every page kept in the page
cache and every refused seat in a rush (issue 20). When Redis is configured (the page
cache's store, ``CACHE_REDIS_URL``/``REDIS_URL``), the user's row as loaded for a login is
kept there under the login's token hash, with the *logins generation* read before loading
it. A request reads both in one round trip and uses the kept row only while the generation
is unchanged.

The generation goes up after every commit that changed a user's row (but for the columns a
login writes: last login, failed logins) or deleted a login (logging out, a password change
or reset, deactivation, a role change, a bulk update of users): ``portal.pagecache``
collects these with the page generations and calls ``bump_logins()`` once the transaction
has committed. Logging out also drops its own key. So a login ended or a user changed is
seen by the very next request on every server; a kept login is never trusted longer than
``LOGIN_CACHE_TIMEOUT`` seconds, nor past the login's longest life.

The password hash is never kept: it is loaded from the database if something reads it.
Without Redis, or with ``LOGIN_CACHE = False``, or when Redis fails, the database is asked
as before.
"""

from __future__ import annotations

import logging
import pickle
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from portal import pagecache
from portal.auth.models import User
from portal.extensions import db

log = logging.getLogger(__name__)

# The columns kept: all but the password hash (and the columns only a login writes, which
# would make the kept row look changed for nothing).
KEPT = tuple(
    column.key
    for column in inspect(User).column_attrs
    if column.key not in ("password_hash", "last_login_at", "failed_logins", "locked_until")
)


def _store() -> pagecache.RedisGenerations | None:
    store = current_app.extensions.get(pagecache.EXTENSION)
    if current_app.config.get("LOGIN_CACHE") and isinstance(store, pagecache.RedisGenerations):
        return store
    return None


def _key(store: pagecache.RedisGenerations, token_hash: str) -> str:
    return f"{store.prefix}login:{token_hash}"


def held_user(user_id: int, token_hash: str, since: datetime) -> tuple[User | None, Any]:
    """The user of a login kept in Redis and still valid, attached to the session, and the
    logins generation read (to keep what the database answers under); (None, None) when
    there is nothing to read from (no Redis, or it failed)."""
    store = _store()
    if store is None:
        return None, None
    try:
        raw, generation = store.client.mget([_key(store, token_hash), store.keys[pagecache.LOGINS]])
    except Exception:
        log.exception("login cache unavailable")
        return None, None
    generation = generation or b"0"  # never moved yet
    if raw is None:
        return None, generation
    entry = pickle.loads(raw)
    if (
        entry["generation"] != generation
        or entry["user"]["id"] != user_id
        or entry["created_at"] <= since
    ):
        return None, generation
    user = User(**entry["user"])
    make_transient_to_detached(user)  # as if loaded: no change to flush
    return db.session.merge(user, load=False), generation


def keep(user: User, token_hash: str, created_at: datetime, generation: Any) -> None:
    """Keep the user of a login just checked in the database, under the generation read
    before checking it (a change committed meanwhile moved it: the entry is never used)."""
    store = _store()
    if store is None or generation is None:
        return
    entry = {
        "user": {key: getattr(user, key) for key in KEPT},
        "created_at": created_at,
        "generation": generation,
    }
    try:
        store.client.set(
            _key(store, token_hash),
            pickle.dumps(entry),
            ex=current_app.config["LOGIN_CACHE_TIMEOUT"],
        )
    except Exception:
        log.exception("could not keep a login in the login cache")


def forget(token_hash: str) -> None:
    """Drop a login's entry (logging out; the generation moves as well)."""
    store = _store()
    if store is None:
        return
    try:
        store.client.delete(_key(store, token_hash))
    except Exception:
        log.exception("could not drop a login from the login cache")
