"""Contests: criteria, judges, entries, judging and scores, results and winners.

The office sets the criteria, appoints and removes judges, publishes the results and names
the winners; members submit and withdraw entries; judges score the entries of other
members; the results page and its Excel export show what the viewer may see. Outside
judges, grades and winners' certificates are in award_views.py. Routes of the ``events``
blueprint (views.py), imported by the app factory.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from portal.catalog import excel
from portal.errors import PermissionDenied, ServiceError
from portal.events import forms
from portal.events.access import is_member_user, is_office
from portal.events.awards import certificate_visible, publish_results_confirmed
from portal.events.contests import (
    appoint_judge,
    can_manage_entry,
    has_scores,
    is_judge,
    judge_scores,
    judge_sheet,
    publish_problem,
    record_scores,
    remove_judge,
    results_visible,
    score_field,
    set_criteria,
    set_top_winners,
    set_winners,
    submit_entry,
    withdraw_entry,
)
from portal.events.contests import results as contest_results
from portal.events.models import GRADES, ContestEntry, ContestJudge, JointEvent
from portal.events.views import (
    bp,
    entry_form,
    judge_form,
    load_event,
    refuse,
    render_detail,
    require_office,
    xlsx_response,
)
from portal.extensions import db
from portal.formfields import form_errors_text, show_errors
from portal.web import act

# ---------------------------------------------------------------- contests: criteria, judges, entries


@bp.route("/events/<int:event_id>/criteria", methods=["GET", "POST"])
@login_required
def criteria(event_id: int):
    require_office()
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    if request.method == "POST":
        form = forms.CriteriaForm()
    else:
        form = forms.CriteriaForm(
            data={"criteria": [{"name": c.name, "weight": str(c.weight)} for c in event.criteria]}
        )
    locked = has_scores(event) or event.results_published_at is not None
    if form.validate_on_submit():
        try:
            set_criteria(event, current_user, form.rows())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("评分标准已保存。"), "success")
            return redirect(url_for(".detail", event_id=event_id) + "#contest")
    elif form.is_submitted():
        flash(form_errors_text(form) or _("提交的内容无法处理。"), "danger")
    status = 400 if form.is_submitted() else 200
    return render_template("events/criteria.html", event=event, form=form, locked=locked), status


@bp.post("/events/<int:event_id>/judges")
@login_required
def judge_add(event_id: int):
    require_office()
    event = load_event(event_id)
    form = judge_form(event)
    if form.validate_on_submit():
        try:
            appointment = appoint_judge(event, current_user, form.user_id.data)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已聘请评委：%(name)s", name=appointment.label), "success")
            return redirect(url_for(".detail", event_id=event_id) + "#judges")
    return render_detail(load_event(event_id), judge_form=form), 400


@bp.post("/events/<int:event_id>/judges/<int:judge_id>/delete")
@login_required
def judge_delete(event_id: int, judge_id: int):
    require_office()
    event = load_event(event_id)
    appointment = db.session.get(ContestJudge, judge_id)
    if appointment is None or appointment.event_id != event.id:
        abort(404)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    act(lambda: remove_judge(appointment, current_user), _("已撤销评委。"))
    return redirect(url_for(".detail", event_id=event_id) + "#judges")


@bp.post("/events/<int:event_id>/entries")
@login_required
def entry_add(event_id: int):
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    if not (is_office(current_user) or is_member_user(current_user)):
        return refuse(_("只有成员单位工作人员或环线办可以报送。"))
    form = entry_form(event)
    if form.validate_on_submit():
        values = {
            "guide_name": form.guide_name.data if "guide_name" in form else None,
            "site_id": form.site_id.data if "site_id" in form else None,
            "course_id": form.course_id.data if "course_id" in form else None,
            "note": form.note.data,
        }
        member_id = form.member_id.data if "member_id" in form else None
        try:
            entry = submit_entry(event.id, current_user, values, member_id)
        except PermissionDenied as error:
            db.session.rollback()
            return refuse(error.message)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已报送：%(label)s", label=entry.label), "success")
            return redirect(url_for(".detail", event_id=event_id) + "#entries")
    return render_detail(load_event(event_id), entry_form=form), 400


@bp.post("/events/entries/<int:entry_id>/withdraw")
@login_required
def entry_withdraw(entry_id: int):
    entry = db.session.get(ContestEntry, entry_id)
    if entry is None or not can_manage_entry(current_user, entry):
        abort(404)
    event_id = entry.event_id
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    act(lambda: withdraw_entry(entry, current_user), _("已撤回参赛项目。"))
    return redirect(url_for(".detail", event_id=event_id) + "#entries")


# ---------------------------------------------------------------- judging


@bp.get("/events/<int:event_id>/judging")
@login_required
def judging(event_id: int):
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    try:
        rows = judge_sheet(event, current_user)
    except PermissionDenied as error:
        return refuse(error.message)
    return render_template("events/judging.html", event=event, rows=rows)


def score_form_class(event: JointEvent) -> type:
    fields: dict[str, Any] = {}
    for c in event.criteria:
        fields[score_field(c)] = StringField(
            _("%(name)s（权重 %(weight)s%%）", name=c.name, weight=c.weight),
            render_kw={
                "type": "number",
                "min": "0",
                "max": "100",
                "step": "0.1",
                "inputmode": "decimal",
            },
        )
    fields["submit"] = SubmitField(_("提交评分"))
    return type("ScoreForm", (FlaskForm,), fields)


@bp.route("/events/entries/<int:entry_id>/score", methods=["GET", "POST"])
@login_required
def score(entry_id: int):
    entry = db.session.get(ContestEntry, entry_id)
    if entry is None:
        abort(404)
    event = load_event(entry.event_id)
    if not is_judge(event, current_user):
        return refuse(_("只有本次大赛的评委可以评分。"))
    if entry.member_id == current_user.member_id:
        return refuse(_("评委不能为本单位的参赛项目评分，请回避。"))
    form_class = score_form_class(event)
    if request.method == "POST":
        form = form_class()
    else:
        mine = judge_scores(entry, current_user.id)
        form = form_class(data={score_field(k): f"{v:g}" for k, v in mine.items()})
    if form.validate_on_submit():
        values = {c.id: form[score_field(c)].data for c in event.criteria}
        try:
            total = record_scores(entry, current_user, values)
        except PermissionDenied as error:
            db.session.rollback()
            return refuse(error.message)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("已提交评分：%(label)s，加权得分 %(total)s。", label=entry.label, total=total),
                "success",
            )
            return redirect(url_for(".judging", event_id=event.id))
    status = 400 if form.is_submitted() else 200
    closed = event.status != "published" or event.results_published_at is not None
    return render_template(
        "events/score.html", event=event, entry=entry, form=form, closed=closed
    ), status


# ---------------------------------------------------------------- results and winners


@bp.get("/events/<int:event_id>/results")
def results(event_id: int):
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    shown = results_visible(event, current_user)
    return render_template(
        "events/results.html",
        event=event,
        rows=contest_results(event) if shown else [],
        shown=shown,
        is_office=is_office(current_user),
        plain_form=forms.PlainForm(),
        publish_problem=publish_problem(event),
        grades=GRADES,
        certificate_for=lambda entry: certificate_visible(entry, current_user),
    )


@bp.get("/events/<int:event_id>/results.xlsx")
def results_export(event_id: int):
    event = load_event(event_id)
    if not event.is_contest or not results_visible(event, current_user):
        abort(404)
    criteria = list(event.criteria)
    rows = contest_results(event)
    data = excel.workbook(
        "评比结果",
        (
            "名次",
            "参赛项目",
            "成员单位",
            *(f"{c.name}（{c.weight}%）" for c in criteria),
            "加权得分",
            "评委人数",
            "获奖",
        ),
        (6, 30, 16, *(14 for _c in criteria), 10, 8, 6),
        (
            (
                r.rank or "",
                r.entry.label,
                r.entry.member.short_name,
                *(float(r.averages[c.id]) if c.id in r.averages else "" for c in criteria),
                float(r.total) if r.total is not None else "",
                r.judges,
                (r.entry.grade_label or "是") if r.entry.winner else "",
            )
            for r in rows
        ),
    )
    return xlsx_response(data, f"评比结果_{event.id}")


@bp.post("/events/<int:event_id>/results/publish")
@login_required
def results_publish(event_id: int):
    require_office()
    event = load_event(event_id)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    confirmed = request.form.get("confirm") == "yes"
    act(lambda: publish_results_confirmed(event, current_user, confirmed), _("成绩已公布。"))
    return redirect(url_for(".results", event_id=event_id))


@bp.post("/events/<int:event_id>/winners")
@login_required
def winners(event_id: int):
    require_office()
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    try:
        if "top" in request.form:
            chosen = set_top_winners(event, current_user, request.form.get("top"))
        else:
            ids = [forms.int_or_none(v) for v in request.form.getlist("entry_ids")]
            chosen = set_winners(event, current_user, [i or 0 for i in ids])
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已评定获奖项目 %(count)s 个。", count=len(chosen)), "success")
    return redirect(url_for(".results", event_id=event_id))
