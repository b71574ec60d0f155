"""Catalogue search: the filtered, sorted and paginated lists of sites, teachers and courses.

``search_sites``, ``search_teachers`` and ``search_courses`` build the queries behind the
catalogue's list pages, its exports and the API; ``paginate`` turns a query into a
``Page``. Sites can be sorted by their latest assessment score (``latest_score_subquery``,
``latest_scores``); teachers are limited to those the viewer may see. ``distinct_values``
gives the choices of a filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from portal import plugins
from portal.catalog.models import Course, SiteAssessment, Teacher, TeachingSite
from portal.catalog.permissions import teacher_visibility
from portal.extensions import db
from portal.members.models import Member


@dataclass
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def paginate(query: Select, page: int, per_page: int, options: Sequence = ()) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    items = db.session.scalars(
        query.options(*options).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items, total, page, per_page)


def _like(text: str) -> str:
    text = text.replace("\x00", "")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def latest_score_subquery():
    """Each site's score in its most recent assessment year."""
    latest_year = (
        select(SiteAssessment.site_id, func.max(SiteAssessment.year).label("year"))
        .group_by(SiteAssessment.site_id)
        .subquery()
    )
    return (
        select(SiteAssessment.site_id, SiteAssessment.score.label("score"))
        .join(
            latest_year,
            and_(
                latest_year.c.site_id == SiteAssessment.site_id,
                latest_year.c.year == SiteAssessment.year,
            ),
        )
        .subquery()
    )


def search_sites(
    *,
    q: str = "",
    member_id: int | None = None,
    theme: str = "",
    status: str = "active",
    min_capacity: int | None = None,
    needs_guide: bool | None = None,
    bookable_only: bool = False,
    sort: str = "name",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Sites matching the filters; ``sort`` is name, capacity or score (latest assessment)."""
    query = select(TeachingSite)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                TeachingSite.name.ilike(pattern, escape="\\"),
                TeachingSite.description.ilike(pattern, escape="\\"),
                TeachingSite.address.ilike(pattern, escape="\\"),
                TeachingSite.theme.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(TeachingSite.member_id == member_id)
    if theme:
        query = query.where(TeachingSite.theme == theme.replace("\x00", ""))
    if status:
        query = query.where(TeachingSite.status == status)
    # Sites still under review (or sent back) are not in the directory yet: see portal/directory.
    query = query.where(TeachingSite.admission == "admitted")
    if min_capacity:
        query = query.where(TeachingSite.capacity >= min_capacity)
    if needs_guide is not None:
        query = query.where(TeachingSite.needs_guide.is_(needs_guide))
    if bookable_only:
        enabled = select(Member.id).where(Member.plugin.in_(sorted(plugins.enabled_plugin_names())))
        query = query.where(TeachingSite.member_id.in_(enabled), TeachingSite.status == "active")
    if sort == "score":
        # Joined only to sort by: every site's latest assessment is worked out for it.
        scores = latest_score_subquery()
        query = query.outerjoin(scores, scores.c.site_id == TeachingSite.id)
        order = (scores.c.score.is_(None), scores.c.score.desc(), TeachingSite.id)
    elif sort == "capacity":
        order = (TeachingSite.capacity.desc(), TeachingSite.id)
    else:
        order = (TeachingSite.name, TeachingSite.id)
    return paginate(query.order_by(*order), page, per_page, (selectinload(TeachingSite.member),))


def latest_scores(site_ids: Iterable[int]) -> dict[int, float]:
    scores = latest_score_subquery()
    ids = list(site_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(scores.c.site_id, scores.c.score).where(scores.c.site_id.in_(ids))
        ).all()
    )


def search_teachers(
    viewer: Any,
    *,
    q: str = "",
    member_id: int | None = None,
    kind: str = "",
    title: str = "",
    topic: str = "",
    shared: bool | None = None,
    status: str = "active",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Teachers the viewer may see (shared ones, plus their own member's) matching the filters."""
    query = select(Teacher).where(*teacher_visibility(viewer))
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                Teacher.name.ilike(pattern, escape="\\"),
                Teacher.topics.ilike(pattern, escape="\\"),
                Teacher.bio.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(Teacher.member_id == member_id)
    if kind:
        query = query.where(Teacher.kind == kind)
    if title:
        query = query.where(Teacher.title == title.replace("\x00", ""))
    if topic:
        query = query.where(Teacher.topics.ilike(_like(topic), escape="\\"))
    if shared is not None:
        query = query.where(Teacher.shared.is_(shared))
    if status:
        query = query.where(Teacher.status == status)
    return paginate(
        query.order_by(Teacher.name, Teacher.id), page, per_page, (selectinload(Teacher.member),)
    )


def search_courses(
    *,
    q: str = "",
    member_id: int | None = None,
    kind: str = "",
    excellent: bool | None = None,
    site_id: int | None = None,
    teacher_id: int | None = None,
    status: str = "active",
    page: int = 1,
    per_page: int = 20,
) -> Page:
    query = select(Course)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                Course.name.ilike(pattern, escape="\\"),
                Course.description.ilike(pattern, escape="\\"),
            )
        )
    if member_id:
        query = query.where(Course.member_id == member_id)
    if kind:
        query = query.where(Course.kind == kind)
    if excellent is not None:
        query = query.where(Course.excellent.is_(excellent))
    if site_id:
        query = query.where(Course.site_id == site_id)
    if teacher_id:
        query = query.where(Course.teachers.any(Teacher.id == teacher_id))
    if status:
        query = query.where(Course.status == status)
    return paginate(
        query.order_by(Course.excellent.desc(), Course.name, Course.id),
        page,
        per_page,
        (selectinload(Course.member), selectinload(Course.teachers), selectinload(Course.site)),
    )


def distinct_values(column: Any) -> list[str]:
    """The values a filter can choose from (themes, titles …), sorted."""
    return sorted(v for v in db.session.scalars(select(column).distinct()) if v)
