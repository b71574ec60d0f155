"""Hostile input to every form and every API endpoint: never a 500, a Chinese message, no half-writes.

Values: 100 KB strings, NUL bytes, letters where numbers go, script tags, SQL fragments,
impossible dates, negative and huge numbers, empty values and odd Unicode; ids past any
integer column in URLs; uploads larger than the request limit; files named .xlsx that are
not spreadsheets (random bytes, a zip bomb). A response that refuses (4xx) leaves every
table as it was; an HTML refusal explains itself in Chinese; no response echoes a script
tag unescaped. Hypothesis generates text for the main forms (class registration, site
creation, login) within a bounded number of examples.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from portal.catalog.models import CourseMaterial, Teacher, TeachingSite
from portal.scheduling.models import TrainingClass
from tests.conftest import PG_URL
from tests.security.support import Tracker, changed_tables, client_as, count, snapshot
from tests.security.test_authorization_matrix import (
    POST_DATA,
    RULES,
    V,
    build_url,
    variants,
)

pytestmark = pytest.mark.db

SCRIPT = "<script>alert(1)</script>"
HOSTILE: dict[str, str] = {
    "100KB": "A" * 100_000,
    "nul": "ab\x00cd",
    "letters": "abc",
    "script": SCRIPT,
    "sql": "' OR 1=1 --",
    "bad_date": "2026-02-30",
    "far_date": "9999-12-31",
    "early_date": "0001-01-01",
    "negative": "-1",
    "huge": str(10**30),
    "empty": "",
    "unicode": "\u202e𝕏😀\ufeff\u0301",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
# A message in Chinese where the portal shows errors: beside a field, in a flashed alert, or
# the error page's explanation.
ERROR_MESSAGE = re.compile(
    r'(?:invalid-feedback|alert-danger|alert-warning|class="lead")[^>]*>\s*'
    r"(?:<[^>]+>\s*)*[^<]*[\u4e00-\u9fff]"
)
BIG_ID = 10**30
# Fields the sweep fills besides those of the matrix's POST_DATA (forms with rows, buttons).
EXTRA_FIELDS: dict[str, Any] = {
    "auth.api_tokens": {"name": "x"},
    "attendance.me_code": {"code": "123456"},
    "directory.trust": {"note": "x"},
    "bookings.new": {
        "checked_template": "1",
        "squads-0": "1",
        "suggest": "2026-02-30",
        "stops-0-day": "1",
        "stops-0-starts": "09:00",
        "stops-0-minutes": "60",
        "stops-0-site_id": "1",
        "stops-0-course_id": "0",
        "stops-0-squads": "1",
    },
    "routes.status": {"back": "stops"},
    "bookings.confirm": {"member": "1"},
    # Trainees: activation, and an elective's form with its option rows.
    "trainees.activate": {"password": "x", "confirm": "x"},
    "trainees.class_electives": {
        "title": "x",
        "day": "2030-01-07",
        "starts": "09:00",
        "minutes": "60",
        "choose_by": "2030-01-01",
        "options-0-site_id": "1",
        "options-0-course_id": "1",
        "options-0-seats": "10",
        "options-1-site_id": "2",
        "options-1-seats": "10",
    },
    "bookings.decline": {"member": "1"},
    "bookings.confirm_class": {"member": "1"},
    "bookings.guide": {"guide_name": "x", "member": "1"},
    "bookings.replace": lambda w: {
        f"replace-{w['reservation_a']}-{name}": "x" for name in ("day", "starts", "site")
    },
    # Joint meetings (the forms' prefixes as the pages send them).
    "meetings.new": lambda w: MEETING_FIELDS,
    "meetings.edit": lambda w: MEETING_FIELDS,
    "meetings.cancel": {"cancel-reason": "x"},
    "meetings.reply": {"reply-response": "attend", "reply-attendees": "x", "reply-reason": "x"},
    "meetings.agenda_add": {
        "agenda-title": "x",
        "agenda-presenter_member_id": "1",
        "agenda-note": "x",
    },
    "meetings.agenda_move": {"direction": "up"},
    "meetings.poll_add": {"slot-day": "2030-01-07", "slot-start_time": "09:00", "slot": "x"},
    "meetings.poll_answer": lambda w: {f"slot-{w['poll_slot']}": "yes"},
    "meetings.attendance": lambda w: {
        f"attendance-{w['member_a']}": "present",
        f"names-{w['member_a']}": "x",
    },
    "meetings.minutes": {"minutes-minutes": "x"},
    "meetings.decision_add": {
        "decision-text": "x",
        "decision-member_ids": "1",
        "decision-due_on": "2030-01-07",
        "back": "list",
    },
    "meetings.decision_done": {"done-note": "x"},
    "meetings.busy": {
        "busy-starts_on": "2030-01-07",
        "busy-starts_time": "09:00",
        "busy-ends_on": "2030-01-07",
        "busy-ends_time": "12:00",
        "busy-note": "x",
    },
    # Joint events.
    "events.new": lambda w: EVENT_FIELDS,
    "events.edit": lambda w: EVENT_FIELDS,
    "events.cancel": {"cancel-reason": "x"},
    "events.session_add": {
        "session-title": "x",
        "session-day": "2030-01-07",
        "session-starts": "09:00",
        "session-ends": "12:00",
        "session-site_id": "1",
        "session-place": "x",
        "session-teacher_id": "1",
    },
    "events.register": lambda w: {
        "reg-member_id": str(w["member_a"]),
        "reg-participant_name": "x",
        "reg-participant_title": "x",
        "reg-phone": "x",
    },
    "events.criteria": {
        "criteria-0-name": "x",
        "criteria-0-weight": "60",
        "criteria-1-name": "y",
        "criteria-1-weight": "40",
    },
    "events.judge_add": lambda w: {"judge-user_id": "1"},
    "events.entry_add": lambda w: {
        "entry-member_id": str(w["member_a"]),
        "entry-guide_name": "x",
        "entry-site_id": "1",
        "entry-course_id": "1",
        "entry-note": "x",
    },
    "events.score": lambda w: {f"c{c}": "90" for c in w["criteria"]},
    "events.winners": {"top": "1", "entry_ids": "1"},
    "events.grades": lambda w: {"grade-1": "first", "grade-2": "merit"},
    "events.judge_outside": {"outside-name": "x", "outside-unit": "y"},
}
MEETING_FIELDS = {
    "title": "x",
    "kind": "joint",
    "description": "x",
    "site_id": "1",
    "place_text": "x",
    "online_url": "https://example.org/x",
    "duration_minutes": "120",
    "day": "2030-01-07",
    "start_time": "09:00",
    "end_time": "11:00",
    "member_ids": "1",
}
EVENT_FIELDS = {
    "title": "x",
    "category": "training",
    "description": "x",
    "open_to_all": "y",
    "invited_member_ids": "1",
    "capacity": "30",
    "registration_deadline": "2030-01-07",
}
# Forms that are one button (and the CSRF token): the sweep sends hostile button values.
BUTTON_ONLY = {
    "auth.api_token_revoke": "submit",
    "bookings.accept": "submit",
    "catalog.material_delete": "x-submit",
    "site_photos.delete": "x-submit",
    "catalog.teacher_unavailable_delete": "rm-submit",
    "members.plugin_sync": "submit",
    "members.plugin_toggle": "submit",
    "routes.stop_delete": "submit",
    "meetings.remind": "act-submit",
    "meetings.agenda_delete": "act-submit",
    "meetings.poll_delete": "act-submit",
    "meetings.poll_fix": "act-submit",
    "meetings.decision_reopen": "act-submit",
    "meetings.busy_delete": "act-submit",
    "events.publish": "submit",
    "events.session_delete": "submit",
    "events.registration_cancel": "submit",
    "events.entry_withdraw": "submit",
    "events.judge_delete": "submit",
    "events.results_publish": "submit",
    "trainees.class_share_reset": "submit",
    "trainees.my_acknowledge": "submit",
    "trainees.roster_delete": "submit",
    "trainees.roster_send_links": "submit",
    "trainees.run_cancel": "submit",
    "trainees.run_seat_accept": "submit",
    "trainees.run_seat_cancel": "submit",
    "attendance.scan": "submit",
    "attendance.supervisor_remove": "submit",
    "planner.accept": "submit",
    "planner.request_withdraw": "submit",
    "certificates.issue": "submit",
}
# Who sends the sweep where the office may not (the form is only read for them).
SWEEP_CLIENTS = {
    "meetings.reply": "member_staff",
    "meetings.poll_answer": "member_staff",
    "events.score": "tengchong_college_staff",  # the contest's judge (member B)
    "trainees.my_acknowledge": "trainee",  # the trainee on class A's roster
    "trainees.my_choose": "trainee",
    "trainees.run_book": "trainee",
    "trainees.run_seat_accept": "trainee",
    "trainees.run_seat_cancel": "trainee",
}
# Forms that end or remove what later forms post to go last, so those are still reached.
LAST = ("cancel", "delete", "withdraw", "revoke", "toggle", "publish")
# The matrix's URL variants plus the booking page of organizer A's class (template and custom).
SWEEP_VARIANTS: dict[str, list[V]] = {
    "bookings.new": [
        V("class_owner", query={"class_id": "class_a"}),
        V("class_owner", query={"class_id": "class_a", "mode": "custom"}),
    ],
    "events.new": [V("office", query={"type_id": "training_type"})],
}
# Not swept: logging out ends the sweep's session.
NOT_SWEPT = {"auth.logout"}
# Free text with a NUL byte must be refused (it was stored, or a 500 on PostgreSQL).
NUL_FIELDS = {
    ("auth.users", "display_name"),
    ("catalog.sites_new", "reason"),
    ("catalog.teachers_new", "reason"),
    ("catalog.courses_new", "reason"),
    ("catalog.sites_edit", "reason"),
    ("catalog.teachers_edit", "reason"),
    ("catalog.courses_edit", "reason"),
    ("catalog.teacher_unavailable", "off-reason"),
}
# A NUL byte in the login name must be refused (it was a 500 on PostgreSQL).
NUL_LOGIN_500 = bool(PG_URL)
# Ids in form fields must be bounded before the database (10**30 was a 500).
HUGE_ID_FIELDS = {
    ("catalog.sites_new", "member_id"),
    ("catalog.teachers_new", "member_id"),
    ("catalog.courses_new", "member_id"),
    ("catalog.courses_new", "teacher_ids"),
    ("catalog.courses_new", "site_id"),
    ("catalog.courses_edit", "teacher_ids"),
    ("catalog.courses_edit", "site_id"),
}


def check_response(response, *, form: bool, where: str) -> list[str]:
    """What is wrong with a response to hostile input ([] when nothing)."""
    problems = []
    status = response.status_code
    text = response.mimetype.startswith("text/") or response.mimetype == "application/json"
    body = response.get_data(as_text=True) if text else ""
    if status >= 500:
        problems.append(f"{where}: {status}")
    html = response.mimetype == "text/html"
    if form and html and 400 <= status < 500 and not ERROR_MESSAGE.search(body):
        problems.append(f"{where}: {status} without a Chinese error message")
    if html and SCRIPT in body:
        problems.append(f"{where}: the script tag is echoed unescaped")
    if response.mimetype == "application/json" and status >= 400 and "error" not in response.json:
        problems.append(f"{where}: a JSON error without an error message")
    return problems


def hostile_form(base: dict[str, Any], value: str) -> dict[str, Any]:
    return {name: value for name in base}


def sweep_targets(app) -> list[tuple[str, V]]:
    present = {r.endpoint for r in app.url_map.iter_rules() if r.methods & {"POST", "PUT"}}

    def order(endpoint: str) -> tuple[bool, str]:
        return (endpoint.rsplit(".", 1)[1].endswith(LAST), endpoint)

    return [
        (endpoint, variant)
        for endpoint in sorted(present & set(RULES) - NOT_SWEPT, key=order)
        for variant in SWEEP_VARIANTS.get(endpoint, variants(endpoint))
    ]


def form_fields(world: dict[str, Any], endpoint: str) -> dict[str, Any]:
    base = POST_DATA[endpoint](world) if endpoint in POST_DATA else {}
    extra = EXTRA_FIELDS.get(endpoint, {})
    extra = extra(world) if callable(extra) else extra
    button = {BUTTON_ONLY[endpoint]: "1"} if endpoint in BUTTON_ONLY else {}
    return {**base, **extra, **button}


# ---------------------------------------------------------------- every form × every hostile value


def test_every_form_survives_hostile_values(world, app):
    office = client_as(app, "office")
    anonymous = app.test_client()
    failures: list[str] = []
    sent = 0
    undeclared = []
    clients = {role: client_as(app, role) for role in set(SWEEP_CLIENTS.values())}
    tracker = Tracker()
    for endpoint, variant in sweep_targets(app):
        fields = form_fields(world, endpoint)
        if not fields:
            undeclared.append(endpoint)
            continue
        url = build_url(app, world, endpoint, variant)
        if endpoint == "auth.login":
            client = anonymous
        else:
            client = clients.get(SWEEP_CLIENTS.get(endpoint), office)
        for label, value in HOSTILE.items():
            if label == "huge" and any((endpoint, name) in HUGE_ID_FIELDS for name in fields):
                continue  # test_huge_ids_in_form_fields
            if label == "nul" and (
                any((endpoint, name) in NUL_FIELDS for name in fields)
                or (endpoint == "auth.login" and NUL_LOGIN_500)
            ):
                continue  # test_nul_bytes_in_free_text_are_refused
            response = client.post(url, data=hostile_form(fields, value))
            sent += 1
            where = f"POST {url} [{endpoint}] all fields={label}"
            failures += check_response(response, form=True, where=where)
            changed = tracker.changed()
            if tracker.new_nul:
                failures.append(f"{where}: stored a NUL byte in {tracker.new_nul}")
            if response.status_code >= 400 and endpoint != "auth.login" and changed:
                failures.append(f"{where}: refused ({response.status_code}) but changed {changed}")
    print(f"hostile form posts: {sent}")
    assert not undeclared, (
        "declare the fields of these forms in EXTRA_FIELDS (or BUTTON_ONLY): "
        + ", ".join(sorted(set(undeclared)))
    )
    assert sent > 200
    assert not failures, "\n".join(failures)


def test_one_hostile_field_among_valid_ones(world, app):
    """Each field of the main forms alone hostile, the others valid (the service's checks)."""
    office = client_as(app, "office")
    failures: list[str] = []
    tracker = Tracker()
    for endpoint in (
        "catalog.sites_new",
        "catalog.teachers_new",
        "bookings.class_new",
        "routes.new",
    ):
        url = build_url(app, world, endpoint, variants(endpoint)[0])
        valid = form_fields(world, endpoint)
        for name in valid:
            for label in ("100KB", "nul", "letters", "huge"):
                if label == "huge" and (endpoint, name) in HUGE_ID_FIELDS:
                    continue  # test_huge_ids_in_form_fields
                if name == "open_weekdays":
                    continue  # test_an_invalid_weekday_is_explained_in_chinese
                if label == "nul" and (endpoint, name) in NUL_FIELDS:
                    continue  # test_nul_bytes_in_free_text_are_refused
                response = office.post(url, data={**valid, name: HOSTILE[label]})
                where = f"POST {url} {name}={label}"
                failures += check_response(response, form=True, where=where)
                changed = tracker.changed()
                if tracker.new_nul:
                    failures.append(f"{where}: stored a NUL byte in {tracker.new_nul}")
                if changed and response.status_code >= 400:
                    failures.append(f"{where}: refused but changed rows")
    assert not failures, "\n".join(failures)


def test_huge_ids_in_form_fields(world, app):
    office = client_as(app, "office")
    failures = []
    for endpoint, name in sorted(HUGE_ID_FIELDS):
        url = build_url(app, world, endpoint, variants(endpoint)[0])
        valid = form_fields(world, endpoint)
        before = snapshot()
        response = office.post(url, data={**valid, name: HOSTILE["huge"]})
        if response.status_code >= 500:
            failures.append(f"POST {url} {name}=10**30: {response.status_code}")
        elif response.status_code >= 400 and changed_tables(before, snapshot()):
            failures.append(f"POST {url} {name}=10**30: refused but changed rows")
    assert not failures, "\n".join(failures)


def test_an_invalid_weekday_is_explained_in_chinese(world, app):
    from tests.security.test_authorization_matrix import _site_form

    office = client_as(app, "office")
    for url in ("/sites/new", f"/sites/{world['site_a']}/edit"):
        response = office.post(url, data={**_site_form(world), "open_weekdays": ["1", "8"]})
        assert response.status_code == 400
        messages = re.findall(r"invalid-feedback[^>]*>([^<]*)", response.get_data(as_text=True))
        assert messages and all(CJK.search(m) for m in messages), messages


def test_nul_bytes_in_free_text_are_refused(world, app):
    office = client_as(app, "office")
    failures = []
    tracker = Tracker()
    for endpoint, name in sorted(NUL_FIELDS):
        url = build_url(app, world, endpoint, variants(endpoint)[0])
        valid = form_fields(world, endpoint)
        if endpoint.endswith("_edit"):
            valid["name"] = f"改名{len(failures)}{endpoint}"  # a change, so a reason is kept
        response = office.post(url, data={**valid, name: "原因\x00"})
        tracker.changed()
        if response.status_code >= 500 or tracker.new_nul:
            failures.append(f"POST {url} {name}: {response.status_code}, NUL in {tracker.new_nul}")
    assert not failures, "\n".join(failures)


def test_a_nul_byte_in_the_login_name(world, app):
    response = app.test_client().post("/login", data={"username": "off\x00ice", "password": "x"})
    assert response.status_code in (400, 401)
    assert not check_response(response, form=True, where="login")


# ---------------------------------------------------------------- ids past any integer column


def int_args(app, endpoint: str) -> list[str]:
    from werkzeug.routing import IntegerConverter

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return [
        name
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter) and name not in (rule.defaults or {})
    ]


