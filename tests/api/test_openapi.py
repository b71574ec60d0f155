"""The OpenAPI document of /api/v1: complete, valid, and true to the API (schemathesis).

Schemathesis generates requests from the document and sends them to the WSGI app of the
demo consortium (no server); every answer must be no 500, a documented status code and
content type, and a body that matches the documented schema. Runs are bounded and
reproducible: a fixed number of examples per operation, derandomized, with a deadline.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from portal.api.openapi import openapi_document
from portal.catalog.forms import CourseFilterForm, SiteFilterForm, TeacherFilterForm
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.models import Booking
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, stop, user

pytestmark = pytest.mark.db

DOCUMENT = "/api/v1/openapi.json"
PREFIX = "/api/v1"
MAX_EXAMPLES = 25
# Negative requests (values the document rules out) are slower to generate.
NEGATIVE_EXAMPLES = 15
# Per user, for the operations whose answer depends on who asks.
SIGNED_IN_EXAMPLES = 15
# The whole file runs in about 20 s on SQLite; this guards against a run that grows unbounded.
BUDGET_SECONDS = 90

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=5),
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Catalogue lists take no parameter the document does not bound, so every valid request is
# answered 200 and every invalid one 400.
LIST_CHECKS = [*CHECKS, positive_data_acceptance]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
# Any date at all: the availability endpoint answers 400 outside the years it can hold.
SAFE_DATES = st.dates()


@pytest.fixture
def booked(demo: Flask) -> int:
    """A booking with a visit at tengchong's memorial and a course at the party school."""
    tuesday = future_weekday(2)
    klass = new_class(20, name="接口测试班")
    booking = book(
        klass,
        [
            stop("dianxi_memorial", at(tuesday, 9), 90),
            stop(
                "main_hall",
                at(tuesday + timedelta(days=1), 9),
                90,
                index=1,
                course_key="theory_lecture",
            ),
        ],
        user("organizer"),
    )
    db.session.commit()
    return booking.id


@pytest.fixture
def api_schema(demo: Flask):
    return schemathesis.openapi.from_wsgi(DOCUMENT, demo)


def _ids(model) -> list[int]:
    return list(db.session.scalars(select(model.id).order_by(model.id)))


def fuzz(
    operation,
    client,
    strategy: st.SearchStrategy | None = None,
    checks: list = CHECKS,
    mode: GenerationMode = GenerationMode.POSITIVE,
    max_examples: int = MAX_EXAMPLES,
) -> Counter:
    """Send generated requests for ``operation``; return how often each status answered."""
    statuses: Counter = Counter()

    @settings(FUZZ, max_examples=max_examples)
    @given(case=strategy if strategy is not None else operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call_and_validate(session=client, checks=checks)
        statuses[response.status_code] += 1

    run()
    return statuses


def known(operation, name: str, values: list, **fixed) -> st.SearchStrategy:
    """Generated requests mixed with ones whose ``name`` path parameter is a real id."""
    return st.one_of(
        st.sampled_from(values).flatmap(
            lambda value: operation.as_strategy(path_parameters={name: value}, **fixed)
        ),
        operation.as_strategy(**fixed),
    )


def availability_requests(operation) -> st.SearchStrategy:
    """Generated requests, and requests for a real site (by id or key) over a short span."""
    sites = db.session.execute(select(TeachingSite.id, TeachingSite.key)).all()
    references = [str(site_id) for site_id, _ in sites] + [key for _, key in sites if key]

    @st.composite
    def real_site(draw) -> dict:
        start = draw(SAFE_DATES)
        end = start + timedelta(days=draw(st.integers(-2, 64)))
        return {"site": draw(st.sampled_from(references)), "from": str(start), "to": str(end)}

    return st.one_of(
        real_site().flatmap(lambda query: operation.as_strategy(query=query)),
        operation.as_strategy(),
    )


def session_cookie(client, app: Flask) -> dict[str, str]:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return {cookie.key: cookie.value}


# ---------------------------------------------------------------- the document


def test_document_is_served_and_is_valid_openapi(client):
    response = client.get(DOCUMENT)
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.0.")
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    operations = list(schema.get_all_operations())
    assert operations and all(result.ok() for result in operations)


def test_an_invalid_document_is_refused():
    app = Flask(__name__)
    with app.app_context():
        document = openapi_document()
    document["paths"]["/sites"]["get"]["parameters"][0] = {"name": "q", "in": "body"}
    with pytest.raises(Exception, match="body"):
        schemathesis.openapi.from_dict(document).validate()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule).removeprefix(PREFIX)


def test_every_api_route_is_documented_and_nothing_else(app):
    document = openapi_document()
    routes = {
        _openapi_path(rule.rule): rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/") and "GET" in (rule.methods or ())
    }
    documented = {path for path, item in document["paths"].items() if "get" in item}
    assert set(routes) == documented
    for path, rule in routes.items():
        item = document["paths"][path]
        names = {
            p["name"]
            for p in [*item.get("parameters", []), *item["get"].get("parameters", [])]
            if p.get("in") == "path"
        }
        assert names == set(rule.arguments), path
    assert all(set(item) <= {"get", "parameters"} for item in document["paths"].values())


