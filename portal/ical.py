"""What the portal's iCalendar feeds share: UIDs that name an item the same way for good.

A calendar app recognises an event by its UID. If the UID held the host the feed was
fetched from, the same booking fetched through two names (an internal one and the public
one, or before and after a move behind nginx) would appear twice. So a UID is
``<item>@<CALENDAR_UID_DOMAIN>`` when the deployment configures that domain (its public
name, say ``portal.example.org``), or ``<item>`` alone when it does not: never the request's
host.
"""

from __future__ import annotations

from flask import current_app, has_app_context


def calendar_uid(item: str) -> str:
    """The UID of ``item`` (``reservation-12``, ``meeting-3``, ``event-4-session-1``)."""
    domain = str(current_app.config.get("CALENDAR_UID_DOMAIN") or "") if has_app_context() else ""
    domain = domain.strip()
    return f"{item}@{domain}" if domain else item
