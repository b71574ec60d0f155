"""Pages of plan review (审核培训计划) and needs surveys (培训需求征集), on the reports blueprint.

Thin: who may do what is decided in ``review`` and ``survey``; a class that is not the
organizer's answers 404, a page of another role 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.formfields import show_errors
from portal.reports import exports, review, survey
from portal.reports.forms import (
    ClassPlanForm,
    CloseSurveyForm,
    ExemptionForm,
    PlanDecisionForm,
    SurveyAnswerForm,
    SurveyForm,
)
from portal.reports.models import PLAN_STATUSES, ClassPlan
from portal.reports.views import MIMETYPES, bp
from portal.scheduling.classes import active_bookings, needs_ring_route, require_class_owner
from portal.scheduling.models import RouteTemplate, TrainingClass

ID = "int(max=2147483647)"


# ---------------------------------------------------------------- plan review


def _load_class(class_id: int) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        abort(404)
    try:
        require_class_owner(training_class, current_user)
    except NotFound:
        abort(404)
    return training_class


def _route_choices() -> list[tuple[str, str]]:
    routes = db.session.scalars(
        select(RouteTemplate)
        .where(RouteTemplate.status == "published")
        .order_by(RouteTemplate.name)
    )
    return [("", _("不选线路（自定行程）")), *((str(r.id), r.name) for r in routes)]


def _render_plan(training_class, plan, form, status=200, decision=None, exemption=None):
    return render_template(
        "reports/class_plan.html",
        training_class=training_class,
        plan=plan,
        form=form,
        decision=decision or PlanDecisionForm(prefix="d"),
        exemption=exemption or ExemptionForm(prefix="x"),
        review_required=review.review_required(),
        rule_applies=needs_ring_route(training_class),
        booked=bool(active_bookings(training_class)),
        unmet=review.ring_route_unmet(training_class, plan),
    ), status


@bp.route(f"/classes/<{ID}:class_id>/plan", methods=["GET", "POST"])
@login_required
def class_plan(class_id: int):
    """A class's plan: its organizer submits it; the office reads it and decides below."""
    if not (current_user.is_office or current_user.role == "organizer"):
        abort(403)
    training_class = _load_class(class_id)
    plan = review.plan_of(training_class)
    form = ClassPlanForm(obj=plan)
    form.template_id.choices = _route_choices()
    if not form.is_submitted():
        source = plan or training_class
        form.starts_on.data, form.ends_on.data = source.starts_on, source.ends_on
        form.theme.data, form.size.data = source.theme, source.size
        form.template_id.data = str(plan.template_id or "") if plan else ""
        return _render_plan(training_class, plan, form)
    if form.validate():
        try:
            review.submit_plan(training_class, current_user, form.values())
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("培训计划已提交，等待环线办审核。"), "success")
            return redirect(url_for("reports.class_plan", class_id=class_id))
    else:
        try:
            review.validate_plan(training_class, form.values())
        except ValidationFailed as error:
            show_errors(form, error)
    return _render_plan(training_class, plan, form, 400)


def _office_plan(class_id: int) -> tuple[TrainingClass, ClassPlan]:
    if not current_user.is_office:
        abort(403)
    training_class = _load_class(class_id)
    plan = review.plan_of(training_class)
    if plan is None:
        abort(404)
    return training_class, plan


@bp.post(f"/classes/<{ID}:class_id>/plan/decide")
@login_required
def class_plan_decide(class_id: int):
    """The office approves the plan or sends it back with comments."""
    training_class, plan = _office_plan(class_id)
    decision = PlanDecisionForm(prefix="d")
    if not decision.validate_on_submit():
        form = ClassPlanForm(obj=plan)
        form.template_id.choices = _route_choices()
        return _render_plan(training_class, plan, form, 400, decision=decision)
    approve = bool(decision.approve.data)
    try:
        review.decide_plan(plan, current_user, approve, decision.comments.data)
    except (ValidationFailed, ServiceError) as error:
        db.session.rollback()
        if isinstance(error, ValidationFailed):
            show_errors(decision, error)
        else:
            flash(str(error), "danger")
        form = ClassPlanForm(obj=plan)
        form.template_id.choices = _route_choices()
        return _render_plan(training_class, plan, form, 400, decision=decision)
    db.session.commit()
    flash(_("培训计划已审核通过。") if approve else _("培训计划已退回。"), "success")
    return redirect(url_for("reports.plan_reviews"))


@bp.post(f"/classes/<{ID}:class_id>/plan/exempt")
@login_required
def class_plan_exempt(class_id: int):
    """The office records why this class need not book the ring route."""
    training_class, plan = _office_plan(class_id)
    exemption = ExemptionForm(prefix="x")
    if exemption.validate_on_submit():
        try:
            review.exempt(plan, current_user, exemption.reason.data)
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(exemption, error)
        else:
            db.session.commit()
            flash(_("已登记免于环线的理由。"), "success")
            return redirect(url_for("reports.class_plan", class_id=class_id))
    form = ClassPlanForm(obj=plan)
    form.template_id.choices = _route_choices()
    return _render_plan(training_class, plan, form, 400, exemption=exemption)


