"""What the booking write path and the waiting-list sweep cost: statements, locks, commits.

The rules themselves are tested in test_rules.py and the locking in test_concurrency.py;
these tests hold the cheap paths to being cheap (docs/benchmarks.md, "booking burst").
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.scheduling import services
from tests.scheduling.helpers import at, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db


@contextmanager
def statements():
    """The SQL statements run inside the block, and the number of commits."""
    seen: list[str] = []
    commits = [0]

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    def committed(_session):
        commits[0] += 1

    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.session, "after_commit", committed)
    try:
        yield seen, commits
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.session, "after_commit", committed)


# ---------------------------------------------------------------- expire_offers


def test_expire_offers_with_nothing_due_reads_once_and_writes_nothing(demo):
    tuesday = future_weekday(2)
    services.book(new_class(20), [stop("heshun_library", at(tuesday, 10))], user("organizer"))
    db.session.commit()
    with statements() as (seen, commits):
        assert services.expire_offers() == 0
    assert len(seen) == 1 and "offer_expires_at" in seen[0]
    assert commits == [0]


def test_waiting_list_offers_have_a_partial_index_the_sweep_can_use(demo):
    found = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("reservations")}
    index = found["ix_reservations_offered"]
    assert index["column_names"] == ["offer_expires_at"]
    where = index["dialect_options"][f"{db.engine.dialect.name}_where"]
    assert "offered" in str(where)
    # The sweep names the status as a literal, so the planner can match the index's WHERE
    # even for a prepared statement (a parameter would not match a partial index).
    with statements() as (seen, _commits):
        services.expire_offers()
    assert "status = 'offered'" in seen[0]
