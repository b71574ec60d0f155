"""Forms of the attendance pages (Flask-WTF: CSRF, Chinese messages, typed values kept)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.attendance.models import MARKS
from portal.formfields import no_nul


class ActionForm(FlaskForm):
    """A button that changes state (CSRF only)."""

    submit = SubmitField(_l("确定"))


class SupervisorForm(FlaskForm):
    username = StringField(
        _l("班主任账号"),
        validators=[InputRequired(_l("请填写账号。")), Length(max=64), no_nul],
        description=_l("派出单位联系人或承接成员单位工作人员的登录账号。"),
    )
    submit = SubmitField(_l("指定为班主任"))


class MarkForm(FlaskForm):
    entry_id = HiddenField()
    status = SelectField(
        _l("考勤"), choices=[SelectChoice(k, v) for k, v in MARKS.items()], validate_choice=True
    )
    reason = StringField(_l("原因"), validators=[Length(max=200), no_nul])
    submit = SubmitField(_l("登记"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("签到码"),
        validators=[
            InputRequired(_l("请输入签到码。")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("签到码是 6 位数字。")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
    submit = SubmitField(_l("签到"))


class LeaveForm(FlaskForm):
    sessions = SelectMultipleField(
        _l("请假的半天"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    reason = TextAreaField(
        _l("请假事由"),
        validators=[InputRequired(_l("请填写请假事由。")), Length(max=500), no_nul],
    )
    submit = SubmitField(_l("提交请假申请"))

    def validate_sessions(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("请选择请假的半天。"))


class DecisionForm(FlaskForm):
    note = StringField(_l("意见"), validators=[Length(max=200), no_nul])
    approve = SubmitField(_l("批准"))
    refuse = SubmitField(_l("不批准"))


class WithdrawalForm(FlaskForm):
    note = StringField(_l("说明"), validators=[Length(max=200), no_nul])
    confirm = SubmitField(_l("确认退学"))
    dismiss = SubmitField(_l("不予退学"))
