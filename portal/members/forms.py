"""Forms of the members area (buttons that change state carry a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确定"))
