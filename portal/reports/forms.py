"""Forms of the reports area: a line of the year's plan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField

from portal.formfields import WholeNumberField, no_nul
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
