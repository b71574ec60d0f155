"""Pages of joint meetings (联席会议): list, calling, replies, time poll, minutes, decisions,
the consortium's meeting calendar and its iCalendar feed, and the PDF / text exports.

Only the office and member staff see anything here; member staff see the meetings their
member is invited to, and any other meeting answers 404. Views are thin: the rules are in
the services of this folder (``access``, ``meetings``, ``assistant``, ``decisions``,
``busy``, ``exports``).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from portal import pdf
from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.catalog.views import show_errors
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.ical import calendar_uid
from portal.meetings import exports, forms
from portal.meetings.access import (
    describe,
    get_meeting,
    is_staff,
    meetings_between,
    meetings_for,
    month_bounds,
    pending_replies,
)
from portal.meetings.assistant import (
    DEFAULT_DAY_END,
    DEFAULT_DAY_START,
    add_poll_slots,
    answer_poll,
    fix_time,
    parse_slot_value,
    remove_poll_slot,
    suggest_times,
)
from portal.meetings.busy import add_busy_time, busy_times, remove_busy_time
from portal.meetings.decisions import (
    add_decisions,
    complete_decision,
    decisions_query,
    get_decision,
    overdue_decisions,
    record_attendance,
    reopen_decision,
    save_minutes,
)
from portal.meetings.meetings import (
    add_agenda_item,
    cancel_meeting,
    create_meeting,
    move_agenda_item,
    remove_agenda_item,
    reply_counts,
    update_meeting,
)
from portal.meetings.meetings import remind as send_reminders
from portal.meetings.meetings import reply as record_reply
from portal.meetings.models import (
    ATTENDANCE,
    POLL_ANSWERS,
    AgendaItem,
    Decision,
    Meeting,
    PollSlot,
)
from portal.meetings.times import local_dt, today_local, weekday_label, when_label
from portal.members.models import Member
from portal.scheduling import calendars
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

bp = Blueprint("meetings", __name__, template_folder="templates", url_prefix="/meetings")

FEED_SALT = "meetings-feed"
FEED_PAST = timedelta(days=366)
FEED_AHEAD = timedelta(days=731)
_MONTH = re.compile(r"\d{4}-\d{2}")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "when_label": when_label,
        "local_time": lambda value, fmt="%H:%M": (
            value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""
        ),
        "weekday_label": weekday_label,
        "today": today_local(),
    }


# ---------------------------------------------------------------- access


def require_staff() -> None:
    """Meetings are for the office and member staff; anyone else finds nothing (404)."""
    if not is_staff(current_user):
        abort(404)


def require_office() -> None:
    require_staff()
    if not current_user.is_office:
        abort(403)


def load(meeting_id: int) -> Meeting:
    try:
        return get_meeting(meeting_id, current_user)
    except NotFound:
        abort(404)


def attempt(function: Any, *args: Any, **kwargs: Any) -> ServiceError | None:
    """Run a service and commit; NotFound is 404, PermissionDenied 403, other errors returned."""
    try:
        function(*args, **kwargs)
    except NotFound:
        db.session.rollback()
        abort(404)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except ServiceError as error:
        db.session.rollback()
        return error
    try:
        db.session.commit()
    except IntegrityError:
        # Two people of one member saved the same answer at the same moment.
        db.session.rollback()
        return ServiceError(_("内容刚被他人修改，请刷新页面后重试。"))
    return None


def flash_error(error: ServiceError) -> None:
    messages = error.errors.values() if isinstance(error, ValidationFailed) else [error.message]
    for message in messages:
        flash(message, "danger")


def to_detail(meeting: Meeting, anchor: str = "") -> Any:
    return redirect(url_for(".detail", meeting_id=meeting.id) + (f"#{anchor}" if anchor else ""))


# ---------------------------------------------------------------- choices


def member_choices() -> list[SelectChoice]:
    return [
        SelectChoice(str(m.id), m.short_name)
        for m in db.session.scalars(select(Member).order_by(Member.id))
    ]


def invited_choices(meeting: Meeting) -> list[SelectChoice]:
    return [SelectChoice(str(i.member_id), i.member.short_name) for i in meeting.invitations]


def site_choices() -> list[SelectChoice]:
    sites = db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.status != "retired")
        .order_by(TeachingSite.member_id, TeachingSite.name)
    )
    return [SelectChoice("", _("（不在教学点）"))] + [
        SelectChoice(str(s.id), f"{s.name}（{s.member.short_name}）") for s in sites
    ]


# ---------------------------------------------------------------- list


@bp.get("/")
@login_required
def index():
    require_staff()
    return render_template(
        "meetings/index.html",
        upcoming=meetings_for(current_user, upcoming=True),
        past=meetings_for(current_user, upcoming=False)[:100],
        overdue=overdue_decisions(current_user),
        pending=pending_replies(current_user),
    )


# ---------------------------------------------------------------- calling and editing


def prepare_meeting_form(form: forms.MeetingForm) -> None:
    form.site_id.choices = site_choices()
    form.member_ids.choices = member_choices()


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require_office()
    form = forms.MeetingForm()
    prepare_meeting_form(form)
    if not form.is_submitted():
        form.member_ids.data = [c.value for c in form.member_ids.choices]
    if form.validate_on_submit():
        try:
            meeting = create_meeting(current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已发出会议通知：%(title)s", title=meeting.title), "success")
            return to_detail(meeting)
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/form.html", form=form, meeting=None), status


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    if meeting.status == "cancelled":
        flash(_("该会议已取消。"), "warning")
        return to_detail(meeting)
    form = forms.MeetingForm(obj=meeting)
    prepare_meeting_form(form)
    if not form.is_submitted():
        form.site_id.data = str(meeting.site_id or "")
        form.member_ids.data = [str(i) for i in meeting.member_ids]
        if meeting.starts_at is not None:
            starts = meeting.starts_at.astimezone(LOCAL_TZ)
            form.day.data = starts.date()
            form.start_time.data = starts.time()
            form.end_time.data = meeting.ends_at.astimezone(LOCAL_TZ).time()
    if form.validate_on_submit():
        try:
            changed = update_meeting(meeting, current_user, form.values())
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("已保存。") if changed else _("没有需要保存的修改。"),
                "success" if changed else "info",
            )
            return to_detail(meeting)
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/form.html", form=form, meeting=meeting), status


# ---------------------------------------------------------------- the meeting's page


def render_detail(meeting: Meeting, status: int = 200, **given: Any):
    """The meeting's page; ``given`` replaces a default form (one that has errors to show)."""
    office = current_user.is_office
    invitation = meeting.invitation_for(current_user.member_id) if not office else None
    context: dict[str, Any] = {
        "meeting": meeting,
        "office": office,
        "invitation": invitation,
        "counts": reply_counts(meeting),
        "poll_answers": POLL_ANSWERS,
        "attendance_labels": ATTENDANCE,
        "attendance_open": meeting.starts_at is not None
        and meeting.starts_at <= datetime.now(UTC)
        and meeting.status != "cancelled",
        "decisions": [
            d for d in meeting.decisions if office or d.member_id == current_user.member_id
        ],
        "done_form": forms.DoneForm(prefix="done"),
        "action_form": forms.ActionForm(prefix="act"),
    }
    if invitation is not None:
        reply_form = forms.ReplyForm(prefix="reply")
        if invitation.response != "pending":
            reply_form.response.data = invitation.response
            reply_form.attendees.data = invitation.attendees
            reply_form.reason.data = invitation.decline_reason
        context["reply_form"] = reply_form
    if office:
        agenda_form = forms.AgendaForm(prefix="agenda")
        decision_form = forms.DecisionForm(prefix="decision")
        context.update(
            agenda_form=agenda_form,
            decision_form=decision_form,
            slot_form=forms.SlotForm(prefix="slot"),
            cancel_form=forms.CancelForm(prefix="cancel"),
        )
    context.update(given)
    if office:
        context["agenda_form"].presenter_member_id.choices = [
            SelectChoice("", _("环线办"))
        ] + invited_choices(meeting)
        context["decision_form"].member_ids.choices = invited_choices(meeting)
    return render_template("meetings/detail.html", **context), status


