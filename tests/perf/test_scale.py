"""`flask portal demo --scale N` (portal/scale.py): a large consortium that never overbooks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.members.models import Member
from portal.scale import SCALE_PREFIX, demo_command, integrity_problems, targets
from portal.scheduling.fitting import bookable_sites_query
from portal.scheduling.models import Booking, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ

pytestmark = pytest.mark.db


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_scale_two_is_twice_the_demo_on_a_grid_that_keeps_capacity(app):
    result = app.test_cli_runner().invoke(demo_command, ["--scale", "2", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "reservations" in result.output and "no installed plugin" in result.output

    wanted = targets(2)
    assert count(Member) == wanted["members"]
    assert count(TrainingClass) == wanted["classes"]
    reservations = count(Reservation)
    assert 3_000 <= reservations <= 5_000  # about 2,000 per scale unit
    confirmed = count(Reservation, Reservation.status == "confirmed")
    assert confirmed > 0.7 * reservations  # mostly confirmed
    assert count(Booking, Booking.status == "pending") > 0
    assert integrity_problems() == {"windows_over_capacity_or_guides": 0, "teacher_clashes": 0}

    # Every reservation lies within its site's opening days and hours.
    for r in db.session.scalars(select(Reservation).limit(500)):
        start, end = r.starts_at.astimezone(LOCAL_TZ), r.ends_at.astimezone(LOCAL_TZ)
        assert str(start.isoweekday()) in r.site.open_weekdays
        assert r.site.opens <= start.time() and end.time() <= r.site.closes

    # The generated members have no installed plugin: their sites are not bookable.
    bookable = set(db.session.scalars(bookable_sites_query().with_only_columns(Member.plugin)))
    assert bookable and not any(p.startswith(SCALE_PREFIX) for p in bookable)

    # A second run on the same database refuses instead of doubling the data.
    again = app.test_cli_runner().invoke(demo_command, ["--scale", "2"])
    assert again.exit_code != 0 and "已经生成过" in again.output
