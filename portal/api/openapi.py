"""The OpenAPI 3.0 description of the JSON API, served at ``GET /api/v1/openapi.json``.

The document is written by hand from what the views validate and return
(portal/api/views.py, portal/api/scheduling.py); the enumerations and limits come from the
same constants the code uses. tests/api/test_openapi.py checks that every GET route under
/api/v1 is described and runs schemathesis over the document: keep it accurate when an
endpoint, a parameter or a field changes.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify

from portal.api.scheduling import MAX_DAYS
from portal.api.views import DEFAULT_PER_PAGE, MAX_ID, MAX_PER_PAGE, bp
from portal.catalog.forms import MAX_PAGE
from portal.catalog.models import STATUSES
from portal.scheduling.models import (
    BOOKING_STATUSES,
    CLASS_KINDS,
    HOLDING,
    ORIGINS,
    RESERVATION_STATUSES,
)
from portal.specs import COURSE_KINDS, TEACHER_KINDS

OPENAPI_VERSION = "3.0.3"
API_VERSION = "1.0.0"
# SiteFilterForm.min_capacity: NumberRange(1, 100000).
MAX_MIN_CAPACITY = 100000
# Rows GET /bookings answers at most.
MAX_BOOKINGS = 500
# Text parameters holding a NUL character are refused (400).
NO_NUL = "^[^\\u0000]*$"
HH_MM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"

JSON = "application/json"
MESSAGE = "A message in the session's language (Simplified Chinese unless switched)."


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A closed object whose every property is present in each answer."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _enum(values: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), **extra}


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STRING = {"type": "string"}
KEY = _nullable(
    {
        "type": "string",
        "description": "The item's key in its member's own system; null for items created "
        "in the portal.",
    }
)
URL = {"type": "string", "format": "uri", "description": "Absolute address of the HTML page."}
LOCAL_TIME = {"type": "string", "pattern": HH_MM, "example": "09:00"}
LOCAL_DATETIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 in Asia/Shanghai time (+08:00).",
    "example": "2026-05-12T09:00:00+08:00",
}


def _schemas() -> dict[str, Any]:
    item_status = _enum(STATUSES)
    return {
        "Error": _object(
            {
                "error": {"type": "string", "description": MESSAGE},
                "status": {"type": "integer", "description": "The HTTP status code."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Only for 400: the bad parameters and their messages.",
                },
            },
            required=["error", "status"],
        ),
        "ParameterError": _object(
            {
                "error": {"type": "string", "description": MESSAGE},
                "status": {"type": "integer", "enum": [400]},
                "fields": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "string"},
                    "description": "Each bad parameter with its message.",
                },
            },
            example={
                "error": "请求参数有误，请检查后重试。",
                "status": 400,
                "fields": {"per_page": "每页条数须为 1 到 100 之间的整数。"},
            },
        ),
        "Member": _object(
            {
                "id": ID_SCHEMA,
                "key": STRING,
                "name": STRING,
                "short_name": STRING,
            }
        ),
        "Site": _object(
            {
                "id": ID_SCHEMA,
                "key": KEY,
                "name": STRING,
                "member": _ref("Member"),
                "theme": STRING,
                "description": STRING,
                "capacity": {"type": "integer", "minimum": 1},
                "session_minutes": {"type": "integer", "minimum": 1},
                "open_weekdays": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 7},
                    "description": "ISO weekdays the site opens: 1 = Monday … 7 = Sunday.",
                },
                "opens": LOCAL_TIME,
                "closes": LOCAL_TIME,
                "needs_guide": {"type": "boolean"},
                "address": STRING,
                "latitude": _nullable({"type": "number"}),
                "longitude": _nullable({"type": "number"}),
                "status": item_status,
                "latest_score": _nullable(
                    {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 100,
                        "description": "Score of the latest yearly assessment.",
                    }
                ),
                "url": URL,
            }
        ),
        "Teacher": _object(
            {
                "id": ID_SCHEMA,
                "key": KEY,
                "name": STRING,
                "member": _ref("Member"),
                "kind": _enum(TEACHER_KINDS),
                "kind_label": STRING,
                "title": STRING,
                "topics": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "shared": {"type": "boolean"},
                "status": item_status,
                "url": URL,
            }
        ),
        "Course": _object(
            {
                "id": ID_SCHEMA,
                "key": KEY,
                "name": STRING,
                "member": _ref("Member"),
                "kind": _enum(COURSE_KINDS),
                "kind_label": STRING,
                "hours": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                "excellent": {"type": "boolean"},
                "site": _nullable(_object({"id": ID_SCHEMA, "name": STRING})),
                "teachers": {
                    "type": "array",
                    "items": _object({"id": ID_SCHEMA, "name": STRING, "title": STRING}),
                },
                "status": item_status,
                "url": URL,
            }
        ),
        **{
            f"{name}Page": _object(
                {
                    "items": {"type": "array", "items": _ref(name), "maxItems": MAX_PER_PAGE},
                    "page": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PAGE,
                        "description": "The page answered (the last one if the page asked "
                        "for is past the end).",
                    },
                    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                    "total": {"type": "integer", "minimum": 0},
                    "pages": {"type": "integer", "minimum": 1},
                }
            )
            for name in ("Site", "Teacher", "Course")
        },
        "Availability": _object(
            {
                "site": _object({"id": ID_SCHEMA, "key": KEY, "name": STRING}),
                "capacity": {"type": "integer", "minimum": 1},
                "guide_count": {"type": "integer"},
                "needs_guide": {"type": "boolean"},
                "bookable": {
                    "type": "boolean",
                    "description": "Whether the site takes bookings (its status is active).",
                },
                "days": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_DAYS,
                    "items": _ref("AvailabilityDay"),
                },
            }
        ),
        "AvailabilityDay": _object(
            {
                "date": {"type": "string", "format": "date"},
                "open": {"type": "boolean", "description": "Whether the site opens that day."},
                "opens": LOCAL_TIME,
                "closes": LOCAL_TIME,
                "held": {"type": "array", "items": _ref("HeldWindow")},
            }
        ),
        "HeldWindow": _object(
            {
                "starts_at": LOCAL_DATETIME,
                "ends_at": LOCAL_DATETIME,
                "seats_taken": {"type": "integer", "minimum": 1},
                "guide": {"type": "boolean", "description": "Whether a guide is used."},
                "status": _enum(HOLDING),
            },
            description="A window already held at the site (no class names).",
        ),
        "Booking": _object(
            {
                "id": ID_SCHEMA,
                "name": STRING,
                "status": _enum(BOOKING_STATUSES),
                "start_date": {"type": "string", "format": "date"},
                "class": _object(
                    {
                        "id": ID_SCHEMA,
                        "name": STRING,
                        "kind": _enum(CLASS_KINDS),
                        "origin": _enum(ORIGINS),
                        "size": {"type": "integer", "minimum": 1, "maximum": 2000},
                        "sending_unit": STRING,
                    }
                ),
                "stops": {
                    "type": "array",
                    "items": _ref("BookingStop"),
                    "description": "Member staff see only the stops at their own member's sites.",
                },
            }
        ),
        "BookingStop": _object(
            {
                "id": ID_SCHEMA,
                "site": _object({"id": ID_SCHEMA, "name": STRING}),
                "course": _nullable({"type": "string", "description": "The course's name."}),
                "starts_at": LOCAL_DATETIME,
                "ends_at": LOCAL_DATETIME,
                "squad": {"type": "integer"},
                "group_size": {"type": "integer", "minimum": 1},
                "status": _enum(RESERVATION_STATUSES),
                "decline_reason": STRING,
            }
        ),
        "BookingList": _object(
            {"items": {"type": "array", "items": _ref("Booking"), "maxItems": MAX_BOOKINGS}}
        ),
        "OpenAPI": {
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "properties": {
                "openapi": {"type": "string"},
                "info": {"type": "object"},
                "paths": {"type": "object"},
            },
        },
    }


# ---------------------------------------------------------------- parameters


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema, **extra}


def _number(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional integer; an empty value is the same as leaving the parameter out."""
    description += " An empty value counts as absent."
    return _query(name, {"type": "integer", **schema}, description, allowEmptyValue=True)


