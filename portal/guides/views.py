"""The guide corps' pages: a member's roster, a guide's record and groups. Thin: the rules
are in ``portal.guides.services``; naming a guide for a stop is ``bookings.guide``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from portal.catalog.models import TeachingSite
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.guides import forms, services
from portal.guides.models import Guide
from portal.members.models import Member

ID = "int(max=2147483647)"
bp = Blueprint("guides", __name__, url_prefix="/guides", template_folder="templates")


def require_staff() -> None:
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


def require_staff_or_404() -> None:
    """A guide's pages: nothing behind them for anyone but member staff and the office."""
    if not (current_user.is_office or current_user.is_member_user):
        abort(404)


def whole(value: str | None) -> int | None:
    value = value or ""
    if value.isascii() and value.isdigit() and 0 < int(value) <= 2147483647:
        return int(value)
    return None


@bp.app_template_global("guide_roster")
def guide_roster(member_id: int) -> list[Guide]:
    """The active guides of a member, once per request (the inbox's guide choosers)."""
    cache: dict[int, list[Guide]] = g.setdefault("guide_rosters", {})
    if member_id not in cache:
        cache[member_id] = list(
            db.session.scalars(
                select(Guide)
                .where(Guide.member_id == member_id, Guide.active.is_(True))
                .order_by(Guide.name, Guide.id)
            )
        )
    return cache[member_id]


def fill_guide_form(form: forms.GuideForm, member_id: int | None) -> None:
    sites = select(TeachingSite).order_by(TeachingSite.name)
    if member_id is not None:
        sites = sites.where(TeachingSite.member_id == member_id)
    form.site.choices = [SelectChoice("", _("（不限）"))] + [
        SelectChoice(str(s.id), s.name) for s in db.session.scalars(sites)
    ]
    form.member.choices = [SelectChoice("", _("请选择"))] + [
        SelectChoice(str(m.id), m.short_name)
        for m in db.session.scalars(select(Member).order_by(Member.id))
    ]


def errors_text(errors: dict[str, Any]) -> str:
    return "；".join(str(e) for e in errors.values())


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """The roster (member staff: their member's; the office: all, or one member's) and a form
    to add a guide."""
    require_staff()
    member_id = whole(request.args.get("member")) if current_user.is_office else None
    form = forms.GuideForm()
    fill_guide_form(form, None if current_user.is_office else current_user.member_id)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                guide = services.create_guide(
                    current_user,
                    form.name.data,
                    form.phone.data,
                    whole(form.site.data),
                    form.grade.data or "trainee",
                    whole(form.member.data),
                )
            except ValidationFailed as error:
                db.session.rollback()
                for key, message in error.errors.items():
                    field = {"site_id": "site", "member_id": "member"}.get(key, key)
                    if field in form:
                        form[field].errors = [*form[field].errors, str(message)]
                flash(errors_text(error.errors), "danger")
                status = 400
            else:
                flash(_("已将%(name)s加入讲解员名册。", name=guide.name), "success")
                return redirect(url_for("guides.guide", guide_id=guide.id))
        else:
            status = 400
    guides = services.roster(current_user, member_id)
    return render_template(
        "guides/index.html", guides=guides, form=form, member_id=member_id
    ), status


@bp.route(f"/<{ID}:guide_id>", methods=["GET", "POST"])
@login_required
def guide(guide_id: int):
    """A guide's record (training, certificates, grade, rewards and penalties) and groups."""
    require_staff_or_404()
    try:
        guide = services.get_guide(guide_id, current_user)
    except NotFound:
        abort(404)
    form = forms.EntryForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.add_entry(
                    guide.id,
                    current_user,
                    form.kind.data,
                    form.on.data,
                    form.note.data,
                    form.grade.data,
                )
            except ValidationFailed as error:
                db.session.rollback()
                for key, message in error.errors.items():
                    if key in form:
                        form[key].errors = [*form[key].errors, str(message)]
                status = 400
            else:
                flash(_("已记录。"), "success")
                return redirect(url_for("guides.guide", guide_id=guide.id))
        else:
            status = 400
    return render_template(
        "guides/guide.html",
        guide=guide,
        form=form,
        active_form=forms.ActiveForm(),
        groups=services.guide_day(guide),
    ), status


@bp.post(f"/<{ID}:guide_id>/active")
@login_required
def active(guide_id: int):
    """Take a guide off the roster or back on."""
    require_staff_or_404()
    if not forms.ActiveForm().validate_on_submit():
        abort(400)
    try:
        guide = services.set_active(guide_id, current_user, request.form.get("active") == "1")
    except NotFound:
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("guides.index"))
    flash(_("已更新。"), "success")
    return redirect(url_for("guides.guide", guide_id=guide.id))
