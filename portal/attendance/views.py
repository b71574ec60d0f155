"""Attendance pages: the class's sheet for its supervisors, the rotating QR, the trainee's side."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.attendance import leave, services, tokens
from portal.attendance.forms import (
    ActionForm,
    CodeForm,
    DecisionForm,
    LeaveForm,
    MarkForm,
    SupervisorForm,
    WithdrawalForm,
)
from portal.attendance.models import MARKS, AttendanceSession, LeaveRequest
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db, limiter
from portal.pagecache import private_page
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees import roster
from portal.trainees.models import RosterEntry
from portal.trainees.qr import qr_svg

bp = Blueprint("attendance", __name__, url_prefix="/attendance", template_folder="templates")


def _or_404(call, *args):
    try:
        return call(*args)
    except NotFound:
        abort(404)


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "warning")


# ---------------------------------------------------------------- supervisors' side


@bp.get("/classes")
@login_required
def classes():
    return render_template("attendance/classes.html", classes=services.classes_run_by(current_user))


def _class_context(training_class):
    sessions = services.ensure_sessions(training_class)
    db.session.commit()
    summaries = services.attendance_summary(training_class.id)
    return sessions, summaries, roster.entries_of(training_class)


@bp.get("/classes/<int:class_id>")
@login_required
@private_page()
def class_page(class_id: int):
    training_class = _or_404(services.get_run_class, class_id, current_user)
    sessions, summaries, entries = _class_context(training_class)
    manager = services.is_class_manager(training_class, current_user)
    return render_template(
        "attendance/class.html",
        training_class=training_class,
        sessions=sessions,
        summaries=summaries,
        entries=entries,
        manager=manager,
        names_supervisors=services.can_name_supervisors(training_class, current_user),
        supervisors=services.supervisors(training_class),
        supervisor_form=SupervisorForm(),
        action_form=ActionForm(),
        pending=leave.pending_leave(training_class) if manager else [],
        leave_requests=leave.class_leave(training_class) if manager else [],
        withdrawals=leave.withdrawals(training_class),
        decision_form=DecisionForm(),
        withdrawal_form=WithdrawalForm(),
        now=utcnow(),
    )


@bp.post("/classes/<int:class_id>/supervisors")
@login_required
def supervisor_add(class_id: int):
    training_class = _or_404(services.get_run_class, class_id, current_user)
    if not services.can_name_supervisors(training_class, current_user):
        abort(404)
    form = SupervisorForm()
    if form.validate_on_submit():
        try:
            services.add_supervisor(training_class, form.username.data, current_user)
            db.session.commit()
            flash(_("已指定班主任。"), "success")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "warning")
    else:
        _flash_errors(form)
    return redirect(url_for(".class_page", class_id=class_id) + "#supervisors")


@bp.post("/classes/<int:class_id>/supervisors/<int:supervisor_id>/remove")
@login_required
def supervisor_remove(class_id: int, supervisor_id: int):
    training_class = _or_404(services.get_run_class, class_id, current_user)
    if not services.can_name_supervisors(training_class, current_user):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_supervisor(training_class, supervisor_id, current_user)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("已撤销班主任。"), "success")
    return redirect(url_for(".class_page", class_id=class_id) + "#supervisors")


@bp.get("/sessions/<int:session_id>")
@login_required
def session_page(session_id: int):
    session = _or_404(services.get_run_session, session_id, current_user)
    training_class = session.training_class
    entries = roster.entries_of(training_class)
    statuses = services.session_statuses(training_class.id)
    return render_template(
        "attendance/session.html",
        sitting=session,
        training_class=training_class,
        entries=entries,
        statuses={entry_id: s for (entry_id, sid), s in statuses.items() if sid == session.id},
        history=services.mark_history(session),
        marks=MARKS,
        form=MarkForm(),
    )


@bp.post("/sessions/<int:session_id>/marks")
@login_required
def session_mark(session_id: int):
    session = _or_404(services.get_run_session, session_id, current_user)
    form = MarkForm()
    entry_id = form.entry_id.data or ""
    if not form.validate_on_submit() or not (entry_id.isascii() and entry_id.isdigit()):
        _flash_errors(form)
        return redirect(url_for(".session_page", session_id=session_id))
    try:
        services.mark_by_hand(
            session, int(entry_id), form.status.data, form.reason.data, current_user
        )
        db.session.commit()
        flash(_("考勤已登记。"), "success")
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "warning")
    return redirect(url_for(".session_page", session_id=session_id) + f"#entry-{entry_id}")


@bp.get("/sessions/<int:session_id>/qr")
@login_required
def session_qr(session_id: int):
    """The rotating QR code and typed code; the page reloads itself when the period turns."""
    session = _or_404(services.get_run_session, session_id, current_user)
    period = tokens.period_at()
    url = url_for(
        ".scan",
        session_id=session.id,
        token=tokens.make_token(session.id, period),
        _external=True,
    )
    return render_template(
        "attendance/qr.html",
        sitting=session,
        training_class=session.training_class,
        qr=qr_svg(url, scale=6, title=_("签到二维码")),
        url=url,
        code=tokens.typed_code(session.id, period),
        refresh=tokens.seconds_left(),
        is_open=session.opens_at <= utcnow() < session.ends_at,
    )


@bp.post("/leave/<int:leave_id>/decide")
@login_required
def leave_decide(leave_id: int):
    asked = db.session.get(LeaveRequest, leave_id)
    if asked is None or not services.is_class_manager(asked.entry.training_class, current_user):
        abort(404)
    class_id = asked.class_id
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decided = leave.decide_leave(
                leave_id, bool(form.approve.data), form.note.data, current_user
            )
            db.session.commit()
            flash(
                _("已批准请假。") if decided.status == "approved" else _("已不批准请假。"),
                "success",
            )
        except NotFound:
            abort(404)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "warning")
    else:
        _flash_errors(form)
    return redirect(url_for(".class_page", class_id=class_id) + "#leave")


@bp.post("/withdrawals/<int:entry_id>/decide")
@login_required
def withdrawal_decide(entry_id: int):
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or not services.can_name_supervisors(entry.training_class, current_user):
        abort(404)
    form = WithdrawalForm()
    if form.validate_on_submit():
        try:
            leave.decide_withdrawal(entry_id, bool(form.confirm.data), form.note.data, current_user)
            db.session.commit()
            flash(_("已处理。"), "success")
        except NotFound:
            abort(404)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "warning")
    else:
        _flash_errors(form)
    return redirect(url_for(".class_page", class_id=entry.class_id) + "#withdrawals")


# ---------------------------------------------------------------- the class's board


@bp.get("/classes/<int:class_id>/board")
@login_required
def board(class_id: int):
    """公示考勤: every trainee's counts, for the class and its supervisors."""
    training_class = _or_404(services.get_board_class, class_id, current_user)
    sessions, summaries, entries = _class_context(training_class)
    return render_template(
        "attendance/board.html",
        training_class=training_class,
        hours=setting("attendance_hours_per_half_day"),
        sessions=sessions,
        summaries=summaries,
        entries=entries,
        withdrawals=leave.withdrawals(training_class),
    )


