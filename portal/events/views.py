"""Pages of the joint events: the list, creating, editing, publishing and cancelling an event,
the event's page and its programme; the blueprint ``events`` and the helpers its other
modules share (``load_event``, ``refuse``, ``render_detail`` and the forms
it shows, ``xlsx_response``, …).

The calendar and iCalendar feeds are in calendar_views.py, registrations in
registration_views.py, contests (criteria, judges, entries, judging, results, winners) in
contest_views.py, outside judges, grades and certificates in award_views.py; all on this one
blueprint. Views stay thin: they read forms, call the services of this folder (``access``,
``events``, ``registrations``, ``contests``, ``calendars``) and show what they say.
A refused action answers 403 (not allowed) or 404 (not visible) with the service's message;
a form with mistakes is shown again with the messages beside its fields (400).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from portal.catalog import excel
from portal.catalog.models import Course
from portal.errors import NotFound, ServiceError
from portal.events import forms
from portal.events.access import (
    can_take_part,
    get_event,
    is_member_user,
    is_office,
    list_events,
    open_to,
)
from portal.events.awards import available_judges
from portal.events.contests import entries_for, entry_choices, entry_problem, is_judge
from portal.events.events import (
    add_session,
    cancel_event,
    create_event,
    default_category,
    event_types,
    field_specs,
    publish_event,
    remove_session,
    session_sites,
    shared_teachers,
    update_event,
)
from portal.events.fields import display_items, form_values
from portal.events.models import ContestJudge, EventSession, JointEvent
from portal.events.registrations import (
    places_taken,
    registration_problem,
    registrations_for,
    waiting_count,
    waiting_position,
)
from portal.events.validation import is_id
from portal.extensions import db
from portal.formfields import show_errors
from portal.members.models import Member
from portal.web import act

bp = Blueprint("events", __name__, template_folder="templates")


# ---------------------------------------------------------------- helpers


def refuse(message: str, code: int = 403):
    """An error page that says why (403 refused, 404 not found, 400 bad request)."""
    from portal.web import ERROR_TITLES

    return render_template("error.html", code=code, title=ERROR_TITLES[code], hint=message), code


def load_event(event_id: int) -> JointEvent:
    try:
        return get_event(event_id, current_user)
    except NotFound:
        abort(404)


def require_office() -> None:
    if not is_office(current_user):
        abort(403)


def member_choices(event: JointEvent) -> list[SelectChoice]:
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [SelectChoice(0, _("请选择"))] + [
        SelectChoice(m.id, m.short_name) for m in members if open_to(event, m.id)
    ]


def xlsx_response(data: bytes, name: str) -> BaseResponse:
    import io

    return send_file(
        io.BytesIO(data),
        mimetype=excel.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{name}.xlsx",
    )


# ---------------------------------------------------------------- list


@bp.get("/events")
def index():
    form = forms.FilterForm(formdata=request.args)
    if request.args and not form.validate():
        return render_template("events/index.html", form=form, events=[], judging=[]), 400
    events = list_events(current_user, category=form.category.data or "", year=form.year.data)
    judging = []
    if is_member_user(current_user):
        judging = db.session.scalars(
            select(JointEvent)
            .join(ContestJudge, ContestJudge.event_id == JointEvent.id)
            .where(ContestJudge.user_id == current_user.id, JointEvent.status == "published")
            .order_by(JointEvent.id.desc())
        ).all()
    taken = {e.id: places_taken(e.id) for e in events if e.category == "training"}
    return render_template(
        "events/index.html",
        form=form,
        events=events,
        judging=judging,
        taken=taken,
        is_office=is_office(current_user),
        member_id=current_user.member_id if is_member_user(current_user) else None,
    )


# ---------------------------------------------------------------- new and edit


def prepare_event_form(form: forms.EventForm) -> None:
    form.invited_member_ids.choices = [
        SelectChoice(m.id, m.short_name)
        for m in db.session.scalars(select(Member).order_by(Member.id))
    ]


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new():
    require_office()
    type_id = forms.int_or_none(request.args.get("type_id"))
    kinds = event_types()
    kind = next((k for k in kinds if k.id == type_id), None)
    if kind is None:
        picker = forms.PickTypeForm(formdata=None)
        picker.type_id.choices = [
            SelectChoice(k.id, f"{k.name}（{k.member.short_name}）") for k in kinds
        ]
        status = 400 if "type_id" in request.args else 200
        if status == 400:
            picker.type_id.errors = [_("请选择活动类型。")]
        return render_template("events/pick_type.html", form=picker, kinds=kinds), status
    specs = field_specs(kind)
    form = forms.event_form_class(specs)()
    prepare_event_form(form)
    if not form.is_submitted():
        form.category.data = default_category(kind)
    if form.validate_on_submit():
        try:
            event = create_event(current_user, kind.id, form.values(specs))
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("已新建活动（草稿）：%(title)s。添加日程后即可发布。", title=event.title),
                "success",
            )
            return redirect(url_for(".detail", event_id=event.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "events/form.html", form=form, kind=kind, event=None, specs=specs
    ), status


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    require_office()
    event = load_event(event_id)
    specs = field_specs(event.event_type)
    form_class = forms.event_form_class(specs)
    if request.method == "POST":
        form = form_class()
    else:
        form = form_class(obj=event, data=form_values(event.extra, specs))
        form.invited_member_ids.data = [m.id for m in event.invited_members]
    prepare_event_form(form)
    if form.validate_on_submit():
        try:
            update_event(event.id, current_user, form.values(specs))
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for(".detail", event_id=event_id))
    event = load_event(event_id)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "events/form.html", form=form, kind=event.event_type, event=event, specs=specs
    ), status


@bp.post("/events/<int:event_id>/publish")
@login_required
def publish(event_id: int):
    require_office()
    event = load_event(event_id)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    act(lambda: publish_event(event, current_user), _("活动已发布。"))
    return redirect(url_for(".detail", event_id=event_id))


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel(event_id: int):
    require_office()
    event = load_event(event_id)
    form = forms.CancelForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            cancel_event(event, current_user, form.reason.data or "")
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("活动已取消。"), "success")
            return redirect(url_for(".detail", event_id=event_id))
    return render_detail(event, cancel_form=form), 400


# ---------------------------------------------------------------- the event page


def session_form(prefix: str = "session") -> forms.SessionForm:
    form = forms.SessionForm(prefix=prefix)
    form.site_id.choices = [SelectChoice(0, _("（不指定）"))] + [
        SelectChoice(s.id, f"{s.name}（{s.member.short_name}）") for s in session_sites()
    ]
    form.teacher_id.choices = [SelectChoice(0, _("（不指定）"))] + [
        SelectChoice(t.id, f"{t.name}（{t.member.short_name}{'，' + t.title if t.title else ''}）")
        for t in shared_teachers()
    ]
    return form


def registration_form(event: JointEvent) -> forms.RegistrationForm:
    form = forms.RegistrationForm(prefix="reg")
    if is_office(current_user):
        form.member_id.choices = member_choices(event)
    else:
        del form.member_id
    return form


def entry_form(event: JointEvent) -> forms.EntryForm:
    form = forms.EntryForm(prefix="entry")
    office = is_office(current_user)
    if office:
        form.member_id.choices = member_choices(event)
        chosen = form.member_id.data if form.is_submitted() else None
        chosen = chosen if is_id(chosen) else None
    else:
        del form.member_id
        chosen = current_user.member_id
    if event.category == "guide_contest":
        del form.course_id
        sites = entry_choices(event, chosen) if chosen else session_sites()
        form.site_id.choices = [SelectChoice(0, _("请选择"))] + [
            SelectChoice(s.id, s.name if not office else f"{s.name}（{s.member.short_name}）")
            for s in sites
        ]
    else:
        del form.guide_name
        del form.site_id
        courses = (
            entry_choices(event, chosen)
            if chosen
            else db.session.scalars(
                select(Course)
                .where(Course.status != "retired")
                .order_by(Course.member_id, Course.name)
            ).all()
        )
        form.course_id.choices = [SelectChoice(0, _("请选择"))] + [
            SelectChoice(c.id, c.name if not office else f"{c.name}（{c.member.short_name}）")
            for c in courses
        ]
    return form


def judge_form(event: JointEvent) -> forms.JudgeForm:
    """The judge picker: member staff not yet appointed to this contest."""
    form = forms.JudgeForm(prefix="judge")
    form.user_id.choices = [SelectChoice(0, _("请选择"))] + [
        SelectChoice(u.id, f"{u.display_name}（{u.member.short_name}，{u.username}）")
        for u in available_judges(event)
    ]
    return form


def render_detail(event: JointEvent, **overrides: Any) -> str:
    """The event page, with the forms this viewer may use (``overrides`` carry errors)."""
    office = is_office(current_user)
    taking_part = can_take_part(current_user, event)
    registrations = registrations_for(event, current_user)
    context: dict[str, Any] = {
        "event": event,
        "is_office": office,
        "taking_part": taking_part,
        "extra": display_items(event.extra),
        "registrations": registrations,
        "positions": {r.id: waiting_position(r) for r in registrations},
        "taken": places_taken(event.id),
        "waiting": waiting_count(event.id),
        "registration_problem": registration_problem(event),
        "entry_problem": entry_problem(event) if event.is_contest else "",
        "entries": entries_for(event, current_user) if event.is_contest else [],
        "is_judge": is_judge(event, current_user),
        "plain_form": forms.PlainForm(),
        "session_form": None,
        "registration_form": None,
        "entry_form": None,
        "judge_form": None,
        "outside_judge_form": None,
        "cancel_form": None,
    }
    if office and event.status != "cancelled":
        context["session_form"] = session_form()
        context["cancel_form"] = forms.CancelForm(prefix="cancel")
        if event.is_contest and event.results_published_at is None:
            context["judge_form"] = judge_form(event)
            context["outside_judge_form"] = forms.OutsideJudgeForm(prefix="outside")
    can_register = (office or taking_part) and not context["registration_problem"]
    if event.category == "training" and can_register:
        context["registration_form"] = registration_form(event)
    if event.is_contest and (office or taking_part) and not context["entry_problem"]:
        context["entry_form"] = entry_form(event)
    context.update(overrides)
    return render_template("events/detail.html", **context)


@bp.get("/events/<int:event_id>")
def detail(event_id: int):
    return render_detail(load_event(event_id))


# ---------------------------------------------------------------- the programme


@bp.post("/events/<int:event_id>/sessions")
@login_required
def session_add(event_id: int):
    require_office()
    event = load_event(event_id)
    form = session_form()
    if form.validate_on_submit():
        try:
            add_session(event, current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已添加日程。"), "success")
            return redirect(url_for(".detail", event_id=event_id) + "#programme")
    event = load_event(event_id)
    return render_detail(event, session_form=form), 400


@bp.post("/events/<int:event_id>/sessions/<int:session_id>/delete")
@login_required
def session_delete(event_id: int, session_id: int):
    require_office()
    event = load_event(event_id)
    session = db.session.get(EventSession, session_id)
    if session is None or session.event_id != event.id:
        abort(404)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    act(lambda: remove_session(session, current_user), _("已删除日程。"))
    return redirect(url_for(".detail", event_id=event_id) + "#programme")
