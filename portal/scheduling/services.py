"""Scheduling rules. For now: which sites take new bookings, and members' own rules."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from portal import plugins
from portal.catalog.models import TeachingSite
from portal.members.models import Member
from portal.specs import ReservationRequest


def bookable_sites_query() -> Select[tuple[TeachingSite]]:
    """Sites offered for new bookings: active, of a member whose plugin is enabled."""
    return (
        select(TeachingSite)
        .join(TeachingSite.member)
        .where(
            TeachingSite.status == "active",
            Member.plugin.in_(sorted(plugins.enabled_plugin_names())),
        )
        .order_by(TeachingSite.id)
    )


def member_rule_problems(reservation: ReservationRequest, site: TeachingSite) -> list[str]:
    """The hosting member's own objections to a reservation; [] if none.

    Only the plugin of the member that owns the site is asked. A disabled member takes no
    new bookings; a member whose rule hook fails is treated as saying no, with a message,
    so a broken plugin never lets through what its rules would refuse.
    """
    owner = site.member.plugin
    member_name = site.member.short_name
    if not plugins.is_enabled(owner):
        return [_("%(member)s已暂停参与环线，暂不接受新的预约。", member=member_name)]
    answers = plugins.call_each(
        "portal_validate_reservation",
        plugins={owner},
        check=plugins.list_of(str),
        reservation=reservation,
        site=site,
    )
    if not answers and plugins.implements(owner, "portal_validate_reservation"):
        return [_("%(member)s的预约规则暂时无法检查，请稍后再试或联系环线办。", member=member_name)]
    return [problem for _plugin, found in answers for problem in found]
