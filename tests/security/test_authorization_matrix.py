"""Who may use which URL: every rule of the URL map × every role (OWASP ASVS V8).

``RULES`` declares, for every endpoint, what each role gets. A new endpoint without a
declared rule fails ``test_every_endpoint_has_a_declared_rule`` (naming all of them at
once). The matrix tests then request every GET endpoint as every role with the URL filled
with ids of real objects, and POST to every state-changing endpoint as every role that is
refused, checking the status and that no row of any table changed.

Vocabulary (role → what it gets; ``login`` = 302 to /login, ``elsewhere`` = 302 elsewhere):

====================== ===== ======= ========= ============ ============ ======
rule                   anon  trainee organizer member_staff member_admin office
====================== ===== ======= ========= ============ ============ ======
public                 200   200     200       200          200          200
anonymous_only         200   elsew.  elsew.    elsew.       elsew.       elsew.
login                  login 200     200       200          200          200
redirect               login elsew.  elsew.    elsew.       elsew.       elsew.
office                 login 403     403       403          403          200
office_or_404          404   404     404       404          404          200
member_or_office       login 403     403       200          200          200
member_owned           login 404     404       200          200          200
member_admin_or_office login 403     403       403          200          200
member_admin_owned     login 404     404       404          200          200
organizer_or_office    login 403     200       403          403          200
class_owner            login 403     200       403          403          200
owner                  login 404     200       404          404          200
owner_or_404           404   404     200       404          404          200
member_private         404   404     404       200          200          200
staff_area             login 404     404       200          200          200
staff_area_office      login 404     404       403          403          200
staff_area_members     login 404     404       200          200          404
judges_only            login 403     403       403          403          403
not_found              404   404     404       404          404          404
token                  200   200     200       200          200          200
api_login              401   200     200       200          200          200
api_booking            401   404     200       200          200          200
====================== ===== ======= ========= ============ ============ ======

Objects in URLs belong to member A (party_school, the matrix's member roles) and to
organizer A (the matrix's organizer), so the allowed roles see the real page; the
cross-tenant cases (member B's objects, organizer B's class) are in
``test_object_level.py``. ``class_owner`` is ``organizer_or_office`` plus an object check
(another organizer's class answers 404), ``owner`` has no role gate: anyone but the
owner and the office gets 404. ``member_owned``: an object of a member, changed only by
that member's staff or the office; anyone else 404 (ids leak nothing).
``member_private``: a private object of member A (a teacher not shared), or a feed for
staff only: 404 for everyone else, signed in or not. ``staff_area``: the joint meetings,
where signed-in users who are not member staff find nothing (404); ``staff_area_office``:
what only the office does there; ``staff_area_members``: what member staff do for their
own member (a reply, a poll answer, a busy time), which the office finds nothing behind.
``judges_only``: a contest's score sheets, for its appointed judges (member B's staff, not
a matrix role: ``test_object_level.py`` checks the judge). ``not_found``: nobody (the feed
of a draft event). ``token``: a signed
feed URL that stands for its user, whoever fetches it.

In the meetings and events areas the objects are member A's too: a meeting inviting
member A (planning, with a poll slot, an agenda item and member A's decision), member A's
busy time, a published training with member A's registration, a draft event, and a course
contest with criteria, a judge of member B and member A's entry (see ``support.build_world``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for

from tests.security.support import (
    ROLES,
    Tracker,
    WriteDetector,
    client_as,
    pdf_upload,
    png_upload,
)

pytestmark = pytest.mark.db

ROLE_NAMES = list(ROLES)
LOGIN = "login"  # 302 to /login
ELSEWHERE = "elsewhere"  # 302 somewhere else than /login


def _table(anonymous, trainee, organizer, member_staff, member_admin, office) -> dict[str, Any]:
    return dict(
        zip(
            ROLE_NAMES,
            (anonymous, trainee, organizer, member_staff, member_admin, office),
            strict=True,
        )
    )


VOCABULARY: dict[str, dict[str, Any]] = {
    "public": _table(200, 200, 200, 200, 200, 200),
    "anonymous_only": _table(200, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    "login": _table(LOGIN, 200, 200, 200, 200, 200),
    "redirect": _table(LOGIN, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    "office": _table(LOGIN, 403, 403, 403, 403, 200),
    "office_or_404": _table(404, 404, 404, 404, 404, 200),
    "member_or_office": _table(LOGIN, 403, 403, 200, 200, 200),
    "member_owned": _table(LOGIN, 404, 404, 200, 200, 200),
    "organizer_or_office": _table(LOGIN, 403, 200, 403, 403, 200),
    "class_owner": _table(LOGIN, 403, 200, 403, 403, 200),
    "owner": _table(LOGIN, 404, 200, 404, 404, 200),
    "owner_or_404": _table(404, 404, 200, 404, 404, 200),
    "member_private": _table(404, 404, 404, 200, 200, 200),
    "token": _table(200, 200, 200, 200, 200, 200),
    "api_login": _table(401, 200, 200, 200, 200, 200),
    "api_booking": _table(401, 404, 200, 200, 200, 200),
    "member_admin_or_office": _table(LOGIN, 403, 403, 403, 200, 200),
    "member_admin_owned": _table(LOGIN, 404, 404, 404, 200, 200),
    "staff_area": _table(LOGIN, 404, 404, 200, 200, 200),
    "staff_area_office": _table(LOGIN, 404, 404, 403, 403, 200),
    "staff_area_members": _table(LOGIN, 404, 404, 200, 200, 404),
    "judges_only": _table(LOGIN, 403, 403, 403, 403, 403),
    "not_found": _table(404, 404, 404, 404, 404, 404),
    # the dashboards: trainees are sent on to 我的
    "dashboard": _table(LOGIN, ELSEWHERE, 200, 200, 200, 200),
    # trainees: a class's roster and pages (class A: the demo trainee is on its roster,
    # it visits member A's site; member A publishes run A, where the trainee holds a seat)
    "class_or_host": _table(LOGIN, 404, 200, 200, 200, 200),
    "roster_member": _table(LOGIN, 200, 404, 404, 404, 404),
    "roster_or_manager": _table(LOGIN, 200, 200, 404, 404, 200),
    "trainee_or_organizer": _table(LOGIN, 200, 200, 403, 403, 403),
    "seat_party": _table(LOGIN, 200, 404, 200, 200, 200),
    # attendance: class A's board is public to its trainees, managers and hosting staff
    "class_board": _table(LOGIN, 200, 200, 200, 200, 200),
}
DENIED = {LOGIN, 401, 403, 404}


class V:
    """A variant of an endpoint: its rule with these URL values (world keys or literals)."""

    def __init__(self, rule: str, query: dict[str, Any] | None = None, **values: Any) -> None:
        self.rule = rule
        self.values = values
        self.query = query or {}

    def __repr__(self) -> str:
        return f"V({self.rule!r}, {self.values!r})"


# Endpoint → rule (URL values filled by parameter name), or a list of variants.
RULES: dict[str, str | list[V]] = {
    # home, members, messages
    "home.index": "public",
    "home.set_locale": "public",
    "members.index": "public",
    "members.plugins_page": "office",
    "members.plugin_toggle": "office",
    "members.plugin_sync": "office",
    "messages.index": "login",
    "messages.read": "login",
    # accounts
    "auth.login": "anonymous_only",
    "auth.logout": "public",
    "auth.change_password": "login",
    "auth.api_tokens": "member_admin_or_office",
    "auth.api_token_revoke": "member_admin_owned",
    "auth.users": "office",
    "auth.user_detail": "office",
    "auth.user_active": "office",
    "audit.index": "office",
    "audit.export": "office",
    # the site directory (issue 21): members' proposals and their sites' life, the office's
    # review, assessment, warnings and supervision; the yearly directory is public
    "directory.index": "member_or_office",
    "directory.site": "member_owned",
    "directory.propose": "member_owned",
    "directory.decide": "office",
    "directory.review": "office",
    "directory.change_decide": [V("office", change_id="change_a")],
    "directory.warn": "office",
    "directory.warning_fixed": [V("office", warning_id="warning_a")],
    "directory.suspend": "office",
    "directory.exit_site": "office",
    "directory.reinstate": "office",
    "directory.trust": [V("office", member_id="member_a")],
    "directory.assess": "office",
    "directory.criteria": "office",
    "directory.visits": "member_or_office",
    "directory.visit_new": "office",
    "directory.visit": [V("member_owned", visit_id="visit_a")],
    "directory.finding_add": [V("office", visit_id="visit_a")],
    "directory.finding_done": [V("member_owned", finding_id="finding_a")],
    "directory.finding_photo": [V("member_owned", finding_id="finding_a", size="small")],
    "directory.year_page": [V("public", year=2026)],
    "directory.year_xlsx": [V("public", year=2026)],
    "directory.year_pdf": [V("public", year=2026)],
    # teacher sharing: member staff borrow, the owning member decides; a teacher's lectures
    # for its member and the office (the loan: member A's teacher, asked for by member B)
    "sharing.index": "member_or_office",
    # the guide corps: member A's roster and its guide's record; the office keeps every roster
    "guides.index": "member_or_office",
    "guides.guide": [V("member_owned", guide_id="guide_a")],
    "guides.active": [V("member_owned", guide_id="guide_a")],
    "sharing.decide": [V("member_owned", loan_id="loan_a")],
    "sharing.lectures": [V("member_owned", teacher_id="teacher_a")],
    # catalogue: public browsing
    "catalog.sites": "public",
    "catalog.teachers": "public",
    "catalog.courses": "public",
    "catalog.site_detail": [V("public"), V("public", site_id="site_b")],
    "catalog.teacher_detail": [
        V("member_private"),
        V("public", teacher_id="teacher_b_shared"),
        V("public", teacher_id="teacher_a_shared"),
    ],
    "catalog.course_detail": [V("public"), V("public", course_id="course_b")],
    "catalog.material_file": [V("public"), V("public", material_id="material_b")],
    # catalogue: editing (member A's items)
    "catalog.sites_new": "member_or_office",
    "catalog.teachers_new": "member_or_office",
    "catalog.courses_new": "member_or_office",
    "catalog.sites_edit": "member_or_office",
    "catalog.teachers_edit": "member_or_office",
    "catalog.courses_edit": "member_or_office",
    "catalog.sites_status": "member_or_office",
    "catalog.teachers_status": "member_or_office",
    "catalog.courses_status": "member_or_office",
    "catalog.site_assess": "office",
    "catalog.course_excellent": "office",
    "catalog.sites_coowners": "member_admin_owned",
    "catalog.courses_coowners": "member_admin_owned",
    "catalog.teacher_unavailable": "member_owned",
    "catalog.teacher_unavailable_delete": "member_owned",
    "catalog.course_material_add": "member_owned",
    "site_photos.upload": "member_owned",
    "site_photos.delete": "member_owned",
    "site_photos.image": [
        V("public"),
        V("public", size="large"),
        V("public", photo_id="photo_b"),
    ],
    "catalog.material_delete": "member_owned",
    # catalogue: Excel
    "catalog_transfer.sites_export": "public",
    "catalog_transfer.teachers_export": "public",
    "catalog_transfer.courses_export": "public",
    "catalog_transfer.sites_import": "member_or_office",
    "catalog_transfer.teachers_import": "member_or_office",
    "catalog_transfer.sites_import_confirm": "member_or_office",
    "catalog_transfer.teachers_import_confirm": "member_or_office",
    "catalog_transfer.sites_import_template": "member_or_office",
    "catalog_transfer.teachers_import_template": "member_or_office",
    # route templates and the consortium rules
    "routes.index": "public",
    "routes.detail": [V("public"), V("office_or_404", template_id="draft_template")],
    "routes.new": "office",
    "routes.edit": [V("office"), V("office", template_id="draft_template")],
    "routes.status": "office",
    "routes.stops": "office",
    "routes.stop_edit": "office",
    "routes.stop_delete": "office",
    "routes.settings": "office",
    # classes and bookings (organizer A's)
    "bookings.classes": "organizer_or_office",
    "bookings.class_new": "organizer_or_office",
    "bookings.class_detail": "class_owner",
    "bookings.class_edit": "class_owner",
    "bookings.class_book": "redirect",
    "bookings.new": [
        V("organizer_or_office"),
        V("class_owner", query={"class_id": "class_a"}),
        V("class_owner", query={"class_id": "class_a", "mode": "custom"}),
    ],
    "bookings.detail": "owner",
    "bookings.cancel": "owner",
    "bookings.move": "owner",
    "bookings.accept": "owner",
    "bookings.replace": "owner",
    "bookings.inbox": "member_or_office",
    "bookings.confirm": "member_or_office",
    "bookings.decline": "member_or_office",
    "bookings.confirm_class": "member_or_office",
    "bookings.guide": "member_or_office",
    "bookings.guide_sheet": "member_or_office",
    # calendars
    "calendars.page": [
        V("public"),
        V("public", kind="member", item_id="member_a"),
        V("public", kind="teacher", item_id="teacher_b_shared"),
        V("member_private", kind="teacher", item_id="teacher_a"),
        V("owner_or_404", kind="class", item_id="class_a"),
    ],
    "calendars.feed": [
        V("public"),
        V("public", kind="member", item_id="member_b"),
        V("member_private", kind="teacher", item_id="teacher_a"),
        V("owner_or_404", kind="class", item_id="class_a"),
    ],
    "calendars.token_feed": "token",
    "calendars.itinerary_pdf": "owner_or_404",
    # the JSON API
    "api.sites": "public",
    "api.teachers": "public",
    "api.courses": "public",
    "api.site": "public",
    "api.course": "public",
    "api.teacher": [V("member_private"), V("public", teacher_id="teacher_b_shared")],
    "api.availability": [V("public", query={"site": "site_a", "from": "start_a", "to": "start_a"})],
    "api.openapi_json": "public",
    "api.bookings": "api_login",
    "api.booking": "api_booking",
    # joint meetings: the office calls and runs them; member staff see (and answer) those
    # their member is invited to (meeting A invites member A; others are in test_object_level)
    "meetings.index": "staff_area",
    "meetings.new": "staff_area_office",
    "meetings.decisions": "staff_area",
    "meetings.calendar": "staff_area",
    "meetings.calendar_feed": "member_private",
    "meetings.token_feed": [V("token", token="meetings_feed_token")],
    "meetings.busy": "staff_area",
    "meetings.busy_delete": [V("staff_area_members", entry_id="busy_a")],
    "meetings.detail": "staff_area",
    "meetings.edit": "staff_area_office",
    "meetings.cancel": "staff_area_office",
    "meetings.reply": "staff_area_members",
    "meetings.remind": "staff_area_office",
    "meetings.agenda_add": "staff_area_office",
    "meetings.agenda_delete": [V("staff_area_office", item_id="agenda_item")],
    "meetings.agenda_move": [V("staff_area_office", item_id="agenda_item")],
    "meetings.assistant": "staff_area_office",
    "meetings.poll_add": "staff_area_office",
    "meetings.poll_delete": "staff_area_office",
    "meetings.poll_fix": "staff_area_office",
    "meetings.poll_answer": "staff_area_members",
    "meetings.attendance": "staff_area_office",
    "meetings.minutes": "staff_area_office",
    "meetings.decision_add": "staff_area_office",
    "meetings.decision_done": "staff_area",
    "meetings.decision_reopen": "staff_area_office",
    "meetings.export_pdf": "staff_area",
    "meetings.export_docx": "staff_area",
    "meetings.export_text": [V("staff_area"), V("staff_area", fmt="md")],
    # joint events: public once published, drafts for the office only; the office runs
    # them, member staff of invited members register and enter, judges score
    "events.index": "public",
    "events.calendar": "public",
    "events.feed": "public",
    "events.new": "office",
    "events.detail": [
        V("public"),
        V("public", event_id="contest"),
        V("office_or_404", event_id="draft_event"),
    ],
    "events.event_feed": [V("public"), V("not_found", event_id="draft_event")],
    "events.edit": [V("office"), V("office", event_id="draft_event")],
    "events.publish": [V("office", event_id="draft_event")],
    "events.cancel": "office",
    "events.session_add": "office",
    "events.session_delete": "office",
    "events.register": "member_or_office",
    "events.registration_cancel": "member_owned",
    "events.registrations_export": "member_or_office",
    "events.criteria": [V("office", event_id="contest")],
    "events.judge_add": [V("office", event_id="contest")],
    "events.judge_delete": [V("office", event_id="contest")],
    "events.entry_add": [V("member_or_office", event_id="contest")],
    "events.entry_withdraw": [V("member_owned", entry_id="contest_entry_a")],
    "events.judging": [V("judges_only", event_id="contest")],
    "events.score": [V("judges_only", entry_id="contest_entry_a")],
    "events.results": [V("public", event_id="contest")],
    "events.results_export": [V("office_or_404", event_id="contest")],  # until published
    "events.results_publish": [V("office", event_id="contest")],
    "events.winners": [V("office", event_id="contest")],
    "events.grades": [V("office", event_id="contest")],
    "events.judge_outside": [V("office", event_id="contest")],
    # A winner's certificate, once published: member A's entry is neither (test_events_awards
    # checks the office and the entry's member get it).
    "events.certificate": [V("not_found", entry_id="contest_entry_a")],
    # trainees: the organizer's roster pages (organizer A's class A), open to its organizer,
    # its supervisors and the office; anyone else finds nothing (404)
    "trainees.roster_index": "owner",
    "trainees.roster_edit": [V("owner", entry_id="roster_entry_a")],
    "trainees.roster_delete": [V("owner", entry_id="roster_entry_a")],
    "trainees.roster_import": "owner",
    "trainees.roster_import_confirm": "owner",
    "trainees.roster_template": "owner",
    "trainees.roster_export": "owner",
    "trainees.roster_sheet": "owner",
    "trainees.roster_send_links": "owner",
    "trainees.roster_summary": "class_or_host",
    "trainees.class_notices": "owner",
    "trainees.class_profile": "owner",
    "trainees.class_share_reset": "owner",
    "trainees.class_electives": "owner",
    "trainees.hosting_electives": "member_or_office",
    "trainees.activate": [V("token", token="activation_token")],
    # the trainee's own pages
    "trainees.me": "login",
    "trainees.my_class_page": "roster_member",
    "trainees.my_acknowledge": "roster_member",
    "trainees.my_choose": [V("roster_member", elective_id="elective_a")],
    "trainees.handbook_page": "roster_or_manager",
    "trainees.handbook_pdf": "roster_or_manager",
    "trainees.my_feed": [V("token", token="trainee_feed_token")],
    # open runs (member A's run A; the trainee's seat in it)
    "trainees.runs": "public",
    "trainees.run_detail": [V("public", run_id="run_a"), V("public", run_id="run_b")],
    "trainees.run_book": [V("trainee_or_organizer", run_id="run_a")],
    "trainees.run_seat_cancel": [V("seat_party", run_id="run_a", seat_id="seat_a")],
    "trainees.run_seat_accept": [V("roster_member", run_id="run_a", seat_id="seat_a")],
    "trainees.run_new": "member_or_office",
    # attendance (class A: its organizer, supervisor_a, member A hosting, the trainee on it)
    "attendance.classes": "login",
    "attendance.class_page": "class_or_host",
    "attendance.board": "class_board",
    "attendance.supervisor_add": "owner",
    "attendance.supervisor_remove": [V("owner", supervisor_id="supervisor_a")],
    "attendance.session_page": [V("class_or_host", session_id="attendance_session_a")],
    "attendance.session_mark": [V("class_or_host", session_id="attendance_session_a")],
    "attendance.session_qr": [V("class_or_host", session_id="attendance_session_a")],
    "attendance.leave_decide": [V("owner", leave_id="leave_a")],
    "attendance.withdrawal_decide": [V("owner", entry_id="roster_entry_a")],
    "attendance.scan": [
        V("roster_member", session_id="attendance_session_a", token="attendance_scan_token")
    ],
    "attendance.me": "login",
    "attendance.me_code": "login",
    "attendance.me_leave": "roster_member",
    "trainees.runs_manage": "member_or_office",
    "trainees.run_manage": [V("member_owned", run_id="run_a")],
    "trainees.run_cancel": [V("member_owned", run_id="run_a")],
    # evaluations: the trainee answers for the stops of their class (class A's stop at member
    # A's site has not ended: the page says so); the class's managers, members and the office
    # see averages; the office keeps the criteria
    "evaluations.my_list": "roster_member",
    "evaluations.answer": [V("roster_member", reservation_id="reservation_a")],
    "evaluations.class_report": "owner",
    "evaluations.overview": "member_or_office",
    "evaluations.criteria": "office",
    # completion and certificates: class A's page (it has not ended: the page says when) for
    # its organizer and the office; the trainee's own certificate (of class A's roster entry);
    # the office's decisions; the public verification page (a forged serial answers 404)
    "certificates.class_page": "owner",
    "certificates.issue": "owner",
    "certificates.class_pdf": "owner",
    "certificates.decide": [V("office", certificate_id="certificate_a")],
    "certificates.mine": "login",
    "certificates.certificate_pdf": [V("roster_or_manager", certificate_id="certificate_a")],
    "certificates.verify_form": "public",
    # training records: one's own; the organizer of a class the trainee was on (organizer A,
    # class A) and the office read the trainee's
    "records.mine": "login",
    "records.mine_xlsx": "login",
    "records.mine_pdf": "login",
    "records.people": "organizer_or_office",
    "records.person": "roster_or_manager",
    "records.person_xlsx": "roster_or_manager",
    "records.person_pdf": "roster_or_manager",
    # written feedback to units: class A's organizer (and supervisors) and the office read
    # every unit's report and send them; a unit's organizer only its own (test_feedback.py)
    "feedback.index": "owner",
    "feedback.report": "owner",
    "feedback.report_pdf": "owner",
    "feedback.report_xlsx": "owner",
    "feedback.send": "owner",
    "certificates.verify": [
        V("public", serial="certificate_serial_a"),
        V("not_found", serial="HX2026-FORGE-D2345"),
    ],
    # season planner: the office plans; organizers request for their own classes
    "planner.index": "organizer_or_office",
    "planner.season_new": "office",
    "planner.season": "organizer_or_office",
    "planner.season_status": "office",
    "planner.request_new": "organizer_or_office",
    "planner.request_edit": "owner",
    "planner.request_withdraw": "owner",
    "planner.request_pin": "office",
    "planner.run": "office",
    "planner.run_detail": [V("office", run_id="plan_run")],
    "planner.accept": [V("office", run_id="plan_run")],
    # reports: the office's and the members' figures (another member's scope: 404,
    # tests/reports/test_views.py)
    "reports.index": "member_or_office",
    "reports.records": [V("member_or_office", key="classes")],
    "reports.export": [V("member_or_office"), V("member_or_office", fmt="xlsx")],
    "reports.classes_export": "organizer_or_office",
    "reports.plan": "office",
    # plan review (class A's plan, awaiting review) and needs surveys (an open survey)
    "reports.class_plan": "class_owner",
    "reports.class_plan_decide": "office",
    "reports.class_plan_exempt": "office",
    "reports.plan_reviews": "office",
    "reports.surveys": "organizer_or_office",
    "reports.survey_detail": [V("organizer_or_office", survey_id="survey_a")],
    "reports.survey_close": [V("office", survey_id="survey_a")],
    "reports.survey_export": [V("office", survey_id="survey_a")],
    "dashboard.index": "dashboard",
}
# Not checked: assets.
SKIPPED = {"static", "bootstrap.static"}

# URL values by parameter name (world keys); item_id depends on the endpoint.
PARAMS = {
    "site_id": "site_a",
    "teacher_id": "teacher_a",
    "course_id": "course_a",
    "template_id": "template",
    "stop_id": "template_stop",
    "class_id": "class_a",
    "booking_id": "booking_a",
    "reservation_id": "reservation_a",
    "material_id": "material_a",
    "photo_id": "photo_a",
    "size": "small",
    "entry_id": "unavailable_a",
    "user_id": "trainee",
    "token_id": "api_token",
    "token": "feed_token",
    "name": "party_school",
    "action": "disable",
    "kind": "site",
    "meeting_id": "meeting_a",
    "slot_id": "poll_slot",
    "decision_id": "decision_a",
    "fmt": "txt",
    "event_id": "training_event",
    "session_id": "event_session",
    "registration_id": "registration_a",
    "judge_id": "judge",
    "season_id": "plan_season",
    "request_id": "plan_request",
}
ITEM_IDS = {"sites": "site_a", "teachers": "teacher_a", "courses": "course_a"}


def _value(world: dict[str, Any], value: Any) -> Any:
    found = world.get(value, value) if isinstance(value, str) else value
    return found.isoformat() if hasattr(found, "isoformat") else found


def variants(endpoint: str) -> list[V]:
    declared = RULES[endpoint]
    return [V(declared)] if isinstance(declared, str) else declared


def build_url(app: Flask, world: dict[str, Any], endpoint: str, variant: V) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values: dict[str, Any] = {}
    for name in rule.arguments - set(rule.defaults or {}):
        if name in variant.values:
            values[name] = variant.values[name]
        elif name == "item_id":
            prefix = endpoint.split(".")[1].split("_")[0]
            values[name] = ITEM_IDS.get(prefix, "site_a")
        elif name in PARAMS:
            values[name] = PARAMS[name]
        else:
            raise AssertionError(f"{endpoint}: no value declared for URL parameter <{name}>")
    values = {k: _value(world, v) for k, v in values.items()}
    query = {k: _value(world, v) for k, v in variant.query.items()}
    with app.test_request_context():
        return url_for(endpoint, **values, **query)


# ---------------------------------------------------------------- what a refused POST sends


def _site_form(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": str(w["member_a"]),
        "name": "越权测试教学点",
        "theme": "党性教育",
        "capacity": "50",
        "session_minutes": "60",
        "open_weekdays": ["1", "2", "3"],
        "opens": "09:00",
        "closes": "17:00",
        "address": "某地",
        "description": "越权写入",
        "reason": "越权",
    }


def _teacher_form(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": str(w["member_a"]),
        "name": "越权测试教师",
        "kind": "full_time",
        "title": "教授",
        "topics": "党史",
        "shared": "y",
        "bio": "越权写入",
        "reason": "越权",
    }


def _course_form(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": str(w["member_a"]),
        "name": "越权测试课程",
        "kind": "lecture",
        "hours": "2.0",
        "teacher_ids": [str(w["teacher_a"])],
        "site_id": str(w["site_a"]),
        "description": "越权写入",
        "reason": "越权",
    }


def _class_form(w: dict[str, Any]) -> dict[str, Any]:
    day = w["start_a"] + timedelta(days=7)
    return {
        "name": "越权登记的培训班",
        "kind": "main",
        "origin": "province",
        "sending_unit": "某县委组织部",
        "size": "30",
        "starts_on": day.isoformat(),
        "ends_on": day.isoformat(),
        "theme": "乡村振兴",
        "contact_name": "王老师",
        "contact_phone": "0875-1234567",
    }


def _booking_form(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "template_id": str(w["template"]),
        "start_date": (w["start_a"] + timedelta(days=7)).isoformat(),
        "key": "matrix-key-0123456789abcdef",
        "book": "1",
    }


def _csv_upload() -> tuple[Any, str]:
    import io

    body = "名称,主题,容量\n越权导入,党性教育,30\n".encode()
    return (io.BytesIO(body), "sites.csv")


def _plan_request_form(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "class_id": str(w["class_a"]),
        "size": "25",
        # the day class A keeps after bookings.class_edit's canary moved its dates
        "dates_text": (w["start_a"] + timedelta(days=7)).isoformat(),
        "template_ids": [str(w["template"])],
        "days": "0",
    }


POST_DATA: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "attendance.supervisor_add": lambda w: {"username": "organizer"},
    "attendance.session_mark": lambda w: {
        "entry_id": str(w["roster_entry_a"]),
        "status": "leave",
        "reason": "越权",
    },
    "attendance.leave_decide": lambda w: {"approve": "1", "note": "越权"},
    "attendance.withdrawal_decide": lambda w: {"confirm": "1", "note": "越权"},
    "attendance.me_leave": lambda w: {
        f"c{w['class_a']}-sessions": [str(w["attendance_session_a"])],
        f"c{w['class_a']}-reason": "越权请假",
    },
    "planner.season_new": lambda w: {
        "name": "越权调训季",
        "starts_on": (w["start_a"] + timedelta(days=1)).isoformat(),
        "ends_on": (w["start_a"] + timedelta(days=30)).isoformat(),
        "time_limit": "5",
    },
    "planner.request_new": _plan_request_form,
    "planner.request_edit": _plan_request_form,
    "planner.request_pin": lambda w: {"action": "exclude"},
    "planner.season_status": lambda w: {"status": "closed"},
    "planner.run": lambda w: {"time_limit": "1"},
    "home.set_locale": lambda w: {"locale": "en", "next": "/"},
    "reports.plan": lambda w: {"label": "专业能力培训班", "planned_classes": "56"},
    "reports.class_plan": lambda w: {"theme": "越权", "size": "10", "itinerary": "越权"},
    "reports.class_plan_decide": lambda w: {"d-approve": "1"},
    "reports.class_plan_exempt": lambda w: {"x-reason": "越权", "x-exempt": "1"},
    "reports.surveys": lambda w: {"title": "越权征集", "year": "2027", "topics": "越权"},
    "reports.survey_detail": lambda w: {"topics": ["党性教育"], "note": "越权"},
    "reports.survey_close": lambda w: {"close": "1"},
    "members.plugin_toggle": lambda w: {},
    "messages.read": lambda w: {"message_id": str(w["message_b"])},
    "auth.login": lambda w: {"username": "office", "password": "huanxian2026"},
    "auth.change_password": lambda w: {
        "current_password": "huanxian2026",
        "new_password": "neuesPasswort2026",
        "confirm": "neuesPasswort2026",
    },
    "auth.users": lambda w: {
        "username": "intruder",
        "display_name": "越权用户",
        "role": "office",
        "member_id": "0",
        "password": "intruder2026x",
    },
    "auth.user_detail": lambda w: {"reset-password": "resetPass2026", "reset-submit": "1"},
    "auth.user_active": lambda w: {"active": "0"},
    "catalog.sites_new": _site_form,
    "catalog.sites_edit": _site_form,
    "catalog.teachers_new": _teacher_form,
    "catalog.teachers_edit": _teacher_form,
    "catalog.courses_new": _course_form,
    "catalog.courses_edit": _course_form,
    "catalog.sites_status": lambda w: {"status-status": "retired", "status-reason": "越权"},
    "catalog.teachers_status": lambda w: {"status-status": "retired", "status-reason": "越权"},
    "catalog.courses_status": lambda w: {"status-status": "retired", "status-reason": "越权"},
    "catalog.site_assess": lambda w: {
        "assess-year": "2025",
        "assess-score": "95",
        "assess-remarks": "越权",
    },
    "catalog.course_excellent": lambda w: {"excellent": "0"},  # the course is 精品 now
    "catalog.sites_coowners": lambda w: {"coowners": str(w["member_b"])},
    "catalog.courses_coowners": lambda w: {"coowners": str(w["member_b"])},
    "directory.propose": lambda w: {"proposal-materials": "越权", "proposal-safety_notes": "越权"},
    "directory.decide": lambda w: {"decide-approve": "1", "decide-reason": "越权"},
    "directory.change_decide": lambda w: {"decide-approve": "1", "decide-reason": "越权"},
    "directory.warn": lambda w: {"warn-reason": "越权", "warn-on_suspend": "cancel"},
    "directory.warning_fixed": lambda w: {"note-note": "越权"},
    "directory.suspend": lambda w: {"step-reason": "越权", "step-on_bookings": "cancel"},
    "directory.exit_site": lambda w: {"exit-reason": "越权", "exit-on_bookings": "cancel"},
    "directory.reinstate": lambda w: {"reason-reason": "越权"},
    "directory.assess": lambda w: {
        "assess-year": "2026",
        "assess-remarks": "越权",
        f"score_{w['criterion_a']}": "10",
        f"notes_{w['criterion_a']}": "越权",
    },
    "directory.criteria": lambda w: {f"weight_{w['criterion_a']}": "100"},
    "directory.visit_new": lambda w: {
        "visit-title": "越权督查",
        "visit-planned_on": w["start_a"].isoformat(),
        "visit-site_ids": [str(w["site_a"])],
    },
    "directory.finding_add": lambda w: {
        "finding-photo": (png_upload().stream, "x.png"),
        "finding-site_id": str(w["site_a"]),
        "finding-text": "越权",
        "finding-fix": "越权",
        "finding-due_on": w["start_a"].isoformat(),
    },
    "directory.finding_done": lambda w: {"note-note": "越权"},
    "sharing.index": lambda w: {
        "loan-teacher_id": str(w["teacher_b"]),
        "loan-starts_on": w["start_a"].isoformat(),
        "loan-ends_on": w["start_a"].isoformat(),
        "loan-purpose": "越权",
    },
    "sharing.decide": lambda w: {"decide-approve": "1", "decide-reason": "越权"},
    "guides.index": lambda w: {"name": "越权讲解员", "grade": "trainee"},
    "guides.guide": lambda w: {"kind": "reward", "on": w["start_a"].isoformat(), "note": "越权"},
    "guides.active": lambda w: {"active": "0"},
    "catalog.teacher_unavailable": lambda w: {
        "off-starts_on": (w["start_a"] + timedelta(days=60)).isoformat(),
        "off-ends_on": (w["start_a"] + timedelta(days=61)).isoformat(),
        "off-reason": "越权",
    },
    "catalog.course_material_add": lambda w: {
        "mat-kind": "material",
        "mat-title": "越权上传",
        "mat-file": (pdf_upload().stream, "x.pdf"),
    },
    "site_photos.upload": lambda w: {
        "photo-photo": (png_upload().stream, "x.png"),
        "photo-caption": "越权上传",
    },
    "catalog_transfer.sites_import": lambda w: {
        "member_id": str(w["member_a"]),
        "file": _csv_upload(),
    },
    "catalog_transfer.teachers_import": lambda w: {
        "member_id": str(w["member_a"]),
        "file": _csv_upload(),
    },
    "catalog_transfer.sites_import_confirm": lambda w: {"token": "A" * 43},
    "catalog_transfer.teachers_import_confirm": lambda w: {"token": "A" * 43},
    "routes.new": lambda w: {
        "name": "越权线路",
        "theme": "党性教育",
        "days": "1",
        "description": "越权",
        "class_kinds": ["main"],
    },
    "routes.edit": lambda w: {
        "name": "越权改名",
        "theme": "党性教育",
        "days": "1",
        "description": "越权",
        "class_kinds": ["main"],
    },
    "routes.status": lambda w: {"status": "retired"},
    "routes.stops": lambda w: {
        "day": "1",
        "starts": "16:00",
        "minutes": "30",
        "kind": "visit",
        "site_id": str(w["site_a"]),
    },
    "routes.stop_edit": lambda w: {
        "day": "1",
        "starts": "08:00",
        "minutes": "30",
        "kind": "visit",
        "site_id": str(w["site_a"]),
    },
    "routes.settings": lambda w: {"ring_route_min_days": "9", "change_deadline_days": "9"},
    "bookings.class_new": _class_form,
    "bookings.class_edit": _class_form,
    "bookings.class_book": _booking_form,
    "bookings.new": _booking_form,
    "bookings.cancel": lambda w: {"reason": "越权取消"},
    "bookings.move": lambda w: {"start_date": (date.today() + timedelta(days=60)).isoformat()},
    "bookings.decline": lambda w: {"reason": "越权婉拒"},
    "trainees.roster_index": lambda w: {"name": "越权学员", "phone": "13912345678"},
    "trainees.roster_edit": lambda w: {"name": "越权改名", "phone": "13912345679"},
    "trainees.roster_import": lambda w: {
        "file": (io.BytesIO("姓名,手机号\n越权,13912345670\n".encode()), "r.csv")
    },
    "trainees.roster_import_confirm": lambda w: {"token": "A" * 43},
    "trainees.class_notices": lambda w: {"title": "越权通知", "body": "越权"},
    "trainees.class_profile": lambda w: {"rules_text": "越权纪律", "contacts_text": ""},
    "trainees.my_choose": lambda w: {f"e{w['elective_a']}-option_id": str(w["elective_option_a"])},
    "trainees.run_book": lambda w: {"name": "越权报名", "phone": "13912345671"},
    "evaluations.answer": lambda w: {"comment": "越权评价"},
    "evaluations.criteria": lambda w: {"course": "越权指标", "teacher": "越权", "site": "越权"},
    "certificates.decide": lambda w: {"action": "revoke", "reason": "越权撤销"},
    "feedback.send": lambda w: {"unit": ""},
    "trainees.run_new": lambda w: {
        "title": "越权班次",
        "template_id": str(w["template"]),
        "starts_on": (w["start_a"] + timedelta(days=30)).isoformat(),
        "seats": "10",
        "min_participants": "2",
        "booking_deadline": (w["start_a"] + timedelta(days=20)).isoformat(),
        "cancel_deadline": (w["start_a"] + timedelta(days=25)).isoformat(),
        "open_to": "all",
    },
}


# ---------------------------------------------------------------- coverage of the table


def test_every_endpoint_has_a_declared_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - SKIPPED
    missing = sorted(endpoints - set(RULES))
    assert not missing, (
        f"{len(missing)} endpoint(s) without a declared access rule in "
        f"tests/security/test_authorization_matrix.py RULES: " + ", ".join(missing)
    )


def test_the_table_names_no_endpoint_that_is_gone(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    stale = sorted(set(RULES) - endpoints)
    assert not stale, "RULES declares endpoints that no longer exist: " + ", ".join(stale)


def test_the_rules_use_the_vocabulary():
    unknown = {
        f"{endpoint}: {v.rule}"
        for endpoint in RULES
        for v in variants(endpoint)
        if v.rule not in VOCABULARY
    }
    assert not unknown, sorted(unknown)


# ---------------------------------------------------------------- the matrix


def _methods(app: Flask, endpoint: str) -> set[str]:
    return {m for r in app.url_map.iter_rules() if r.endpoint == endpoint for m in r.methods}


def _declared(app: Flask) -> list[str]:
    present = {r.endpoint for r in app.url_map.iter_rules()}
    return sorted(e for e in RULES if e in present)


def _verdict(response, expected: Any) -> str | None:
    """None when the response is what the rule expects, else what went wrong."""
    status = response.status_code
    if expected == LOGIN:
        location = urlsplit(response.headers.get("Location", "")).path
        if status == 302 and location == "/login":
            return None
        return f"expected 302 to /login, got {status} {location}"
    if expected == ELSEWHERE:
        location = urlsplit(response.headers.get("Location", "")).path
        if status in (302, 303, 307) and location != "/login":
            return None
        return f"expected a redirect (not to /login), got {status} {location}"
    if status != expected:
        return f"expected {expected}, got {status}"
    return None


@pytest.fixture
def quick_pdf(monkeypatch):
    """The itinerary PDF takes seconds to typeset; access is decided before it is made."""
    from portal.scheduling import calendars

    monkeypatch.setattr(calendars, "build_itinerary_pdf", lambda **kwargs: b"%PDF-1.4 stub")


def test_get_matrix(world, app, quick_pdf):
    """Every GET endpoint (and each declared variant) as every role; no GET writes anything."""
    failures = []
    checked = 0
    endpoints = set()
    for role in ROLE_NAMES:
        client = client_as(app, role)
        writes = WriteDetector()
        for endpoint in _declared(app):
            if "GET" not in _methods(app, endpoint):
                continue
            endpoints.add(endpoint)
            for variant in variants(endpoint):
                url = build_url(app, world, endpoint, variant)
                response = client.get(url)
                checked += 1
                problem = _verdict(response, VOCABULARY[variant.rule][role])
                if problem:
                    failures.append(f"GET {url} [{endpoint}, {variant.rule}] as {role}: {problem}")
                if writes.wrote():
                    failures.append(f"GET {url} [{endpoint}] as {role} wrote to the database")
        writes.close()
    print(f"GET matrix: {len(endpoints)} endpoints, {checked} requests")
    assert not failures, "\n".join(failures)


def _post_body(world: dict[str, Any], endpoint: str) -> dict[str, Any]:
    make = POST_DATA.get(endpoint)
    return make(world) if make else {}


def test_refused_posts_change_nothing(world, app):
    """Every state-changing endpoint as every role it refuses: the status, and no row changed."""
    failures = []
    checked = 0
    endpoints = set()
    for role in ROLE_NAMES:
        client = client_as(app, role)
        tracker = Tracker()
        for endpoint in _declared(app):
            methods = _methods(app, endpoint) & {"POST", "PUT", "PATCH", "DELETE"}
            for variant in variants(endpoint) if methods else []:
                expected = VOCABULARY[variant.rule][role]
                if expected not in DENIED:
                    continue
                url = build_url(app, world, endpoint, variant)
                endpoints.add(endpoint)
                for method in sorted(methods):
                    response = client.open(url, method=method, data=_post_body(world, endpoint))
                    checked += 1
                    problem = _verdict(response, expected)
                    if problem:
                        failures.append(f"{method} {url} [{endpoint}] as {role}: {problem}")
                    changed = tracker.changed()
                    if changed:
                        failures.append(f"{method} {url} [{endpoint}] as {role} changed {changed}")
    print(f"refused writes: {len(endpoints)} endpoints, {checked} requests")
    assert checked > 100
    assert not failures, "\n".join(failures)


# What the refused posts send would change these (so "nothing changed" means something).
CANARIES = {
    # first: auth.user_active below deactivates the trainee
    "trainees.my_acknowledge": "trainee",
    "trainees.my_choose": "trainee",
    "bookings.class_new": "organizer",
    "bookings.new": "organizer",
    "bookings.class_edit": "organizer",
    "bookings.decline": "member_staff",
    "bookings.cancel": "organizer",
    "routes.stops": "office",  # before the site is retired below
    "routes.edit": "office",
    "routes.settings": "office",
    "catalog.sites_edit": "office",
    "catalog.teachers_edit": "office",
    "catalog.courses_edit": "office",
    "catalog.sites_status": "office",
    "catalog.site_assess": "office",
    "catalog.course_excellent": "office",
    "catalog.teacher_unavailable": "member_staff",
    "catalog.teacher_unavailable_delete": "member_staff",
    "catalog.material_delete": "member_admin",
    "site_photos.upload": "member_staff",
    "site_photos.delete": "member_admin",
    "auth.users": "office",
    "auth.user_active": "office",
    "auth.api_token_revoke": "member_admin",
    "members.plugin_toggle": "office",
    "trainees.roster_index": "organizer",
    "trainees.class_notices": "organizer",
    "trainees.class_profile": "organizer",
    "trainees.run_cancel": "member_staff",
    "attendance.supervisor_add": "organizer",
    "attendance.session_mark": "organizer",
    "attendance.leave_decide": "organizer",
    "planner.request_edit": "organizer",
    "planner.request_pin": "office",
    "planner.season_new": "office",
    "planner.season_status": "office",
}


def test_the_refused_posts_would_have_changed_something(world, app):
    failures = []
    clients = {role: client_as(app, role) for role in set(CANARIES.values())}
    tracker = Tracker()
    for endpoint, role in CANARIES.items():
        variant = variants(endpoint)[1 if endpoint == "bookings.new" else 0]
        url = build_url(app, world, endpoint, variant)
        response = clients[role].post(url, data=_post_body(world, endpoint))
        if not tracker.changed():
            failures.append(f"POST {url} as {role}: {response.status_code}, nothing changed")
    assert not failures, "\n".join(failures)
