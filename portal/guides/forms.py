"""Forms of the guide corps' pages. The rules live in the services; forms only parse input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField

from portal.formfields import DayField
from portal.guides.models import ENTRY_KINDS, GRADES


def grade_choices(blank: bool = False) -> list[SelectChoice]:
    head = [SelectChoice("", _l("（不变）"))] if blank else []
    return head + [SelectChoice(k, v) for k, v in GRADES.items()]


class GuideForm(FlaskForm):
    name = StringField(_l("姓名"), render_kw={"maxlength": 64})
    phone = StringField(_l("电话"), render_kw={"maxlength": 32, "inputmode": "tel"})
    # Choices are filled by the view (the member's sites; the office: every member).
    site = SelectField(_l("所在教学点"), coerce=str, validate_choice=False)
    member = SelectField(_l("成员单位"), coerce=str, validate_choice=False)
    grade = SelectField(_l("等级"), coerce=str, validate_choice=False, choices=grade_choices())
    submit = SubmitField(_l("加入名册"))


class EntryForm(FlaskForm):
    kind = SelectField(
        _l("类别"),
        coerce=str,
        validate_choice=False,
        choices=[SelectChoice(k, v) for k, v in ENTRY_KINDS.items()],
    )
    on = DayField(_l("日期"))
    grade = SelectField(
        _l("晋级后等级"), coerce=str, validate_choice=False, choices=grade_choices(True)
    )
    note = StringField(_l("说明"), render_kw={"maxlength": 200})
    submit = SubmitField(_l("记录"))


class ActiveForm(FlaskForm):
    submit = SubmitField(_l("保存"))
