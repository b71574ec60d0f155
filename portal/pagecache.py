"""A page cache that never serves a page older than the data: public pages for anonymous
visitors, and a signed-in user's own busiest pages for that user alone.

Every cached page names the *areas* of data it shows (``CATALOGUE``: members, sites,
teachers, courses, routes; ``SCHEDULE``: classes, bookings, reservations; ``PEOPLE``:
everything a signed-in user's pages may show, i.e. any table but the few no page shows).
Each area has a *generation*, a counter that goes up after every commit that changed one
of its rows, and a page's key holds the generations of its areas: a page cached before a
change is never found again after it (it expires unused). The key also holds the path,
the sorted query string, the host, the locale and today's date (calendars mark today).

Personal pages (``private_page``: the trainee's 我的, the organizer's roster and attendance
pages, the member's 预约待办 …) are kept per user and login version, under the
generations of every area and the current minute: a page is never older than the last
change of any data, and at most a minute older than the clock (what is on now, offers
running out). They are what thousands of people open at 08:30 (issue 20's morning rush).

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

Only for GET/HEAD requests without flashed messages or an Authorization header (anonymous
ones for ``cached_page``, a signed-in session's for ``private_page``); only 200 answers that set no cookie of their own and leave the session as they found it.
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
PEOPLE = "people"
PUBLIC_AREAS = (CATALOGUE, SCHEDULE)
AREAS = (*PUBLIC_AREAS, PEOPLE)
# Not an area of pages: who may be signed in changed (a user's row, a login ended), so the
# logins held in Redis (portal/auth/login_cache.py) are read again from the database.
LOGINS = "logins"
LOGIN_TABLES = frozenset({"users", "user_sessions"})
# A statement that only deletes logins too old to be used anyway (at every login) does not
# end any login that may still be held: ``.execution_options(**EXPIRED_LOGINS_ONLY)``.
EXPIRED_LOGINS_ONLY_OPTION = "portal_expired_logins_only"
EXPIRED_LOGINS_ONLY = {EXPIRED_LOGINS_ONLY_OPTION: True}

# Which public area each table's rows belong to. Tables public pages never show are left
# out on purpose (IGNORED); any other table bumps every public area. Every table but those
# in UNSHOWN bumps PEOPLE (a new table is safe by default).
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

# Tables no cached page shows, not even a signed-in user's own: logins, the audit log (its
# own page is never cached), queued e-mail and SMS, the generations, plugin faults.
UNSHOWN = frozenset(
    {
        "user_sessions",
        "audit_entries",
        "outbox_emails",
        "outbox_sms",
        "cache_generations",
        "plugin_errors",
    }
)

# Columns no cached page shows: a row whose only change is in them bumps nothing (every
# login writes these; 460 trainees logging in at 08:30 must not empty everyone's pages).
UNSHOWN_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"last_login_at", "failed_logins", "locked_until"}),
}

# Session keys a cached page may leave changed: the CSRF token it creates (filled in per
# visitor) and the flags Flask and Flask-Login keep.
SESSION_KEYS_IGNORED = frozenset({"csrf_token", "_permanent", "_fresh"})
# A personal page's key names its minute: it is of no use after two.
PRIVATE_PAGE_TIMEOUT = 120
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
        self.prefix = prefix
        self.keys = {area: f"{prefix}gen:{area}" for area in (*AREAS, LOGINS)}
        self.area_keys = [self.keys[area] for area in AREAS]

    def read(self) -> dict[str, int]:
        values = self.client.mget(self.area_keys)
        return {area: int(v or 0) for area, v in zip(AREAS, values, strict=True)}

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


def shared_generations() -> bool:
    """Whether the generations live in Redis (reading them costs no database statement)."""
    return enabled() and isinstance(current_app.extensions[EXTENSION], RedisGenerations)


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


def bump_logins() -> None:
    """Mark the users or their logins changed: logins held in Redis are read again.

    A failure is logged: Redis is then most likely unreachable for reading the logins too,
    and a held login expires after LOGIN_CACHE_TIMEOUT seconds at most.
    """
    store = current_app.extensions.get(EXTENSION)
    if not isinstance(store, RedisGenerations):
        return  # logins are held only in Redis
    try:
        store.bump([LOGINS])
    except Exception:
        log.exception("could not mark the logins changed")


def forget_all() -> None:
    """Drop every cached page, here and in every worker: the database was replaced under the
    portal (a restore), so no change went through the session events."""
    bump_logins()
    try:
        current_app.extensions[EXTENSION].bump(AREAS)
    except Exception:
        log.exception("could not bump page cache generations (is the schema upgraded?)")
    cache.clear()


# ---------------------------------------------------------------- what a transaction changed


def areas_of(tables: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for name in tables:
        if name in UNSHOWN:
            continue
        found.add(PEOPLE)
        if name not in IGNORED:
            found.update(TABLE_AREAS.get(name, PUBLIC_AREAS))
    return found


def _touch(session: Session, tables: Iterable[str], *, logins: bool = False) -> None:
    areas = areas_of(tables)
    if logins:
        areas.add(LOGINS)
    if areas:
        session.info.setdefault(TOUCHED, set()).update(areas)


def _shown_change(obj: Any) -> bool:
    """Whether a flushed update of ``obj`` changed a column some page may show."""
    state = inspect(obj)
    unshown = set().union(*(UNSHOWN_COLUMNS.get(t.name, ()) for t in state.mapper.tables))
    if not unshown:
        return True
    return any(
        attr.key not in unshown and attr.history.has_changes()
        for attr in state.attrs
        if attr.key in state.mapper.column_attrs
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    dirty = [obj for obj in session.dirty if session.is_modified(obj) and _shown_change(obj)]
    changed = [*session.new, *session.deleted, *dirty]
    # A new user or login ends no login; a changed or deleted user, or a deleted login, may.
    ended = {t.name for obj in (*session.deleted, *dirty) for t in inspect(obj).mapper.tables}
    _touch(
        session,
        {t.name for obj in changed for t in inspect(obj).mapper.tables},
        logins=not ended.isdisjoint(LOGIN_TABLES),
    )


@event.listens_for(Session, "do_orm_execute")
def _after_bulk_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        name = getattr(getattr(state.statement, "table", None), "name", "")
        logins = (
            not state.is_insert
            and name in LOGIN_TABLES
            and not state.execution_options.get(EXPIRED_LOGINS_ONLY_OPTION)
        )
        _touch(state.session, [name], logins=logins)


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
        if LOGINS in committed:
            bump_logins()
        bump(*(committed - {LOGINS}))


# ---------------------------------------------------------------- serving pages


def _plain_read() -> bool:
    """A GET or HEAD with no Authorization header and no flashed message waiting."""
    return (
        request.method in ("GET", "HEAD")
        and "Authorization" not in request.headers
        and "_flashes" not in session
    )


def _cacheable_request() -> bool:
    return _plain_read() and not current_user.is_authenticated


def _private_request() -> bool:
    """A signed-in browser session's plain read (not an API token)."""
    return (
        _plain_read()
        and current_user.is_authenticated
        and not getattr(current_user, "is_token", False)
    )


