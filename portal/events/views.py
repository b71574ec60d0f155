"""Pages of the joint events: list, calendar and feed, event pages, registrations, contests.

Views stay thin: they read forms, call the services of this folder (``access``, ``events``,
``registrations``, ``contests``, ``calendars``) and show what they say.
A refused action answers 403 (not allowed) or 404 (not visible) with the service's message;
a form with mistakes is shown again with the messages beside its fields (400).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice, StringField, SubmitField

from portal.catalog import excel
from portal.catalog.models import Course
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.events import forms
from portal.events.access import (
    can_take_part,
    get_event,
    is_member_user,
    is_office,
    list_events,
    open_to,
)
from portal.events.awards import (
    available_judges,
    certificate_visible,
    publish_results_confirmed,
)
from portal.events.calendars import build_ics, by_day, calendar_entries
from portal.events.contests import (
    appoint_judge,
    can_manage_entry,
    entries_for,
    entry_choices,
    entry_problem,
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
from portal.events.models import (
    GRADES,
    ContestEntry,
    ContestJudge,
    EventRegistration,
    EventSession,
    JointEvent,
)
from portal.events.registrations import (
    can_manage_registration,
    cancel_registration,
    places_taken,
    registration_problem,
    registrations_for,
    waiting_count,
    waiting_position,
)
from portal.events.registrations import register as register_participant
from portal.events.validation import is_id
from portal.extensions import db
from portal.members.models import Member
from portal.scheduling import calendars
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ

bp = Blueprint("events", __name__, template_folder="templates")

FEED_PAST = timedelta(days=92)
FEED_AHEAD = timedelta(days=400)


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


def show_errors(form: Any, error: ServiceError) -> None:
    """Put a service's messages beside the fields they concern, else on top of the page.

    Error keys may name a field of a list of sub-forms (``criteria-0-name``).
    """
    errors = (
        error.errors if isinstance(error, ValidationFailed) else {error.field or "": error.message}
    )
    for name, message in errors.items():
        field = find_field(form, name) if name and form is not None else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "danger")


def find_field(form: Any, name: str) -> Any:
    field = getattr(form, name, None)
    if field is not None and hasattr(field, "errors"):
        return field
    for candidate in form:
        if candidate.type == "FieldList":
            for row in candidate:
                for sub in row.form:
                    if sub.name == name:
                        return sub
    return None


def member_choices(event: JointEvent) -> list[SelectChoice]:
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [SelectChoice(0, _("请选择"))] + [
        SelectChoice(m.id, m.short_name) for m in members if open_to(event, m.id)
    ]


def form_errors_text(form: Any) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


def xlsx_response(data: bytes, name: str) -> BaseResponse:
    import io

    return send_file(
        io.BytesIO(data),
        mimetype=excel.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{name}.xlsx",
    )


# ---------------------------------------------------------------- list, calendar, feed


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


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


@bp.get("/events/calendar")
def calendar():
    try:
        view = calendars.parse_view(request.args.get("view"))
    except ValueError:
        return refuse(_("视图只能是 month（月视图）或 week（周视图）。"), 400)
    try:
        anchor = calendars.parse_day(request.args.get("date"), today())
    except ValueError:
        return refuse(_("日期无效：请使用 YYYY-MM-DD 格式的真实日期（1970–2100 年）。"), 400)
    window = calendars.make_window(view, anchor)
    entries = calendar_entries(current_user, *window.utc_bounds())
    return render_template(
        "events/calendar.html",
        window=window,
        days=by_day(entries),
        today=today(),
        weekday_labels=WEEKDAY_LABELS,
        count=len(entries),
        feed_url=url_for(".feed", _external=True),
    )


def ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


@bp.get("/events/calendar.ics")
def feed():
    """The consortium's joint events for calendar apps: published events only, for everyone."""
    now = datetime.now(LOCAL_TZ)
    entries = calendar_entries(None, now - FEED_PAST, now + FEED_AHEAD)
    body = build_ics(entries, name=_("环线联动活动"))
    return ics_response(body, "events.ics")


@bp.get("/events/<int:event_id>/calendar.ics")
def event_feed(event_id: int):
    event = load_event(event_id)
    if event.published_at is None:
        abort(404)
    entries = calendar_entries(None, event_id=event.id)
    body = build_ics(entries, name=event.title)
    return ics_response(body, f"event-{event.id}.ics")


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
    try:
        publish_event(event, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("活动已发布。"), "success")
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
    try:
        remove_session(session, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已删除日程。"), "success")
    return redirect(url_for(".detail", event_id=event_id) + "#programme")


# ---------------------------------------------------------------- registrations


@bp.post("/events/<int:event_id>/registrations")
@login_required
def register(event_id: int):
    event = load_event(event_id)
    if not (is_office(current_user) or is_member_user(current_user)):
        return refuse(_("只有成员单位工作人员或环线办可以报名。"))
    form = registration_form(event)
    if form.validate_on_submit():
        member_id = form.member_id.data if "member_id" in form else None
        try:
            registration = register_participant(event.id, current_user, form.values(), member_id)
        except PermissionDenied as error:
            db.session.rollback()
            return refuse(error.message)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            if registration.status == "registered":
                flash(_("%(name)s 报名成功。", name=registration.participant_name), "success")
            else:
                flash(
                    _(
                        "名额已满，%(name)s 已进入候补名单；有人取消时将按顺序自动递补。",
                        name=registration.participant_name,
                    ),
                    "warning",
                )
            return redirect(url_for(".detail", event_id=event_id) + "#registrations")
    event = load_event(event_id)
    return render_detail(event, registration_form=form), 400


@bp.post("/events/registrations/<int:registration_id>/cancel")
@login_required
def registration_cancel(registration_id: int):
    registration = db.session.get(EventRegistration, registration_id)
    if registration is None or not can_manage_registration(current_user, registration):
        abort(404)
    event_id = registration.event_id
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    try:
        promoted = cancel_registration(registration_id, current_user)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("已取消报名。"), "success")
        for r in promoted:
            flash(_("候补人员 %(name)s 已自动递补。", name=r.participant_name), "info")
    return redirect(url_for(".detail", event_id=event_id) + "#registrations")


@bp.get("/events/<int:event_id>/registrations.xlsx")
@login_required
def registrations_export(event_id: int):
    event = load_event(event_id)
    if not (is_office(current_user) or is_member_user(current_user)):
        abort(403)
    rows = registrations_for(event, current_user)
    data = excel.workbook(
        "报名名单",
        ("序号", "成员单位", "姓名", "职务", "联系电话", "状态", "报名时间"),
        (6, 16, 12, 20, 16, 8, 18),
        (
            (
                i,
                r.member.short_name,
                r.participant_name,
                r.participant_title,
                r.phone,
                r.status_label,
                r.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            )
            for i, r in enumerate(rows, start=1)
        ),
    )
    return xlsx_response(data, f"报名名单_{event.id}")


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
    try:
        remove_judge(appointment, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已撤销评委。"), "success")
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
    try:
        withdraw_entry(entry, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已撤回参赛项目。"), "success")
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
    try:
        publish_results_confirmed(event, current_user, request.form.get("confirm") == "yes")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("成绩已公布。"), "success")
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