def _text(name: str, description: str) -> dict[str, Any]:
    return _query(name, {"type": "string", "pattern": NO_NUL}, description)


def _choice(name: str, values: list[str], description: str, default: str = "") -> dict[str, Any]:
    return _query(name, {"type": "string", "enum": values, "default": default}, description)


def _parameters() -> dict[str, Any]:
    return {
        "q": _text("q", "Words to search for (surrounding spaces are ignored)."),
        "member": _text(
            "member",
            "A member's id or key. An unknown member gives an empty list, not an error.",
        ),
        "status": _choice(
            "status",
            ["", *STATUSES],
            "The items' status; empty means every status.",
            default="active",
        ),
        "page": _number(
            "page",
            {"minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "The page (a page past the end answers the last page).",
        ),
        "per_page": _number(
            "per_page",
            {"minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
            "Items per page.",
        ),
    }


def _common(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


# ---------------------------------------------------------------- responses


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


BAD_PARAMETERS = {"$ref": "#/components/responses/BadParameters"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
NOT_SIGNED_IN = {"$ref": "#/components/responses/NotSignedIn"}


def _list_operation(
    operation_id: str, summary: str, page: str, parameters: list[dict[str, Any]], tag: str
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "parameters": parameters,
            "responses": {
                "200": _json(_ref(page), "One page of the list."),
                "400": BAD_PARAMETERS,
            },
        }
    }


def _item_operation(
    operation_id: str, summary: str, schema: str, name: str, tag: str, **extra: Any
) -> dict[str, Any]:
    return {
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA},
        ],
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "responses": {
                "200": _json(_ref(schema), "The item."),
                "404": NOT_FOUND,
            },
            **extra,
        },
    }


