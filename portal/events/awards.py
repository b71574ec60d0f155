"""Contest awards: when results may be published, grades (一/二/三等奖, 优秀奖), certificates
for winners, outside experts on the judging panel, and the judge picker without those
already appointed.

Results are published once the contest is over (``contests.publish_problem``: after its
entry deadline and on or after its last session's day); the office confirms the step
explicitly (``publish_results_confirmed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from portal import pdf
from portal.auth.models import User
from portal.catalog.services import require_office
from portal.errors import ServiceError, ValidationFailed
from portal.events.access import is_member_user, is_office
from portal.events.contests import (
    judge_candidates,
    publish_problem,
    publish_results,
    require_contest,
    require_contest_open,
    results,
    set_winners,
)
from portal.events.models import GRADES, ContestEntry, ContestJudge, JointEvent
from portal.extensions import db
from portal.timeutil import LOCAL_TZ

# ---------------------------------------------------------------- publishing results


def publish_results_confirmed(event: JointEvent, actor: Any, confirmed: bool) -> None:
    """Publish the results: only once the contest is over, and only when the office has
    confirmed it (the confirmation step on the results page). The caller commits."""
    require_office(actor)
    require_contest_open(event)
    if problem := publish_problem(event):
        raise ServiceError(problem)
    if not confirmed:
        raise ValidationFailed({"confirm": _("请勾选确认：成绩公布后不能再修改。")})
    publish_results(event, actor)


# ---------------------------------------------------------------- grades


def set_grades(event: JointEvent, actor: Any, grades: Mapping[int, str]) -> list[ContestEntry]:
    """Give scored entries a grade (first/second/third/merit, "" for none); an entry with a
    grade is a winner (a winning course gets its 精品课程 mark, see ``set_winners``).
    The caller commits."""
    require_office(actor)
    require_contest(event)
    entries = {e.id: e for e in event.entries}
    errors = {}
    for entry_id, grade in grades.items():
        if entry_id not in entries:
            errors["grades"] = _("所选参赛项目不属于本次大赛。")
        elif grade and grade not in GRADES:
            errors[f"grade-{entry_id}"] = _("请选择有效的获奖等次。")
    if errors:
        raise ValidationFailed(errors)
    wanted = {i: g for i, g in grades.items() if g}
    set_winners(event, actor, sorted(wanted))
    for entry in event.entries:
        if entry.id in grades:
            entry.grade = wanted.get(entry.id)
        elif not entry.winner:
            entry.grade = None
    db.session.flush()
    return [e for e in event.entries if e.winner]


# ---------------------------------------------------------------- certificates


def certificate_visible(entry: ContestEntry, user: Any) -> bool:
    """A winner's certificate once the results are published: for the office and the staff
    of the entry's member (its own to print and hand over)."""
    event = entry.event
    if not (entry.winner and event.results_published_at is not None):
        return False
    return is_office(user) or (is_member_user(user) and user.member_id == entry.member_id)


def certificate_pdf(entry: ContestEntry, font: pdf.FontChoice) -> bytes:
    """One A4 landscape page: 荣誉证书, who, which contest, the grade, the office and date."""
    from fpdf import FPDF

    event = entry.event
    grade = entry.grade_label or _("获奖")
    published = (event.results_published_at or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
    document = FPDF(orientation="landscape", unit="mm", format="A4")
    document.set_auto_page_break(auto=False)
    document.set_title(_("荣誉证书"))
    document.set_creator("Ring Route Portal")
    try:
        document.add_font("cjk", "", font.path, collection_font_number=font.face)
    except Exception as exc:
        raise pdf.FontUnavailable(str(exc)) from exc
    document.add_page()
    document.set_draw_color(139, 26, 26)
    document.set_line_width(1.2)
    document.rect(12, 12, 273, 186)
    document.set_line_width(0.4)
    document.rect(16, 16, 265, 178)
    width = 225

    def line(text: str, size: float, height: float, align: str = "C") -> None:
        document.set_font("cjk", size=size)
        wrapped = "\n".join(pdf.wrap_text(text, width, document.get_string_width))
        document.set_x(36)
        document.multi_cell(width, height, wrapped, align=align, new_x="LMARGIN", new_y="NEXT")

    document.set_text_color(139, 26, 26)
    document.set_y(34)
    line(_("荣誉证书"), 34, 18)
    document.set_text_color(0, 0, 0)
    document.ln(10)
    holder = entry.label
    line(
        _("%(holder)s（%(member)s）：", holder=holder, member=entry.member.short_name), 17, 11, "L"
    )
    document.ln(3)
    line(
        _(
            "在“%(title)s”中成绩优异，荣获%(grade)s。特发此证，以资鼓励。",
            title=event.title,
            grade=grade,
        ),
        17,
        11,
        "L",
    )
    document.set_text_color(139, 26, 26)
    document.ln(6)
    line(grade, 26, 14)
    document.set_text_color(0, 0, 0)
    document.set_y(150)
    line(_("环线培训联盟办公室"), 15, 9, "R")
    line(published.strftime("%Y-%m-%d"), 13, 8, "R")
    document.set_text_color(110, 110, 110)
    document.set_y(180)
    line(_("证书编号：%(event)s-%(entry)s", event=event.id, entry=entry.id), 9, 5, "R")
    return bytes(document.output())


# ---------------------------------------------------------------- judges


def available_judges(event: JointEvent) -> list[User]:
    """The judge picker: active member staff not yet appointed to this contest."""
    appointed = {j.user_id for j in event.judges if j.user_id is not None}
    return [u for u in judge_candidates() if u.id not in appointed]


def appoint_outside_judge(event: JointEvent, actor: Any, name: Any, unit: Any) -> ContestJudge:
    """Appoint an outside expert (name and unit, no account needed). The caller commits."""
    require_office(actor)
    require_contest_open(event)
    errors = {}
    name = " ".join(str(name or "").split())
    unit = " ".join(str(unit or "").split())
    if not name:
        errors["name"] = _("请填写评委姓名。")
    elif len(name) > 64 or "\x00" in name:
        errors["name"] = _("评委姓名最多 64 个字。")
    if not unit:
        errors["unit"] = _("请填写评委的工作单位。")
    elif len(unit) > 128 or "\x00" in unit:
        errors["unit"] = _("工作单位最多 128 个字。")
    if not errors and any(
        j.user_id is None and j.name == name and j.unit == unit for j in event.judges
    ):
        errors["name"] = _("%(name)s已是本次大赛的评委。", name=name)
    if errors:
        raise ValidationFailed(errors)
    appointment = ContestJudge(name=name, unit=unit)
    event.judges.append(appointment)
    db.session.flush()
    return appointment


def ranked(event: JointEvent) -> list[Any]:
    """The ranking (``contests.results``), re-exported for the award pages."""
    return results(event)
