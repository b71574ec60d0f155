"""Forms of the route templates (精品环线) and of the office's settings page.

Numbers are typed as text and checked by the services (route_services), so every message is
the service's Chinese one and what was typed is shown again as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import ValidationError
from wtforms.widgets import NumberInput

from portal.catalog.forms import MultiCheckboxField
from portal.formfields import ClockInput, clean_clock_text
from portal.scheduling.models import CLASS_KINDS, STOP_KINDS, TEMPLATE_STATUSES
from portal.scheduling.route_services import (
    MAX_DAYS,
    MAX_MINUTES,
    MIN_MINUTES,
    as_int,
    setting_range,
)
from portal.scheduling.settings import DEFAULT_SETTINGS

# What the settings page calls each consortium rule, and a word on what it does.
SETTING_LABELS: dict[str, tuple[Any, Any]] = {
    "ring_route_min_days": (
        _l("党性教育班须安排环线的最少天数"),
        _l(
            "市内生源、达到此天数的党性教育类培训班（及干教委办主办的班次，省外班次除外），"
            "须预约至少一条环线。"
        ),
    ),
    "ring_route_theme": (
        _l("适用规则的培训主题"),
        _l("培训主题中含有这段文字的培训班适用上面的环线规则。"),
    ),
    "change_deadline_days": (
        _l("开班前几天停止联系人自行取消或改期"),
        _l("过了这个期限，取消或改期须联系环线办办理。"),
    ),
    "waitlist_offer_hours": (
        _l("候补名额保留小时数"),
        _l("名额空出后，排在第一位的候补须在这段时间内接受，否则顺延给下一位。"),
    ),
    "travel_speed_kmh": (
        _l("站点间平均车速（公里/小时）"),
        _l("用来按教学点的坐标估算两站之间的路上时间。"),
    ),
    "travel_margin_minutes": (
        _l("站点间额外预留分钟数"),
        _l("在估算的路上时间之外，两站之间另外预留的集合、上下车时间。"),
    ),
    "suggest_within_days": (
        _l("推荐日期的搜索范围（天）"),
        _l("所选日期排不下时，在前后多少天内寻找整条线路都排得下的日期。"),
    ),
    "evaluation_min_answers": (
        _l("公开评估平均分所需的最少评价数"),
        _l("课程、教师、教学点的评价达到这个数目后，目录页面才显示平均分。"),
    ),
    "evaluation_alert_below": (
        _l("评估预警分数线"),
        _l("评价数已达上一项、平均分低于此分数时，通知所属成员单位。"),
    ),
    "records_leading_hours_5y": (
        _l("县处级以上干部五年应完成学时"),
        _l("县处级以上领导干部每 5 年参加脱产培训的学时要求（培训档案据此显示是否达标）。"),
    ),
    "records_other_hours_year": (
        _l("其他干部每年应完成学时"),
        _l("其他干部每年参加培训的学时要求（培训档案据此显示是否达标）。"),
    ),
    "attendance_hours_per_half_day": (
        _l("每个半天计入的学时"),
        _l("学员出勤一个半天计入的学时数；培训班总学时按半天数乘以此数计算。"),
    ),
    "attendance_absence_limit": (
        _l("旷课达到多少个半天须退学"),
        _l("学员旷课达到这个半天数时，提示组织方确认退学（默认 4 个半天，即两天）。"),
    ),
    "attendance_late_minutes": (
        _l("开课后几分钟起签到计为迟到"),
        _l("开课后超过这个分钟数扫码签到的，记为迟到。"),
    ),
    "directory_review_changes": (
        _l("教学点变更容量或开放时间须经审核（1 是，0 否）"),
        _l("设为 1 时，成员单位修改已入录教学点的容量或开放时间，须经环线办同意后才生效。"),
    ),
    "directory_warning_threshold": (
        _l("考核整改线（加权总分）"),
        _l("年度考核加权总分低于此分数的教学点，列为应发整改通知的教学点。"),
    ),
    "directory_fix_days": (
        _l("整改期限（天）"),
        _l("发出整改通知时默认给出的整改天数。"),
    ),
    "plan_review_required": (
        _l("培训计划须经审核（1 是，0 否）"),
        _l("设为 1 时，培训班的培训计划经环线办审核通过后，成员单位才能确认该班的预约。"),
    ),
}


class RouteFilterForm(FlaskForm):
    """Filters of the route list: in the query string, no CSRF."""

    class Meta:
        csrf = False

    days = SelectField(_l("天数"), validate_choice=False, default="")
    theme = SelectField(_l("培训主题"), validate_choice=False, default="")

    def validate_days(self, field: Any) -> None:
        value = field.data or ""
        if value and not (
            value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= MAX_DAYS
        ):
            raise ValidationError(_l("天数须为 1 到 %(max)s 之间的整数。", max=MAX_DAYS))

    def validate_theme(self, field: Any) -> None:
        value = field.data or ""
        if "\x00" in value:
            raise ValidationError(_l("包含无效字符。"))
        if len(value) > 32:
            raise ValidationError(_l("培训主题不能超过 32 个字符。"))

    def days_value(self) -> int | None:
        return as_int(self.days.data) if self.days.data else None


class TemplateForm(FlaskForm):
    name = StringField(_l("线路名称"))
    theme = StringField(_l("培训主题"), description=_l("如：党性教育、抗战历史、乡村振兴"))
    days = StringField(
        _l("天数"),
        widget=NumberInput(min=1, max=MAX_DAYS),
        description=_l("线路共几天，1 到 30 天。"),
    )
    description = TextAreaField(_l("线路简介"))
    class_kinds = MultiCheckboxField(
        _l("可使用此线路的班次类型"),
        choices=[SelectChoice(k, v) for k, v in CLASS_KINDS.items()],
        validate_choice=False,
    )
    submit = SubmitField(_l("保存"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "theme": self.theme.data,
            "days": self.days.data,
            "description": self.description.data or "",
            "class_kinds": self.class_kinds.data or [],
        }


class ClockField(TimeField):
    """A time of day as HH:MM; blank is None (the service says it is required)."""

    widget = ClockInput()

    def _value(self) -> str:
        if self.data is not None:
            return self.data.strftime("%H:%M")
        return super()._value()

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = clean_clock_text(" ".join(valuelist).strip())
        self.data = None
        if not text:
            return
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                self.data = datetime.strptime(text, fmt).time()
                return
            except ValueError:
                continue
        raise ValueError(_l("时间格式应为“时:分”，如 09:30。"))


class StopForm(FlaskForm):
    day = SelectField(_l("第几天"), validate_choice=False)
    starts = ClockField(_l("开始时间"), format=["%H:%M", "%H:%M:%S"])
    minutes = StringField(
        _l("时长（分钟）"),
        widget=NumberInput(min=MIN_MINUTES, max=MAX_MINUTES, step=5),
        description=_l("10 到 720 分钟，须在当天结束。"),
    )
    kind = SelectField(
        _l("类型"),
        choices=[SelectChoice(k, v) for k, v in STOP_KINDS.items()],
        validate_choice=False,
    )
    site_id = SelectField(
        _l("教学点"),
        validate_choice=False,
        description=_l("课程和现场参观须选择教学点；用餐和交通不选。"),
    )
    course_id = SelectField(
        _l("课程"), validate_choice=False, description=_l("只有“课程”类型选择课程。")
    )
    title = StringField(
        _l("说明"), description=_l("用餐和交通须填写，如“午餐（党校食堂）”“乘车前往腾冲”。")
    )
    note = StringField(_l("备注（可选）"))
    submit = SubmitField(_l("保存站点"))

    def values(self) -> dict[str, Any]:
        return {
            "day": self.day.data,
            "starts": self.starts.data,
            "minutes": self.minutes.data,
            "kind": self.kind.data,
            "site_id": self.site_id.data or None,
            "course_id": self.course_id.data or None,
            "title": self.title.data or "",
            "note": self.note.data or "",
        }


class TemplateStatusForm(FlaskForm):
    status = SelectField(
        _l("新状态"),
        choices=[SelectChoice(k, v) for k, v in TEMPLATE_STATUSES.items()],
        validate_choice=False,
    )
    back = HiddenField()


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确定"))


class SettingsFormBase(FlaskForm):
    def values(self) -> dict[str, Any]:
        return {key: getattr(self, key).data for key in DEFAULT_SETTINGS}


def settings_form(current: dict[str, Any]) -> SettingsFormBase:
    """A form with one field per consortium rule (DEFAULT_SETTINGS), filled with ``current``."""

    class SettingsForm(SettingsFormBase):
        pass

    for key, default in DEFAULT_SETTINGS.items():
        label, help_text = SETTING_LABELS.get(key, (key, ""))
        if isinstance(default, int) and not isinstance(default, bool):
            low, high = setting_range(key)
            description = _(
                "%(help)s 允许 %(low)s 到 %(high)s，默认 %(default)s。",
                help=help_text,
                low=low,
                high=high,
                default=default,
            )
            field = StringField(
                label, widget=NumberInput(min=low, max=high), description=description
            )
        else:
            description = _("%(help)s 默认“%(default)s”。", help=help_text, default=default)
            field = StringField(label, description=description)
        setattr(SettingsForm, key, field)
    SettingsForm.submit = SubmitField(_l("保存"))
    return SettingsForm(data={k: "" if v is None else str(v) for k, v in current.items()})
