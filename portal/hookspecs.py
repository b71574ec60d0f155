"""The plugin API: every hook a member plugin can implement, with its markers.

A plugin author writes ``from portal import hookimpl`` and never imports pluggy.
Hooks are called with keyword arguments; an implementation may accept a subset.
See docs/plugins.md for a guide with an example of each hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from datetime import date

    from flask import Blueprint

    from portal.catalog.models import TeachingSite
    from portal.scheduling.models import Booking
    from portal.specs import (
        CourseSpec,
        DetailField,
        EventFieldSpec,
        EventTypeSpec,
        InstitutionSpec,
        NavAudience,
        NavItem,
        ReportFigure,
        ReservationRequest,
        SiteSpec,
        TeacherSpec,
    )

PROJECT = "portal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def portal_institution() -> InstitutionSpec:
    """Declare the member institution this plugin brings into the consortium.

    Return one :class:`portal.specs.InstitutionSpec`. Its ``key`` identifies the member
    for good; names and contacts may change between versions and ``flask portal sync``
    updates them.

    Example::

        @hookimpl
        def portal_institution():
            return InstitutionSpec(key="party_school", name="中共某市委党校",
                                   short_name="市委党校", kind="party_school")
    """


@hookspec
def portal_teaching_sites() -> list[SiteSpec]:
    """Contribute the member's teaching sites (现场教学点) as a list of ``SiteSpec``.

    ``flask portal sync`` upserts them keyed by (plugin, key). A key that disappears from
    the list marks the site retired (退出); its history is kept.

    Example::

        @hookimpl
        def portal_teaching_sites():
            return [SiteSpec(key="memorial", name="某某纪念馆", theme="革命传统", capacity=60)]
    """


@hookspec
def portal_teachers() -> list[TeacherSpec]:
    """Contribute the member's teachers (师资) as a list of ``TeacherSpec``.

    Example::

        @hookimpl
        def portal_teachers():
            return [TeacherSpec(key="li", name="李老师", kind="full_time", title="教授",
                                topics=("党史",), shared=True)]
    """


@hookspec
def portal_courses() -> list[CourseSpec]:
    """Contribute the member's courses (课程) as a list of ``CourseSpec``.

    ``teacher_keys`` and ``site_key`` refer to keys this same plugin contributes.

    Example::

        @hookimpl
        def portal_courses():
            return [CourseSpec(key="spirit", name="杨善洲精神专题", kind="lecture",
                               teacher_keys=("li",), hours=4)]
    """


@hookspec
def portal_event_types() -> list[EventTypeSpec]:
    """Declare the kinds of joint event (联动活动) this member hosts.

    Example::

        @hookimpl
        def portal_event_types():
            return [EventTypeSpec(key="guide_contest", name="讲解员大赛")]
    """


@hookspec
def portal_validate_reservation(reservation: ReservationRequest, site: TeachingSite) -> list[str]:
    """Judge a reservation of one of this member's sites by the member's own rules.

    The core calls it only on the plugin that owns ``site``: for every stop a class asks
    for (checking, booking, moving), and for every date the portal tries when it suggests
    other dates (then ``reservation.class_name`` is ``""``). ``reservation`` is a
    :class:`portal.specs.ReservationRequest` (site, local start and end of the whole stop,
    the class's ``group_size``, guide requested, when it was asked, the other groups already
    booked at the site that local day, and ``squads``: each squad's window and size when the
    class is split to visit in turn, one entry otherwise). Return a list of problems in words
    a user understands (Simplified Chinese); an empty list means the member's rules allow it.

    Example::

        @hookimpl
        def portal_validate_reservation(reservation, site):
            if reservation.starts_at.isoweekday() == 1:
                return [f"{site.name}每周一闭馆。"]
            if reservation.largest_squad > 30:
                return [f"{site.name}每批不超过 30 人，请分成小组。"]
            return []
    """


@hookspec
def portal_booking_changed(booking: Booking, old_status: str, new_status: str) -> None:
    """React to a booking that touches the member's sites changing state.

    Called after the change is committed, on the plugins of the members whose sites the
    booking visits: a new booking (``old_status`` is ``""``), confirmed, declined, cancelled.
    Use it to tell the member's own systems; what it returns is ignored, and an exception is
    recorded as the plugin's last error without undoing anything.

    Example::

        @hookimpl
        def portal_booking_changed(booking, old_status, new_status):
            if new_status == "confirmed":
                requests.post(MY_SYSTEM_URL, json={"booking": booking.id}, timeout=5)
    """


@hookspec
def portal_site_detail_fields(site: TeachingSite) -> list[DetailField]:
    """Add labelled values of the member's own to a teaching site's page.

    Asked at ``flask portal sync`` (and the plugins page's sync button) once per site, of
    every enabled plugin, and kept: pages show what was answered then and never wait for
    the plugin. Return ``DetailField`` items (shown as escaped text under the heading of
    your member's short name), or ``[]`` for sites that are not yours.

    Example::

        @hookimpl
        def portal_site_detail_fields(site):
            if site.key == "songshan_battlefield":
                return [DetailField("徒步距离", "约 3 公里，请穿运动鞋")]
            return []
    """


@hookspec
def portal_blueprints() -> list[Blueprint]:
    """Return Flask blueprints with the member's own pages.

    They are registered at start-up; while the plugin is disabled they answer 404. A
    blueprint with templates needs ``template_folder=`` and the templates shipped as
    package data.

    Example::

        bp = Blueprint("party_school", __name__, url_prefix="/m/party-school",
                       template_folder="templates")

        @hookimpl
        def portal_blueprints():
            return [bp]
    """


@hookspec
def portal_nav_items(user: NavAudience) -> list[NavItem]:
    """Return menu entries (:class:`portal.specs.NavItem`) for a kind of user.

    Asked at ``flask portal sync`` once per kind of user and kept, never on a page view:
    ``user`` is a :class:`portal.specs.NavAudience` (``is_authenticated``, ``role``,
    ``is_office``, ``is_member_user``, ``member_key``), not a person.

    Example::

        @hookimpl
        def portal_nav_items(user):
            if user.is_member_user and user.member_key == "party_school":
                return [NavItem(label="党校简介", url="/m/party-school/")]
            return []
    """


@hookspec
def portal_event_fields(event_type_key: str) -> list[EventFieldSpec]:
    """Add fields of the member's own to the joint events of one of its event kinds.

    Called only on the plugin that contributed the kind (``portal_event_types``), with the
    kind's ``key``, whenever an event of that kind is created or edited. Return
    :class:`portal.specs.EventFieldSpec` items (``key``, ``label``, ``kind`` one of
    ``text``/``int``/``date``/``choice``, ``required``, ``choices`` …), or ``[]`` for kinds
    without fields of their own. The portal adds them to the event form, checks what users
    type, stores the values with the event (in JSON, with their labels) and shows them on
    its page. A plugin that raises or returns bad specs adds no fields; the form still works.

    Example::

        @hookimpl
        def portal_event_fields(event_type_key):
            if event_type_key == "battlefield_trek":
                return [EventFieldSpec(key="distance_km", label="徒步距离（公里）",
                                       kind="int", required=True, min_value=1)]
            return []
    """


@hookspec
def portal_report_figures(start: date, end: date, member_key: str | None) -> list[ReportFigure]:
    """Add figures of the member's own to the 统计报表 (page, .xlsx, PDF, Word, CLI).

    Called whenever a report is made, with the period's first and last local days and the
    report's scope: ``member_key`` None for the whole consortium, else one member's key (then
    only that member's plugin is asked). Return :class:`portal.specs.ReportFigure` items
    (``label``, ``value``, ``unit``, ``definition``), or ``[]``. It runs inside the request
    under the hook time bound: count with one query. A plugin that raises adds nothing.

    Example::

        @hookimpl
        def portal_report_figures(start, end, member_key):
            if member_key not in (None, "songshan_base"):
                return []
            return [ReportFigure("战场遗址讲解批次", count_guided(start, end), "批")]
    """


def hook_names() -> list[str]:
    """Every hook this module declares, in declaration order."""
    return [
        name for name, value in globals().items() if name.startswith("portal_") and callable(value)
    ]


def spec_docstring(name: str) -> str:
    value: Any = globals()[name]
    return value.__doc__ or ""
