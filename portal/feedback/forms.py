"""The form that sends a class's written feedback: one unit's report, or every unit's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField

from portal.formfields import no_nul


class SendForm(FlaskForm):
    # Empty: every unit of the class.
    unit = HiddenField(validators=[no_nul])
    submit = SubmitField(_l("发送书面反馈"))
