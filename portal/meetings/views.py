"""Pages of joint meetings (联席会议): the list, calling and editing a meeting, its page, the
members' replies, reminders and cancelling; the blueprint ``meetings`` and the helpers its
other modules share (``require_staff``, ``require_office``, ``load``, ``attempt``,
``render_detail``, ``to_detail``, …).

The agenda, attendance and minutes are in agenda_views.py, decisions and their follow-up in
decision_views.py, the scheduling assistant, time poll and busy times in poll_views.py, the
exports, calendar and iCalendar feeds in export_views.py; all on this one blueprint.
Only the office and member staff see anything here; member staff see the meetings their
member is invited to, and any other meeting answers 404. Views are thin: the rules are in
the services of this folder (``access``, ``meetings``, ``assistant``, ``decisions``,
``busy``, ``exports``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from portal.catalog.models import TeachingSite
from portal.catalog.views import show_errors
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.meetings import forms
from portal.meetings.access import get_meeting, is_staff, meetings_for, pending_replies
from portal.meetings.decisions import overdue_decisions
from portal.meetings.meetings import cancel_meeting, create_meeting, reply_counts, update_meeting
from portal.meetings.meetings import remind as send_reminders
from portal.meetings.meetings import reply as record_reply
from portal.meetings.models import ATTENDANCE, POLL_ANSWERS, Meeting
from portal.meetings.times import today_local, weekday_label, when_label
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ

bp = Blueprint("meetings", __name__, template_folder="templates", url_prefix="/meetings")


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
