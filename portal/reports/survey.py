"""Needs surveys (培训需求征集): the office asks the sending units what training they need.

The office opens a survey for a year with the answers it offers: topics (专题), formats
(方式) and ranks (职级), one a line; months are 1–12. Each organizer account (a sending
unit) answers once and may change its answer until the survey closes (by the office, or
after its closing day). The summary counts, per topic, the units that chose it and the
cadres those units would send (the sum of their cadres over every rank); and per format,
month and rank the same way. The .xlsx export is in ``exports.survey_xlsx``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.reports.models import NeedsSurvey, SurveyAnswer
from portal.timeutil import LOCAL_TZ, within_range

MAX_OPTIONS = 30
MAX_OPTION_LENGTH = 32
MAX_CADRES = 100000


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _require_office(actor: Any) -> None:
    if not getattr(actor, "is_office", False):
        raise PermissionDenied(_("只有环线办可以发起培训需求征集。"))


def _require_unit(actor: Any) -> None:
    if getattr(actor, "role", None) != "organizer":
        raise PermissionDenied(_("只有选派单位（培训班联系人）可以填报培训需求。"))


def _lines(errors: dict[str, str], key: str, text: Any, label: str) -> list[str]:
    """The distinct non-empty lines of ``text``, in order."""
    found = list(dict.fromkeys(line.strip() for line in str(text or "").splitlines()))
    found = [line for line in found if line]
    if not found:
        errors[key] = _("请至少填写一项%(label)s。", label=label)
    elif len(found) > MAX_OPTIONS:
        errors[key] = _("%(label)s最多 %(n)s 项。", label=label, n=MAX_OPTIONS)
    elif any(len(line) > MAX_OPTION_LENGTH or "\x00" in line for line in found):
        errors[key] = _("每项最多 %(n)s 个字。", n=MAX_OPTION_LENGTH)
    return found


def open_survey(actor: Any, values: dict[str, Any]) -> NeedsSurvey:
    """The office opens a survey. The caller commits."""
    _require_office(actor)
    errors: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = _("请填写征集名称。")
    elif len(title) > 128 or "\x00" in title:
        errors["title"] = _("征集名称最多 128 个字。")
    year = values.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        errors["year"] = _("年份须在 2000 至 2100 之间。")
    intro = (values.get("intro") or "").strip()
    if len(intro) > 2000 or "\x00" in intro:
        errors["intro"] = _("说明最多 2000 个字。")
    topics = _lines(errors, "topics", values.get("topics"), _("培训专题"))
    formats = _lines(errors, "formats", values.get("formats"), _("培训方式"))
    ranks = _lines(errors, "ranks", values.get("ranks"), _("干部职级"))
    closes_on = values.get("closes_on")
    if not isinstance(closes_on, date):
        errors["closes_on"] = _("请填写截止日期。")
    elif not within_range(closes_on):
        errors["closes_on"] = _("日期须在 2000 年至 2100 年之间。")
    elif closes_on < today():
        errors["closes_on"] = _("截止日期不能早于今天。")
    if errors:
        raise ValidationFailed(errors)
    survey = NeedsSurvey(
        year=year,
        title=title,
        intro=intro,
        topics=topics,
        formats=formats,
        ranks=ranks,
        closes_on=closes_on,
        created_by_id=actor.id,
    )
    db.session.add(survey)
    db.session.flush()
    record(actor, "plan.survey_open", title, year=year)
    return survey


def is_open(survey: NeedsSurvey) -> bool:
    return survey.status == "open" and survey.closes_on >= today()


def close_survey(survey: NeedsSurvey, actor: Any) -> None:
    _require_office(actor)
    if survey.status == "closed":
        raise ServiceError(_("该征集已结束。"))
    survey.status = "closed"
    record(actor, "plan.survey_close", survey.title)


def surveys_for(actor: Any) -> list[NeedsSurvey]:
    """The office sees every survey; a sending unit those open and those it answered."""
    if getattr(actor, "is_office", False):
        query = select(NeedsSurvey)
    else:
        _require_unit(actor)
        answered = select(SurveyAnswer.survey_id).where(SurveyAnswer.organizer_id == actor.id)
        query = select(NeedsSurvey).where(
            (NeedsSurvey.status == "open") | NeedsSurvey.id.in_(answered)
        )
    return list(db.session.scalars(query.order_by(NeedsSurvey.id.desc())))


def get_survey(survey_id: int, actor: Any) -> NeedsSurvey:
    """A survey for the office or a sending unit; others get PermissionDenied."""
    if not getattr(actor, "is_office", False):
        _require_unit(actor)
    survey = db.session.get(NeedsSurvey, survey_id)
    if survey is None:
        raise NotFound(_("没有找到该需求征集。"))
    return survey


def answer_of(survey: NeedsSurvey, actor: Any) -> SurveyAnswer | None:
    return db.session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.survey_id == survey.id, SurveyAnswer.organizer_id == actor.id
        )
    )


def _chosen(errors: dict[str, str], key: str, chosen: Any, offered: list, label: str) -> list:
    chosen = list(dict.fromkeys(chosen or []))
    if any(c not in offered for c in chosen):
        errors[key] = _("请从列出的%(label)s中选择。", label=label)
        return []
    return [c for c in offered if c in chosen]  # in the survey's order


def submit_answer(survey: NeedsSurvey, actor: Any, values: dict[str, Any]) -> SurveyAnswer:
    """A sending unit answers (or changes its answer) while the survey is open. Caller commits.

    ``values``: topics, formats (lists of offered words), months (list of 1–12), cadres
    ({rank: whole number or None}) and note.
    """
    _require_unit(actor)
    if not is_open(survey):
        raise ServiceError(_("该需求征集已截止。"))
    errors: dict[str, str] = {}
    topics = _chosen(errors, "topics", values.get("topics"), survey.topics, _("培训专题"))
    if not topics and "topics" not in errors:
        errors["topics"] = _("请至少选择一个培训专题。")
    formats = _chosen(errors, "formats", values.get("formats"), survey.formats, _("培训方式"))
    months = _chosen(errors, "months", values.get("months"), list(range(1, 13)), _("月份"))
    cadres: dict[str, int] = {}
    given = values.get("cadres") or {}
    for rank in survey.ranks:
        number = given.get(rank)
        if number is None:
            continue
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= MAX_CADRES:
            errors["cadres"] = _("各职级人数须为 0 到 %(n)s 之间的整数。", n=MAX_CADRES)
        elif number:
            cadres[rank] = number
    if any(rank not in survey.ranks for rank in given):
        errors["cadres"] = _("请按列出的职级填写人数。")
    note = (values.get("note") or "").strip()
    if len(note) > 2000 or "\x00" in note:
        errors["note"] = _("其他需求最多 2000 个字。")
    if errors:
        raise ValidationFailed(errors)
    answer = answer_of(survey, actor)
    if answer is None:
        answer = SurveyAnswer(survey_id=survey.id, organizer_id=actor.id)
        db.session.add(answer)
    answer.unit = (actor.unit_name or actor.display_name or actor.username)[:128]
    answer.topics, answer.formats, answer.months = topics, formats, months
    answer.cadres, answer.note = cadres, note
    db.session.flush()
    record(actor, "plan.survey_answer", survey.title, unit=answer.unit)
    return answer


@dataclass
class Tally:
    """One offered answer: the units that chose it and the cadres those units would send."""

    label: str
    units: int = 0
    cadres: int = 0
    unit_names: list[str] = field(default_factory=list)


@dataclass
class Summary:
    survey: NeedsSurvey
    answers: list[SurveyAnswer]
    topics: list[Tally]
    formats: list[Tally]
    months: list[Tally]
    ranks: list[Tally]

    @property
    def total_cadres(self) -> int:
        return sum(t.cadres for t in self.ranks)


def summarise(survey: NeedsSurvey, actor: Any) -> Summary:
    """The office's summary: per topic (most chosen first), format, month and rank."""
    _require_office(actor)
    answers = list(survey.answers)

    def tally(labels: list, pick) -> list[Tally]:
        rows = {label: Tally(str(label)) for label in labels}
        for answer in answers:
            for label in pick(answer):
                if label in rows:
                    row = rows[label]
                    row.units += 1
                    row.cadres += sum(answer.cadres.values())
                    row.unit_names.append(answer.unit)
        return list(rows.values())

    topics = sorted(tally(survey.topics, lambda a: a.topics), key=lambda t: (-t.units, -t.cadres))
    per_rank: Counter[str] = Counter()
    units_per_rank: Counter[str] = Counter()
    for answer in answers:
        for rank, number in answer.cadres.items():
            per_rank[rank] += number
            units_per_rank[rank] += 1
    ranks = [Tally(rank, units_per_rank[rank], per_rank[rank]) for rank in survey.ranks]
    return Summary(
        survey=survey,
        answers=answers,
        topics=topics,
        formats=tally(survey.formats, lambda a: a.formats),
        months=[
            Tally(_("%(m)s月", m=t.label), t.units, t.cadres, t.unit_names)
            for t in tally(list(range(1, 13)), lambda a: a.months)
        ],
        ranks=ranks,
    )