def _query_names(document: dict, path: str) -> set[str]:
    names = set()
    for parameter in document["paths"][path]["get"].get("parameters", []):
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        assert parameter["in"] == "query"
        names.add(parameter["name"])
    return names


@pytest.mark.parametrize(
    ("path", "form_class"),
    [("/sites", SiteFilterForm), ("/teachers", TeacherFilterForm), ("/courses", CourseFilterForm)],
)
def test_list_parameters_are_the_filter_forms_fields(app, path, form_class):
    with app.test_request_context():
        fields = {field.name for field in form_class(formdata=None)}
    assert _query_names(openapi_document(), path) == fields | {"per_page"}


# ---------------------------------------------------------------- schemathesis


def test_anonymous_requests_conform(api_schema, booked, app):
    started = time.monotonic()
    client = app.test_client()
    for path in ("/sites", "/teachers", "/courses"):
        operation = api_schema[path]["GET"]
        assert fuzz(operation, client, checks=LIST_CHECKS).keys() <= {200, 400}, path
        fuzz(
            operation,
            client,
            checks=NEGATIVE_CHECKS,
            mode=GenerationMode.NEGATIVE,
            max_examples=NEGATIVE_EXAMPLES,
        )
    for path, name, model in (
        ("/sites/{site_id}", "site_id", TeachingSite),
        ("/teachers/{teacher_id}", "teacher_id", Teacher),
        ("/courses/{course_id}", "course_id", Course),
    ):
        operation = api_schema[path]["GET"]
        statuses = fuzz(operation, client, known(operation, name, _ids(model)))
        assert statuses[200] and statuses[404], path
    operation = api_schema["/availability"]["GET"]
    statuses = fuzz(operation, client, availability_requests(operation))
    assert statuses[200] and statuses[400]
    # A week with a window held (which random dates rarely meet).
    start = db.session.get(Booking, booked).start_date
    query = {"site": "dianxi_memorial", "from": str(start), "to": str(start + timedelta(days=6))}
    response = operation.Case(query=query).call_and_validate(session=client, checks=CHECKS)
    assert response.json()["days"][0]["held"]
    # Anonymous: any session cookie schemathesis makes up is refused.
    assert fuzz(api_schema["/bookings"]["GET"], client).keys() == {401}
    operation = api_schema["/bookings/{booking_id}"]["GET"]
    assert fuzz(operation, client, known(operation, "booking_id", [booked])).keys() == {401}
    # The document itself (schemathesis leaves it out of its own runs).
    assert fuzz(api_schema["/openapi.json"]["GET"], client, max_examples=1).keys() == {200}
    assert time.monotonic() - started < BUDGET_SECONDS


def test_signed_in_requests_conform(api_schema, booked, app):
    """Bookings, and teachers (whose visibility depends on who asks), for each kind of user."""
    started = time.monotonic()
    bookings = api_schema["/bookings"]["GET"]
    booking = api_schema["/bookings/{booking_id}"]["GET"]
    teachers = api_schema["/teachers"]["GET"]
    teacher = api_schema["/teachers/{teacher_id}"]["GET"]
    for username in ("office", "organizer", "tengchong_college_staff"):
        client = app.test_client()
        login(client, username)
        cookies = session_cookie(client, app)
        assert client.get("/api/v1/bookings").status_code == 200, username
        runs = [
            (bookings, bookings.as_strategy(cookies=cookies), CHECKS),
            (booking, known(booking, "booking_id", _ids(Booking), cookies=cookies), CHECKS),
            (teachers, teachers.as_strategy(cookies=cookies), LIST_CHECKS),
            (teacher, known(teacher, "teacher_id", _ids(Teacher), cookies=cookies), CHECKS),
        ]
        found = [
            fuzz(operation, client, strategy, checks=checks, max_examples=SIGNED_IN_EXAMPLES)
            for operation, strategy, checks in runs
        ]
        assert found[0].keys() <= {200, 400} and found[0][200], username
        assert found[1][200] and found[1][404], username
        assert found[2].keys() <= {200, 400}, username
        assert found[3][200], username
    assert time.monotonic() - started < BUDGET_SECONDS


def test_the_run_catches_an_undocumented_field(api_schema, demo, monkeypatch):
    from portal.api import views

    original = views.site_json
    monkeypatch.setattr(views, "site_json", lambda *args: {**original(*args), "secret": 1})
    operation = api_schema["/sites/{site_id}"]["GET"]
    with pytest.raises(FailureGroup, match="secret"):
        fuzz(
            operation,
            demo.test_client(),
            known(operation, "site_id", _ids(TeachingSite)),
            max_examples=5,
        )


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_availability_far_dates_do_not_fail_the_server(demo, client, day):
    response = client.get(f"/api/v1/availability?site=dianxi_memorial&from={day}&to={day}")
    assert response.status_code == 400
    assert "2000" in response.get_json()["fields"]["from"]