# Endpoints whose <int:...> ids are unbounded: an id of 2**63 or more reaches the database
# driver, which cannot convert it (OverflowError on SQLite; on PostgreSQL already from 2**31,
# NumericValueOutOfRange), and the page answers 500.
UNBOUNDED_IDS = {
    "auth.api_token_revoke",
    "auth.user_active",
    "auth.user_detail",
    "calendars.feed",
    "calendars.itinerary_pdf",
    "calendars.page",
    "catalog.course_detail",
    "catalog.course_excellent",
    "catalog.course_material_add",
    "catalog.courses_edit",
    "catalog.courses_status",
    "catalog.material_delete",
    "catalog.material_file",
    "catalog.site_assess",
    "catalog.site_detail",
    "catalog.sites_edit",
    "catalog.sites_status",
    "catalog.teacher_detail",
    "catalog.teacher_unavailable",
    "catalog.teacher_unavailable_delete",
    "catalog.teachers_edit",
    "catalog.teachers_status",
    "routes.detail",
    "routes.edit",
    "routes.status",
    "routes.stop_delete",
    "routes.stop_edit",
    "routes.stops",
}


def huge_id_requests(app, world, endpoints) -> list[tuple[str, str]]:
    """(method, URL) with each integer id of each endpoint set to 2**31 and 10**30 in turn."""
    requests = []
    for endpoint in endpoints:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        methods = sorted(rule.methods & {"GET", "POST"})
        variant = variants(endpoint)[0]
        for name in int_args(app, endpoint):
            for big_id in (2**31, BIG_ID):
                big = V(variant.rule, variant.query, **{**variant.values, name: big_id})
                url = build_url(app, world, endpoint, big)
                requests.extend((method, url) for method in methods)
    return requests


