"""Forms of the reports area: the year's plan, a class's plan under review, needs surveys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from portal.formfields import DayField, WholeNumberField, no_nul
from portal.scheduling.models import CLASS_KINDS, ORIGINS


class PlanTargetForm(FlaskForm):
    label = StringField(_l("计划项目"), validators=[no_nul])
    kind = SelectField(_l("培训班类别"), validate_choice=False)
    origin = SelectField(_l("学员来源"), validate_choice=False)
    theme = StringField(_l("主题关键词"), validators=[no_nul])
    planned_classes = WholeNumberField(_l("计划期数"))
    planned_trainees = WholeNumberField(_l("计划人数（可不填）"))
    rank = StringField(_l("轮训对象职级关键词"), validators=[no_nul])
    cadres = WholeNumberField(_l("轮训对象人数"))
    submit = SubmitField(_l("添加计划项目"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(CLASS_KINDS)
        self.origin.choices = choices(ORIGINS)


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice("", _l("不限")), *(SelectChoice(k, v) for k, v in labels.items())]


class DeleteTargetForm(FlaskForm):
    target_id = HiddenField()
    delete = SubmitField(_l("删除"))


# ---------------------------------------------------------------- plan review


class ClassPlanForm(FlaskForm):
    """A class's plan (培训方案) the organizer submits; the rules are checked by review.py."""

    starts_on = DayField(_l("开班日期"))
    ends_on = DayField(_l("结业日期"))
    theme = StringField(_l("培训主题"), validators=[no_nul])
    size = WholeNumberField(_l("人数"))
    template_id = SelectField(_l("环线线路"), validate_choice=False)
    itinerary = TextAreaField(
        _l("自定行程"),
        description=_l("不选线路时写明每天的安排；选了线路也可补充说明。"),
        validators=[no_nul],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("提交审核"))

    def values(self) -> dict:
        chosen = self.template_id.data or ""
        return {
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "theme": self.theme.data,
            "size": self.size.data,
            # Not a number: a template that cannot exist, which the service names.
            "template_id": int(chosen) if chosen.isdigit() and len(chosen) < 10 else chosen,
            "itinerary": self.itinerary.data,
        }


class PlanDecisionForm(FlaskForm):
    comments = TextAreaField(_l("审核意见"), validators=[no_nul], render_kw={"rows": 3})
    approve = SubmitField(_l("审核通过"))
    send_back = SubmitField(_l("退回修改"))


class ExemptionForm(FlaskForm):
    reason = TextAreaField(_l("免于环线的理由"), validators=[no_nul], render_kw={"rows": 2})
    exempt = SubmitField(_l("登记免于环线"))


# ---------------------------------------------------------------- needs surveys


class SurveyForm(FlaskForm):
    """The office opens a needs survey: its offered answers, one a line."""

    title = StringField(_l("征集名称"), validators=[no_nul])
    year = WholeNumberField(_l("计划年度"))
    intro = TextAreaField(_l("说明"), validators=[no_nul], render_kw={"rows": 2})
    topics = TextAreaField(_l("培训专题（每行一个）"), validators=[no_nul], render_kw={"rows": 4})
    formats = TextAreaField(_l("培训方式（每行一个）"), validators=[no_nul], render_kw={"rows": 3})
    ranks = TextAreaField(_l("干部职级（每行一个）"), validators=[no_nul], render_kw={"rows": 3})
    closes_on = DayField(_l("截止日期"))
    submit = SubmitField(_l("发起征集"))


class SurveyAnswerForm(FlaskForm):
    """A sending unit's answer; the choices and the cadres per rank are read by the view."""

    note = TextAreaField(_l("其他需求"), validators=[no_nul], render_kw={"rows": 3})
    submit = SubmitField(_l("提交需求"))


class CloseSurveyForm(FlaskForm):
    close = SubmitField(_l("结束征集"))
