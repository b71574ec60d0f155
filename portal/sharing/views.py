"""Teacher sharing pages: borrowing requests, decisions, a teacher's lectures. Thin."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.catalog.models import Teacher
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.formfields import show_errors
from portal.sharing import forms, services

bp = Blueprint("sharing", __name__, url_prefix="/sharing", template_folder="templates")


def require_staff() -> None:
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    require_staff()
    if request.method == "POST" and not current_user.is_member_user:
        abort(403)  # the office decides loans but borrows for no member
    form = forms.LoanForm(prefix="loan")
    form.teacher_id.choices = [
        (str(t.id), f"{t.name}（{t.member.short_name}）")
        for t in services.lendable_teachers(current_user)
    ]
    if form.validate_on_submit():
        value = form.teacher_id.data or ""
        teacher = (
            db.session.get(Teacher, int(value))
            if value.isascii() and value.isdigit() and len(value) < 10
            else None
        )
        try:
            if teacher is None:
                raise ValidationFailed({"teacher_id": _("请选择教师。")})
            services.request_loan(
                current_user, teacher, form.starts_on.data, form.ends_on.data, form.purpose.data
            )
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已提交借用申请，等待教师所在单位确认。"), "success")
            return redirect(url_for("sharing.index"))
    own = []
    if current_user.is_member_user:
        own = list(
            db.session.scalars(
                select(Teacher)
                .where(Teacher.member_id == current_user.member_id, Teacher.status != "retired")
                .order_by(Teacher.name)
            )
        )
    return (
        render_template(
            "sharing/index.html",
            form=form,
            loans=services.loans_for(current_user),
            decision_form=forms.LoanDecisionForm(prefix="decide"),
            own=own,
            year=services.today_local().year,
        ),
        400 if form.is_submitted() and form.errors else 200,
    )


@bp.post("/loans/<int:loan_id>/decide")
@login_required
def decide(loan_id: int):
    try:
        loan = services.get_loan(loan_id, current_user)
    except NotFound:
        abort(404)
    form = forms.LoanDecisionForm(prefix="decide")
    if form.validate_on_submit():
        confirm = bool(form.approve.data)
        try:
            services.decide_loan(loan, current_user, confirm, form.reason.data)
        except ServiceError as error:
            db.session.rollback()
            if isinstance(error, PermissionDenied):
                abort(403)
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("已同意借用。") if confirm else _("已婉拒借用。"), "success")
    return redirect(url_for("sharing.index"))


@bp.get("/teachers/<int:teacher_id>/lectures")
@login_required
def lectures(teacher_id: int):
    try:
        teacher = services.get_teacher_for_log(teacher_id, current_user)
    except NotFound:
        abort(404)
    year = request.args.get("year", "")
    year = int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None
    if year is None or not 2000 <= year <= 2100:
        year = services.today_local().year
    rows, by_member = services.lectures(teacher, year)
    return render_template(
        "sharing/lectures.html", teacher=teacher, year=year, rows=rows, by_member=by_member
    )