def test_huge_ids_in_urls_answer_404(world, app):
    office = client_as(app, "office")
    endpoints = [e for e in RULES if e not in UNBOUNDED_IDS and e in app.view_functions]
    failures = []
    sent = 0
    for method, url in huge_id_requests(app, world, endpoints):
        response = office.open(url, method=method)
        sent += 1
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}")
    assert sent > 10
    assert not failures, "\n".join(failures)


def test_huge_ids_in_urls_answer_404_everywhere(world, app):
    office = client_as(app, "office")
    failures = [
        f"{method} {url}: {response.status_code}"
        for method, url in huge_id_requests(app, world, sorted(UNBOUNDED_IDS))
        if (response := office.open(url, method=method)).status_code != 404
    ]
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- query strings of pages and the API

QUERIES: dict[str, tuple[str, ...]] = {
    "/sites": ("q", "member", "theme", "status", "min_capacity", "guide", "sort", "page"),
    "/teachers": ("q", "member", "kind", "title", "topic", "shared", "status", "page"),
    "/courses": ("q", "member", "kind", "excellent", "status", "page"),
    "/sites/export.xlsx": ("q", "member", "min_capacity", "page", "sort"),
    "/teachers/export.xlsx": ("q", "member", "shared", "page"),
    "/courses/export.xlsx": ("q", "member", "excellent", "page"),
    "/routes": ("days", "theme"),
    "/admin/audit": ("area", "who", "start", "end"),
    "/admin/audit.xlsx": ("area", "who", "start", "end"),
    "/inbox": ("status", "member"),
    "/bookings/new": ("class_id", "template_id", "mode"),
    "/calendar/site/{site_a}": ("view", "date"),
    "/calendar/class/{class_a}": ("view", "date"),
    "/events": ("category", "year"),
    "/reports/": ("year", "quarter", "start", "end", "member"),
    "/reports/figures/classes": ("year", "quarter", "start", "end", "member"),
    "/reports/export.txt": ("year", "quarter", "start", "end", "member"),
    "/api/v1/sites": (
        "q",
        "member",
        "theme",
        "status",
        "min_capacity",
        "guide",
        "sort",
        "page",
        "per_page",
    ),
    "/api/v1/teachers": (
        "q",
        "member",
        "kind",
        "title",
        "topic",
        "shared",
        "status",
        "page",
        "per_page",
    ),
    "/api/v1/courses": ("q", "member", "kind", "excellent", "status", "page", "per_page"),
    "/api/v1/availability": ("site", "from", "to"),
    "/api/v1/bookings": ("status",),
}


