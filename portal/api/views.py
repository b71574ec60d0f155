"""The JSON API (/api/v1): read access to the catalogue for members' own systems.

Read-only (GET only; other methods answer 405). Lists take the same filters as the HTML
catalogue pages (the same filter forms and search services) plus ``per_page``.

Endpoints
---------
``GET /api/v1/sites``
    q, member (member id or member key), theme, status, min_capacity (1..100000),
    guide (yes|no), sort (name|capacity|score), page, per_page.
``GET /api/v1/teachers``
    q, member, kind (full_time|part_time), title, topic, shared (yes|no), status, page,
    per_page. Teachers that are not shared are listed only for the office and for staff of
    the teacher's own member (the logged-in user of the session cookie).
``GET /api/v1/courses``
    q, member, kind (lecture|onsite|case|seminar), excellent (yes), status, page, per_page.
``GET /api/v1/sites/<id>``, ``/api/v1/teachers/<id>``, ``/api/v1/courses/<id>``
    One item (any status). Unknown ids, and teachers the user may not see, answer 404.

Parameters
----------
``status`` defaults to ``active``; ``status=`` (empty) means every status; otherwise one of
active, suspended, retired. ``page`` defaults to 1 (a page past the end answers the last
page), ``per_page`` to 20 (1..100). An unknown ``member`` (id or key) gives an empty list,
not an error. Unknown parameters are ignored.

Responses
---------
A list answers ``{"items": [...], "page": n, "per_page": n, "total": n, "pages": n}``
(``pages`` is at least 1). Errors answer ``{"error": "<message>", "status": code}``; a bad
parameter answers 400 with ``"fields": {"<parameter>": "<message>"}`` as well.

Items (``member`` is ``{"id", "key", "name", "short_name"}``; ``url`` is the absolute
address of the item's HTML page)::

    site:    id, key, name, member, theme, description, capacity, session_minutes,
             open_weekdays ([1..7], 1 = Monday), opens ("HH:MM"), closes ("HH:MM"),
             needs_guide, address, latitude, longitude (float or null), status,
             latest_score (score of the latest yearly assessment, float or null), url
    teacher: id, key, name, member, kind, kind_label, title, topics (list of strings),
             shared, status, url
    course:  id, key, name, member, kind, kind_label, hours (float), excellent,
             site ({"id", "name"} or null), teachers ([{"id", "name", "title"}]), status, url

``key`` is the item's key in its member's own system (null for items created in the
portal).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.catalog.forms import (
    CourseFilterForm,
    FilterForm,
    SiteFilterForm,
    TeacherFilterForm,
    yes_no,
)
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.catalog.services import (
    Page,
    can_edit,
    latest_scores,
    search_courses,
    search_sites,
    search_teachers,
    teacher_visible,
)
from portal.extensions import db
from portal.members.models import Member

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Ids beyond a 32-bit integer column cannot exist (and would overflow the database driver).
MAX_ID = 2**31 - 1
ID = f"int(max={MAX_ID})"
NO_MEMBER = -1  # The member filter names no member: the answer is empty.


class InvalidParameters(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


@bp.errorhandler(InvalidParameters)
def _invalid_parameters(error: InvalidParameters):
    return _error(400, _("请求参数有误，请检查后重试。"), error.fields)


def _error(status: int, message: str, fields: dict[str, str] | None = None):
    body: dict[str, Any] = {"error": message, "status": status}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


def _not_found():
    return _error(404, _("没有找到该条目。"))


# ---------------------------------------------------------------- parameters


def _per_page(errors: dict[str, str]) -> int:
    value = request.args.get("per_page", "").strip()
    if not value:
        return DEFAULT_PER_PAGE
    if value.isascii() and value.isdigit() and len(value) <= 3:
        number = int(value)
        if 1 <= number <= MAX_PER_PAGE:
            return number
    errors["per_page"] = _("每页条数须为 1 到 %(max)s 之间的整数。", max=MAX_PER_PAGE)
    return DEFAULT_PER_PAGE


def read_filters(form_class: type[FilterForm], **defaults: Any) -> tuple[Any, int]:
    """The filter form filled from the query string, and per_page; 400 on a bad parameter.

    ``defaults`` apply to parameters that are absent (an empty parameter stays empty).
    """
    form = form_class(formdata=request.args, status="active", **defaults)
    for name in ("member", "theme", "title"):
        if name in form:
            form[name].choices = []
    errors: dict[str, str] = {}
    if not form.validate():
        errors.update({name: str(messages[0]) for name, messages in form.errors.items()})
    per_page = _per_page(errors)
    for name in (*form.data, "per_page"):
        if any("\x00" in value for value in request.args.getlist(name)):
            errors[name] = _("包含无效字符。")
    if errors:
        raise InvalidParameters(errors)
    return form, per_page


def member_filter(form: FilterForm) -> int | None:
    """The member id to filter on (``member`` is an id or a key), NO_MEMBER if none matches."""
    value = (form.member.data or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        number = int(value) if len(value) <= 10 else 0
        return number if 1 <= number <= MAX_ID else NO_MEMBER
    member_id = db.session.scalar(select(Member.id).where(Member.key == value))
    return member_id if member_id is not None else NO_MEMBER


def _text(field: Any) -> str:
    return (field.data or "").strip()


def _page_number(form: FilterForm) -> int:
    return form.page.data or 1


# ---------------------------------------------------------------- serializers


def detail_url(endpoint: str, path: str, **values: Any) -> str:
    """The absolute address of an item's HTML page (by hand if the endpoint is missing)."""
    if endpoint in current_app.view_functions:
        try:
            return url_for(endpoint, _external=True, **values)
        except BuildError:
            pass
    return request.url_root.rstrip("/") + path


