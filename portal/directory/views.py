"""Directory pages: members' proposals, the office's review, assessment, warnings and
supervision visits, and the public yearly directory. Thin: the rules are in the services."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import pdf as portal_pdf
from portal.catalog import services as catalog
from portal.catalog.excel import XLSX_MIMETYPE
from portal.catalog.models import TeachingSite
from portal.catalog.photos import photos_of
from portal.directory import assessment, forms, services, supervision, yearly
from portal.directory.models import SiteChangeRequest, SiteWarning, SupervisionVisit
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.formfields import form_errors_text, show_errors
from portal.scheduling.settings import setting
from portal.web import act

log = logging.getLogger(__name__)
bp = Blueprint("directory", __name__, url_prefix="/directory", template_folder="templates")


def require_staff() -> None:
    if not (current_user.is_office or current_user.is_member_user):
        abort(403)


def require_office() -> None:
    if not current_user.is_office:
        abort(403)


def load_site(site_id: int) -> TeachingSite:
    try:
        return services.get_site(site_id, current_user)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------- members and office: sites


@bp.get("/")
@login_required
def index():
    require_staff()
    today = services.today_local()
    return render_template(
        "directory/index.html",
        sites=services.member_sites(current_user),
        warnings=[
            w
            for w in services.all_open_warnings()
            if current_user.is_office or w.site.member_id == current_user.member_id
        ],
        findings=supervision.findings_for(current_user, only_open=True),
        today=today,
        pending=(
            len(services.pending_proposals()) + len(services.pending_changes())
            if current_user.is_office
            else 0
        ),
        year=today.year,
        to_warn=services.below_threshold(today.year) if current_user.is_office else [],
        threshold=setting("directory_warning_threshold"),
        members=services.members_for_trust() if current_user.is_office else [],
        trust_form=forms.NoteForm() if current_user.is_office else None,
    )


@bp.post("/members/<int(max=2147483647):member_id>/trusted")
@login_required
def trust(member_id: int):
    """The office trusts a member's plugin (its new sites enter admitted) or not."""
    require_office()
    if not forms.NoteForm().validate_on_submit():
        abort(400)
    try:
        member = services.set_trusted(member_id, current_user, request.form.get("trusted") == "1")
    except NotFound:
        abort(404)
    flash(
        _("已信任%(name)s：插件同步的新教学点直接入录。", name=member.short_name)
        if member.trusted
        else _("%(name)s插件同步的新教学点须经审核入录。", name=member.short_name),
        "success",
    )
    return redirect(url_for("directory.index") + "#trusted")


@bp.get("/sites/<int:site_id>")
@login_required
def site(site_id: int):
    site = load_site(site_id)
    today = services.today_local()
    assessments = catalog.assessments(site)
    return render_template(
        "directory/site.html",
        site=site,
        proposal=services.latest_proposal(site),
        proposal_form=forms.ProposalForm(prefix="proposal", obj=services.latest_proposal(site)),
        decision_form=forms.DecisionForm(prefix="decide"),
        warn_form=forms.WarnForm(prefix="warn"),
        step_form=forms.StepForm(prefix="step"),
        exit_form=forms.StepForm(prefix="exit"),
        reason_form=forms.ReasonForm(prefix="reason"),
        note_form=forms.NoteForm(prefix="note"),
        warnings=services.warnings_of(site),
        history=services.history(site),
        assessments=[(a, assessment.scores_of(a)) for a in assessments],
        affected=len(services.affected_bookings(site)) if current_user.is_office else 0,
        threshold=setting("directory_warning_threshold"),
        today=today,
        photos=photos_of(site),
    )


@bp.post("/sites/<int:site_id>/propose")
@login_required
def propose(site_id: int):
    site = load_site(site_id)
    form = forms.ProposalForm(prefix="proposal")
    if not form.validate_on_submit():
        flash(form_errors_text(form) or _("请重新提交。"), "danger")
    else:
        act(
            lambda: services.submit_proposal(
                site, current_user, form.materials.data, form.safety_notes.data
            ),
            _("已提交环线办审核。"),
        )
    return redirect(url_for("directory.site", site_id=site.id))


@bp.post("/sites/<int:site_id>/decide")
@login_required
def decide(site_id: int):
    require_office()
    site = load_site(site_id)
    form = forms.DecisionForm(prefix="decide")
    if form.validate_on_submit():
        admit = bool(form.approve.data)
        act(
            lambda: services.decide_proposal(site, current_user, admit, form.reason.data),
            _("已入录目录。") if admit else _("已退回。"),
        )
    return redirect(url_for("directory.review"))


@bp.get("/review")
@login_required
def review():
    require_office()
    return render_template(
        "directory/review.html",
        proposals=services.pending_proposals(),
        changes=services.pending_changes(),
        form=forms.DecisionForm(prefix="decide"),
        labels=catalog.FIELD_LABELS,
        review_changes=setting("directory_review_changes"),
    )


