"""Forms of the evaluations: a trainee's answer (built per stop) and the office's criteria."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Optional

from portal.evaluations.models import EvaluationCriterion
from portal.formfields import no_nul

SCORES = [SelectChoice(str(n), str(n)) for n in (5, 4, 3, 2, 1)]


class AnswerForm(FlaskForm):
    comment = TextAreaField(_l("意见建议（选填）"), validators=[Optional(), no_nul])
    submit = SubmitField(_l("提交评价"))


def answer_form(criteria: Iterable[EvaluationCriterion]) -> AnswerForm:
    """A form with one 1–5 choice per criterion (named ``c<id>``); the service checks values."""

    class Form(AnswerForm):
        pass

    for criterion in criteria:
        setattr(
            Form,
            f"c{criterion.id}",
            RadioField(criterion.label, choices=SCORES, validate_choice=False),
        )
    return Form()


class CriteriaForm(FlaskForm):
    course = TextAreaField(_l("课程评估指标（每行一项）"), validators=[no_nul])
    teacher = TextAreaField(_l("教师评估指标（每行一项）"), validators=[no_nul])
    site = TextAreaField(_l("教学点评估指标（每行一项）"), validators=[no_nul])
    submit = SubmitField(_l("保存"))
