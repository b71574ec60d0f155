"""A page cache for anonymous reads of public pages that never serves a page older than the data.

Every cached page names the *areas* of data it shows (``CATALOGUE``: members, sites,
teachers, courses, routes; ``SCHEDULE``: classes, bookings, reservations). Each area has a
*generation*, a counter that goes up after every commit that changed one of its rows, and
a page's key holds the generations of its areas: a page cached before a change is never
found again after it (it expires unused). The key also holds the path, the sorted query
string, the host, the locale and today's date (calendars mark today).

How a change bumps the generations: SQLAlchemy session events collect the tables a
transaction wrote (``after_flush`` for ORM changes, ``do_orm_execute`` for bulk
``insert()``/``update()``/``delete()`` through the session, as portal/scale.py does) into
``session.info``; once the outermost transaction has committed and given its connection
back, the areas' generations go up (``after_transaction_end``), so a booking never holds
a lock on a generation inside its own transaction; a rollback forgets them. A table that is
not listed below bumps every area (a new table is safe by default). Writes outside the
session (``db.engine`` connections) call ``bump()`` themselves.

Where the generations live, so that every worker sees them: Redis (INCR) when
``CACHE_REDIS_URL`` or ``REDIS_URL`` is set, where the pages are kept too; else the
database (one statement to read: a sequence per area on PostgreSQL, moved by ``nextval``;
the ``cache_generations`` table on SQLite, bumped by an upsert on a connection of its own),
with pages in each worker's memory (Flask-Caching's SimpleCache).

Only for anonymous GET/HEAD requests without flashed messages or an Authorization header;
only 200 answers that set no cookie of their own and leave the session as they found it.
The CSRF token pages carry (the language switch form) belongs to each visitor's session:
it is stored as a placeholder and filled in for whoever the page is served to.
``PAGE_CACHE = False`` turns it all off.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_caching import Cache
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, Sequence, String, event, inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from portal.extensions import db, select_locale
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

# The pages themselves; configured in init_app (Redis when configured, else this process).
cache = Cache()

CATALOGUE = "catalogue"
SCHEDULE = "schedule"
AREAS = (CATALOGUE, SCHEDULE)

# Which area each table's rows belong to. Tables public pages never show are left out on
# purpose (IGNORED); any other table bumps every area.
TABLE_AREAS: dict[str, tuple[str, ...]] = {
    "members": (CATALOGUE,),
    "plugin_states": (CATALOGUE,),
    "teaching_sites": (CATALOGUE,),
    "teachers": (CATALOGUE,),
    "courses": (CATALOGUE,),
    "course_teachers": (CATALOGUE,),
    "course_materials": (CATALOGUE,),
    "event_types": (CATALOGUE,),
    "site_assessments": (CATALOGUE,),
    "site_photos": (CATALOGUE,),
    "catalog_changes": (CATALOGUE,),
    "route_templates": (CATALOGUE,),
    "route_stops": (CATALOGUE,),
    "training_classes": (SCHEDULE,),
    "bookings": (SCHEDULE,),
    "reservations": (SCHEDULE,),
    "booking_events": (SCHEDULE,),
    "teacher_unavailability": (SCHEDULE,),
    # Catalogue pages show evaluation averages (and their criteria's settings).
    "evaluations": (CATALOGUE,),
    "evaluation_scores": (CATALOGUE,),
    "evaluation_criteria": (CATALOGUE,),
}
IGNORED = frozenset(
    {
        "users",
        "user_sessions",
        "api_tokens",
        "audit_entries",
        "messages",
        "outbox_emails",
        "cache_generations",
        "plugin_errors",
        "evaluation_alerts",
        "certificates",
    }
)

# Session keys a cached page may leave changed: the CSRF token it creates (filled in per
# visitor) and the flags Flask and Flask-Login keep.
SESSION_KEYS_IGNORED = frozenset({"csrf_token", "_permanent", "_fresh"})
CSRF_PLACEHOLDER = b"\x00portal-csrf-token\x00"
EXTENSION = "portal.pagecache"
TOUCHED, COMMITTED = "portal.pagecache.touched", "portal.pagecache.committed"


class CacheGeneration(db.Model):
    """The generation of one area of data, when Redis does not keep them."""

    __tablename__ = "cache_generations"

    area: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


GENERATIONS = select(CacheGeneration.__table__.c.area, CacheGeneration.__table__.c.generation)
# PostgreSQL keeps them in sequences (created by the migration, and by create_all).
SEQUENCES = {area: Sequence(f"cache_generation_{area}", metadata=db.metadata) for area in AREAS}
SEQUENCE_VALUES = text(
    "SELECT "
    + ", ".join(
        f"(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {SEQUENCES[area].name})"
        f" AS {area}"
        for area in AREAS
    )
)


# ---------------------------------------------------------------- where generations live


class DatabaseGenerations:
    """Generations in the portal's database.

    PostgreSQL: a sequence per area, moved by ``nextval`` — no row lock for concurrent
    bookings to queue on and no commit of its own to flush (an upsert of a generations row
    after every booking cost about 15 % of a 1,000-booking burst). A sequence never goes back,
    not even after a crash. SQLite (one writer at a time anyway): the ``cache_generations``
    table, bumped by an upsert.
    """

    def read(self) -> dict[str, int]:
        # On the request's own connection, without the ORM: this is most of a cache hit.
        conn = db.session.connection()
        if conn.dialect.name == "postgresql":
            return dict(conn.execute(SEQUENCE_VALUES).one()._mapping)
        return {area: generation for area, generation in conn.execute(GENERATIONS)}

    def bump(self, areas: Iterable[str]) -> None:
        areas = sorted(set(areas))
        if not areas:
            return
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(select(*(SEQUENCES[area].next_value() for area in areas)))
                return
            table = CacheGeneration.__table__
            statement = sqlite.insert(table).values([{"area": a, "generation": 1} for a in areas])
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.area],
                    set_={"generation": table.c.generation + 1},
                )
            )
            conn.commit()


class RedisGenerations:
    """Generations as Redis counters beside the cached pages."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.keys = {area: f"{prefix}gen:{area}" for area in AREAS}

    def read(self) -> dict[str, int]:
        values = self.client.mget(list(self.keys.values()))
        return {area: int(v or 0) for area, v in zip(self.keys, values, strict=True)}

    def bump(self, areas: Iterable[str]) -> None:
        pipe = self.client.pipeline()
        for area in sorted(set(areas)):
            pipe.incr(self.keys[area])
        pipe.execute()


