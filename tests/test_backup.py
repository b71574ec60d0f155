"""`flask portal backup` while the portal writes, and `flask portal restore`, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal.auth.models import User
from portal.demo import load_demo
from portal.extensions import db
from portal.notifications.models import Message
from tests.conftest import fresh_database_url, make_test_app

pytestmark = pytest.mark.db


# A restore moves the page cache's generations (portal/pagecache.py): not data of the backup.
BOOKKEEPING = {"cache_generations"}


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(sa.func.count()).select_from(t)).scalar()
            for t in db.metadata.sorted_tables
            if t.name not in BOOKKEEPING
        }


@pytest.fixture
def live(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            db.create_all()
            load_demo()
            yield app
            db.session.remove()
            db.engine.dispose()


def write_messages(app, stop: threading.Event, written: list[int]) -> None:
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        while not stop.is_set():
            db.session.add(Message(user_id=office.id, subject=f"写入中 {len(written)}"))
            db.session.commit()
            written.append(1)
        db.session.remove()


def test_backup_during_writes_restores_to_the_same_rows(live, tmp_path):
    runner = live.test_cli_runner()
    stop, written = threading.Event(), []
    writer = threading.Thread(target=write_messages, args=(live, stop, written))
    writer.start()
    try:
        time.sleep(0.3)
        target = tmp_path / (
            "backup.sqlite3" if db.engine.dialect.name == "sqlite" else "backup.dump"
        )
        result = runner.invoke(args=["portal", "backup", str(target)])
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert written, "the writer never wrote"
    before_restore = row_counts(db.engine)

    if db.engine.dialect.name == "sqlite":
        copy = sqlite3.connect(target)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_backup = {
            t.name: copy.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
            for t in db.metadata.sorted_tables
            if t.name not in BOOKKEEPING
        }
        copy.close()
    else:
        in_backup = None

    db.session.remove()
    restored = runner.invoke(args=["portal", "restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    after_restore = row_counts(db.engine)
    # Writes went on after the backup: the restore took the database back to the snapshot.
    assert after_restore["messages"] < before_restore["messages"]
    assert after_restore["users"] == before_restore["users"]
    if in_backup is not None:
        assert after_restore == in_backup
    # Restoring the same backup again gives the same rows: the snapshot is what it holds.
    again = runner.invoke(args=["portal", "restore", str(target), "--yes"])
    assert again.exit_code == 0, again.output
    assert row_counts(db.engine) == after_restore


def test_restore_refuses_what_is_not_a_backup(live, tmp_path):
    bogus = tmp_path / "not-a-backup.sqlite3"
    bogus.write_bytes(b"hello, this is not a database")
    result = live.test_cli_runner().invoke(args=["portal", "restore", str(bogus), "--yes"])
    assert result.exit_code != 0
    assert row_counts(db.engine)["users"] > 0


def test_default_backup_path_is_under_instance(live):
    result = live.test_cli_runner().invoke(args=["portal", "backup"])
    assert result.exit_code == 0, result.output
    assert "/backups/portal-" in result.output
