"""Time helpers: store aware UTC, show Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.types import DateTime, TypeDecorator

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite forgets tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the portal stores aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """The same instant in Asia/Shanghai."""
    return value.astimezone(LOCAL_TZ)


# The dates the portal holds. Beyond them time-zone arithmetic (a day's end in Shanghai,
# a booking moved by its length) overflows Python's date range, so every date a user
# types is checked against them first.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def within_range(day: date) -> bool:
    """True when ``day`` lies in the years the portal can hold (2000–2100)."""
    return EARLIEST_DAY <= day <= LATEST_DAY
