"""Evaluations' pages: the trainee answers per stop; the class, members and office see averages.

Thin: who may see what is decided by portal.trainees (roster, class managers) and by
``services``; another class's or member's objects answer 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.evaluations import services
from portal.evaluations.forms import CriteriaForm, answer_form
from portal.evaluations.models import TARGETS, Evaluation, EvaluationCriterion
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling.models import Reservation
from portal.trainees import access, roster

bp = Blueprint("evaluations", __name__, template_folder="templates", url_prefix="/evaluations")


@bp.app_template_global("evaluation_summary")
def evaluation_summary(target: str, item_id: int) -> services.Summary | None:
    """What catalogue pages show (a global, so imported macros see it too)."""
    return services.public_summary(target, item_id)


@bp.app_template_global("evaluation_item_summary")
def evaluation_item_summary(target: str, item_id: int) -> services.Summary:
    """Every answer's average, whatever their number: an input of the yearly site assessment."""
    return services.item_summary(target, item_id)


@bp.app_template_global("evaluation_year_summary")
def evaluation_year_summary(target: str, item_id: int, year: int) -> services.Summary:
    """A year's answers: an input of the site directory's yearly assessment."""
    return services.year_summary(target, item_id, year)


def my_entry(class_id: int):
    try:
        return roster.require_trainee_of(class_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/classes/<int:class_id>/mine")
@login_required
def my_list(class_id: int):
    """The trainee's stops: those ended can be evaluated once."""
    training_class, entry = my_entry(class_id)
    return render_template(
        "evaluations/my_list.html",
        training_class=training_class,
        items=services.answerable_stops(training_class, entry),
    )


@bp.route("/stops/<int:reservation_id>", methods=["GET", "POST"])
@login_required
def answer(reservation_id: int):
    reservation = db.session.get(Reservation, reservation_id) or abort(404)
    training_class, entry = my_entry(reservation.booking.class_id)
    try:
        item, reservation = services.find_stop(entry, reservation_id)
    except NotFound:
        abort(404)
    targets = services.targets_of(reservation)
    form = None
    groups = []
    if item.ended and not item.answered:
        if db.session.scalar(db.select(EvaluationCriterion.id).limit(1)) is None:
            # Installed without the migration's defaults (a test database): write them once.
            services.ensure_criteria()
            db.session.commit()
        wanted = {t: services.criteria(t) for t in targets}
        form = answer_form([c for group in wanted.values() for c in group])
        groups = [(str(TARGETS[t]), [form[f"c{c.id}"] for c in wanted[t]]) for t in targets]
        if request.method == "POST":
            if form.validate_on_submit():
                scores = {c.id: form[f"c{c.id}"].data for g in wanted.values() for c in g}
                try:
                    services.submit(entry, reservation_id, scores, form.comment.data or "")
                except ValidationFailed as error:
                    for name, message in error.errors.items():
                        field = form._fields.get(name)
                        if field is not None:
                            field.errors = [*field.errors, message]
                        else:
                            flash(message, "danger")
                except ServiceError as error:
                    flash(error.message, "warning")
                    return redirect(url_for(".my_list", class_id=training_class.id))
                else:
                    db.session.commit()
                    flash(_("感谢您的评价！评价以匿名方式汇总。"), "success")
                    return redirect(url_for(".my_list", class_id=training_class.id))
            db.session.rollback()
    elif request.method == "POST":
        flash(
            _("你已经评价过这一站，每站只能评价一次。")
            if item.answered
            else _("这一站结束后才能评价。"),
            "warning",
        )
        return redirect(url_for(".my_list", class_id=training_class.id))
    return render_template(
        "evaluations/answer.html",
        training_class=training_class,
        item=item,
        form=form,
        groups=groups,
    ), 400 if form is not None and form.errors else 200


@bp.get("/classes/<int:class_id>")
@login_required
def class_report(class_id: int):
    """The class's averages, for its organizer, supervisors and the office."""
    try:
        training_class = access.get_managed_class(class_id, current_user)
    except NotFound:
        abort(404)
    answered = db.session.scalar(
        db.select(db.func.count(db.func.distinct(Evaluation.entry_id))).where(
            Evaluation.class_id == class_id
        )
    )
    return render_template(
        "evaluations/class_report.html",
        training_class=training_class,
        summary=services.class_summary(training_class),
        answered=answered or 0,
        people=roster.roster_count(class_id),
        minimum=1 if current_user.is_office else services.setting("evaluation_min_answers"),
    )


@bp.get("/")
@login_required
def overview():
    """A member's averages (their sites, courses, teachers); the office sees every member."""
    if current_user.is_office:
        member_id = request.args.get("member", type=int)
        member = db.session.get(Member, member_id) if member_id else None
    elif getattr(current_user, "is_member_user", False):
        member = db.session.get(Member, current_user.member_id)
    else:
        abort(403)
    member_id = member.id if member is not None else None
    members = []
    if current_user.is_office:
        members = [
            (m, services.member_summary(m.id))
            for m in db.session.scalars(db.select(Member).order_by(Member.id))
        ]
    return render_template(
        "evaluations/overview.html",
        member=member,
        members=members,
        summary=services.member_summary(member_id) if member_id else None,
        items=services.member_items(member_id) if member_id or current_user.is_office else [],
        comments=services.comments() if current_user.is_office else [],
        minimum=services.setting("evaluation_min_answers"),
    )


@bp.route("/criteria", methods=["GET", "POST"])
@login_required
def criteria():
    if not current_user.is_office:
        abort(403)
    form = CriteriaForm()
    if request.method == "GET":
        for target in TARGETS:
            form[target].data = "\n".join(c.label for c in services.criteria(target))
    elif form.validate_on_submit():
        try:
            services.save_criteria(current_user, {t: form[t].data for t in TARGETS})
        except PermissionDenied:
            abort(403)
        except ValidationFailed as error:
            for name, message in error.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash(_("评估指标已保存。"), "success")
            return redirect(url_for(".criteria"))
        db.session.rollback()
    return render_template("evaluations/criteria.html", form=form), (400 if form.errors else 200)
