"""Forms of the teacher sharing pages. The rules live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField

from portal.formfields import DayField


class LoanForm(FlaskForm):
    teacher_id = SelectField(_l("教师"), validate_choice=False)
    starts_on = DayField(_l("开始日期"))
    ends_on = DayField(_l("结束日期"))
    purpose = TextAreaField(
        _l("借用事由"),
        description=_l("如：为某培训班讲授某课程。"),
        render_kw={"rows": 2, "maxlength": 2000},
    )
    submit = SubmitField(_l("提交借用申请"))


class LoanDecisionForm(FlaskForm):
    reason = TextAreaField(_l("意见或原因"), render_kw={"rows": 2, "maxlength": 2000})
    approve = SubmitField(_l("同意"))
    refuse = SubmitField(_l("婉拒"))
