"""Flask extensions, created once unbound and bound to the app in create_app()."""

from __future__ import annotations

import functools

from babel import support
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, lazy_gettext
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from wtforms.i18n import messages_path

# Named constraints, so Alembic migrations are the same on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
# Storage from RATELIMIT_STORAGE_URI: redis://… when configured (shared by every worker),
# memory:// otherwise (one process; fine for a single small server and for tests).
limiter = Limiter(get_remote_address)


def select_locale() -> str:
    """The locale the user switched to (kept in the session), else Simplified Chinese.

    Outside a request (the CLI, services called in a bare app context) there is no
    session: the default locale is used.
    """
    from flask import current_app

    choices = current_app.config["PORTAL_LOCALES"]
    chosen = session.get("locale") if has_request_context() else None
    return chosen if chosen in choices else choices[0]


SQLITE_IMMEDIATE = "portal_sqlite_immediate"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, a busy timeout and foreign keys for every SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Start a SQLite transaction with BEGIN IMMEDIATE when the caller asks for it.

    A transaction that reads and then decides what to write (a booking) must hold the write
    lock from its first read, or a concurrent one may write in between. Other transactions
    keep the driver's default: reads outside a transaction, BEGIN just before the first write.
    """
    if conn.dialect.name == "sqlite" and conn.get_execution_options().get(SQLITE_IMMEDIATE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    db.init_app(app)
    from portal import migrations_dir

    migrate.init_app(app, db, directory=migrations_dir(), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Translated when Flask-Login flashes it (a lazy string cannot go into the session).
    login_manager.login_message = lazy_gettext("请先登录。")
    login_manager.localize_callback = str
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_wtforms_translations_of_request)
    bootstrap.init_app(app)
    limiter.init_app(app)


@functools.cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages in ``locale``, read from disk once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def _wtforms_translations_of_request() -> None:
    # Flask-WTF reads WTForms' catalogue from disk for every request that builds a form
    # (an unlabelled field's label, a validator's message) and keeps it on the request
    # as ``wtforms_translations``: given here, it is read once per process and locale.
    request.wtforms_translations = wtforms_translations(str(get_locale()))