def test_query_strings_survive_hostile_values(world, app):
    """Every value in all parameters at once; the likeliest troublemakers in each alone."""
    office = client_as(app, "office")
    failures: list[str] = []
    sent = 0
    for path, names in QUERIES.items():
        url = path.format(**world)
        queries = [(label, {n: value for n in names}) for label, value in HOSTILE.items()]
        queries += [
            (label, {name: HOSTILE[label]})
            for name in names
            for label in ("huge", "nul", "far_date", "early_date")
            if len(names) > 1
        ]
        for label, query in queries:
            response = office.get(url, query_string=query)
            sent += 1
            where = f"GET {url} {label} in {sorted(query)}"
            failures += check_response(response, form=False, where=where)
            if url.startswith("/api/") and not response.is_json:
                failures.append(f"{where}: not JSON ({response.mimetype})")
    print(f"hostile queries: {sent}")
    assert not failures, "\n".join(failures)


def test_api_ids_and_methods(world, app):
    client = app.test_client()
    for path in ("sites", "teachers", "courses", "bookings"):
        for bad in ("-1", "abc", str(BIG_ID), "2147483648", "1.5", "%00"):
            response = client.get(f"/api/v1/{path}/{bad}")
            assert response.status_code == 404 and response.is_json, (path, bad)
            assert "error" in response.json
        response = client.post(f"/api/v1/{path}", data={"x": SCRIPT})
        assert response.status_code == 405 and response.is_json


