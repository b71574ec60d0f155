"""Forms of the directory pages. The rules live in the services; forms only parse input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from portal.catalog.forms import MultiCheckboxField
from portal.directory.models import BOOKING_CHOICES
from portal.formfields import DayField, WholeNumberField


def booking_choices() -> list[SelectChoice]:
    return [SelectChoice(k, v) for k, v in BOOKING_CHOICES.items()]


class ProposalForm(FlaskForm):
    materials = TextAreaField(
        _l("申报材料"),
        description=_l("教学点的历史、教学内容、可开设的课程、讲解员配备等。"),
        render_kw={"rows": 4, "maxlength": 4000},
    )
    safety_notes = TextAreaField(
        _l("安全说明"),
        description=_l("场地安全、消防、应急疏散、交通与停车等情况。"),
        render_kw={"rows": 3, "maxlength": 4000},
    )
    submit = SubmitField(_l("提交环线办审核"))


class DecisionForm(FlaskForm):
    """Admit or return, approve or reject: the button pressed says which."""

    reason = TextAreaField(_l("意见或原因"), render_kw={"rows": 2, "maxlength": 4000})
    approve = SubmitField(_l("同意"))
    refuse = SubmitField(_l("退回"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), render_kw={"rows": 2, "maxlength": 4000})
    submit = SubmitField(_l("确定"))


class WarnForm(FlaskForm):
    reason = TextAreaField(_l("整改事项"), render_kw={"rows": 3, "maxlength": 4000})
    due_on = DayField(_l("整改期限"), description=_l("留空则按环线规则中的整改天数计算。"))
    on_suspend = RadioField(
        _l("逾期未整改被暂停时，已有预约"),
        choices=booking_choices(),
        default="keep",
        validate_choice=False,
    )
    submit = SubmitField(_l("发出整改通知"))


class StepForm(FlaskForm):
    """Suspend or exit, with what happens to the site's bookings still to come."""

    reason = TextAreaField(_l("原因"), render_kw={"rows": 2, "maxlength": 4000})
    on_bookings = RadioField(
        _l("已有预约"), choices=booking_choices(), default="keep", validate_choice=False
    )
    submit = SubmitField(_l("确定"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("说明"), render_kw={"rows": 2, "maxlength": 4000})
    submit = SubmitField(_l("确认"))


class AssessForm(FlaskForm):
    """The year and remarks; the scores per criterion are read from ``score_<id>`` fields."""

    year = WholeNumberField(_l("考核年度"))
    remarks = TextAreaField(_l("总体评语"), render_kw={"rows": 2, "maxlength": 4000})
    submit = SubmitField(_l("保存考核"))


class WeightsForm(FlaskForm):
    submit = SubmitField(_l("保存权重"))


class VisitForm(FlaskForm):
    title = StringField(_l("督查名称"), render_kw={"maxlength": 128})
    planned_on = DayField(_l("督查日期"))
    site_ids = MultiCheckboxField(_l("督查的教学点"), validate_choice=False)
    purpose = TextAreaField(_l("督查内容"), render_kw={"rows": 3, "maxlength": 4000})
    submit = SubmitField(_l("保存"))


class FindingForm(FlaskForm):
    site_id = SelectField(_l("教学点"), validate_choice=False)
    text = TextAreaField(_l("发现的问题"), render_kw={"rows": 2, "maxlength": 4000})
    fix = TextAreaField(_l("整改要求"), render_kw={"rows": 2, "maxlength": 4000})
    due_on = DayField(_l("整改期限"))
    photo = FileField(_l("照片（可选）"), description=_l("JPG、PNG 或 WebP，不超过 12 MB。"))
    submit = SubmitField(_l("记录问题"))
