"""Forms of the trainee pages: roster rows, imports, notices, rules, open runs, electives."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.formfields import ClockField, DayField, WholeNumberField, no_nul


class TraineeForm(FlaskForm):
    """One trainee on a roster; the rules (phone, identity card) are checked by the service."""

    name = StringField(_l("姓名"), validators=[no_nul])
    gender = SelectField(
        _l("性别"),
        default="",
        choices=[
            SelectChoice("", _l("未填")),
            SelectChoice("男", _l("男")),
            SelectChoice("女", _l("女")),
        ],
    )
    phone = StringField(
        _l("手机号"), validators=[no_nul], render_kw={"inputmode": "tel", "autocomplete": "off"}
    )
    unit = StringField(_l("单位"), validators=[no_nul])
    position = StringField(_l("职务"), validators=[no_nul])
    rank = StringField(_l("职级"), validators=[no_nul])
    ethnicity = StringField(_l("民族"), validators=[no_nul])
    political_status = StringField(_l("政治面貌"), validators=[no_nul])
    id_card = StringField(
        _l("身份证号"),
        validators=[no_nul],
        description=_l("可不填；只保存后 4 位，用于核对同一学员"),
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("保存"))

    def values(self) -> dict[str, Any]:
        return {
            f: getattr(self, f).data
            for f in (
                "name",
                "gender",
                "phone",
                "unit",
                "position",
                "rank",
                "ethnicity",
                "political_status",
                "id_card",
            )
        }


class RosterImportForm(FlaskForm):
    file = FileField(_l("名单文件（.xlsx 或 .csv）"))
    submit = SubmitField(_l("上传并预览"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("确认导入"))


class NoticeForm(FlaskForm):
    title = StringField(_l("标题"), validators=[no_nul])
    body = TextAreaField(_l("内容"), validators=[no_nul], render_kw={"rows": 5})
    submit = SubmitField(_l("发布通知"))


class ProfileForm(FlaskForm):
    rules_text = TextAreaField(
        _l("学前纪律（学员须在开班前阅读并确认）"), validators=[no_nul], render_kw={"rows": 8}
    )
    contacts_text = TextAreaField(
        _l("联系方式（班主任、带队老师、车辆等，每行一项）"),
        validators=[no_nul],
        render_kw={"rows": 4},
    )
    calendar_shared = BooleanField(_l("向学员分享班级日程（学员可订阅日历）"))
    submit = SubmitField(_l("保存"))


class ActionForm(FlaskForm):
    """A button that changes state (CSRF only)."""

    submit = SubmitField(_l("确定"))


class ActivateForm(FlaskForm):
    password = PasswordField(_l("设置密码"), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再次输入密码"), render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("激活账号"))


class RunForm(FlaskForm):
    title = StringField(_l("班次名称"), validators=[no_nul])
    template_id = SelectField(_l("环线线路"), coerce=str)
    starts_on = DayField(_l("开班日期"))
    seats = WholeNumberField(_l("名额"))
    min_participants = WholeNumberField(
        _l("成班人数"), description=_l("截止时不足此人数则取消班次")
    )
    booking_deadline = DayField(_l("报名截止日期"))
    cancel_deadline = DayField(_l("取消截止日期"), description=_l("此日期后学员不能自行取消"))
    open_to = RadioField(
        _l("报名范围"),
        choices=[
            SelectChoice("all", _l("所有学员")),
            SelectChoice("units", _l("指定选派单位（各有名额）")),
        ],
        default="all",
    )
    quotas = TextAreaField(
        _l("单位名额"),
        validators=[no_nul],
        description=_l("每行一个单位：单位名称 名额，例如“某县委组织部 5”"),
        render_kw={"rows": 3},
    )
    description = TextAreaField(_l("说明"), validators=[no_nul], render_kw={"rows": 3})
    submit = SubmitField(_l("发布"))

    def values(self) -> dict[str, Any]:
        template = self.template_id.data or ""
        return {
            "title": self.title.data,
            "template_id": int(template) if template.isdigit() else None,
            "starts_on": self.starts_on.data,
            "seats": self.seats.data,
            "min_participants": self.min_participants.data,
            "booking_deadline": self.booking_deadline.data,
            "cancel_deadline": self.cancel_deadline.data,
            "open_to": self.open_to.data,
            "quotas": self.quotas.data,
            "description": self.description.data,
        }


class CadreForm(FlaskForm):
    """An organizer books a seat for a cadre of their unit."""

    name = StringField(_l("学员姓名"), validators=[no_nul])
    phone = StringField(_l("学员手机号"), validators=[no_nul], render_kw={"inputmode": "tel"})
    waitlist = BooleanField(_l("名额已满时加入候补"))
    submit = SubmitField(_l("为本单位学员报名"))


class BookSeatForm(FlaskForm):
    waitlist = HiddenField()
    submit = SubmitField(_l("报名"))


class OptionForm(Form):
    site_id = SelectField(_l("教学点"), coerce=str, validators=[Optional()])
    course_id = SelectField(_l("课程（可不选）"), coerce=str, validators=[Optional()])
    seats = WholeNumberField(_l("名额"))


class ElectiveForm(FlaskForm):
    title = StringField(_l("选学名称"), validators=[no_nul])
    day = DayField(_l("日期"))
    starts = ClockField(_l("开始时间"))
    minutes = WholeNumberField(_l("时长（分钟）"), default=90)
    choose_by = DayField(_l("选择截止日期"))
    options = FieldList(FormField(OptionForm), min_entries=4, max_entries=4)
    submit = SubmitField(_l("设置选学并预约各备选项"))

    def values(self) -> dict[str, Any]:
        options = []
        for option in self.options:
            site, course = option.site_id.data or "", option.course_id.data or ""
            options.append(
                {
                    "site_id": int(site) if site.isdigit() else None,
                    "course_id": int(course) if course.isdigit() else None,
                    "seats": option.seats.data,
                }
            )
        return {
            "title": self.title.data,
            "day": self.day.data,
            "starts": self.starts.data,
            "minutes": self.minutes.data,
            "choose_by": self.choose_by.data,
            "options": options,
        }


class ChooseForm(FlaskForm):
    option_id = RadioField(_l("选择"), coerce=str, choices=[])
    submit = SubmitField(_l("确认选择"))
