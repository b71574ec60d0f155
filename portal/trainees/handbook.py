"""The class handbook (电子版培训手册): itinerary, course materials, rules and contacts.

The same content as a page and as a PDF (fpdf2 with the embedded Noto CJK font, cached by
its content like the itinerary PDF). Also the trainee's private calendar feed of the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from portal import pdf, pdfcache
from portal.auth.models import User
from portal.catalog.models import CourseMaterial
from portal.extensions import db, select_locale
from portal.scheduling import calendars
from portal.scheduling.models import TrainingClass
from portal.specs import WEEKDAY_LABELS
from portal.timeutil import LOCAL_TZ
from portal.trainees import itinerary
from portal.trainees.models import ClassProfile, RosterEntry
from portal.trainees.notices import profile_of

FEED_SALT = "trainee-class-feed"


@dataclass
class Handbook:
    training_class: TrainingClass
    profile: ClassProfile
    stops: list[itinerary.Stop]
    materials: list[CourseMaterial]

    @property
    def days(self) -> dict:
        return itinerary.by_day(self.stops)


def handbook_for(training_class: TrainingClass, entry: RosterEntry | None) -> Handbook:
    stops = itinerary.class_stops(training_class, entry)
    return Handbook(
        training_class, profile_of(training_class), stops, itinerary.materials_for(stops)
    )


def _weekday(day) -> str:
    return str(WEEKDAY_LABELS[day.isoweekday()])


def handbook_pdf(book: Handbook, font: pdf.FontChoice) -> bytes:
    """The handbook as an A4 PDF (cached by what it shows)."""
    c = book.training_class
    rows = [
        (
            s.starts.isoformat(),
            s.ends.isoformat(),
            s.title,
            s.site_name,
            s.address,
            s.teacher,
            s.contact,
        )
        for s in book.stops
    ]
    materials = [(m.course.name, m.kind_label, m.title) for m in book.materials]
    locale = select_locale()
    key = pdfcache.fingerprint(
        font.path,
        font.face,
        locale,
        [c.name, c.sending_unit, c.starts_on, c.ends_on, c.contact_name, c.contact_phone],
        rows,
        materials,
        book.profile.rules_text,
        book.profile.contacts_text,
    )
    name = f"handbook-{c.id}-{locale}"
    body = pdfcache.load(name, key)
    if body is not None:
        return body
    columns = [_("时间"), _("安排"), _("地点"), _("联系人")]
    sections = [
        pdf.PdfSection(
            heading=_("%(day)s（%(weekday)s）", day=day.isoformat(), weekday=_weekday(day)),
            table=[columns]
            + [
                [
                    f"{s.starts:%H:%M}–{s.ends:%H:%M}",
                    s.title + (f"\n{s.teacher}" if s.teacher else ""),
                    s.site_name + (f"\n{s.address}" if s.address else "") or "—",
                    s.contact or "—",
                ]
                for s in stops
            ],
            widths=(24, 58, 60, 32),
        )
        for day, stops in book.days.items()
    ] or [pdf.PdfSection(heading=_("行程"), empty=_("暂无已预约的行程。"))]
    sections.append(
        pdf.PdfSection(
            heading=_("课程资料"),
            table=[[_("课程"), _("类型"), _("标题")]]
            + [[m.course.name, m.kind_label, m.title] for m in book.materials],
            widths=(70, 24, 80),
            empty=_("成员单位尚未上传课程资料。"),
        )
    )
    sections.append(
        pdf.PdfSection(
            heading=_("学前纪律"),
            paragraphs=[p for p in book.profile.rules_text.split("\n") if p.strip()],
            empty=_("本班尚未发布学前纪律。"),
        )
    )
    contacts = [f"{c.contact_name}  {c.contact_phone}"] + [
        p for p in book.profile.contacts_text.split("\n") if p.strip()
    ]
    sections.append(pdf.PdfSection(heading=_("联系方式"), paragraphs=contacts))
    body = pdf.build_pdf(
        title=_("培训手册：%(name)s", name=c.name),
        facts=[
            (_("选派单位"), c.sending_unit),
            (
                _("培训日期"),
                _("%(start)s 至 %(end)s", start=c.starts_on.isoformat(), end=c.ends_on.isoformat()),
            ),
            (_("联系人"), f"{c.contact_name}  {c.contact_phone}"),
        ],
        sections=sections,
        footer=_(
            "环线培训门户 · 生成日期：%(date)s",
            date=datetime.now(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        ),
        page_label=_("第 %(page)s 页", page="{page}"),
        font=font,
    )
    pdfcache.store(name, key, body)
    return body


# ---------------------------------------------------------------- the trainee's calendar feed


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=FEED_SALT)


def feed_token(training_class: TrainingClass, user: Any) -> str:
    """The trainee's own subscription token: void when the organizer resets the class's
    links, or the trainee's password changes."""
    version = profile_of(training_class).share_version or 1
    return _serializer().dumps(
        {"c": training_class.id, "u": user.id, "v": user.session_version, "s": version}
    )


def feed_subject(token: str) -> tuple[TrainingClass, RosterEntry] | None:
    """The class and roster entry of a valid token (shared calendar, still on the roster)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    values = [data.get(k) for k in ("c", "u", "v", "s")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    class_id, user_id, version, share = values
    user = db.session.get(User, user_id)
    training_class = db.session.get(TrainingClass, class_id)
    if user is None or training_class is None or not user.active or training_class.cancelled:
        return None
    profile = db.session.get(ClassProfile, class_id)
    if profile is None or not profile.calendar_shared or profile.share_version != share:
        return None
    if user.session_version != version:
        return None
    entry = db.session.query(RosterEntry).filter_by(class_id=class_id, user_id=user_id).first()
    if entry is None:
        return None
    return training_class, entry


def feed_ics(training_class: TrainingClass, entry: RosterEntry) -> bytes:
    """The trainee's calendar of the class: their own choices, every squad as one event."""
    entries = [
        calendars.make_entry(r, True) for r in itinerary.visible_reservations(training_class, entry)
    ]
    return calendars.build_ics(entries, name=_("培训班日程：%(name)s", name=training_class.name))