def _paths() -> dict[str, Any]:
    sign_in = [{"session": []}]
    sites = _list_operation(
        "listSites",
        "Teaching sites",
        "SitePage",
        [
            *_common("q", "member"),
            _text("theme", "The sites' theme (exact)."),
            *_common("status"),
            _number(
                "min_capacity",
                {"minimum": 1, "maximum": MAX_MIN_CAPACITY},
                "Sites holding at least this many people per session.",
            ),
            _choice("guide", ["", "yes", "no"], "Sites that need a guide, or not."),
            _choice(
                "sort",
                ["name", "capacity", "score"],
                "Order: by name, by capacity, or by the latest assessment score.",
                default="name",
            ),
            *_common("page", "per_page"),
        ],
        "catalogue",
    )
    teachers = _list_operation(
        "listTeachers",
        "Teachers",
        "TeacherPage",
        [
            *_common("q", "member"),
            _choice("kind", ["", *TEACHER_KINDS], "Full-time or part-time teachers."),
            _text("title", "The teachers' title (exact)."),
            _text("topic", "Teachers whose research topics contain this text."),
            _choice("shared", ["", "yes", "no"], "Teachers shared with the consortium, or not."),
            *_common("status", "page", "per_page"),
        ],
        "catalogue",
    )
    teachers["get"]["description"] = (
        "Teachers that are not shared are listed only for the office and for staff of the "
        "teacher's own member (the user of the session cookie)."
    )
    courses = _list_operation(
        "listCourses",
        "Courses",
        "CoursePage",
        [
            *_common("q", "member"),
            _choice("kind", ["", *COURSE_KINDS], "The kind of course."),
            _choice("excellent", ["", "yes"], "Only excellent courses (精品课程)."),
            *_common("status", "page", "per_page"),
        ],
        "catalogue",
    )
    teacher = _item_operation("getTeacher", "One teacher", "Teacher", "teacher_id", "catalogue")
    teacher["get"]["description"] = "Teachers the user may not see answer 404."
    return {
        "/sites": sites,
        "/sites/{site_id}": _item_operation(
            "getSite", "One teaching site (any status)", "Site", "site_id", "catalogue"
        ),
        "/teachers": teachers,
        "/teachers/{teacher_id}": teacher,
        "/courses": courses,
        "/courses/{course_id}": _item_operation(
            "getCourse", "One course (any status)", "Course", "course_id", "catalogue"
        ),
        "/availability": {
            "get": {
                "operationId": "getAvailability",
                "summary": "A site's availability, day by day",
                "description": f"At most {MAX_DAYS} days (from and to included). The windows "
                "already held carry no class names.",
                "tags": ["scheduling"],
                "parameters": [
                    _query(
                        "site",
                        {"type": "string", "pattern": NO_NUL},
                        "The site's id or key.",
                        required=True,
                    ),
                    _query(
                        "from",
                        {"type": "string", "format": "date"},
                        "First day (YYYY-MM-DD).",
                        required=True,
                    ),
                    _query(
                        "to",
                        {"type": "string", "format": "date"},
                        f"Last day (YYYY-MM-DD): from `from` to {MAX_DAYS - 1} days after it.",
                        required=True,
                    ),
                ],
                "responses": {
                    "200": _json(_ref("Availability"), "The site's days."),
                    "400": BAD_PARAMETERS,
                },
            }
        },
        "/bookings": {
            "get": {
                "operationId": "listBookings",
                "summary": "Bookings the user may see",
                "description": "The organizer's own bookings, the bookings touching a member's "
                "sites for member staff, every booking for the office; newest start date "
                f"first, at most {MAX_BOOKINGS}.",
                "tags": ["scheduling"],
                "security": sign_in,
                "parameters": [
                    _choice("status", ["", *BOOKING_STATUSES], "The bookings' status."),
                ],
                "responses": {
                    "200": _json(_ref("BookingList"), "The bookings."),
                    "400": BAD_PARAMETERS,
                    "401": NOT_SIGNED_IN,
                },
            }
        },
        "/bookings/{booking_id}": {
            "parameters": [
                {"name": "booking_id", "in": "path", "required": True, "schema": ID_SCHEMA},
            ],
            "get": {
                "operationId": "getBooking",
                "summary": "One booking",
                "description": "Bookings the user may not see answer 404.",
                "tags": ["scheduling"],
                "security": sign_in,
                "responses": {
                    "200": _json(_ref("Booking"), "The booking."),
                    "401": NOT_SIGNED_IN,
                    "404": NOT_FOUND,
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document",
                "tags": ["meta"],
                "responses": {"200": _json(_ref("OpenAPI"), "The OpenAPI document.")},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of /api/v1 (needs an app context for the session cookie's name)."""
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Ring Route Portal API (环线培训门户)",
            "version": API_VERSION,
            "description": "Read access to the shared catalogue and to scheduling for members' "
            "own systems. GET only; other methods answer 405. Unknown query parameters are "
            'ignored. Errors answer `{"error": message, "status": code}` with a message in '
            "Chinese (or the language chosen in the session); a bad parameter answers 400 "
            "with `fields` as well. The session cookie "
            "identifies the user where an answer depends on who asks.",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "catalogue", "description": "Teaching sites, teachers and courses."},
            {"name": "scheduling", "description": "Availability and bookings."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": {
                "BadParameters": _json(_ref("ParameterError"), "A parameter is invalid."),
                "NotFound": _json(_ref("Error"), "No such item, or not visible to the user."),
                "NotSignedIn": _json(_ref("Error"), "Not signed in."),
            },
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": cookie,
                    "description": "The portal's session cookie, set by signing in at /login.",
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
