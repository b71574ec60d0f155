"""A meeting's record as Word, PDF, text or Markdown, and the meeting calendar with its feeds.

The exports build on ``exports`` (this folder) and answer 503 when the server has no CJK
font for the PDF; the month calendar lists the meetings a user sees, and the iCalendar
feed serves them to the logged-in user or, for calendar apps, to a private token link
(``feed_token``). Routes of the ``meetings`` blueprint (views.py), imported by the app
factory.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer

from portal import pdf
from portal.auth.models import User
from portal.extensions import db
from portal.ical import calendar_uid
from portal.meetings import exports
from portal.meetings.access import describe, meetings_between, month_bounds
from portal.meetings.models import AgendaItem, Meeting
from portal.meetings.times import today_local, when_label
from portal.meetings.views import bp, load, require_staff
from portal.scheduling import calendars
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

FEED_SALT = "meetings-feed"
FEED_PAST = timedelta(days=366)
FEED_AHEAD = timedelta(days=731)
_MONTH = re.compile(r"\d{4}-\d{2}")


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
