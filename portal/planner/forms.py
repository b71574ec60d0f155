"""Forms of the season planner: a season, a request, a run."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.formfields import DayField, WholeNumberField, no_nul


class CheckboxesField(SelectMultipleField):
    """Checkboxes; unknown values are dropped by ``ids`` (the service checks the rest)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validate_choice", False)
        kwargs.setdefault("coerce", str)
        super().__init__(*args, **kwargs)


def ids(values: list[str] | None) -> list[int]:
    return [int(v) for v in values or [] if str(v).isdigit() and len(str(v)) < 10]


class SeasonForm(FlaskForm):
    name = StringField(_l("调训季名称"), validators=[no_nul])
    starts_on = DayField(_l("开始日期"))
    ends_on = DayField(_l("结束日期"))
    time_limit = WholeNumberField(_l("求解时限（秒）"), default=30)
    submit = SubmitField(_l("开启调训季"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "time_limit": self.time_limit.data,
        }


class RequestForm(FlaskForm):
    class_id = SelectField(_l("培训班"), coerce=str, validate_choice=False)
    size = WholeNumberField(_l("人数"))
    dates_text = TextAreaField(
        _l("可接受的开始日期"),
        validators=[no_nul],
        description=_l(
            "每行一个日期或一周，后面可加偏好 1–5（5 最希望，默认 3），例如“2027-04-06 5”或“2027-W15 3”"
        ),
        render_kw={"rows": 4},
    )
    template_ids = CheckboxesField(_l("可接受的线路"))
    days = WholeNumberField(_l("天数"), default=0, description=_l("0 表示不限"))
    must_sites = CheckboxesField(_l("必须包含的教学点"))
    avoid_sites = CheckboxesField(_l("不去的教学点"))
    squads_allowed = BooleanField(_l("允许分组（超过教学点容量时分组依次参观）"), default=True)
    note = TextAreaField(_l("备注"), validators=[no_nul], render_kw={"rows": 2})
    submit = SubmitField(_l("提交请求"))

    def values(self) -> dict[str, Any]:
        class_id = self.class_id.data or ""
        return {
            "class_id": int(class_id) if class_id.isdigit() and len(class_id) < 10 else None,
            "size": self.size.data,
            "dates_text": self.dates_text.data or "",
            "template_ids": ids(self.template_ids.data),
            "days": self.days.data if self.days.data is not None else 0,
            "must_sites": ids(self.must_sites.data),
            "avoid_sites": ids(self.avoid_sites.data),
            "squads_allowed": self.squads_allowed.data,
            "note": self.note.data or "",
        }


class RunForm(FlaskForm):
    time_limit = WholeNumberField(_l("求解时限（秒）"))
    submit = SubmitField(_l("运行规划"))


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""