# ---------------------------------------------------------------- uploads

UPLOAD_ENDPOINTS = {
    "/sites/import": {"member_id": "{member_a}"},
    "/teachers/import": {"member_id": "{member_a}"},
    "/courses/{course_a}/materials": {"mat-kind": "material", "mat-title": "大文件"},
    "/sites/{site_a}/photos": {"photo-caption": "大照片"},
}
FILE_FIELDS = {"materials": "mat-file", "photos": "photo-photo"}


def _fields(template: dict[str, str], world: dict[str, Any]) -> dict[str, str]:
    return {k: v.format(**world) for k, v in template.items()}


def test_an_upload_over_the_request_limit_answers_413_in_chinese(world, app):
    office = client_as(app, "office")
    big = b"\x00" * (16 * 1024 * 1024 + 1024)
    for path, fields in UPLOAD_ENDPOINTS.items():
        url = path.format(**world)
        file_field = FILE_FIELDS.get(path.rsplit("/", 1)[-1], "file")
        before = snapshot()
        response = office.post(
            url,
            data={**_fields(fields, world), file_field: (io.BytesIO(big), "big.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413, (url, response.status_code)
        page = response.get_data(as_text=True)
        assert "上传内容过大" in page and "超过了允许的大小" in page
        assert not changed_tables(before, snapshot())


def zip_bomb() -> bytes:
    """A small .xlsx-looking zip whose one sheet unpacks to 200 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(200):
                sheet.write(chunk)
    return buffer.getvalue()


def truncated_xlsx(client) -> bytes:
    data = client.get("/sites/import/template.xlsx").data
    return data[: len(data) // 2]


def test_malformed_spreadsheets_are_refused_in_chinese(world, app):
    import random

    staff = client_as(app, "party_school_staff")
    payloads = {
        "random bytes": (random.Random(6).randbytes(4096), "sites.xlsx"),
        "empty": (b"", "sites.xlsx"),
        "zip bomb": (zip_bomb(), "sites.xlsx"),
        "truncated": (truncated_xlsx(staff), "sites.xlsx"),
        "binary csv": (b"\xff\xfe\x00\x00" + bytes(range(256)) * 8, "sites.csv"),
        "wrong extension": (b"MZ\x90\x00" * 100, "sites.exe"),
        "no name": (b"PK\x03\x04" + b"\x00" * 100, ""),
    }
    failures = []
    for case, (data, name) in payloads.items():
        for path in ("/sites/import", "/teachers/import"):
            before = (count(TeachingSite), count(Teacher))
            response = staff.post(
                path, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
            )
            page = response.get_data(as_text=True)
            where = f"POST {path} {case}"
            if not 400 <= response.status_code < 500:
                failures.append(f"{where}: {response.status_code}")
            elif not (CJK.search(page) and ("alert-danger" in page or "invalid-feedback" in page)):
                failures.append(f"{where}: no Chinese error message")
            if 'name="token"' in page:
                failures.append(f"{where}: a broken file is offered for confirmation")
            if (count(TeachingSite), count(Teacher)) != before:
                failures.append(f"{where}: rows written")
    assert not failures, "\n".join(failures)


REFUSED_MATERIALS = [
    ("jiangyi.pdf", b"\x89PNG\r\n\x1a\nnot a pdf"),
    ("script.html", b"<html><script>alert(1)</script></html>"),
    ("shell.pdf.php", b"%PDF-1.4 <?php system($_GET['c']); ?>"),
    ("empty.pdf", b""),
    ("\x00.pdf", b"\x00"),
]


def test_material_uploads_are_checked(world, app):
    from portal.extensions import db

    office = client_as(app, "office")
    url = f"/courses/{world['course_a']}/materials"

    def upload(name: str, data: bytes):
        return office.post(
            url,
            data={
                "mat-kind": "material",
                "mat-title": "附件",
                "mat-file": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    for name, data in REFUSED_MATERIALS:
        before = count(CourseMaterial)
        response = upload(name, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert "alert-danger" in page and CJK.search(page), name
        assert count(CourseMaterial) == before, name
    # A real PDF with a path in its name: kept under a random name inside the upload folder.
    before = count(CourseMaterial)
    assert upload("../../../etc/passwd.pdf", b"%PDF-1.4 x").status_code == 200
    assert count(CourseMaterial) == before + 1
    material = db.session.query(CourseMaterial).order_by(CourseMaterial.id.desc()).first()
    assert "/" not in material.stored_name and ".." not in material.stored_name
    download = office.get(f"/materials/{material.id}/file")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]


# ---------------------------------------------------------------- stored values come back harmless


def test_stored_hostile_text_is_escaped_and_never_a_formula(world, app):
    office = client_as(app, "office")
    from tests.security.test_authorization_matrix import _site_form

    form = {**_site_form(world), "name": f'=HYPERLINK("http://evil"){SCRIPT}', "theme": "@SUM(1)"}
    response = office.post("/sites/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    site_url = response.headers["Location"]
    for url in (site_url, "/sites?status=", "/routes", "/api/v1/sites?per_page=100&status="):
        body = office.get(url).get_data(as_text=True)
        assert SCRIPT not in body or url.startswith("/api/"), url
    workbook = load_workbook(io.BytesIO(office.get("/sites/export.xlsx?status=").data))
    for row in workbook.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in the export: {cell.value!r}"
            if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                assert cell.value.startswith("'"), cell.value


# ---------------------------------------------------------------- generated text for the main forms

TEXT = st.text(max_size=300)
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def office_client(world, app):
    return client_as(app, "office")


@pytest.fixture
def organizer_client(world, app):
    return client_as(app, "organizer")


@EXAMPLES
@given(
    name=TEXT,
    sending_unit=TEXT,
    theme=TEXT,
    contact_name=TEXT,
    contact_phone=TEXT,
    size=st.one_of(st.integers(-(10**20), 10**20).map(str), TEXT),
    starts_on=st.one_of(st.dates().map(str), TEXT),
)
def test_generated_class_registrations(organizer_client, world, **fields):
    day = world["start_a"] + timedelta(days=3)
    data = {
        "kind": "main",
        "origin": "province",
        "ends_on": day.isoformat(),
        **fields,
    }
    before = count(TrainingClass)
    response = organizer_client.post("/classes/new", data=data)
    assert not check_response(response, form=True, where="class")
    after = count(TrainingClass)
    if response.status_code == 302:
        assert after == before + 1
    else:
        assert response.status_code == 400 and after == before


@EXAMPLES
@given(
    name=TEXT,
    theme=TEXT,
    address=TEXT,
    description=TEXT,
    capacity=st.one_of(st.integers(-(10**20), 10**20).map(str), TEXT),
    opens=st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), TEXT),
)
def test_generated_site_creations(office_client, world, **fields):
    data = {
        "member_id": str(world["member_a"]),
        "session_minutes": "60",
        "open_weekdays": ["1", "2"],
        "closes": "18:00",
        **fields,
    }
    before = count(TeachingSite)
    response = office_client.post("/sites/new", data=data)
    assert not check_response(response, form=True, where="site")
    after = count(TeachingSite)
    if response.status_code == 302:
        assert after == before + 1
    else:
        assert response.status_code == 400 and after == before


# NUL in the user name is test_a_nul_byte_in_the_login_name (a 500 on PostgreSQL).
# What a browser can send: UTF-8 (no lone surrogates), and no NUL (tested on its own above).
LOGIN_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)


@EXAMPLES
@given(username=LOGIN_TEXT, password=TEXT)
def test_generated_logins(app, world, username, password):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code in (400, 401, 429), response.status_code
    assert not check_response(response, form=True, where="login")
    assert client.get("/admin/users").status_code == 302


# ---------------------------------------------------------------- where hostile text ends up later

SAFE_TARGETS = ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]


def redirect_after(app, endpoint: str, target: str):
    client = app.test_client()
    if endpoint == "login":
        return client.post(
            "/login",
            query_string={"next": target},
            data={"username": "office", "password": "huanxian2026"},
        )
    return client.post("/locale", data={"locale": "zh_Hans_CN", "next": target})


def leaves_the_site(location: str) -> bool:
    from urllib.parse import urlsplit

    # What a browser does with it: tabs and newlines removed, "\" read as "/".
    seen = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    parts = urlsplit(seen)
    return bool(parts.scheme and parts.scheme not in ("http", "https")) or bool(
        parts.netloc and parts.netloc != "localhost"
    )


def test_redirect_targets_stay_on_the_site(world, app):
    for endpoint in ("login", "locale"):
        for target in SAFE_TARGETS:
            response = redirect_after(app, endpoint, target)
            assert response.status_code == 302, (endpoint, target, response.status_code)
            location = response.headers["Location"]
            assert not leaves_the_site(location), (endpoint, target, location)


def test_control_characters_in_redirect_targets(world, app):
    found = []
    for endpoint in ("login", "locale"):
        for target in ("/\t/evil.example", "/\n/evil.example", "/\r/evil.example"):
            response = redirect_after(app, endpoint, target)
            location = response.headers.get("Location", "")
            if response.status_code >= 500 or leaves_the_site(location):
                found.append(f"{endpoint} next={target!r}: {response.status_code} {location!r}")
    assert not found, "\n".join(found)


def test_multi_line_text_does_not_break_notification_e_mails(world, app):
    from email.message import EmailMessage

    from portal.extensions import db
    from portal.notifications.models import OutboxEmail
    from tests.scheduling.helpers import user

    user("organizer").email = "organizer@example.com"
    db.session.commit()
    staff = client_as(app, "party_school_staff")
    response = staff.post(
        f"/reservations/{world['reservation_a']}/decline",
        data={"reason": "当天有接待任务\r\nBcc: someone@example.com"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    emails = db.session.query(OutboxEmail).filter_by(to_address="organizer@example.com").all()
    assert emails, "the organizer was not notified"
    for email in emails:
        EmailMessage()["Subject"] = email.subject  # what SMTPBackend.send does