# ---------------------------------------------------------------- the trainee's side


@bp.route("/sessions/<int:session_id>/scan/<token>", methods=["GET", "POST"])
@login_required
def scan(session_id: int, token: str):
    """The QR code's URL: the trainee confirms with one tap (no state change on GET)."""
    session = db.session.get(AttendanceSession, session_id)
    if session is None or services.own_entry(session.training_class, current_user) is None:
        abort(404)
    problem = None
    try:
        tokens.check_token(token, session.id)
    except tokens.TokenRefused:
        problem = _("二维码已过期或无效，请扫描现场屏幕上最新的二维码，或在“我的考勤”输入签到码。")
    result = None
    form = ActionForm()
    if request.method == "POST" and problem is None:
        if not form.validate_on_submit():
            abort(400)
        try:
            result = services.sign_in(session, current_user, "qr")
            db.session.commit()
        except NotFound:
            abort(404)
        except ServiceError as error:
            db.session.rollback()
            problem = error.message
    return render_template(
        "attendance/scan.html",
        sitting=session,
        training_class=session.training_class,
        problem=problem,
        result=result,
        form=form,
    )


@bp.get("/me")
@login_required
@private_page()
def me():
    return _render_me()


def _render_me(typed: tuple[int, LeaveForm] | None = None, status: int = 200):
    """The trainee's attendance per class; ``typed`` keeps a refused leave form as typed."""
    cards = []
    now = utcnow()
    # Cards for the classes not ended yet; ended ones link to their board (公示考勤), so the
    # page costs the same however many classes the trainee attended before.
    today = datetime.now(LOCAL_TZ).date()
    classes, ended = roster.split_ended(roster.classes_of_trainee(current_user), today)
    # Read before the commits below expire them (each would be loaded again).
    ended = [(c.id, c.name, c.starts_on, c.ends_on) for c in ended]
    for training_class in classes:
        entry = services.own_entry(training_class, current_user)
        sessions = services.ensure_sessions(training_class)
        db.session.commit()
        statuses = services.session_statuses(training_class.id, now)
        if typed is not None and typed[0] == training_class.id:
            form = typed[1]
        else:
            form = LeaveForm(prefix=f"c{training_class.id}", formdata=None)
        form.sessions.choices = [
            SelectChoice(str(s.id), _session_label(s)) for s in sessions if s.ends_at > now
        ]
        cards.append(
            {
                "klass": training_class,
                "entry": entry,
                "sessions": sessions,
                "statuses": {sid: st for (eid, sid), st in statuses.items() if eid == entry.id},
                "summary": services.attendance_summary(training_class.id, now).get(entry.id),
                "leave_form": form,
                "leave": leave.my_leave(entry),
            }
        )
    page = render_template(
        "attendance/me.html", cards=cards, ended=ended, code_form=CodeForm(), marks=MARKS
    )
    return page, status