@bp.get("/plan-reviews")
@login_required
def plan_reviews():
    """The office's list of class plans: those waiting for review first."""
    status = request.args.get("status", "")
    if status not in PLAN_STATUSES:
        status = ""
    try:
        plans = review.plans_for_review(current_user, status)
    except PermissionDenied:
        abort(403)
    return render_template(
        "reports/plan_reviews.html",
        plans=plans,
        status=status,
        statuses=PLAN_STATUSES,
        unmet={p.id for p in plans if review.ring_route_unmet(p.training_class, p)},
        review_required=review.review_required(),
    )


# ---------------------------------------------------------------- needs surveys


@bp.route("/surveys", methods=["GET", "POST"])
@login_required
def surveys():
    """The office opens surveys and lists them; a sending unit sees those it may answer."""
    try:
        found = survey.surveys_for(current_user)
    except PermissionDenied:
        abort(403)
    form = SurveyForm()
    status = 200
    if request.method == "POST":
        if not current_user.is_office:
            abort(403)
        if form.validate_on_submit():
            values = {
                key: getattr(form, key).data
                for key in ("title", "year", "intro", "topics", "formats", "ranks", "closes_on")
            }
            try:
                opened = survey.open_survey(current_user, values)
            except ValidationFailed as error:
                db.session.rollback()
                show_errors(form, error)
            else:
                db.session.commit()
                flash(_("已发起需求征集：%(title)s", title=opened.title), "success")
                return redirect(url_for("reports.survey_detail", survey_id=opened.id))
        status = 400
    return render_template("reports/surveys.html", surveys=found, form=form), status


def _answer_values(found) -> dict[str, Any]:
    cadres: dict[str, Any] = {}
    for i, rank in enumerate(found.ranks):
        text = (request.form.get(f"cadres-{i}") or "").strip()
        if text:
            cadres[rank] = int(text) if text.isdigit() and len(text) < 10 else -1
    months = [int(m) for m in request.form.getlist("months") if m.isdigit() and len(m) < 3] + [
        -1 for m in request.form.getlist("months") if not (m.isdigit() and len(m) < 3)
    ]
    return {
        "topics": request.form.getlist("topics"),
        "formats": request.form.getlist("formats"),
        "months": months,
        "cadres": cadres,
    }


@bp.route(f"/surveys/<{ID}:survey_id>", methods=["GET", "POST"])
@login_required
def survey_detail(survey_id: int):
    """A sending unit answers; the office sees the summary by topic."""
    try:
        found = survey.get_survey(survey_id, current_user)
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    if current_user.is_office:
        if request.method == "POST":
            abort(403)
        return render_template(
            "reports/survey_summary.html",
            survey=found,
            summary=survey.summarise(found, current_user),
            close_form=CloseSurveyForm(),
            is_open=survey.is_open(found),
        )
    answer = survey.answer_of(found, current_user)
    form = SurveyAnswerForm(obj=answer)
    status = 200
    errors: dict[str, str] = {}
    typed: dict[str, Any] = (
        {
            "topics": answer.topics,
            "formats": answer.formats,
            "months": answer.months,
            "cadres": {r: str(n) for r, n in answer.cadres.items()},
        }
        if answer is not None
        else {"topics": [], "formats": [], "months": [], "cadres": {}}
    )
    if request.method == "POST":
        values = _answer_values(found)
        typed = {
            **values,
            "cadres": {
                rank: request.form.get(f"cadres-{i}", "") for i, rank in enumerate(found.ranks)
            },
        }
        if form.validate_on_submit():
            try:
                survey.submit_answer(found, current_user, {**values, "note": form.note.data})
            except ValidationFailed as error:
                db.session.rollback()
                errors = error.errors
                if "note" in errors:
                    form.note.errors = [errors["note"]]
            except ServiceError as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                db.session.commit()
                flash(_("已提交培训需求，截止前可以修改。"), "success")
                return redirect(url_for("reports.survey_detail", survey_id=survey_id))
        status = 400
    return render_template(
        "reports/survey_answer.html",
        survey=found,
        answer=answer,
        form=form,
        typed=typed,
        errors=errors,
        is_open=survey.is_open(found),
    ), status


@bp.post(f"/surveys/<{ID}:survey_id>/close")
@login_required
def survey_close(survey_id: int):
    if not current_user.is_office:
        abort(403)
    try:
        found = survey.get_survey(survey_id, current_user)
    except NotFound:
        abort(404)
    if not CloseSurveyForm().validate_on_submit():
        abort(400)
    try:
        survey.close_survey(found, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(_("需求征集已结束。"), "success")
    return redirect(url_for("reports.survey_detail", survey_id=survey_id))


@bp.get(f"/surveys/<{ID}:survey_id>.xlsx")
@login_required
def survey_export(survey_id: int):
    if not current_user.is_office:
        abort(403)
    try:
        found = survey.get_survey(survey_id, current_user)
    except NotFound:
        abort(404)
    data = exports.survey_xlsx(survey.summarise(found, current_user))
    response = Response(data, mimetype=MIMETYPES["xlsx"])
    name = quote(_("培训需求征集") + ".xlsx")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response
