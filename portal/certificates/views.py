"""Completion and certificates' pages: the class's completion list, issuing, the class PDF,
the office's decisions, the trainee's own certificates and the public verification page.

Thin: rules and permission checks are in ``services``; another class's objects answer 404.
"""

from __future__ import annotations

import logging

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
from flask_login import current_user, login_required

from portal import pdf
from portal.certificates import services
from portal.certificates.forms import DecideForm, IssueForm, VerifyForm
from portal.certificates.models import Certificate
from portal.certificates.pdf import certificates_pdf
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.calendar_views import font_missing
from portal.scheduling.models import TrainingClass
from portal.trainees.access import is_class_manager

log = logging.getLogger(__name__)
bp = Blueprint("certificates", __name__, template_folder="templates")


def managed_class(class_id: int) -> TrainingClass:
    try:
        return services.require_manager(db.session.get(TrainingClass, class_id), current_user)
    except NotFound:
        abort(404)


@bp.get("/certificates/classes/<int:class_id>")
@login_required
def class_page(class_id: int):
    """Who completes the class (once it has ended), their certificates, the office's actions."""
    training_class = managed_class(class_id)
    ended = services.class_ended(training_class)
    standings = services.standings(training_class) if ended else []
    return render_template(
        "certificates/class.html",
        training_class=training_class,
        ended=ended,
        standings=standings,
        can_issue=services.can_issue(training_class, current_user),
        issue_form=IssueForm(),
        decide_form=DecideForm(),
        issued=[s.certificate for s in standings if s.certificate is not None],
    )


@bp.post("/certificates/classes/<int:class_id>/issue")
@login_required
def issue(class_id: int):
    training_class = managed_class(class_id)
    if not IssueForm().validate_on_submit():
        abort(400)
    try:
        issued = services.issue_certificates(training_class, current_user)
    except PermissionDenied:
        abort(403)
    except ServiceError as error:
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("已发放 %(n)s 份结业证书。", n=len(issued)), "success")
    return redirect(url_for(".class_page", class_id=class_id))


@bp.post("/certificates/<int:certificate_id>/decide")
@login_required
def decide(certificate_id: int):
    if not current_user.is_office:
        abort(403)
    certificate = db.session.get(Certificate, certificate_id) or abort(404)
    form = DecideForm()
    if not form.validate_on_submit():
        flash(_("请填写原因。"), "danger")
    else:
        try:
            services.decide(
                certificate, form.action.data or "", form.reason.data or "", current_user
            )
        except (ValidationFailed, ServiceError) as error:
            message = (
                next(iter(error.errors.values()))
                if isinstance(error, ValidationFailed)
                else error.message
            )
            flash(message, "danger")
        else:
            db.session.commit()
            flash(_("已处理，记录在审计日志中。"), "success")
    return redirect(url_for(".class_page", class_id=certificate.class_id) + "#certificates")


def pdf_texts() -> dict[str, str]:
    return {
        "title": _("结业证书"),
        "body": _(
            "{name} 同志：\n　　{dates}参加{klass}学习，完成规定的学习任务，计 {hours} 学时，"
            "成绩合格，准予结业。\n　　特发此证。"
        ),
        "one_day": _("于{start}"),
        "days": _("于{start}至{end}"),
        "issuer": _("保山市干部教育培训环线联盟"),
        "date": _("{date}"),
        "serial": _("证书编号：{serial}"),
        "scan": _("扫描二维码或访问本门户“证书查验”核验真伪"),
    }


def pdf_response(certificates: list[Certificate], filename: str) -> Response:
    font = pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    missing = _(
        "服务器上没有可用的中文字体，无法生成 PDF 证书。请联系管理员安装中文字体"
        "（Debian 软件包 fonts-noto-cjk）或设置 PDF_FONT_PATH。"
    )
    if font is None:
        log.error("no CJK font for the certificates PDF")
        return font_missing(missing)
    try:
        body = certificates_pdf(
            certificates,
            verify_url=lambda serial: url_for(".verify", serial=serial, _external=True),
            texts=pdf_texts(),
            font=font,
        )
    except pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return font_missing(missing)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/classes/<int:class_id>/certificates.pdf")
@login_required
def class_pdf(class_id: int):
    """Every valid certificate of the class, one A4 page each, in one PDF."""
    training_class = managed_class(class_id)
    certificates = list(
        db.session.scalars(
            db.select(Certificate)
            .where(Certificate.class_id == training_class.id, Certificate.status == "issued")
            .order_by(Certificate.id)
        )
    )
    if not certificates:
        flash(_("这个班还没有有效的结业证书。"), "warning")
        return redirect(url_for(".class_page", class_id=class_id))
    return pdf_response(certificates, f"certificates-{class_id}.pdf")


@bp.get("/certificates/mine")
@login_required
def mine():
    return render_template(
        "certificates/mine.html", certificates=services.certificates_of_user(current_user)
    )


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id: int):
    """One certificate: for its holder, the class's managers and the office."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    holder = certificate.entry is not None and certificate.entry.user_id == current_user.id
    if not holder and not is_class_manager(certificate.training_class, current_user):
        abort(404)
    if certificate.status != "issued":
        abort(404)
    return pdf_response([certificate], f"certificate-{certificate.serial}.pdf")


@bp.get("/verify")
def verify_form():
    """The public page where anyone types a serial to check a certificate."""
    form = VerifyForm(request.args)
    if request.args.get("serial") and form.validate():
        return redirect(url_for(".verify", serial=services.normalise_serial(form.serial.data)))
    return render_template("certificates/verify_form.html", form=form)


@bp.get("/verify/<serial>")
def verify(serial: str):
    """Public: genuine (name partly masked), withheld or revoked; an unknown serial is 404."""
    certificate = services.by_serial(serial)
    status = 200 if certificate is not None else 404
    response = Response(
        render_template(
            "certificates/verify.html",
            certificate=certificate,
            serial=services.normalise_serial(serial),
            form=VerifyForm(),
        ),
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