def _session_state() -> dict[str, Any]:
    return {k: v for k, v in session.items() if k not in SESSION_KEYS_IGNORED}


def page_key(areas: Iterable[str], known: dict[str, int], *, private: bool = False) -> str:
    """The key of this request's page; ``private``: the signed-in user's own, this minute."""
    now = datetime.now(LOCAL_TZ)
    parts = [
        request.scheme,
        request.host,
        request.root_path,
        request.path,
        urlencode(sorted(request.args.items(multi=True))),
        select_locale(),
        now.date().isoformat(),
        *(f"{area}={known[area]}" for area in sorted(areas)),
    ]
    if private:
        # The user and their login version (a role or password change is a new version
        # as well as a PEOPLE change), and the minute: pages show what is on now.
        parts += [
            "private",
            str(current_user.id),
            str(getattr(current_user, "session_version", "")),
            now.strftime("%H:%M"),
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


def _serve(
    key_of: Callable[[], str], view: Callable, args: tuple, kwargs: dict, timeout: int | None = None
) -> Any:
    """The page under ``key_of()`` if kept, else the view's answer, kept when it may be
    (for ``timeout`` seconds; None: PAGE_CACHE_TIMEOUT)."""
    try:
        key = key_of()
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
            cache.set(key, _stored(response), timeout=timeout)
        except Exception:
            log.exception("could not store a page in the page cache")
        else:
            response.headers["X-Page-Cache"] = "miss"
    return response


def cached_page(*areas: str) -> Callable:
    """Serve this view from the page cache to anonymous visitors; ``areas``: what it shows."""
    unknown = set(areas) - set(PUBLIC_AREAS)
    if not areas or unknown:
        raise ValueError(f"cached_page needs areas from {PUBLIC_AREAS}, not {sorted(unknown)}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not enabled() or not _cacheable_request():
                return view(*args, **kwargs)
            return _serve(lambda: page_key(areas, generations()), view, args, kwargs)

        return wrapper

    return decorate


def private_enabled() -> bool:
    return enabled() and bool(current_app.config.get("PRIVATE_PAGE_CACHE"))


def private_page(before: Callable[[], Any] | None = None) -> Callable:
    """Serve this view's GET from the page cache to the signed-in user it was made for.

    The page is kept under the generations of every area, the user, their login version,
    the locale and the minute (``page_key``); the view must check the user's access itself
    (it runs on every miss, and a hit is only ever the same user's own earlier answer).
    ``before``: work that must run on every request, cached or not (e.g. expiring offers
    that ran out; a change it commits moves the generations, so the page is made anew).
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if before is not None:
                before()
            if not private_enabled() or not _private_request():
                return view(*args, **kwargs)
            return _serve(
                lambda: page_key(AREAS, generations(), private=True),
                view,
                args,
                kwargs,
                timeout=PRIVATE_PAGE_TIMEOUT,
            )

        return wrapper

    return decorate