@bp.post("/changes/<int:change_id>/decide")
@login_required
def change_decide(change_id: int):
    require_office()
    change = db.session.get(SiteChangeRequest, change_id) or abort(404)
    form = forms.DecisionForm(prefix="decide")
    if form.validate_on_submit():
        approve = bool(form.approve.data)
        act(
            lambda: services.decide_change(change, current_user, approve, form.reason.data),
            _("已同意变更。") if approve else _("已退回变更。"),
        )
    return redirect(url_for("directory.review"))


# ---------------------------------------------------------------- warning, suspension, exit


@bp.post("/sites/<int:site_id>/warn")
@login_required
def warn(site_id: int):
    require_office()
    site = load_site(site_id)
    form = forms.WarnForm(prefix="warn")
    if not form.validate_on_submit():
        flash(form_errors_text(form), "danger")
    else:
        act(
            lambda: services.warn(
                site, current_user, form.reason.data, form.due_on.data, form.on_suspend.data
            ),
            _("已发出整改通知。"),
        )
    return redirect(url_for("directory.site", site_id=site.id) + "#warnings")


@bp.post("/warnings/<int:warning_id>/fixed")
@login_required
def warning_fixed(warning_id: int):
    require_office()
    warning = db.session.get(SiteWarning, warning_id) or abort(404)
    form = forms.NoteForm(prefix="note")
    if form.validate_on_submit():
        act(
            lambda: services.mark_fixed(warning, current_user, form.note.data),
            _("已确认整改完成。"),
        )
    return redirect(url_for("directory.site", site_id=warning.site_id) + "#warnings")


def _step(site_id: int, work: Callable[..., int], done: str, prefix: str):
    require_office()
    site = load_site(site_id)
    form = forms.StepForm(prefix=prefix)
    if not form.validate_on_submit():
        flash(form_errors_text(form), "danger")
        return redirect(url_for("directory.site", site_id=site_id))
    try:
        cancelled = work(site, current_user, form.reason.data, form.on_bookings.data)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(done + _("取消预约 %(count)s 个。", count=cancelled), "success")
    return redirect(url_for("directory.site", site_id=site_id))


@bp.post("/sites/<int:site_id>/suspend")
@login_required
def suspend(site_id: int):
    return _step(site_id, services.suspend, _("已暂停。"), "step")


@bp.post("/sites/<int:site_id>/exit")
@login_required
def exit_site(site_id: int):
    return _step(site_id, services.exit_directory, _("已退出目录。"), "exit")


@bp.post("/sites/<int:site_id>/reinstate")
@login_required
def reinstate(site_id: int):
    require_office()
    site = load_site(site_id)
    form = forms.ReasonForm(prefix="reason")
    if form.validate_on_submit():
        act(lambda: services.reinstate(site, current_user, form.reason.data), _("已恢复启用。"))
    return redirect(url_for("directory.site", site_id=site.id))


# ---------------------------------------------------------------- assessment


@bp.route("/sites/<int:site_id>/assess", methods=["GET", "POST"])
@login_required
def assess(site_id: int):
    require_office()
    site = load_site(site_id)
    criteria = assessment.active_criteria()
    form = forms.AssessForm(prefix="assess")
    if not form.is_submitted():
        form.year.data = services.today_local().year
    typed = {
        c.id: (request.form.get(f"score_{c.id}", ""), request.form.get(f"notes_{c.id}", ""))
        for c in criteria
    }
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        year = form.year.data
        if not isinstance(year, int) or not 2000 <= year <= services.today_local().year + 1:
            form.year.errors = [_("请填写有效的年份。")]
        else:
            try:
                assessment.record(site, current_user, year, typed, form.remarks.data)
            except ValidationFailed as error:
                db.session.rollback()
                errors = error.errors
                for name in ("year", "remarks"):
                    if name in errors:
                        getattr(form, name).errors = [errors[name]]
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                flash(_("已记录 %(year)s 年度考核。", year=year), "success")
                return redirect(url_for("directory.site", site_id=site.id) + "#assessments")
    else:
        db.session.commit()  # the criteria seeded on first use
    year = (
        form.year.data
        if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100
        else services.today_local().year
    )
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "directory/assess.html",
            site=site,
            form=form,
            criteria=criteria,
            typed=typed,
            errors=errors,
            inputs=assessment.inputs(site, year),
            year=year,
        ),
        status,
    )


@bp.route("/criteria", methods=["GET", "POST"])
@login_required
def criteria():
    require_office()
    rows = assessment.ensure_criteria()
    form = forms.WeightsForm(prefix="weights")
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        weights = {c.id: request.form.get(f"weight_{c.id}", "") for c in rows}
        try:
            assessment.save_weights(current_user, weights)
        except ValidationFailed as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
            flash(_("已保存考核指标权重。"), "success")
            return redirect(url_for("directory.criteria"))
    else:
        db.session.commit()
    return (
        render_template(
            "directory/criteria.html", rows=rows, form=form, errors=errors, typed=request.form
        ),
        400 if errors else 200,
    )


# ---------------------------------------------------------------- supervision visits


