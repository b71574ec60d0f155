"""Decisions of a meeting and their follow-up.

The office hands decisions to the members that carry them out; member staff mark theirs
done, the office may reopen one, and everyone sees the list of open, overdue and done
decisions they may see. Routes of the ``meetings`` blueprint (views.py), imported by the
app factory.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.catalog.views import show_errors
from portal.errors import NotFound
from portal.extensions import db
from portal.meetings import forms
from portal.meetings.decisions import (
    add_decisions,
    complete_decision,
    decisions_query,
    get_decision,
    overdue_decisions,
    reopen_decision,
)
from portal.meetings.models import Decision
from portal.meetings.times import today_local
from portal.meetings.views import (
    attempt,
    bp,
    flash_error,
    invited_choices,
    load,
    render_detail,
    require_office,
    require_staff,
    to_detail,
)

# ---------------------------------------------------------------- decisions and follow-up


@bp.post("/<int:meeting_id>/decisions")
@login_required
def decision_add(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.DecisionForm(prefix="decision")
    form.member_ids.choices = invited_choices(meeting)
    form.validate_on_submit()
    error = attempt(
        add_decisions,
        meeting,
        current_user,
        form.member_ids.data or [],
        form.text.data or "",
        form.due_on.data,
    )
    if error is not None:
        show_errors(form, error)
        return render_detail(load(meeting_id), 400, decision_form=form)
    flash(_("已交办议定事项，已通知承办单位。"), "success")
    return to_detail(meeting, "decisions")


def load_decision(decision_id: int) -> Decision:
    try:
        return get_decision(decision_id, current_user)
    except NotFound:
        abort(404)


def back_from_decision(decision: Decision) -> Any:
    if request.form.get("back") == "list":
        return redirect(url_for(".decisions"))
    return to_detail(decision.meeting, f"decision-{decision.id}")


@bp.post("/decisions/<int:decision_id>/done")
@login_required
def decision_done(decision_id: int):
    require_staff()
    decision = load_decision(decision_id)
    form = forms.DoneForm(prefix="done")
    form.validate_on_submit()
    error = attempt(complete_decision, decision, current_user, form.note.data or "")
    if error:
        flash_error(error)
    else:
        flash(_("已标记办结。"), "success")
    return back_from_decision(decision)


@bp.post("/decisions/<int:decision_id>/reopen")
@login_required
def decision_reopen(decision_id: int):
    require_office()
    decision = load_decision(decision_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(reopen_decision, decision, current_user)
    flash(error.message if error else _("已重新打开该事项。"), "danger" if error else "success")
    return back_from_decision(decision)


DECISION_FILTERS = {
    "open": _l("办理中"),
    "overdue": _l("已逾期"),
    "done": _l("已办结"),
    "all": _l("全部"),
}


@bp.get("/decisions")
@login_required
def decisions():
    require_staff()
    status = request.args.get("status", "open")
    if status not in DECISION_FILTERS:
        status = "open"
    query = decisions_query(current_user)
    today = today_local()
    if status == "open":
        query = query.where(Decision.status == "open")
    elif status == "overdue":
        query = query.where(Decision.status == "open", Decision.due_on < today)
    elif status == "done":
        query = query.where(Decision.status == "done")
    return render_template(
        "meetings/decisions.html",
        decisions=db.session.scalars(query).all(),
        status=status,
        filters=DECISION_FILTERS,
        done_form=forms.DoneForm(prefix="done"),
        action_form=forms.ActionForm(prefix="act"),
        overdue_total=len(overdue_decisions(current_user)),
    )