@bp.get("/<int:meeting_id>")
@login_required
def detail(meeting_id: int):
    require_staff()
    return render_detail(load(meeting_id))


# ---------------------------------------------------------------- replies and reminders


@bp.post("/<int:meeting_id>/reply")
@login_required
def reply(meeting_id: int):
    require_staff()
    meeting = load(meeting_id)
    form = forms.ReplyForm(prefix="reply")
    form.validate_on_submit()
    error = attempt(
        record_reply,
        meeting,
        current_user,
        form.response.data or "",
        form.attendees.data or "",
        form.reason.data or "",
    )
    if error is not None:
        show_errors(form, error)
        return render_detail(load(meeting_id), 400, reply_form=form)
    flash(_("已提交回复。"), "success")
    return to_detail(meeting, "reply")


@bp.post("/<int:meeting_id>/remind")
@login_required
def remind(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    try:
        waiting = send_reminders(meeting, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        names = "、".join(i.member.short_name for i in waiting)
        db.session.commit()
        flash(_("已提醒尚未回复的单位：%(names)s", names=names), "success")
    return to_detail(meeting, "replies")


@bp.post("/<int:meeting_id>/cancel")
@login_required
def cancel(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.CancelForm(prefix="cancel")
    form.validate_on_submit()
    error = attempt(cancel_meeting, meeting, current_user, form.reason.data or "")
    if error is not None:
        show_errors(form, error)
        return render_detail(load(meeting_id), 400, cancel_form=form)
    flash(_("会议已取消，已通知受邀单位。"), "success")
    return to_detail(meeting)


# ---------------------------------------------------------------- agenda


@bp.post("/<int:meeting_id>/agenda")
@login_required
def agenda_add(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.AgendaForm(prefix="agenda")
    form.validate_on_submit()
    error = attempt(
        add_agenda_item,
        meeting,
        current_user,
        form.title.data or "",
        form.presenter_member_id.data or None,
        form.note.data or "",
    )
    if error is not None:
        show_errors(form, error)
        return render_detail(load(meeting_id), 400, agenda_form=form)
    flash(_("已添加议题。"), "success")
    return to_detail(meeting, "agenda")


def load_agenda_item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    load(item.meeting_id)
    return item


@bp.post("/agenda/<int:item_id>/delete")
@login_required
def agenda_delete(item_id: int):
    require_office()
    item = load_agenda_item(item_id)
    meeting = item.meeting
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(remove_agenda_item, item, current_user)
    flash(error.message if error else _("已删除议题。"), "danger" if error else "success")
    return to_detail(meeting, "agenda")


@bp.post("/agenda/<int:item_id>/move")
@login_required
def agenda_move(item_id: int):
    require_office()
    item = load_agenda_item(item_id)
    meeting = item.meeting
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    step = -1 if request.form.get("direction") == "up" else 1
    error = attempt(move_agenda_item, item, current_user, step)
    if error:
        flash(error.message, "danger")
    return to_detail(meeting, "agenda")


# ---------------------------------------------------------------- assistant and time poll


@bp.get("/<int:meeting_id>/assistant")
@login_required
def assistant(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    today = today_local()
    defaults = {
        "first_day": today + timedelta(days=1),
        "last_day": today + timedelta(days=14),
        "minutes": meeting.duration_minutes,
        "day_start": DEFAULT_DAY_START,
        "day_end": DEFAULT_DAY_END,
    }
    if request.args:
        form = forms.SearchForm(formdata=request.args)
    else:
        form = forms.SearchForm(formdata=None, data=defaults)
    form.validate()
    values = {name: form[name].data for name in defaults}
    result = None
    status = 200
    try:
        result = suggest_times(meeting, current_user, values)
    except ValidationFailed as error:
        show_errors(form, error)
        status = 400
    return render_template(
        "meetings/assistant.html",
        meeting=meeting,
        form=form,
        result=result,
        action_form=forms.ActionForm(prefix="act"),
    ), status


@bp.post("/<int:meeting_id>/poll")
@login_required
def poll_add(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.SlotForm(prefix="slot")
    form.validate_on_submit()
    raw = request.form.getlist("slot")
    starts = [parse_slot_value(v) for v in raw]
    if any(s is None for s in starts):
        flash(_("候选时间无效，请重新选择。"), "danger")
        return to_detail(meeting, "poll")
    if form.day.data is not None or form.start_time.data is not None:
        if form.day.data is None:
            form.day.errors = [*form.day.errors, _("请填写日期。")]
        if form.start_time.data is None:
            form.start_time.errors = [*form.start_time.errors, _("请填写开始时间。")]
        if form.day.data is None or form.start_time.data is None:
            return render_detail(meeting, 400, slot_form=form)
        starts.append(local_dt(form.day.data, form.start_time.data))
    elif form.errors:
        return render_detail(meeting, 400, slot_form=form)
    error = attempt(add_poll_slots, meeting, current_user, starts)
    if error is not None:
        if raw:
            flash_error(error)
            return to_detail(load(meeting_id), "poll")
        if isinstance(error, ValidationFailed) and "slots" in error.errors:
            form.day.errors = [*form.day.errors, error.errors["slots"]]
        else:
            show_errors(form, error)
        return render_detail(load(meeting_id), 400, slot_form=form)
    flash(_("已发起时间征询，已通知受邀单位。"), "success")
    return to_detail(meeting, "poll")


def load_slot(meeting: Meeting, slot_id: int) -> PollSlot:
    slot = db.session.get(PollSlot, slot_id)
    if slot is None or slot.meeting_id != meeting.id:
        abort(404)
    return slot


@bp.post("/<int:meeting_id>/poll/<int:slot_id>/delete")
@login_required
def poll_delete(meeting_id: int, slot_id: int):
    require_office()
    meeting = load(meeting_id)
    slot = load_slot(meeting, slot_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(remove_poll_slot, slot, current_user)
    flash(error.message if error else _("已删除候选时间。"), "danger" if error else "success")
    return to_detail(meeting, "poll")


@bp.post("/<int:meeting_id>/poll/<int:slot_id>/fix")
@login_required
def poll_fix(meeting_id: int, slot_id: int):
    require_office()
    meeting = load(meeting_id)
    slot = load_slot(meeting, slot_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    error = attempt(fix_time, meeting, current_user, slot)
    if error:
        flash(error.message, "danger")
    else:
        flash(
            _(
                "会议时间已确定为 %(when)s，已通知受邀单位。",
                when=when_label(meeting.starts_at, meeting.ends_at),
            ),
            "success",
        )
    return to_detail(meeting)


@bp.post("/<int:meeting_id>/poll/answer")
@login_required
def poll_answer(meeting_id: int):
    require_staff()
    meeting = load(meeting_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    answers = {s.id: request.form.get(f"slot-{s.id}", "") for s in meeting.slots}
    error = attempt(answer_poll, meeting, current_user, answers)
    if error:
        flash_error(error)
        return render_detail(load(meeting_id), 400, poll_given=answers)
    flash(_("已提交时间征询的回复。"), "success")
    return to_detail(meeting, "poll")


# ---------------------------------------------------------------- after the meeting


@bp.post("/<int:meeting_id>/attendance")
@login_required
def attendance(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    marks = {
        i.member_id: (
            request.form.get(f"attendance-{i.member_id}", ""),
            request.form.get(f"names-{i.member_id}", ""),
        )
        for i in meeting.invitations
    }
    error = attempt(record_attendance, meeting, current_user, marks)
    if error:
        flash_error(error)
        return render_detail(load(meeting_id), 400, attendance_given=marks)
    flash(_("已记录出席情况。"), "success")
    return to_detail(meeting, "attendance")


@bp.route("/<int:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(meeting_id: int):
    require_office()
    meeting = load(meeting_id)
    form = forms.MinutesForm(prefix="minutes")
    if not form.is_submitted():
        form.minutes.data = meeting.minutes
    if form.validate_on_submit():
        error = attempt(save_minutes, meeting, current_user, form.minutes.data or "")
        if error is None:
            flash(_("已保存会议纪要。"), "success")
            return to_detail(meeting, "minutes")
        show_errors(form, error)
        meeting = load(meeting_id)
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/minutes.html", meeting=meeting, form=form), status


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


# ---------------------------------------------------------------- exports


def font_missing():
    return (
        render_template(
            "error.html",
            code=503,
            title=_("暂时无法生成 PDF"),
            hint=_(
                "服务器上没有可用的中文字体，无法生成 PDF 会议记录。请联系管理员安装中文字体"
                "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
            ),
        ),
        503,
        {"Retry-After": "3600"},
    )


def pdf_sections(meeting: Meeting) -> list[exports.PdfSection]:
    today = today_local()
    agenda = [[_("序号"), _("议题"), _("汇报单位")]] + [
        [str(n), item.title + (f"\n{item.note}" if item.note else ""), _presenter(item)]
        for n, item in enumerate(meeting.agenda, 1)
    ]
    attendance = [[_("成员单位"), _("情况"), _("人员 / 说明")]]
    for i in meeting.invitations:
        if i.attendance:
            attendance.append([i.member.short_name, i.attendance_label, i.attended_names])
        else:
            attendance.append(
                [i.member.short_name, i.response_label, i.attendees or i.decline_reason]
            )
    decisions = [[_("议定事项"), _("承办单位"), _("办理期限"), _("状态")]]
    for d in meeting.decisions:
        state = _("已逾期") if d.overdue_on(today) else d.status_label
        text = d.text + (f"\n{_('办理情况：%(note)s', note=d.done_note)}" if d.done_note else "")
        decisions.append([text, d.member.short_name, d.due_on.isoformat(), state])
    return [
        exports.PdfSection(
            _("一、议程"), table=agenda, widths=(12, 120, 42), empty=_("（暂无议程）")
        ),
        exports.PdfSection(
            _("二、出席情况"), table=attendance, widths=(58, 24, 92), empty=_("（暂无）")
        ),
        exports.PdfSection(
            _("三、会议纪要"),
            paragraphs=[meeting.minutes] if meeting.minutes else [],
            empty=_("（尚未填写）"),
        ),
        exports.PdfSection(
            _("四、议定事项"),
            table=decisions,
            widths=(94, 30, 28, 22),
            empty=_("（暂无议定事项）"),
        ),
    ]


def _presenter(item: AgendaItem) -> str:
    return item.presenter.short_name if item.presenter else _("环线办")


def export_facts(meeting: Meeting) -> list[tuple[str, str]]:
    facts = [
        (_("会议类型"), meeting.kind_label),
        (_("会议时间"), when_label(meeting.starts_at, meeting.ends_at)),
        (_("会议地点"), meeting.place_label or "—"),
    ]
    if meeting.online_url:
        facts.append((_("线上会议"), meeting.online_url))
    if meeting.description:
        facts.append((_("会议说明"), meeting.description))
    return facts


@bp.get("/<int:meeting_id>/export.docx")
@login_required
def export_docx(meeting_id: int):
    require_staff()
    meeting = load(meeting_id)
    now = datetime.now(LOCAL_TZ)
    body = exports.build_docx(
        title=meeting.title,
        facts=export_facts(meeting),
        sections=pdf_sections(meeting),
        footer=_("环线培训门户 · 生成日期：%(date)s", date=now.strftime("%Y-%m-%d %H:%M")),
    )
    response = Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}.docx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:meeting_id>/export.pdf")
@login_required
def export_pdf(meeting_id: int):
    require_staff()
    meeting = load(meeting_id)
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    if font is None:
        log.error("no CJK font for the meeting PDF (PDF_FONT_PATH or the default paths)")
        return font_missing()
    facts = export_facts(meeting)
    now = datetime.now(LOCAL_TZ)
    try:
        body = exports.build_pdf(
            title=meeting.title,
            facts=facts,
            sections=pdf_sections(meeting),
            footer=_("环线培训门户 · 生成日期：%(date)s", date=now.strftime("%Y-%m-%d %H:%M")),
            page_label=_("第 %(page)s 页", page="{page}"),
            font=font,
        )
    except exports.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return font_missing()
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="meeting-{meeting.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:meeting_id>/export.<any(txt, md):fmt>")
@login_required
def export_text(meeting_id: int, fmt: str):
    require_staff()
    meeting = load(meeting_id)
    text = exports.export_text(meeting, markdown=fmt == "md")
    # A byte-order mark and CRLF line ends: Notepad and Word on Windows open it as UTF-8.
    body = "\ufeff" + text.replace("\r\n", "\n").replace("\n", "\r\n")
    mimetype = "text/markdown" if fmt == "md" else "text/plain"
    response = Response(body.encode("utf-8"), mimetype=mimetype)
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- calendar and feed


def parse_month(value: str | None) -> date:
    if not value:
        return today_local().replace(day=1)
    if not _MONTH.fullmatch(value):
        raise ValueError(value)
    year, month = int(value[:4]), int(value[5:])
    if not 1 <= month <= 12 or not calendars.MIN_YEAR <= year <= calendars.MAX_YEAR:
        raise ValueError(value)
    return date(year, month, 1)


def feed_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=FEED_SALT)


def feed_token(user: Any) -> str:
    """A private feed link for calendar apps; void once the user's session version moves."""
    return feed_serializer().dumps({"user": user.id, "v": user.session_version})


def feed_user(token: str) -> User | None:
    try:
        data = feed_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, version = data.get("user"), data.get("v")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (user_id, version)):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    if not (user.is_office or user.is_member_user):
        return None
    return user


@bp.get("/calendar")
@login_required
def calendar():
    require_staff()
    try:
        first = parse_month(request.args.get("month"))
    except ValueError:
        return render_template(
            "error.html",
            code=400,
            title=_("请求有误"),
            hint=_("月份无效：请使用 YYYY-MM 格式，如 2026-11。"),
        ), 400
    start, end = month_bounds(first.year, first.month)
    days: dict[date, list[Meeting]] = defaultdict(list)
    for meeting in meetings_between(current_user, start, end):
        days[meeting.starts_at.astimezone(LOCAL_TZ).date()].append(meeting)
    return render_template(
        "meetings/calendar.html",
        first=first,
        days=sorted(days.items()),
        prev=calendars.add_months(first, -1),
        next=calendars.add_months(first, 1),
        feed_url=url_for(".token_feed", token=feed_token(current_user), _external=True),
    )


def ics_response(user: Any) -> Response:
    now = datetime.now(UTC)
    meetings = [
        m
        for m in meetings_between(user, now - FEED_PAST, now + FEED_AHEAD)
        if m.status in ("scheduled", "held", "cancelled")
    ]
    entries = [
        exports.IcsEntry(
            uid=calendar_uid(f"meeting-{m.id}"),
            starts=m.starts_at,
            ends=m.ends_at,
            summary=f"{m.kind_label}：{m.title}",
            location=" ".join(p for p in (m.place_label, m.online_url) if p),
            description=describe(m),
            status="CANCELLED" if m.status == "cancelled" else "CONFIRMED",
            sequence=m.sequence,
            modified=m.updated_at,
            url=url_for(".detail", meeting_id=m.id, _external=True),
        )
        for m in meetings
    ]
    body = exports.build_ics(entries, name=_("环线联席会议"), now=now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/calendar.ics")
def calendar_feed():
    """The meetings the logged-in user sees; the public gets nothing (404)."""
    require_staff()
    return ics_response(current_user)


@bp.get("/feed/<token>.ics")
def token_feed(token: str):
    """The same feed for calendar apps, which have no session: the token stands for the user."""
    user = feed_user(token)
    if user is None:
        abort(404)
    return ics_response(user)


# ---------------------------------------------------------------- busy times


@bp.route("/busy", methods=["GET", "POST"])
@login_required
def busy():
    require_staff()
    form = forms.BusyForm(prefix="busy")
    can_add = current_user.is_member_user
    status = 200
    if form.is_submitted():
        if not can_add:
            abort(403)
        if form.validate_on_submit():
            values = {
                name: form[name].data
                for name in ("starts_on", "starts_time", "ends_on", "ends_time", "note")
            }
            error = attempt(add_busy_time, current_user, values)
            if error is None:
                flash(_("已登记忙碌时间。"), "success")
                return redirect(url_for(".busy"))
            show_errors(form, error)
        status = 400
    after = datetime.combine(today_local(), time(0), tzinfo=LOCAL_TZ)
    return render_template(
        "meetings/busy.html",
        form=form if can_add else None,
        entries=busy_times(current_user, after=after.astimezone(UTC)),
        action_form=forms.ActionForm(prefix="act"),
    ), status


@bp.post("/busy/<int:entry_id>/delete")
@login_required
def busy_delete(entry_id: int):
    require_staff()
    if not forms.ActionForm(prefix="act").validate_on_submit():
        abort(400)
    attempt(remove_busy_time, entry_id, current_user)
    flash(_("已删除。"), "success")
    return redirect(url_for(".busy"))