@bp.get("/visits")
@login_required
def visits():
    require_staff()
    all_visits = supervision.visits()
    if not current_user.is_office:
        all_visits = [
            v
            for v in all_visits
            if any(s.member_id == current_user.member_id for s in supervision.visit_sites(v))
        ]
    return render_template(
        "directory/visits.html",
        visits=all_visits,
        findings=supervision.findings_for(current_user),
        today=services.today_local(),
        note_form=forms.NoteForm(prefix="note"),
    )


def site_choices() -> list[tuple[str, str]]:
    sites = db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.admission == "admitted", TeachingSite.status != "retired")
        .order_by(TeachingSite.member_id, TeachingSite.name)
    )
    return [(str(s.id), f"{s.name}（{s.member.short_name}）") for s in sites]


@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def visit_new():
    require_office()
    form = forms.VisitForm(prefix="visit")
    form.site_ids.choices = site_choices()
    if form.validate_on_submit():
        try:
            visit = supervision.plan_visit(
                current_user,
                form.title.data,
                form.planned_on.data,
                form.site_ids.data or [],
                form.purpose.data,
            )
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已安排督查。"), "success")
            return redirect(url_for("directory.visit", visit_id=visit.id))
    status = 400 if form.is_submitted() else 200
    return render_template("directory/visit_form.html", form=form), status


@bp.get("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int):
    try:
        visit = supervision.get_visit(visit_id, current_user)
    except NotFound:
        abort(404)
    form = forms.FindingForm(prefix="finding")
    sites = supervision.visit_sites(visit)
    form.site_id.choices = [(str(s.id), s.name) for s in sites]
    findings = [
        f for f in visit.findings if current_user.is_office or f.member_id == current_user.member_id
    ]
    return render_template(
        "directory/visit.html",
        visit=visit,
        sites=sites,
        findings=findings,
        form=form,
        note_form=forms.NoteForm(prefix="note"),
        today=services.today_local(),
    )


@bp.post("/visits/<int:visit_id>/findings")
@login_required
def finding_add(visit_id: int):
    require_office()
    visit = db.session.get(SupervisionVisit, visit_id) or abort(404)
    form = forms.FindingForm(prefix="finding")
    form.site_id.choices = [(str(i), str(i)) for i in visit.site_ids]
    if not form.validate_on_submit():
        flash(form_errors_text(form), "danger")
    else:
        act(
            lambda: supervision.add_finding(
                visit,
                current_user,
                form.site_id.data,
                form.text.data,
                form.fix.data,
                form.due_on.data,
                request.files.get("finding-photo"),
            ),
            _("已记录督查发现的问题。"),
        )
    return redirect(url_for("directory.visit", visit_id=visit.id))


@bp.post("/findings/<int:finding_id>/done")
@login_required
def finding_done(finding_id: int):
    try:
        finding = supervision.get_finding(finding_id, current_user)
    except NotFound:
        abort(404)
    form = forms.NoteForm(prefix="note")
    if form.validate_on_submit():
        act(
            lambda: supervision.mark_done(finding, current_user, form.note.data),
            _("已标记整改完成。"),
        )
    return redirect(url_for("directory.visits") + f"#finding-{finding.id}")


@bp.get("/findings/<int:finding_id>/photo/<any(large, small):size>.jpg")
@login_required
def finding_photo(finding_id: int, size: str):
    """A finding's photo, for the office and the finding's member only."""
    from portal.catalog.uploads import stored_path

    try:
        finding = supervision.get_finding(finding_id, current_user)
    except NotFound:
        abort(404)
    name = finding.photo_name if size == "large" else finding.thumb_name
    if not name or not (path := stored_path(name)).exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- the public yearly directory


def checked_year(year: int) -> int:
    if not yearly.FIRST_YEAR <= year <= date.today().year + 1:
        abort(404)
    return year


@bp.get("/years/<int:year>")
def year_page(year: int):
    year = checked_year(year)
    return render_template(
        "directory/year.html",
        year=year,
        entries=yearly.entries(year),
        years=list(range(date.today().year, date.today().year - 5, -1)),
    )


@bp.get("/years/<int:year>.xlsx")
def year_xlsx(year: int):
    year = checked_year(year)
    return send_file(
        io.BytesIO(yearly.xlsx(year)),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"directory-{year}.xlsx",
    )


@bp.get("/years/<int:year>.pdf")
def year_pdf(year: int):
    year = checked_year(year)
    font = portal_pdf.find_font(current_app.config.get("PDF_FONT_PATH"))
    unavailable = (
        render_template(
            "error.html",
            code=503,
            title=_("暂时无法生成 PDF"),
            hint=_("服务器上没有可用的中文字体，无法生成 PDF。请联系管理员。"),
        ),
        503,
    )
    if font is None:
        return unavailable
    try:
        body = yearly.pdf(year, font)
    except portal_pdf.FontUnavailable as exc:
        log.error("the CJK font %s cannot be used for PDF: %s", font.path, exc)
        return unavailable
    return send_file(
        io.BytesIO(body),
        mimetype="application/pdf",
        download_name=f"directory-{year}.pdf",
    )
