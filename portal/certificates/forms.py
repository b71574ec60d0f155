"""Forms of completion and certificates: issuing, the office's decisions, a serial to verify."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField, TextAreaField

from portal.formfields import no_nul


class IssueForm(FlaskForm):
    submit = SubmitField(_l("为符合条件的学员发放结业证书"))


class DecideForm(FlaskForm):
    action = HiddenField()
    reason = TextAreaField(_l("原因"), validators=[no_nul])
    submit = SubmitField(_l("提交"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    serial = StringField(_l("证书编号"), validators=[no_nul])
    submit = SubmitField(_l("查验"))
