"""Forms of the accounts area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.auth.models import ROLES


class LoginForm(FlaskForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)]
    )
    password = PasswordField(
        _l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=128)]
    )
    remember = BooleanField(_l("记住我（14 天内免登录）"))
    submit = SubmitField(_l("登录"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("当前密码"), validators=[DataRequired(_l("请输入当前密码。")), Length(max=128)]
    )
    new_password = PasswordField(
        _l("新密码"), validators=[DataRequired(_l("请输入新密码。")), Length(max=128)]
    )
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[
            DataRequired(_l("请再次输入新密码。")),
            EqualTo("new_password", _l("两次输入的新密码不一致。")),
        ],
    )
    submit = SubmitField(_l("修改密码"))


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=64)]
    )
    display_name = StringField(
        _l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=64)]
    )
    role = SelectField(_l("角色"), choices=[SelectChoice(k, v) for k, v in ROLES.items()])
    member_id = SelectField(_l("所属成员单位"), coerce=int, validators=[Optional()])
    unit_name = StringField(_l("所在单位（培训班联系人、学员填写）"), validators=[Length(max=128)])
    email = EmailField(_l("电子邮箱"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("电话"), validators=[Length(max=32)])
    password = PasswordField(
        _l("初始密码"), validators=[DataRequired(_l("请设置初始密码。")), Length(max=128)]
    )
    submit = SubmitField(_l("创建用户"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("临时密码"), validators=[DataRequired(_l("请设置临时密码。")), Length(max=128)]
    )
    submit = SubmitField(_l("重置密码"))


class ActiveForm(FlaskForm):
    submit = SubmitField(_l("确定"))