def _session_label(session: AttendanceSession) -> str:
    starts = session.starts_at.astimezone(LOCAL_TZ)
    return f"{starts.strftime('%m-%d')} {session.half_label}"


@bp.post("/me/code")
@login_required
@limiter.limit("10 per minute")
def me_code():
    """Sign in with the typed code shown under the QR code (phones that cannot scan)."""
    form = CodeForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for(".me"))
    code = form.code.data.strip()
    now = utcnow()
    for session in services.open_sessions_of(current_user, now):
        if tokens.code_matches(code, session.id):
            try:
                result = services.sign_in(session, current_user, "code", now)
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "warning")
            else:
                flash(_sign_in_message(result), "success")
            return redirect(url_for(".me"))
    flash(_("签到码不正确或已过期，请输入现场屏幕上最新的签到码。"), "warning")
    return redirect(url_for(".me"))


def _sign_in_message(result: services.SignIn) -> str:
    if not result.created:
        return _("您本场已有考勤记录：%(status)s。", status=result.mark.status_label)
    return _("签到成功：%(status)s。", status=result.mark.status_label)


@bp.post("/me/classes/<int:class_id>/leave")
@login_required
def me_leave(class_id: int):
    training_class = _or_404(roster.require_trainee_of, class_id, current_user)[0]
    form = LeaveForm(prefix=f"c{class_id}")
    if not form.validate_on_submit():
        return _render_me((class_id, form), 422)
    ids = [int(v) for v in form.sessions.data or [] if v.isascii() and v.isdigit() and len(v) < 12]
    try:
        leave.ask_leave(training_class, ids, form.reason.data, current_user)
        db.session.commit()
    except ValidationFailed as error:
        db.session.rollback()
        for field, message in error.errors.items():
            getattr(form, field).errors = [*getattr(form, field).errors, message]
        return _render_me((class_id, form), 422)
    flash(_("请假申请已提交，请等待班主任审批。"), "success")
    return redirect(url_for(".me") + f"#leave-{class_id}")


@bp.app_template_filter("localtime")
def localtime(value: datetime, fmt: str = "%H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt)
