"""The public catalogue of teaching sites (the full catalogue comes with its own issue)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from portal.catalog.models import Course, TeachingSite
from portal.extensions import db
from portal.scheduling.services import bookable_sites_query

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/sites")
def sites():
    rows = db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.status != "retired")
        .order_by(TeachingSite.member_id, TeachingSite.id)
    ).all()
    bookable = set(db.session.scalars(bookable_sites_query().with_only_columns(TeachingSite.id)))
    return render_template("catalog/sites.html", sites=rows, bookable=bookable)


@bp.get("/sites/<int:site_id>")
def site_detail(site_id: int):
    site = db.session.get(TeachingSite, site_id)
    if site is None:
        abort(404)
    courses = db.session.scalars(select(Course).where(Course.site_id == site.id)).all()
    bookable = db.session.scalar(
        bookable_sites_query().where(TeachingSite.id == site.id).with_only_columns(TeachingSite.id)
    )
    return render_template(
        "catalog/site_detail.html", site=site, courses=courses, bookable=bookable is not None
    )
