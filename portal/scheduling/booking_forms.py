"""Forms of the class and booking pages: registering a class, booking a route, deciding."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.formfields import ClockField, DayField, WholeNumberField, no_nul
from portal.scheduling.models import CLASS_KINDS, ORIGINS

# A custom route has at most this many rows (stops).
MAX_CUSTOM_ROWS = 15
MIN_CUSTOM_ROWS = 3
# Squads a stop may be split into.
MAX_SQUADS = 20


def choices(labels: dict, blank: Any = None) -> list[SelectChoice]:
    found = [SelectChoice(k, v) for k, v in labels.items()]
    return [SelectChoice("", blank), *found] if blank is not None else found


class ClassForm(FlaskForm):
    """A training class or study-visit group; the rules are checked by the service."""

    name = StringField(_l("班级名称"))
    kind = SelectField(_l("班次类型"), choices=choices(CLASS_KINDS, blank=_l("请选择")))
    origin = SelectField(_l("生源"), choices=choices(ORIGINS, blank=_l("请选择")))
    sending_unit = StringField(_l("选派单位"))
    size = WholeNumberField(_l("人数"))
    starts_on = DayField(_l("开班日期"))
    ends_on = DayField(_l("结业日期"))
    theme = StringField(
        _l("培训主题"),
        description=_l("可从列表中选择，也可自行填写，如：党性教育"),
        render_kw={"list": "theme-options", "autocomplete": "off"},
    )
    contact_name = StringField(_l("联系人"))
    contact_phone = StringField(_l("联系电话"), render_kw={"inputmode": "tel"})
    is_study_visit = BooleanField(_l("参观学习团组（非培训班）"))
    hosted_by_office = BooleanField(
        _l("干教委办主办"), description=_l("干教委办主办的班次（省外班次除外）须安排环线教学。")
    )
    # One-time key of a new class's form: a repeated submission registers one class.
    key = HiddenField()
    submit = SubmitField(_l("保存"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "kind": self.kind.data,
            "origin": self.origin.data,
            "sending_unit": self.sending_unit.data,
            "size": self.size.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "theme": self.theme.data,
            "contact_name": self.contact_name.data,
            "contact_phone": self.contact_phone.data,
            "is_study_visit": self.is_study_visit.data,
            "hosted_by_office": self.hosted_by_office.data,
        }


class PickClassForm(FlaskForm):
    """Which class a new booking is for (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    class_id = SelectField(_l("培训班"), coerce=int, validate_choice=False)
    template_id = HiddenField()
    submit = SubmitField(_l("下一步"))


class BookingActions(FlaskForm):
    """What both booking forms share: the start date, the one-time key and the buttons."""

    start_date = DayField(_l("开始日期"), validators=[InputRequired(_l("请填写开始日期。"))])
    key = HiddenField()
    check = SubmitField(_l("检查"))
    book = SubmitField(_l("确认预约"))
    waitlist = SubmitField(_l("加入候补并预约其余站点"))


class TemplateBookingForm(BookingActions):
    """Book a published route template; squads per stop are posted as squads-<index>."""

    template_id = SelectField(
        _l("线路"), coerce=int, validators=[InputRequired(_l("请选择线路。"))]
    )
    # The template the squads inputs were shown for: a new template starts from one squad each.
    checked_template = HiddenField()


class StopRowForm(Form):
    """One row of a custom route (no CSRF of its own: it lives inside CustomBookingForm)."""

    day = WholeNumberField(
        _l("第几天"),
        default=1,
        validators=[Optional(), NumberRange(1, 30, _l("第几天须为 1 到 30 之间的整数。"))],
    )
    starts = ClockField(_l("开始时间"), validators=[Optional()])
    minutes = WholeNumberField(
        _l("时长（分钟）"),
        default=90,
        validators=[Optional(), NumberRange(1, 720, _l("时长须为 1 到 720 分钟。"))],
    )
    site_id = SelectField(_l("教学点"), coerce=int, validate_choice=False, default=0)
    course_id = SelectField(_l("课程（可选）"), coerce=int, validate_choice=False, default=0)
    squads = WholeNumberField(
        _l("分组数"),
        default=1,
        validators=[
            Optional(),
            NumberRange(1, MAX_SQUADS, _l("分组数须为 1 到 %(max)s 之间的整数。", max=MAX_SQUADS)),
        ],
    )

    def is_blank(self) -> bool:
        return not self.site_id.data and not self.course_id.data


class CustomBookingForm(BookingActions):
    """A route the organizer composes from the catalogue: up to MAX_CUSTOM_ROWS stops."""

    stops = FieldList(
        FormField(StopRowForm), min_entries=MIN_CUSTOM_ROWS, max_entries=MAX_CUSTOM_ROWS
    )
    add_row = SubmitField(_l("添加一行"))


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("取消原因"),
        validators=[InputRequired(_l("请填写取消原因。")), no_nul],
        render_kw={"rows": 3, "maxlength": 2000},
    )
    submit = SubmitField(_l("取消预约"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确认"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("婉拒原因"),
        validators=[InputRequired(_l("婉拒时请说明原因。")), no_nul],
        render_kw={"rows": 2, "maxlength": 2000},
    )
    submit = SubmitField(_l("婉拒"))


class AcceptOfferForm(FlaskForm):
    submit = SubmitField(_l("接受候补名额"))


class InboxFilterForm(FlaskForm):
    """The office's member filter on the inbox (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    member = SelectField(_l("成员单位"), coerce=str, validate_choice=False)
    status = HiddenField()
    submit = SubmitField(_l("筛选"))


class ReplaceForm(FlaskForm):
    """Replace one declined stop: another day and time, and another site if need be."""

    day = DayField(_l("新的日期"), validators=[InputRequired(_l("请填写新的日期。"))])
    starts = ClockField(_l("开始时间"), validators=[InputRequired(_l("请填写开始时间。"))])
    site = SelectField(_l("教学点"), choices=[], validate_choice=True)
    submit = SubmitField(_l("替换该站点"))


class MoveForm(FlaskForm):
    start_date = DayField(
        _l("新的开始日期"), validators=[InputRequired(_l("请填写新的开始日期。"))]
    )
    submit = SubmitField(_l("改期"))
