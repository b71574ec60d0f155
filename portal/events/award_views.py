"""Contest award pages: outside judges, grades, winners' certificates (rules in ``awards``).

Routes of the ``events`` blueprint, imported by ``portal.create_app``.
"""

from __future__ import annotations

import logging

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import pdf
from portal.errors import ServiceError, ValidationFailed
from portal.events import forms
from portal.events.awards import (
    appoint_outside_judge,
    certificate_pdf,
    certificate_visible,
    set_grades,
)
from portal.events.models import ContestEntry
from portal.events.views import bp, load_event, render_detail, require_office
from portal.extensions import db

log = logging.getLogger(__name__)


@bp.post("/events/<int:event_id>/judges/outside", endpoint="judge_outside")
@login_required
def judge_outside(event_id: int):
    """Appoint an outside expert (name and unit) to the panel."""
    require_office()
    event = load_event(event_id)
    form = forms.OutsideJudgeForm(prefix="outside")
    if form.validate_on_submit():
        try:
            appointment = appoint_outside_judge(event, current_user, form.name.data, form.unit.data)
        except ValidationFailed as error:
            db.session.rollback()
            for key, message in error.errors.items():
                getattr(form, key, form.name).errors = [message]
        except ServiceError as error:
            db.session.rollback()
            form.name.errors = [error.message]
        else:
            db.session.commit()
            flash(_("已聘请评委：%(name)s", name=appointment.label), "success")
            return redirect(url_for(".detail", event_id=event_id) + "#judges")
    return render_detail(load_event(event_id), outside_judge_form=form), 400


@bp.post("/events/<int:event_id>/grades", endpoint="grades")
@login_required
def grades(event_id: int):
    """The office gives scored entries their grades (一/二/三等奖, 优秀奖)."""
    require_office()
    event = load_event(event_id)
    if not event.is_contest:
        abort(404)
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    chosen: dict[int, str] = {}
    for key, value in request.form.items():
        if key.startswith("grade-"):
            number = key.removeprefix("grade-")
            if number.isascii() and number.isdigit() and len(number) < 10:
                chosen[int(number)] = value
    try:
        winners = set_grades(event, current_user, chosen)
    except ValidationFailed as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(str(message), "danger")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("已评定获奖项目 %(count)s 个。", count=len(winners)), "success")
    return redirect(url_for(".results", event_id=event_id))


@bp.get("/events/entries/<int:entry_id>/certificate.pdf", endpoint="certificate")
def certificate(entry_id: int):
    """A winner's certificate (PDF), for the office and the entry's member's staff; 404 for
    anyone else, signed in or not (ids leak nothing)."""
    entry = db.session.get(ContestEntry, entry_id)
    if entry is None or not certificate_visible(entry, current_user):
        abort(404)
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _("服务器上没有可用的中文字体，无法生成证书。请联系管理员安装 fonts-noto-cjk。")
    if font is None:
        log.error("no CJK font for the certificate PDF")
        return render_template(
            "error.html", code=503, title=_("暂时无法生成证书"), hint=missing
        ), 503
    try:
        body = certificate_pdf(entry, font)
    except pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return render_template(
            "error.html", code=503, title=_("暂时无法生成证书"), hint=missing
        ), 503
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{entry.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
