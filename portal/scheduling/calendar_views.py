"""Calendars of a site, a member, a teacher and a class: pages, iCalendar feeds, PDF itinerary.

Who sees what:

* site and member calendars are public; only the office and the hosting member's staff see
  which class comes (others see the time, the site and "已预约");
* a teacher's calendar is public for shared teachers, else for their member's staff and
  the office only (404 for anyone else); the class shows for the member's staff and office;
* a class's calendar and itinerary are for its organizer and the office (404 otherwise).

Calendar apps fetch feeds without a session: a detailed feed is reached through a signed
token (``/calendar/feed/<token>.ics``) naming the calendar, the user and the user's session
version, so it stops working when the user's password changes or the account is disabled,
and it is checked against what the user may see at every fetch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from portal import pdf, pdfcache
from portal.auth.models import User
from portal.catalog.models import Teacher, TeachingSite
from portal.catalog.services import can_edit, teacher_visible
from portal.errors import NotFound
from portal.extensions import db, select_locale
from portal.members.models import Member
from portal.pagecache import CATALOGUE, SCHEDULE, cached_page
from portal.scheduling import calendars, itinerary
from portal.scheduling.classes import require_class_owner
from portal.scheduling.models import (
    HOLDING,
    RESERVATION_STATUSES,
    Booking,
    Reservation,
    TrainingClass,
)
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

bp = Blueprint("calendars", __name__, template_folder="templates")

KINDS = "any(site, member, teacher, class)"
FEED_SALT = "calendar-feed"
# What a feed covers around today (a class's feed covers the whole class).
FEED_PAST = timedelta(days=92)
FEED_AHEAD = timedelta(days=400)


# ---------------------------------------------------------------- whose calendar


@dataclass
class Subject:
    """The calendar asked for, and how much of it this viewer may see."""

    kind: str
    obj: Any
    name: str
    detailed: bool
    condition: Any
    back_url: str | None = None

    @cached_property
    def title(self) -> str:
        # Only the kind's own title, translated once (the page shows it twice).
        if self.kind == "site":
            return _("教学点日程：%(name)s", name=self.name)
        if self.kind == "member":
            return _("成员单位日程：%(name)s", name=self.name)
        if self.kind == "teacher":
            return _("师资日程：%(name)s", name=self.name)
        return _("培训班日程：%(name)s", name=self.name)


def resolve(kind: str, item_id: int, user: Any) -> Subject:
    """The calendar of ``kind`` ``item_id`` as ``user`` may see it; NotFound when not at all."""
    if kind == "site":
        # The three columns the calendar needs, not the whole site as an ORM object.
        site = db.session.execute(SITE_QUERY, {"id": item_id}).first()
        if site is None:
            raise NotFound(_("没有找到该教学点。"))
        return Subject(
            kind,
            site,
            site.name,
            can_edit(user, site.member_id),
            Reservation.site_id == site.id,
            url_for("catalog.site_detail", site_id=site.id),
        )
    if kind == "member":
        member = db.session.get(Member, item_id)
        if member is None:
            raise NotFound(_("没有找到该成员单位。"))
        sites = select(TeachingSite.id).where(TeachingSite.member_id == member.id)
        return Subject(
            kind,
            member,
            member.name,
            can_edit(user, member.id),
            Reservation.site_id.in_(sites),
            url_for("members.index"),
        )
    if kind == "teacher":
        teacher = db.session.get(Teacher, item_id)
        if teacher is None or not teacher_visible(teacher, user):
            raise NotFound(_("没有找到该教师。"))
        return Subject(
            kind,
            teacher,
            teacher.name,
            can_edit(user, teacher.member_id),
            Reservation.teacher_id == teacher.id,
            url_for("catalog.teacher_detail", teacher_id=teacher.id),
        )
    training_class = db.session.get(TrainingClass, item_id)
    if training_class is None:
        raise NotFound(_("没有找到该培训班。"))
    require_class_owner(training_class, user)
    bookings = select(Booking.id).where(Booking.class_id == training_class.id)
    return Subject(
        "class",
        training_class,
        training_class.name,
        True,
        Reservation.booking_id.in_(bookings),
        url_for("bookings.class_detail", class_id=training_class.id),
    )


def resolve_or_404(kind: str, item_id: int, user: Any) -> Subject:
    try:
        return resolve(kind, item_id, user)
    except NotFound:
        abort(404)


# Statements built once per process, with bound parameters: building a statement and
# working out its cache key cost more than running it (0.6 against 0.4 ms on SQLite).
SITE_QUERY = select(TeachingSite.id, TeachingSite.name, TeachingSite.member_id).where(
    TeachingSite.id == bindparam("id")
)
# Far bounds for an open-ended public window (public feeds and pages always give both).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)


@cache
def public_entries_query(kind: str) -> Select:
    """The public view of a site's, member's or teacher's reservations (``subject``, the id)
    overlapping [``start``, ``end``): columns and the site's name and address, no ORM object.
    """
    subject = bindparam("subject")
    if kind == "site":
        condition = Reservation.site_id == subject
    elif kind == "member":
        sites = select(TeachingSite.id).where(TeachingSite.member_id == subject)
        condition = Reservation.site_id.in_(sites)
    elif kind == "teacher":
        condition = Reservation.teacher_id == subject
    else:
        raise ValueError(f"no public calendar of a {kind}")
    return (
        select(
            Reservation.id,
            Reservation.starts_at,
            Reservation.ends_at,
            Reservation.status,
            TeachingSite.name,
            TeachingSite.address,
        )
        .join(TeachingSite, Reservation.site_id == TeachingSite.id)
        .where(
            condition,
            Reservation.status.in_(HOLDING),
            Reservation.ends_at > bindparam("start"),
            Reservation.starts_at < bindparam("end"),
        )
        .order_by(Reservation.starts_at, Reservation.id)
    )


def load_entries(
    subject: Subject, start: datetime | None, end: datetime | None
) -> list[calendars.Entry]:
    """The subject's live reservations overlapping [start, end), in order: one query.

    The public view needs no ORM object: the reservation's columns and its site's name
    and address, joined (a busy month holds a hundred reservations). The detailed view
    loads the reservations with their sites, classes, courses and teachers.
    """
    if subject.detailed:
        query = (
            select(Reservation)
            .where(subject.condition, Reservation.status.in_(HOLDING))
            .order_by(Reservation.starts_at, Reservation.id)
            .options(
                selectinload(Reservation.site),
                selectinload(Reservation.booking).selectinload(Booking.training_class),
                selectinload(Reservation.course),
                selectinload(Reservation.teacher),
            )
        )
        if start is not None:
            query = query.where(Reservation.ends_at > start)
        if end is not None:
            query = query.where(Reservation.starts_at < end)
        return [calendars.make_entry(r, True) for r in db.session.scalars(query)]
    rows = db.session.execute(
        public_entries_query(subject.kind),
        {"subject": subject.obj.id, "start": start or EARLIEST, "end": end or LATEST},
    )
    labels: dict[str, str] = {}
    entries = []
    for id_, starts_at, ends_at, status, site_name, site_address in rows:
        label = labels.get(status)
        if label is None:
            label = labels[status] = str(RESERVATION_STATUSES.get(status, status))
        entries.append(
            calendars.Entry(
                id=id_,
                starts=starts_at.astimezone(LOCAL_TZ),
                ends=ends_at.astimezone(LOCAL_TZ),
                status=status,
                status_label=label,
                site_name=site_name,
                site_address=site_address or "",
                detailed=False,
            )
        )
    return entries


def bad_request(message: str):
    from portal.web import ERROR_TITLES

    return (
        render_template("error.html", code=400, title=ERROR_TITLES[400], hint=message),
        400,
    )


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


# ---------------------------------------------------------------- feed tokens


def feed_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=FEED_SALT)


def feed_token(kind: str, item_id: int, user: Any) -> str:
    """The private feed token of ``user`` for a calendar; void once their session version moves."""
    return feed_serializer().dumps(
        {"kind": kind, "id": item_id, "user": user.id, "v": user.session_version}
    )


def feed_user(token: str) -> tuple[str, int, User] | None:
    """Calendar kind, id and user of a valid token; None if forged, stale or malformed."""
    try:
        data = feed_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    kind, item_id, user_id, version = (data.get(k) for k in ("kind", "id", "user", "v"))
    if kind not in ("site", "member", "teacher", "class"):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (item_id, user_id, version)):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return kind, item_id, user


# ---------------------------------------------------------------- pages


@bp.get(f"/calendar/<{KINDS}:kind>/<int:item_id>")
@cached_page(CATALOGUE, SCHEDULE)
def page(kind: str, item_id: int):
    subject = resolve_or_404(kind, item_id, current_user)
    try:
        view = calendars.parse_view(request.args.get("view"))
    except ValueError:
        return bad_request(_("视图只能是 month（月视图）或 week（周视图）。"))
    try:
        anchor = calendars.parse_day(request.args.get("date"), today())
    except ValueError:
        return bad_request(
            _(
                "日期无效：请使用 YYYY-MM-DD 格式的真实日期（%(min)s–%(max)s 年）。",
                min=1970,
                max=2100,
            )
        )
    window = calendars.make_window(view, anchor)
    entries = load_entries(subject, *window.utc_bounds())
    links = {}
    if current_user.is_authenticated and subject.detailed:
        links["private"] = url_for(
            ".token_feed", token=feed_token(kind, item_id, current_user), _external=True
        )
    if kind != "class":
        links["public"] = url_for(".feed", kind=kind, item_id=item_id, _external=True)
    days = calendars.by_day(entries)
    shown_today = today()
    month_body = None
    if window.view == "month":
        month_body = calendars.month_body(window, days, shown_today, kind, _("今天"))

    def nav_url(view: str, day: date) -> str:
        return url_for(".page", kind=kind, item_id=item_id, view=view, date=day.isoformat())

    nav_urls = {
        "prev": nav_url(window.view, window.prev),
        "today": nav_url(window.view, shown_today),
        "next": nav_url(window.view, window.next),
        "month": nav_url("month", window.anchor),
        "week": nav_url("week", window.anchor),
    }
    return render_template(
        "calendars/calendar.html",
        nav_urls=nav_urls,
        subject=subject,
        window=window,
        days=days,
        month_body=month_body,
        today=shown_today,
        weekday_labels=WEEKDAY_LABELS,
        links=links,
        count=len(entries),
        generated=datetime.now(LOCAL_TZ),
    )


# ---------------------------------------------------------------- feeds


def feed_response(subject: Subject, private: bool) -> Response:
    if subject.kind == "class":
        start = end = None
    else:
        now = datetime.now(LOCAL_TZ)
        start, end = now - FEED_PAST, now + FEED_AHEAD
    entries = load_entries(subject, start, end)
    body = calendars.build_ics(entries, name=subject.title)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'inline; filename="{subject.kind}-{subject.obj.id}.ics"'
    )
    response.headers["Cache-Control"] = (
        "private, no-store" if private or subject.detailed else "public, max-age=900"
    )
    return response


@bp.get(f"/calendar/<{KINDS}:kind>/<int:item_id>.ics")
def feed(kind: str, item_id: int):
    """The feed as the current viewer may see it (anonymous calendar apps: the public view)."""
    subject = resolve_or_404(kind, item_id, current_user)
    return feed_response(subject, private=current_user.is_authenticated)


@bp.get("/calendar/feed/<token>.ics")
def token_feed(token: str):
    """A private feed for calendar apps: the token stands for its user, while still valid."""
    found = feed_user(token)
    if found is None:
        abort(404)
    kind, item_id, user = found
    subject = resolve_or_404(kind, item_id, user)
    if not subject.detailed:
        # The user lost the right to the details since the link was made.
        abort(404)
    return feed_response(subject, private=True)


# ---------------------------------------------------------------- PDF itinerary


def font_missing(message: str):
    return (
        render_template("error.html", code=503, title=_("暂时无法生成行程单"), hint=message),
        503,
        {"Retry-After": "3600"},
    )


@bp.get("/classes/<int:class_id>/itinerary.pdf")
def itinerary_pdf(class_id: int):
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        abort(404)
    try:
        require_class_owner(training_class, current_user)
    except NotFound:
        abort(404)
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _(
        "服务器上没有可用的中文字体，无法生成 PDF 行程单。请联系管理员安装中文字体"
        "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
    )
    if font is None:
        log.error("no CJK font for the itinerary PDF (PDF_FONT_PATH or the default paths)")
        return font_missing(missing)
    c = training_class
    shown = itinerary.build(c)
    # Everything the PDF shows, as data (the words come from the language and the code):
    # the same key, the same document, whenever it was made.
    locale = select_locale()
    key = pdfcache.fingerprint(
        font.path,
        font.face,
        locale,
        [c.name, c.sending_unit, c.size, c.starts_on, c.ends_on, c.contact_name, c.contact_phone],
        shown.key(),
    )
    name = f"itinerary-{c.id}-{locale}"
    body = pdfcache.load(name, key)
    if body is None:
        try:
            body = calendars.build_itinerary_pdf(
                title=_("培训班行程单"),
                facts=[
                    (_("班级名称"), c.name),
                    (_("选派单位"), c.sending_unit),
                    (_("人数"), _("%(count)s 人", count=c.size)),
                    (
                        _("培训日期"),
                        _(
                            "%(start)s 至 %(end)s",
                            start=c.starts_on.isoformat(),
                            end=c.ends_on.isoformat(),
                        ),
                    ),
                    (_("联系人"), f"{c.contact_name}  {c.contact_phone}"),
                ],
                columns=(_("时间"), _("安排"), _("地点"), _("授课教师"), _("状态")),
                days=shown.days,
                contacts_heading=_("接待单位联系方式"),
                contact_columns=(_("接待单位"), _("教学点"), _("联系人"), _("电话")),
                contacts=[(k.member, k.sites, k.person, k.phone) for k in shown.contacts],
                map_heading=_("行程路线图"),
                route_map=shown.map,
                footer=_(
                    "环线培训门户 · 生成日期：%(date)s",
                    date=datetime.now(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                ),
                page_label=_("第 %(page)s 页", page="{page}"),
                empty=_("暂无已预约的行程。"),
                font=font,
            )
        except pdf.FontUnavailable as exc:
            log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
            return font_missing(missing)
        pdfcache.store(name, key, body)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="itinerary-{c.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
