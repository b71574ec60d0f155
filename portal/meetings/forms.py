"""Forms of the meeting pages. The rules live in the services; forms only parse input."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from portal.catalog.forms import MultiCheckboxField
from portal.formfields import ClockField, DayField, WholeNumberField
from portal.meetings.models import MEETING_KINDS


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(k, v) for k, v in MEETING_KINDS.items()]


class MeetingForm(FlaskForm):
    title = StringField(_l("会议名称"), render_kw={"maxlength": 128})
    kind = SelectField(_l("会议类型"), choices=kind_choices(), validate_choice=False)
    description = TextAreaField(_l("会议说明"), render_kw={"rows": 3})
    site_id = SelectField(
        _l("会议地点（教学点）"),
        validate_choice=False,
        description=_l("选择教学点时，排期助手会避开该教学点已有预约的时间。"),
    )
    place_text = StringField(
        _l("会议室或地点"),
        description=_l("如：市委党校三楼第一会议室；也可只填线上会议链接。"),
        render_kw={"maxlength": 256},
    )
    online_url = StringField(_l("线上会议链接"), render_kw={"inputmode": "url", "maxlength": 512})
    duration_minutes = WholeNumberField(_l("会议时长（分钟）"), default=120)
    day = DayField(
        _l("会议日期"),
        description=_l("时间未定时请留空，之后可用排期助手和时间征询确定。"),
    )
    start_time = ClockField(_l("开始时间"))
    end_time = ClockField(_l("结束时间"))
    member_ids = MultiCheckboxField(_l("受邀成员单位"), validate_choice=False)
    submit = SubmitField(_l("保存"))

    def values(self) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "kind": self.kind.data,
            "description": self.description.data,
            "site_id": self.site_id.data,
            "place_text": self.place_text.data,
            "online_url": self.online_url.data,
            "duration_minutes": self.duration_minutes.data,
            "day": self.day.data,
            "start_time": self.start_time.data,
            "end_time": self.end_time.data,
            "member_ids": self.member_ids.data or [],
        }


class AgendaForm(FlaskForm):
    title = StringField(_l("议题"), render_kw={"maxlength": 256})
    presenter_member_id = SelectField(_l("汇报单位"), validate_choice=False)
    note = TextAreaField(_l("说明"), render_kw={"rows": 2})
    submit = SubmitField(_l("添加议题"))


class ReplyForm(FlaskForm):
    response = RadioField(
        _l("参会情况"),
        choices=[SelectChoice("attend", _l("出席")), SelectChoice("decline", _l("请假"))],
        validate_choice=False,
    )
    attendees = TextAreaField(
        _l("参会人员"),
        description=_l("出席时填写，多人用顿号或逗号分隔，可注明职务，如：张三（副校长）、李四"),
        render_kw={"rows": 2},
    )
    reason = TextAreaField(_l("请假原因"), description=_l("请假时填写"), render_kw={"rows": 2})
    submit = SubmitField(_l("提交回复"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (remind, fix a time, delete …)."""


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("取消原因"), render_kw={"rows": 2})
    submit = SubmitField(_l("取消会议"))


class SearchForm(FlaskForm):
    """The scheduling assistant's question; sent with GET, so no CSRF."""

    class Meta:
        csrf = False

    first_day = DayField(_l("从"))
    last_day = DayField(_l("到"))
    minutes = WholeNumberField(_l("会议时长（分钟）"))
    day_start = ClockField(_l("每天最早开始"))
    day_end = ClockField(_l("每天最晚结束"))


class SlotForm(FlaskForm):
    day = DayField(_l("日期"))
    start_time = ClockField(_l("开始时间"))
    submit = SubmitField(_l("加入时间征询"))


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("会议纪要"), render_kw={"rows": 18})
    submit = SubmitField(_l("保存纪要"))


class DecisionForm(FlaskForm):
    text = TextAreaField(_l("议定事项"), render_kw={"rows": 2})
    member_ids = MultiCheckboxField(
        _l("承办单位"),
        validate_choice=False,
        description=_l("选择多个单位时，每个单位各自办理、各自标记办结。"),
    )
    due_on = DayField(_l("办理期限"))
    submit = SubmitField(_l("交办"))


class DoneForm(FlaskForm):
    note = TextAreaField(_l("办理情况"), render_kw={"rows": 2})
    submit = SubmitField(_l("标记办结"))


class BusyForm(FlaskForm):
    starts_on = DayField(_l("开始日期"))
    starts_time = ClockField(_l("开始时间"), description=_l("留空表示全天"))
    ends_on = DayField(_l("结束日期"), description=_l("留空表示与开始日期相同"))
    ends_time = ClockField(_l("结束时间"), description=_l("留空表示全天"))
    note = StringField(_l("事由"), render_kw={"maxlength": 256})
    submit = SubmitField(_l("登记"))
