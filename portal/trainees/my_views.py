"""The trainee's own pages (我的): today and next, itineraries, notices, rules, handbook."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import pdf
from portal.errors import NotFound, ServiceError
from portal.pagecache import private_page
from portal.scheduling.calendar_views import font_missing
from portal.timeutil import LOCAL_TZ
from portal.trainees import access, electives, handbook, itinerary, notices, open_runs, roster
from portal.trainees.forms import ActionForm, ChooseForm
from portal.trainees.models import Elective
from portal.trainees.views import bp

log = logging.getLogger(__name__)


def my_class(class_id: int):
    try:
        return roster.require_trainee_of(class_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/me")
@login_required
@private_page()
def me():
    """The trainee's landing page: what is on now and next, their classes and runs."""
    today = datetime.now(LOCAL_TZ).date()
    # Full cards (itinerary, notices, electives: about ten statements each) only for classes
    # not ended yet; ended ones are a list of links, so the page does not grow with history.
    classes, ended = roster.split_ended(roster.classes_of_trainee(current_user), today)
    cards = []
    for training_class in classes:
        entry = roster.entry_of(training_class.id, current_user)
        stops = itinerary.class_stops(training_class, entry)
        cards.append(
            {
                "klass": training_class,
                "entry": entry,
                "now": itinerary.now_and_next(stops),
                "current": training_class.starts_on <= today <= training_class.ends_on,
                "upcoming": training_class.starts_on > today,
                "profile": notices.profile_of(training_class),
                "notices": notices.notices_of(training_class)[:3],
                "open_electives": [
                    e
                    for e in electives.electives_of(training_class)
                    if e.status == "open" and electives.choice_of(e, entry) is None
                ],
            }
        )
    cards.sort(key=lambda c: (not c["current"], not c["upcoming"], c["klass"].starts_on))
    return render_template(
        "trainees/me.html",
        cards=cards,
        ended=ended,
        seats=open_runs.my_seats(current_user),
        runs=open_runs.bookable_runs(current_user),
    )


@bp.get("/me/classes/<int:class_id>")
@login_required
@private_page()
def my_class_page(class_id: int):
    training_class, entry = my_class(class_id)
    stops = itinerary.class_stops(training_class, entry)
    profile = notices.profile_of(training_class)
    feed_url = None
    if profile.calendar_shared:
        feed_url = url_for(
            ".my_feed", token=handbook.feed_token(training_class, current_user), _external=True
        )
    choices = []
    for elective in electives.electives_of(training_class):
        chosen = electives.choice_of(elective, entry)
        form = ChooseForm(prefix=f"e{elective.id}")
        fill = electives.option_fill(elective)
        form.option_id.choices = [(str(o.id), o.label) for o, _n in fill]
        if chosen is not None:
            form.option_id.data = str(chosen.option_id)
        choices.append({"elective": elective, "chosen": chosen, "form": form, "fill": fill})
    return render_template(
        "trainees/my_class.html",
        training_class=training_class,
        entry=entry,
        days=itinerary.by_day(stops),
        now=itinerary.now_and_next(stops),
        profile=profile,
        notices=notices.notices_of(training_class),
        ack_form=ActionForm(),
        feed_url=feed_url,
        choices=choices,
        utcnow=datetime.now(LOCAL_TZ),
    )


@bp.post("/me/classes/<int:class_id>/acknowledge")
@login_required
def my_acknowledge(class_id: int):
    _training_class, entry = my_class(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        notices.acknowledge_rules(entry)
    except ServiceError as error:
        flash(error.message, "warning")
    else:
        flash(_("已确认阅读学前纪律。"), "success")
    return redirect(url_for(".my_class_page", class_id=class_id) + "#rules")


@bp.post("/me/electives/<int:elective_id>/choose")
@login_required
def my_choose(elective_id: int):
    from portal.extensions import db

    elective = db.session.get(Elective, elective_id)
    if elective is None:
        abort(404)
    _training_class, entry = my_class(elective.class_id)
    form = ChooseForm(prefix=f"e{elective.id}")
    form.option_id.choices = [(str(o.id), o.label) for o in elective.options]
    class_id = elective.class_id
    if not form.validate_on_submit():
        flash(_("请选择一个备选项。"), "warning")
        return redirect(url_for(".my_class_page", class_id=class_id) + f"#elective-{elective_id}")
    try:
        electives.choose(elective_id, entry.id, int(form.option_id.data))
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        flash(_("已选择。"), "success")
    return redirect(url_for(".my_class_page", class_id=class_id) + f"#elective-{elective_id}")


def handbook_subject(class_id: int):
    """The trainee's own handbook, or the whole one for those who manage the class."""
    from portal.extensions import db
    from portal.scheduling.models import TrainingClass

    training_class = db.session.get(TrainingClass, class_id)
    if training_class is not None and access.is_class_manager(training_class, current_user):
        return training_class, None
    return my_class(class_id)


@bp.get("/me/classes/<int:class_id>/handbook")
@login_required
def handbook_page(class_id: int):
    training_class, entry = handbook_subject(class_id)
    book = handbook.handbook_for(training_class, entry)
    return render_template("trainees/handbook.html", book=book, entry=entry)


@bp.get("/me/classes/<int:class_id>/handbook.pdf")
@login_required
def handbook_pdf(class_id: int):
    training_class, entry = handbook_subject(class_id)
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _(
        "服务器上没有可用的中文字体，无法生成 PDF 培训手册。请联系管理员安装中文字体"
        "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
    )
    if font is None:
        log.error("no CJK font for the handbook PDF")
        return font_missing(missing)
    try:
        body = handbook.handbook_pdf(handbook.handbook_for(training_class, entry), font)
    except pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return font_missing(missing)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="handbook-{class_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/me/calendar/<token>.ics")
def my_feed(token: str):
    """The trainee's subscription to the class calendar (their own electives)."""
    found = handbook.feed_subject(token)
    if found is None:
        abort(404)
    training_class, entry = found
    body = handbook.feed_ics(training_class, entry)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="class-{training_class.id}.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