def redis_url(app: Flask) -> str | None:
    return app.config.get("CACHE_REDIS_URL") or app.config.get("REDIS_URL") or None


def init_app(app: Flask) -> None:
    """Choose where pages and generations live; Redis when configured, else this process."""
    url = redis_url(app)
    prefix = app.config["PAGE_CACHE_KEY_PREFIX"]
    config = {
        "CACHE_DEFAULT_TIMEOUT": app.config["PAGE_CACHE_TIMEOUT"],
        "CACHE_KEY_PREFIX": prefix + "page:",
    }
    if url:
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url)
        store: Any = RedisGenerations(url, prefix)
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=app.config["PAGE_CACHE_THRESHOLD"])
        store = DatabaseGenerations()
    cache.init_app(app, config=config)
    app.extensions[EXTENSION] = store


def enabled() -> bool:
    return bool(current_app.config.get("PAGE_CACHE")) and EXTENSION in current_app.extensions


def generations() -> dict[str, int]:
    """The current generation of every area (0 for an area never changed)."""
    stored = current_app.extensions[EXTENSION].read()
    return {area: stored.get(area, 0) for area in AREAS}


def bump(*areas: str) -> None:
    """Mark the areas changed now: pages cached before are not served again.

    A failure is logged, and this process's pages are dropped (pages elsewhere expire after
    PAGE_CACHE_TIMEOUT): the data is committed either way.
    """
    if not areas or not enabled():
        return
    try:
        current_app.extensions[EXTENSION].bump(areas)
    except Exception:
        log.exception("could not bump page cache generations %s", sorted(areas))
        try:
            cache.clear()
        except Exception:
            log.exception("could not clear the page cache")