def member_json(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "key": member.key,
        "name": member.name,
        "short_name": member.short_name,
    }


def site_json(site: TeachingSite, score: float | None) -> dict[str, Any]:
    return {
        "id": site.id,
        "key": site.key,
        "name": site.name,
        "member": member_json(site.member),
        "theme": site.theme,
        "description": site.description,
        "capacity": site.capacity,
        "session_minutes": site.session_minutes,
        "open_weekdays": [int(d) for d in site.open_weekdays or "" if d.isdigit()],
        "opens": site.opens.strftime("%H:%M"),
        "closes": site.closes.strftime("%H:%M"),
        "needs_guide": site.needs_guide,
        "address": site.address,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "status": site.status,
        "latest_score": float(score) if score is not None else None,
        "url": detail_url("catalog.site_detail", f"/sites/{site.id}", site_id=site.id),
    }


def teacher_json(teacher: Teacher) -> dict[str, Any]:
    return {
        "id": teacher.id,
        "key": teacher.key,
        "name": teacher.name,
        "member": member_json(teacher.member),
        "kind": teacher.kind,
        "kind_label": teacher.kind_label,
        "title": teacher.title,
        "topics": [t.strip() for t in (teacher.topics or "").split("、") if t.strip()],
        "shared": teacher.shared,
        "status": teacher.status,
        "url": detail_url(
            "catalog.teacher_detail", f"/teachers/{teacher.id}", teacher_id=teacher.id
        ),
    }


def course_json(course: Course) -> dict[str, Any]:
    site = course.site
    return {
        "id": course.id,
        "key": course.key,
        "name": course.name,
        "member": member_json(course.member),
        "kind": course.kind,
        "kind_label": course.kind_label,
        "hours": float(course.hours),
        "excellent": course.excellent,
        "site": {"id": site.id, "name": site.name} if site is not None else None,
        "teachers": [{"id": t.id, "name": t.name, "title": t.title} for t in course.teachers],
        "status": course.status,
        "url": detail_url("catalog.course_detail", f"/courses/{course.id}", course_id=course.id),
    }


def page_json(page: Page, items: list[dict[str, Any]]):
    return jsonify(
        items=items,
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )


def _empty(per_page: int) -> Page:
    return Page([], 0, 1, per_page)


# ---------------------------------------------------------------- lists


@bp.get("/sites")
def sites():
    form, per_page = read_filters(SiteFilterForm, guide="", sort="name")
    member_id = member_filter(form)
    if member_id == NO_MEMBER:
        page = _empty(per_page)
    else:
        page = search_sites(
            q=_text(form.q),
            member_id=member_id,
            theme=_text(form.theme),
            status=form.status.data or "",
            min_capacity=form.min_capacity.data,
            needs_guide=yes_no(form.guide.data),
            sort=form.sort.data or "name",
            page=_page_number(form),
            per_page=per_page,
        )
    scores = latest_scores(site.id for site in page.items)
    return page_json(page, [site_json(site, scores.get(site.id)) for site in page.items])


@bp.get("/teachers")
def teachers():
    form, per_page = read_filters(TeacherFilterForm, kind="", shared="")
    member_id = member_filter(form)
    if member_id == NO_MEMBER:
        page = _empty(per_page)
    else:
        page = search_teachers(
            current_user,
            q=_text(form.q),
            member_id=member_id,
            kind=form.kind.data or "",
            title=_text(form.title),
            topic=_text(form.topic),
            shared=yes_no(form.shared.data),
            status=form.status.data or "",
            page=_page_number(form),
            per_page=per_page,
        )
    return page_json(page, [teacher_json(teacher) for teacher in page.items])


@bp.get("/courses")
def courses():
    form, per_page = read_filters(CourseFilterForm, kind="", excellent="")
    member_id = member_filter(form)
    if member_id == NO_MEMBER:
        page = _empty(per_page)
    else:
        page = search_courses(
            q=_text(form.q),
            member_id=member_id,
            kind=form.kind.data or "",
            excellent=yes_no(form.excellent.data),
            status=form.status.data or "",
            page=_page_number(form),
            per_page=per_page,
        )
    return page_json(page, [course_json(course) for course in page.items])


# ---------------------------------------------------------------- single items


@bp.get(f"/sites/<{ID}:site_id>")
def site(site_id: int):
    item = db.session.get(TeachingSite, site_id)
    if item is None or (
        item.admission != "admitted" and not can_edit(current_user, item.member_id)
    ):
        return _not_found()  # under review: not in the directory yet
    return jsonify(site_json(item, latest_scores([item.id]).get(item.id)))


@bp.get(f"/teachers/<{ID}:teacher_id>")
def teacher(teacher_id: int):
    item = db.session.get(Teacher, teacher_id)
    if item is None or not teacher_visible(item, current_user):
        return _not_found()
    return jsonify(teacher_json(item))


@bp.get(f"/courses/<{ID}:course_id>")
def course(course_id: int):
    item = db.session.get(Course, course_id)
    if item is None:
        return _not_found()
    return jsonify(course_json(item))
