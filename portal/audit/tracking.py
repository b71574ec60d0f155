"""Meetings and joint events in the audit log: their changes recorded as they are flushed.

Meetings and events have no history table of their own. Rather than asking every function
that changes them to remember the audit log, a ``before_flush`` listener looks at what the
flush writes (a meeting created, its time fixed, its minutes written, a decision done, an
event published, a judge appointed …) and appends one ``AuditEntry`` per change in the same
transaction: what is rolled back leaves no entry.

Who did it: the user the object itself names when the change sets it (``created_by_id``,
``minutes_by_id``, ``done_by_id`` …), else the logged-in user of the request, else
"命令行" (a command such as ``load-demo``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from portal.audit.models import AuditEntry

COMMAND_LINE = "命令行"


def _changed(obj: Any, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def _meeting_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    """(action, the attribute naming who did it) for a Meeting."""
    if is_new:
        return [("meeting.create", "created_by_id")]
    found: list[tuple[str, str | None]] = []
    if _changed(obj, "status"):
        status = obj.status
        if status == "cancelled":
            found.append(("meeting.cancel", None))
        elif status == "held":
            found.append(("meeting.held", None))
        elif status == "scheduled":
            found.append(("meeting.schedule", None))
    elif _changed(obj, "starts_at") and obj.starts_at is not None:
        found.append(("meeting.schedule", None))
    if _changed(obj, "minutes"):
        found.append(("meeting.minutes", "minutes_by_id"))
    if not found and any(
        _changed(obj, name)
        for name in ("title", "kind", "description", "site_id", "place_text", "online_url")
    ):
        found.append(("meeting.edit", None))
    return found


def _decision_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    if is_new:
        return [("meeting.decision", "created_by_id")]
    if _changed(obj, "status") and obj.status == "done":
        return [("meeting.decision_done", "done_by_id")]
    return []


def _invitation_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    if not is_new and _changed(obj, "response") and obj.response != "pending":
        return [("meeting.reply", "replied_by_id")]
    return []


def _event_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    if is_new:
        return [("event.create", "created_by_id")]
    found: list[tuple[str, str | None]] = []
    if _changed(obj, "status"):
        if obj.status == "published":
            found.append(("event.publish", None))
        elif obj.status == "cancelled":
            found.append(("event.cancel", None))
    if _changed(obj, "results_published_at") and obj.results_published_at is not None:
        found.append(("event.results", None))
    if not found and any(
        _changed(obj, name)
        for name in ("title", "description", "capacity", "registration_deadline", "open_to_all")
    ):
        found.append(("event.edit", None))
    return found


def _judge_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    return [("event.judge", None)] if is_new else []


def _entry_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    if is_new:
        return [("event.entry", "submitted_by_id")]
    return [("event.award", None)] if _changed(obj, "grade") else []


def _registration_changes(obj: Any, is_new: bool) -> list[tuple[str, str | None]]:
    if is_new:
        return [("event.register", "created_by_id")]
    if _changed(obj, "status") and obj.status == "cancelled":
        return [("event.register_cancel", None)]
    return []


def _subject(obj: Any) -> str:
    """What the log names: the meeting's or the event's title (and who or what within it)."""
    name = type(obj).__name__
    if name in ("Meeting", "JointEvent"):
        return obj.title
    parent = getattr(obj, "meeting", None) or getattr(obj, "event", None)
    title = parent.title if parent is not None else ""
    if name == "MeetingInvitation" and obj.member is not None:
        return f"{title} · {obj.member.short_name}"
    if name == "Decision" and obj.member is not None:
        return f"{title} · {obj.member.short_name}"
    if name == "ContestJudge":
        who = obj.user.display_name if obj.user is not None else obj.name
        return f"{title} · {who}"
    if name == "ContestEntry" and obj.member is not None:
        return f"{title} · {obj.member.short_name}"
    if name == "EventRegistration":
        return f"{title} · {obj.participant_name}"
    return title


def _trackers() -> dict[type, Callable[[Any, bool], list[tuple[str, str | None]]]]:
    from portal.events.models import ContestEntry, ContestJudge, EventRegistration, JointEvent
    from portal.meetings.models import Decision, Meeting, MeetingInvitation

    return {
        Meeting: _meeting_changes,
        Decision: _decision_changes,
        MeetingInvitation: _invitation_changes,
        JointEvent: _event_changes,
        ContestJudge: _judge_changes,
        ContestEntry: _entry_changes,
        EventRegistration: _registration_changes,
    }


def _actor(session: Session, obj: Any, attribute: str | None) -> tuple[int | None, str]:
    from portal.auth.models import User

    user_id = getattr(obj, attribute, None) if attribute else None
    if user_id is not None:
        user = session.get(User, user_id)
        if user is not None:
            return user.id, user.display_name
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.display_name
    return None, COMMAND_LINE


def _deleted_judges(session: Session) -> list[Any]:
    from portal.events.models import ContestJudge

    return [obj for obj in session.deleted if isinstance(obj, ContestJudge)]


def record_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """The before_flush listener: one audit entry per tracked change in this flush."""
    trackers = None
    pending: list[tuple[Any, bool]] = []
    for obj in list(session.new) + list(session.dirty):
        if type(obj).__module__ not in ("portal.meetings.models", "portal.events.models"):
            continue
        trackers = trackers or _trackers()
        if type(obj) in trackers:
            pending.append((obj, obj in session.new))
    removed = [obj for obj in session.deleted if type(obj).__module__ == "portal.events.models"]
    if not pending and not removed:
        return
    trackers = trackers or _trackers()
    with session.no_autoflush:
        for obj, is_new in pending:
            for action, who in trackers[type(obj)](obj, is_new):
                actor_id, actor_name = _actor(session, obj, who)
                session.add(
                    AuditEntry(
                        actor_id=actor_id,
                        actor_name=actor_name,
                        action=action,
                        object_label=_subject(obj)[:200],
                        detail={},
                    )
                )
        for obj in _deleted_judges(session) if removed else ():
            actor_id, actor_name = _actor(session, obj, None)
            session.add(
                AuditEntry(
                    actor_id=actor_id,
                    actor_name=actor_name,
                    action="event.judge_removed",
                    object_label=_subject(obj)[:200],
                    detail={},
                )
            )


def init_tracking() -> None:
    """Listen to every flush of the portal's sessions (once per process)."""
    from flask_sqlalchemy.session import Session as session_class

    if not event.contains(session_class, "before_flush", record_changes):
        event.listen(session_class, "before_flush", record_changes)
