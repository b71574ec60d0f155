"""Forms of the joint events: events (with plugin fields), programme, registrations, contests.

The forms carry what users type; the services check it and say what is wrong (in Chinese),
so numbers that plugins or judges type arrive as text and are parsed by the services.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.events.models import CATEGORIES
from portal.formfields import ClockField, DayField
from portal.specs import EventFieldSpec

MAX_ID = 2**31 - 1


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Required:
    """Marks a field required (label and ``required`` attribute); the services check it."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class EventForm(FlaskForm):
    title = StringField(_l("活动名称"), validators=[Required()])
    category = SelectField(
        _l("活动形式"),
        choices=[SelectChoice(k, v) for k, v in CATEGORIES.items()],
        description=_l("评比类活动有参赛项目、评委和评分；集训研讨有日程、名额和报名。"),
    )
    description = TextAreaField(_l("活动简介"))
    open_to_all = BooleanField(_l("向全体成员单位开放"), default=True)
    invited_member_ids = MultiCheckboxField(
        _l("邀请的成员单位（不向全体开放时）"), coerce=int, validate_choice=False
    )
    capacity = IntegerField(
        _l("名额（人，不限请留空）"),
        validators=[Optional(), NumberRange(1, 10000, _l("名额须为 1 到 10000 之间的整数。"))],
    )
    registration_deadline = DayField(_l("报名或报送截止日期（可选）"), validators=[Optional()])
    submit = SubmitField(_l("保存"))

    def values(self, specs: Sequence[EventFieldSpec]) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "category": self.category.data,
            "description": self.description.data,
            "open_to_all": self.open_to_all.data,
            "invited_member_ids": self.invited_member_ids.data or [],
            "capacity": self.capacity.data,
            "registration_deadline": self.registration_deadline.data,
            "extra": {spec.key: self[spec.form_name].data for spec in specs},
        }


def event_form_class(specs: Sequence[EventFieldSpec]) -> type[EventForm]:
    """The event form with a field for each spec a plugin gives (named ``x_<key>``)."""
    extra: dict[str, Any] = {}
    for spec in specs:
        validators = [Required()] if spec.required else []
        common = {"description": spec.help or "", "validators": validators}
        if spec.kind == "choice":
            extra[spec.form_name] = SelectField(
                spec.label,
                choices=[
                    SelectChoice("", _l("请选择")),
                    *(SelectChoice(c, c) for c in spec.choices),
                ],
                validate_choice=False,
                **common,
            )
        elif spec.kind == "int":
            render = {"type": "number", "inputmode": "numeric", "step": "1"}
            if spec.min_value is not None:
                render["min"] = str(spec.min_value)
            if spec.max_value is not None:
                render["max"] = str(spec.max_value)
            extra[spec.form_name] = StringField(spec.label, render_kw=render, **common)
        elif spec.kind == "date":
            extra[spec.form_name] = StringField(
                spec.label, render_kw={"type": "date", "placeholder": "YYYY-MM-DD"}, **common
            )
        else:
            extra[spec.form_name] = StringField(
                spec.label, render_kw={"maxlength": str(spec.max_length)}, **common
            )
    # A new button, made after the plugin fields, so that it is shown after them.
    extra["submit"] = SubmitField(_l("保存"))
    return type("PluginEventForm", (EventForm,), extra)


class PickTypeForm(FlaskForm):
    class Meta:
        csrf = False

    type_id = SelectField(_l("活动类型"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("下一步"))


class SessionForm(FlaskForm):
    title = StringField(_l("日程内容"), validators=[Required()])
    day = DayField(_l("日期"), validators=[InputRequired(_l("请填写日期。"))])
    starts = ClockField(_l("开始时间"), validators=[InputRequired(_l("请填写开始时间。"))])
    ends = ClockField(_l("结束时间"), validators=[InputRequired(_l("请填写结束时间。"))])
    site_id = SelectField(_l("教学点"), coerce=int, validate_choice=False)
    place = StringField(_l("地点说明（可选）"))
    teacher_id = SelectField(_l("主讲（环线共享师资，可选）"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("添加日程"))

    def values(self) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "day": self.day.data,
            "starts": self.starts.data,
            "ends": self.ends.data,
            "site_id": self.site_id.data or None,
            "place": self.place.data,
            "teacher_id": self.teacher_id.data or None,
        }


class RegistrationForm(FlaskForm):
    member_id = SelectField(_l("成员单位"), coerce=int, validate_choice=False)
    participant_name = StringField(_l("姓名"), validators=[Required()])
    participant_title = StringField(_l("职务"))
    phone = StringField(_l("联系电话"), render_kw={"type": "tel", "autocomplete": "off"})
    submit = SubmitField(_l("报名"))

    def values(self) -> dict[str, Any]:
        return {
            "participant_name": self.participant_name.data,
            "participant_title": self.participant_title.data,
            "phone": self.phone.data,
        }


class CriterionRow(Form):
    name = StringField(_l("评分项"))
    weight = StringField(_l("权重"), render_kw={"type": "number", "min": "1", "max": "100"})


CRITERIA_ROWS = 8


class CriteriaForm(FlaskForm):
    criteria = FieldList(FormField(CriterionRow), min_entries=CRITERIA_ROWS, max_entries=20)
    submit = SubmitField(_l("保存评分标准"))

    def rows(self) -> list[tuple[str, str]]:
        return [(row.form.name.data, row.form.weight.data) for row in self.criteria]


class JudgeForm(FlaskForm):
    user_id = SelectField(_l("评委（成员单位工作人员）"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("聘请评委"))


class OutsideJudgeForm(FlaskForm):
    """An outside expert on the panel: name and unit, no account needed."""

    name = StringField(_l("评委姓名"), validators=[InputRequired(_l("请填写评委姓名。"))])
    unit = StringField(_l("工作单位"), validators=[InputRequired(_l("请填写评委的工作单位。"))])
    submit = SubmitField(_l("聘请外部专家"))


class EntryForm(FlaskForm):
    member_id = SelectField(_l("成员单位"), coerce=int, validate_choice=False)
    guide_name = StringField(_l("讲解员姓名"), validators=[Required()])
    site_id = SelectField(_l("所在教学点"), coerce=int, validate_choice=False)
    course_id = SelectField(_l("参赛课程"), coerce=int, validate_choice=False)
    note = TextAreaField(_l("说明（可选）"))
    submit = SubmitField(_l("报送"))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("取消原因"), validators=[Required()])
    submit = SubmitField(_l("取消活动"))


class PlainForm(FlaskForm):
    """A button with nothing but the CSRF token."""

    submit = SubmitField(_l("确定"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    category = SelectField(
        _l("活动形式"),
        choices=[
            SelectChoice("", _l("全部")),
            *(SelectChoice(k, v) for k, v in CATEGORIES.items()),
        ],
        default="",
    )
    year = IntegerField(
        _l("年度"), validators=[Optional(), NumberRange(2000, 2100, _l("请填写有效的年份。"))]
    )
    submit = SubmitField(_l("筛选"))


def int_or_none(value: Any) -> int | None:
    """A positive id from a form value, or None."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) <= 10 and int(text) <= MAX_ID:
        return int(text)
    return None
