"""Log in and out, change your password, and the office's user management."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.auth import services, tokens
from portal.auth.forms import (
    ActiveForm,
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    UserCreateForm,
)
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import db, limiter
from portal.members.models import Member
from portal.web import safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("home.index"))


def _form_error(form, error: ServiceError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


def _failed_login(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed_login
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(_("欢迎，%(name)s。", name=user.display_name), "success")
            # A trainee lands on their own page (我的): today's and the next stop; the
            # office, member staff and organizers on their dashboard (工作台).
            from portal.reports.dashboard_views import landing_url

            home = landing_url(user)
            return redirect(safe_next(request.args.get("next"), home))
        db.session.commit()  # keep the failure count
        flash(_("用户名或密码不正确，或账号已停用。"), "danger")
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("home.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ServiceError as error:
            _form_error(form, error)
        else:
            db.session.commit()
            # The version changed: log in again under it so this session goes on.
            login_user(current_user._get_current_object(), remember=False)
            flash(_("密码已修改，其他设备上的登录已失效。"), "success")
            return redirect(url_for("home.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status


def _office_only() -> None:
    if not current_user.is_office:
        abort(403)


def _member_choices() -> list[SelectChoice]:
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [SelectChoice(0, _("（不属于成员单位）"))] + [
        SelectChoice(m.id, m.name) for m in members
    ]


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users():
    _office_only()
    form = UserCreateForm()
    form.member_id.choices = _member_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                username=form.username.data,
                display_name=form.display_name.data,
                role=form.role.data,
                password=form.password.data,
                member_id=form.member_id.data or None,
                unit_name=form.unit_name.data,
                email=form.email.data,
                phone=form.phone.data,
                actor=current_user,
                must_change_password=True,
            )
        except ServiceError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(
                _("已创建用户 %(username)s，首次登录时须修改密码。", username=user.username),
                "success",
            )
            return redirect(url_for("auth.users"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "auth/users.html", form=form, users=services.list_users(current_user)
    ), status


def _user_or_404(user_id: int):
    try:
        return services.get_user(user_id, current_user)
    except (NotFound, PermissionDenied):
        abort(404)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_detail(user_id: int):
    _office_only()
    user = _user_or_404(user_id)
    reset_form = ResetPasswordForm(prefix="reset")
    if reset_form.submit.data and reset_form.validate_on_submit():
        try:
            services.reset_password(user, reset_form.password.data, current_user)
        except ServiceError as error:
            _form_error(reset_form, error)
        else:
            db.session.commit()
            flash(
                _("已重置 %(username)s 的密码，其已有登录全部失效。", username=user.username),
                "success",
            )
            return redirect(url_for("auth.user_detail", user_id=user.id))
    status = 400 if reset_form.is_submitted() and reset_form.errors else 200
    return (
        render_template(
            "auth/user_detail.html", user=user, reset_form=reset_form, active_form=ActiveForm()
        ),
        status,
    )


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def user_active(user_id: int):
    _office_only()
    user = _user_or_404(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = request.form.get("active") == "1"
    try:
        services.set_active(user, wanted, current_user)
    except ServiceError as error:
        flash(error.message, "danger")
    else:
        db.session.commit()
        if wanted:
            flash(_("已启用账号 %(username)s。", username=user.username), "success")
        else:
            flash(_("已停用账号 %(username)s。", username=user.username), "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))


class TokenForm(FlaskForm):
    name = StringField(
        _l("密钥名称（如：本单位教务系统）"),
        validators=[DataRequired(_l("请填写密钥名称。")), Length(max=64)],
    )
    submit = SubmitField(_l("生成新密钥"))


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    if not tokens.can_manage(current_user):
        abort(403)
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            _token, secret = tokens.create_token(current_user, form.name.data)
        except ServiceError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    status = 400 if form.is_submitted() and form.errors else 200
    return (
        render_template(
            "auth/api_tokens.html",
            form=form,
            secret=secret,
            tokens=tokens.tokens_for(current_user),
            revoke_form=ActiveForm(),
        ),
        status,
    )


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def api_token_revoke(token_id: int):
    if not ActiveForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke(current_user, token_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("密钥已作废，使用它的系统将立即无法访问。"), "success")
    return redirect(url_for("auth.api_tokens"))
