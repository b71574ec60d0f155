"""Consortium rules the office can change (ring route, deadlines, waiting list, travel).

Stored in the ``settings`` table; ``DEFAULT_SETTINGS`` holds what applies until the office
changes a value, ``SETTING_RANGES`` the values each numeric rule may take.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import Setting

# Consortium rules the office can change (stored in `settings`); these are the defaults.
DEFAULT_SETTINGS: dict[str, Any] = {
    # A 党性教育 class of this many days or more held in the city (市内) must include the ring
    # route, as must every class the 干教委办 hosts; a 省外 class never has to.
    "ring_route_min_days": 3,
    # The theme that rule is about.
    "ring_route_theme": "党性教育",
    # Organizers may cancel or move a booking until this many days before it starts.
    "change_deadline_days": 3,
    # How long the first in line has to accept a place freed from the waiting list.
    "waitlist_offer_hours": 24,
    # Travel between two stops: average speed on the region's roads and a fixed margin.
    "travel_speed_kmh": 40,
    "travel_margin_minutes": 15,
    # How far from the asked date the portal looks for dates on which a whole route fits.
    "suggest_within_days": 30,
    # Trainees' evaluations: averages show on catalogue pages from this many answers, and a
    # member is alerted when an average of theirs (with that many answers) falls below this.
    "evaluation_min_answers": 5,
    "evaluation_alert_below": 3,
    # Training records: 学时 a cadre at 县处级 and above needs in five years; others in a year.
    "records_leading_hours_5y": 550,
    "records_other_hours_year": 90,
    # Attendance (考勤): 学时 credited for an attended half-day session (a full day is two).
    "attendance_hours_per_half_day": 4,
    # Half-day sessions of 旷课 at which a trainee is flagged for withdrawal (4 = two days).
    "attendance_absence_limit": 4,
    # Minutes after a session starts from which a sign-in counts as 迟到.
    "attendance_late_minutes": 15,
    # The site directory (portal/directory): a member's change of capacity or opening hours
    # waits for the office's review (1) or applies at once (0).
    "directory_review_changes": 0,
    # A yearly assessment's weighted total below this marks the site for a warning (整改通知).
    "directory_warning_threshold": 60,
    # Days a warned site has to fix what it was told, by default.
    "directory_fix_days": 30,
    # Plan review (审核培训计划, portal/reports/review.py): when 1, hosting members confirm a
    # class's reservations only once the office has approved its plan. Off by default.
    "plan_review_required": 0,
}


# The values each numeric setting may take (a speed of 0 would divide by zero).
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "ring_route_min_days": (1, 365),
    "change_deadline_days": (0, 365),
    "waitlist_offer_hours": (1, 720),
    "travel_speed_kmh": (1, 200),
    "travel_margin_minutes": (0, 240),
    "suggest_within_days": (1, 365),
    "evaluation_min_answers": (1, 100),
    "evaluation_alert_below": (1, 5),
    "records_leading_hours_5y": (1, 5000),
    "records_other_hours_year": (1, 1000),
    "attendance_hours_per_half_day": (1, 8),
    "attendance_absence_limit": (1, 60),
    "attendance_late_minutes": (0, 240),
    "directory_review_changes": (0, 1),
    "directory_warning_threshold": (0, 100),
    "directory_fix_days": (1, 365),
    "plan_review_required": (0, 1),
}


# ---------------------------------------------------------------- settings


def setting(key: str) -> Any:
    stored = db.session.get(Setting, key)
    return stored.value["value"] if stored is not None else DEFAULT_SETTINGS[key]


def set_setting(key: str, value: Any, actor: Any) -> None:
    """The office changes a consortium rule. The caller commits."""
    if actor is None or not actor.is_office:
        raise PermissionDenied(_("只有环线办可以修改环线规则。"))
    if key not in DEFAULT_SETTINGS:
        raise ServiceError(_("没有这项设置。"))
    default = DEFAULT_SETTINGS[key]
    if isinstance(default, int):
        low, high = SETTING_RANGES[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValidationFailed(
                {key: _("请填写 %(low)s 到 %(high)s 之间的整数。", low=low, high=high)}
            )
    elif not isinstance(value, str) or not value.strip() or len(value) > 32 or "\x00" in value:
        raise ValidationFailed({key: _("请填写不超过 32 个字符的文字。")})
    stored = db.session.get(Setting, key) or Setting(key=key)
    stored.value = {"value": value.strip() if isinstance(value, str) else value}
    stored.updated_by = actor.username
    db.session.add(stored)
    record(actor, "setting.change", key, value=value)


def all_settings() -> dict[str, Any]:
    stored = {s.key: s.value["value"] for s in db.session.scalars(select(Setting))}
    return {key: stored.get(key, default) for key, default in DEFAULT_SETTINGS.items()}
