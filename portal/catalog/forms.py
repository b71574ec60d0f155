"""Forms of the catalogue: filters (GET, also used by the JSON API) and edit forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DecimalField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select

from portal.catalog.models import MATERIAL_KINDS, STATUSES
from portal.formfields import ClockField, DayField
from portal.specs import COURSE_KINDS, TEACHER_KINDS, WEEKDAY_LABELS

MAX_PAGE = 100000


def choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    found = [SelectChoice(k, v) for k, v in labels.items()]
    return [SelectChoice("", blank), *found] if blank is not None else found


class LongSelect(Select):
    """A <select> of plain options (a filter's members, themes, titles: there can be hundreds).

    Each option is written with one escape of its value and label: the same HTML as WTForms'
    widget, which builds and sorts an attribute dict per option (400 options: 4.6 ms that
    way, 1 ms this way, on every list page).
    """

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')


# Every <select> of the filter bars, which are rendered on every list page.
LONG_SELECT = LongSelect()


class FilterForm(FlaskForm):
    """Filters travel in the query string: no CSRF, never stateful."""

    class Meta:
        csrf = False

    q = StringField(_l("关键词"), validators=[Optional()])
    member = SelectField(_l("成员单位"), coerce=str, validate_choice=False, widget=LONG_SELECT)
    status = SelectField(_l("状态"), default="active", widget=LONG_SELECT)
    page = IntegerField(
        _l("页码"), default=1, validators=[Optional(), NumberRange(1, MAX_PAGE, _l("页码无效。"))]
    )

    def member_id(self) -> int | None:
        value = self.member.data or ""
        if value.isascii() and value.isdigit() and len(value) <= 9:
            return int(value)
        return None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, _l("包含无效字符。")]
                ok = False
        return ok


def _status_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("全部状态")), *choices(STATUSES)]


class SiteFilterForm(FilterForm):
    theme = SelectField(_l("主题"), validate_choice=False, widget=LONG_SELECT)
    min_capacity = IntegerField(
        _l("容量不少于"), validators=[Optional(), NumberRange(1, 100000, _l("容量须为正整数。"))]
    )
    guide = SelectField(
        _l("讲解员"),
        choices=[
            SelectChoice("", _l("不限")),
            SelectChoice("yes", _l("需要")),
            SelectChoice("no", _l("不需要")),
        ],
        default="",
        widget=LONG_SELECT,
    )
    sort = SelectField(
        _l("排序"),
        choices=[
            SelectChoice("name", _l("按名称")),
            SelectChoice("capacity", _l("按容量")),
            SelectChoice("score", _l("按最新考核分")),
        ],
        default="name",
        widget=LONG_SELECT,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = _status_choices()


class TeacherFilterForm(FilterForm):
    kind = SelectField(
        _l("类型"), choices=choices(TEACHER_KINDS, blank=_l("全部")), default="", widget=LONG_SELECT
    )
    title = SelectField(_l("职称"), validate_choice=False, widget=LONG_SELECT)
    topic = StringField(_l("研究方向"), validators=[Optional()])
    shared = SelectField(
        _l("共享"),
        choices=[
            SelectChoice("", _l("不限")),
            SelectChoice("yes", _l("共享")),
            SelectChoice("no", _l("不共享")),
        ],
        default="",
        widget=LONG_SELECT,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = _status_choices()


class CourseFilterForm(FilterForm):
    kind = SelectField(
        _l("课程类型"),
        choices=choices(COURSE_KINDS, blank=_l("全部")),
        default="",
        widget=LONG_SELECT,
    )
    excellent = SelectField(
        _l("精品课程"),
        choices=[SelectChoice("", _l("不限")), SelectChoice("yes", _l("仅精品课程"))],
        default="",
        widget=LONG_SELECT,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = _status_choices()


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        if self.validate_choice and self.data:
            allowed = {c.value if hasattr(c, "value") else c[0] for c in self.choices}
            if any(value not in allowed for value in self.data):
                raise ValidationError(_l("所选内容无效，请重新选择。"))


class SiteForm(FlaskForm):
    member_id = SelectField(_l("所属成员单位"), coerce=int, validate_choice=False)
    name = StringField(_l("名称"))
    theme = StringField(_l("主题"), description=_l("如：党性教育、革命传统、抗战历史、乡村振兴"))
    capacity = IntegerField(
        _l("每场容量（人）"), validators=[InputRequired(_l("请填写每场容量。"))]
    )
    session_minutes = IntegerField(
        _l("单场时长（分钟）"), default=90, validators=[InputRequired(_l("请填写单场时长。"))]
    )
    open_weekdays = MultiCheckboxField(
        _l("开放日"), choices=[SelectChoice(str(k), v) for k, v in WEEKDAY_LABELS.items()]
    )
    opens = ClockField(_l("开放时间"), validators=[InputRequired(_l("请填写开放时间。"))])
    closes = ClockField(_l("关闭时间"), validators=[InputRequired(_l("请填写关闭时间。"))])
    needs_guide = BooleanField(_l("需要讲解员"))
    guide_count = IntegerField(_l("可同时派出的讲解员（人）"), default=2, validators=[Optional()])
    auto_confirm = BooleanField(_l("预约自动确认（无需逐一审核）"))
    address = StringField(_l("地址"))
    latitude = FloatField(_l("纬度"), validators=[Optional()])
    longitude = FloatField(_l("经度"), validators=[Optional()])
    description = TextAreaField(_l("简介"))
    reason = StringField(_l("修改说明（可选）"))
    submit = SubmitField(_l("保存"))

    def values(self) -> dict:
        # Left empty, the number of guides stays as it is (2 for a new site).
        guides = {} if self.guide_count.data is None else {"guide_count": self.guide_count.data}
        return guides | {
            "name": self.name.data,
            "theme": self.theme.data,
            "capacity": self.capacity.data,
            "session_minutes": self.session_minutes.data,
            "open_weekdays": self.open_weekdays.data or [],
            "opens": self.opens.data,
            "closes": self.closes.data,
            "needs_guide": self.needs_guide.data,
            "auto_confirm": self.auto_confirm.data,
            "address": self.address.data,
            "latitude": self.latitude.data,
            "longitude": self.longitude.data,
            "description": self.description.data,
        }


class TeacherForm(FlaskForm):
    member_id = SelectField(_l("所属成员单位"), coerce=int, validate_choice=False)
    name = StringField(_l("姓名"))
    kind = SelectField(_l("类型"), choices=choices(TEACHER_KINDS))
    title = StringField(_l("职称"))
    topics = StringField(_l("研究方向"), description=_l("多个方向用顿号或逗号分隔"))
    shared = BooleanField(_l("与环线成员共享（师资共享）"))
    bio = TextAreaField(_l("简介"))
    reason = StringField(_l("修改说明（可选）"))
    submit = SubmitField(_l("保存"))

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "kind": self.kind.data,
            "title": self.title.data,
            "topics": self.topics.data,
            "shared": self.shared.data,
            "bio": self.bio.data,
        }


class CourseForm(FlaskForm):
    member_id = SelectField(_l("所属成员单位"), coerce=int, validate_choice=False)
    name = StringField(_l("课程名称"))
    kind = SelectField(_l("课程类型"), choices=choices(COURSE_KINDS))
    hours = DecimalField(_l("学时"), places=1, validators=[InputRequired(_l("请填写学时。"))])
    teacher_ids = MultiCheckboxField(_l("授课师资"), coerce=int, validate_choice=False)
    site_id = SelectField(_l("教学点（可选）"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("简介"))
    reason = StringField(_l("修改说明（可选）"))
    submit = SubmitField(_l("保存"))

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "kind": self.kind.data,
            "hours": float(self.hours.data) if self.hours.data is not None else None,
            "teacher_ids": self.teacher_ids.data or [],
            "site_id": self.site_id.data or None,
            "description": self.description.data,
        }


class StatusForm(FlaskForm):
    status = SelectField(_l("新状态"), choices=choices(STATUSES))
    reason = TextAreaField(_l("原因"))
    submit = SubmitField(_l("更改状态"))


class AssessmentForm(FlaskForm):
    year = IntegerField(
        _l("年度"),
        default=lambda: date.today().year,
        validators=[InputRequired(_l("请填写年度。"))],
    )
    score = DecimalField(
        _l("考核分数（0–100）"), places=1, validators=[InputRequired(_l("请填写分数。"))]
    )
    remarks = TextAreaField(_l("评语"))
    submit = SubmitField(_l("记录考核"))


class UnavailabilityForm(FlaskForm):
    starts_on = DayField(_l("开始日期"), validators=[InputRequired(_l("请填写开始日期。"))])
    ends_on = DayField(_l("结束日期"), validators=[InputRequired(_l("请填写结束日期。"))])
    reason = StringField(_l("原因（可选）"))
    submit = SubmitField(_l("登记不可用日期"))


# A form with only its CSRF token, for buttons that change something (delete, mark).
class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确定"))


class MaterialForm(FlaskForm):
    kind = SelectField(_l("类别"), choices=choices(MATERIAL_KINDS))
    title = StringField(_l("标题"))
    file = FileField(_l("附件（可选；PDF、Word、PPT、Excel 或图片，不超过 10 MB）"))
    submit = SubmitField(_l("添加"))


class PhotoForm(FlaskForm):
    photo = FileField(_l("照片（JPG、PNG 或 WebP，不超过 12 MB）"))
    caption = StringField(_l("说明（可选）"), validators=[Length(max=128)])
    submit = SubmitField(_l("上传照片"))
