"""Consistent backups of the portal's database while it runs, and restoring them.

SQLite: the online backup API copies a consistent snapshot page by page while writers go on.
PostgreSQL: ``pg_dump`` (custom format) reads one consistent snapshot; ``pg_restore`` brings
it back into the configured database. Uploaded files live under ``UPLOAD_FOLDER`` /
``instance/uploads``: copy that folder alongside (see docs/deployment.md).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.timeutil import LOCAL_TZ


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def default_path(instance_path: str, url: str) -> Path:
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if make_url(url).get_backend_name() == "sqlite" else "dump"
    folder = Path(instance_path) / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"portal-{stamp}.{suffix}"


def _sqlite_file(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return database


def _libpq_url(url: str) -> str:
    """The URL as pg_dump understands it (without SQLAlchemy's +driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or f"{command[0]} failed")


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at ``url`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_file(url), timeout=30)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy, pages=256)
        finally:
            copy.close()
            source.close()
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if make_url(url).get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_file(url), timeout=30)
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database")
            with live:
                backup_db.backup(live)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not a SQLite backup: {error}") from error
        finally:
            live.close()
            backup_db.close()
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ]
        )
