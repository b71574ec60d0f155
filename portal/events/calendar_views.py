"""The joint events' calendar and their iCalendar feeds.

The month or week calendar shows the events the viewer sees; for calendar apps, the
consortium's feed carries the published events to everyone, and an event's own feed that
published event. Routes of the ``events`` blueprint (views.py), imported by the app factory.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.events.calendars import build_ics, by_day, calendar_entries
from portal.events.views import bp, load_event, refuse
from portal.scheduling import calendars
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ

FEED_PAST = timedelta(days=92)
FEED_AHEAD = timedelta(days=400)


# ---------------------------------------------------------------- calendar and feed


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


@bp.get("/events/calendar")
def calendar():
    try:
        view = calendars.parse_view(request.args.get("view"))
    except ValueError:
        return refuse(_("视图只能是 month（月视图）或 week（周视图）。"), 400)
    try:
        anchor = calendars.parse_day(request.args.get("date"), today())
    except ValueError:
        return refuse(_("日期无效：请使用 YYYY-MM-DD 格式的真实日期（1970–2100 年）。"), 400)
    window = calendars.make_window(view, anchor)
    entries = calendar_entries(current_user, *window.utc_bounds())
    return render_template(
        "events/calendar.html",
        window=window,
        days=by_day(entries),
        today=today(),
        weekday_labels=WEEKDAY_LABELS,
        count=len(entries),
        feed_url=url_for(".feed", _external=True),
    )


def ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


@bp.get("/events/calendar.ics")
def feed():
    """The consortium's joint events for calendar apps: published events only, for everyone."""
    now = datetime.now(LOCAL_TZ)
    entries = calendar_entries(None, now - FEED_PAST, now + FEED_AHEAD)
    body = build_ics(entries, name=_("环线联动活动"))
    return ics_response(body, "events.ics")


@bp.get("/events/<int:event_id>/calendar.ics")
def event_feed(event_id: int):
    event = load_event(event_id)
    if event.published_at is None:
        abort(404)
    entries = calendar_entries(None, event_id=event.id)
    body = build_ics(entries, name=event.title)
    return ics_response(body, f"event-{event.id}.ics")