def forget_all() -> None:
    """Drop every cached page, here and in every worker: the database was replaced under the
    portal (a restore), so no change went through the session events."""
    try:
        current_app.extensions[EXTENSION].bump(AREAS)
    except Exception:
        log.exception("could not bump page cache generations (is the schema upgraded?)")
    cache.clear()


# ---------------------------------------------------------------- what a transaction changed


def areas_of(tables: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for name in tables:
        if name not in IGNORED:
            found.update(TABLE_AREAS.get(name, AREAS))
    return found


def _touch(session: Session, tables: Iterable[str]) -> None:
    areas = areas_of(tables)
    if areas:
        session.info.setdefault(TOUCHED, set()).update(areas)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if session.is_modified(obj)]
    _touch(session, {t.name for obj in changed for t in inspect(obj).mapper.tables})


@event.listens_for(Session, "do_orm_execute")
def _after_bulk_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _touch(state.session, [getattr(table, "name", "")])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    touched = session.info.pop(TOUCHED, None)
    if touched:
        session.info.setdefault(COMMITTED, set()).update(touched)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(TOUCHED, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    """Bump once the outermost transaction is over and its connection is back in the pool."""
    if transaction.parent is not None:
        return
    committed = session.info.pop(COMMITTED, None)
    if committed and has_app_context():
        bump(*committed)


# ---------------------------------------------------------------- serving pages


def _cacheable_request() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "Authorization" not in request.headers
        and "_flashes" not in session
        and not current_user.is_authenticated
    )


def _session_state() -> dict[str, Any]:
    return {k: v for k, v in session.items() if k not in SESSION_KEYS_IGNORED}


def page_key(areas: Iterable[str], known: dict[str, int]) -> str:
    parts = [
        request.scheme,
        request.host,
        request.root_path,
        request.path,
        urlencode(sorted(request.args.items(multi=True))),
        select_locale(),
        datetime.now(LOCAL_TZ).date().isoformat(),
        *(f"{area}={known[area]}" for area in sorted(areas)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _stored(response: Response) -> dict[str, Any]:
    body = response.get_data()
    token = g.get("csrf_token")
    if token:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER)
    headers = [
        (k, v) for k, v in response.headers.items() if k not in ("Set-Cookie", "Content-Length")
    ]
    return {"status": response.status_code, "headers": headers, "body": body}


def _served(entry: dict[str, Any]) -> Response:
    body = entry["body"]
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf().encode())
    response = current_app.response_class(body, entry["status"], entry["headers"])
    response.headers["X-Page-Cache"] = "hit"
    return response


def cached_page(*areas: str) -> Callable:
    """Serve this view from the page cache to anonymous visitors; ``areas``: what it shows."""
    unknown = set(areas) - set(AREAS)
    if not areas or unknown:
        raise ValueError(f"cached_page needs areas from {AREAS}, not {sorted(unknown)}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not enabled() or not _cacheable_request():
                return view(*args, **kwargs)
            try:
                key = page_key(areas, generations())
                entry = cache.get(key)
            except Exception:
                log.exception("page cache unavailable")
                db.session.rollback()  # a failed read leaves a PostgreSQL transaction unusable
                return view(*args, **kwargs)
            if entry is not None:
                return _served(entry)
            before = _session_state()
            response = current_app.make_response(view(*args, **kwargs))
            if (
                response.status_code == 200
                and not response.is_streamed
                and not response.direct_passthrough
                and "Set-Cookie" not in response.headers
                and _session_state() == before
            ):
                try:
                    cache.set(key, _stored(response))
                except Exception:
                    log.exception("could not store a page in the page cache")
                else:
                    response.headers["X-Page-Cache"] = "miss"
            return response

        return wrapper

    return decorate
