"""The home page and the language switch."""

from __future__ import annotations

from babel.lists import format_list
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import func, select

from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.members.services import members_with_state
from portal.web import safe_next

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def index():
    counts = {
        label: db.session.scalar(
            select(func.count()).select_from(model).where(model.status == "active")
        )
        for label, model in (("sites", TeachingSite), ("teachers", Teacher), ("courses", Course))
    }
    members = members_with_state()
    return render_template(
        "home/index.html",
        members=members,
        # The members taking part, from the data: a member that joins appears here too.
        founders=format_list(
            [m.short_name for m, enabled in members if enabled], locale=get_locale()
        ),
        counts=counts,
        user=current_user,
    )


@bp.post("/locale")
def set_locale():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["PORTAL_LOCALES"]:
        abort(400)
    session["locale"] = locale
    return redirect(safe_next(request.form.get("next"), url_for("home.index")))
