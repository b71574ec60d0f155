"""Needs surveys (培训需求征集): the office opens one, sending units answer, the summary."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.auth import services as auth_services
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.reports import exports, survey
from tests.conftest import login
from tests.scheduling.helpers import user

pytestmark = pytest.mark.db


def opened(**extra):
    values = {
        "title": "2027年度培训需求征集",
        "year": 2027,
        "topics": "党性教育\n乡村振兴\n 党性教育 \n\n数字政府",
        "formats": "现场教学\n专题讲座",
        "ranks": "处级\n科级",
        "closes_on": survey.today() + timedelta(days=30),
        **extra,
    }
    found = survey.open_survey(user("office"), values)
    db.session.commit()
    return found


def second_unit():
    created = auth_services.create_user(
        username="unit_b",
        display_name="第二单位联系人",
        role="organizer",
        password="huanxian2026",
        unit_name="某县委组织部",
    )
    db.session.commit()
    return created


def test_only_the_office_opens_and_the_lists_are_cleaned(demo):
    with pytest.raises(PermissionDenied):
        survey.open_survey(user("organizer"), {})
    found = opened()
    assert found.topics == ["党性教育", "乡村振兴", "数字政府"]  # blank and repeated dropped
    assert found.status == "open" and survey.is_open(found)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.survey_open"))


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": " "}, "title"),
        ({"year": 1999}, "year"),
        ({"topics": "\n \n"}, "topics"),
        ({"formats": "长" * 33}, "formats"),
        ({"ranks": "\n".join(str(i) for i in range(31))}, "ranks"),
        ({"closes_on": None}, "closes_on"),
    ],
)
def test_a_wrong_survey_names_its_field(demo, change, field):
    with pytest.raises(ValidationFailed) as error:
        opened(**change)
    assert field in error.value.errors


def test_units_answer_and_the_summary_counts_by_topic(demo):
    found = opened()
    with pytest.raises(PermissionDenied):
        survey.submit_answer(found, user("office"), {"topics": ["党性教育"]})
    with pytest.raises(PermissionDenied):
        survey.submit_answer(found, user("party_school_staff"), {"topics": ["党性教育"]})
    survey.submit_answer(
        found,
        user("organizer"),
        {
            "topics": ["乡村振兴", "党性教育"],
            "formats": ["现场教学"],
            "months": [5, 4],
            "cadres": {"处级": 10, "科级": 30},
        },
    )
    survey.submit_answer(
        found,
        second_unit(),
        {"topics": ["党性教育"], "months": [5], "cadres": {"科级": 5}, "note": "希望安排周末"},
    )
    # Answering again changes the answer: one per unit.
    survey.submit_answer(
        found,
        user("organizer"),
        {
            "topics": ["党性教育", "乡村振兴"],
            "formats": ["现场教学"],
            "months": [4, 5],
            "cadres": {"处级": 10, "科级": 30},
        },
    )
    db.session.commit()
    summary = survey.summarise(found, user("office"))
    assert len(summary.answers) == 2
    topics = {t.label: (t.units, t.cadres) for t in summary.topics}
    assert topics == {"党性教育": (2, 45), "乡村振兴": (1, 40), "数字政府": (0, 0)}
    assert summary.topics[0].label == "党性教育"  # most chosen first
    assert {t.label: t.units for t in summary.ranks} == {"处级": 1, "科级": 2}
    assert summary.total_cadres == 45
    assert [t.units for t in summary.months][3:5] == [1, 2]
    with pytest.raises(PermissionDenied):
        survey.summarise(found, user("organizer"))


@pytest.mark.parametrize(
    "values, field",
    [
        ({"topics": []}, "topics"),
        ({"topics": ["不在列表"]}, "topics"),
        ({"topics": ["党性教育"], "formats": ["网课"]}, "formats"),
        ({"topics": ["党性教育"], "months": [13]}, "months"),
        ({"topics": ["党性教育"], "cadres": {"处级": -1}}, "cadres"),
        ({"topics": ["党性教育"], "cadres": {"厅级": 3}}, "cadres"),
        ({"topics": ["党性教育"], "note": "长" * 2001}, "note"),
    ],
)
def test_a_wrong_answer_names_its_field(demo, values, field):
    found = opened()
    with pytest.raises(ValidationFailed) as error:
        survey.submit_answer(found, user("organizer"), values)
    assert field in error.value.errors


def test_a_closed_survey_takes_no_answers(demo):
    found = opened()
    survey.close_survey(found, user("office"))
    db.session.commit()
    with pytest.raises(ServiceError):
        survey.submit_answer(found, user("organizer"), {"topics": ["党性教育"]})
    with pytest.raises(ServiceError):
        survey.close_survey(found, user("office"))


def test_the_export_guards_against_formulas(demo):
    found = opened(topics='=HYPERLINK("http://x")\n党性教育')
    survey.submit_answer(
        found,
        user("organizer"),
        {"topics": ['=HYPERLINK("http://x")'], "cadres": {"处级": 3}, "note": "+1+1"},
    )
    db.session.commit()
    data = exports.survey_xlsx(survey.summarise(found, user("office")))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "按专题"
    cells = [c.value for ws in wb for row in ws.iter_rows() for c in row if c.value]
    assert not any(isinstance(v, str) and v.startswith(("=", "+")) for v in cells)
    assert '\'=HYPERLINK("http://x")' in cells


def test_the_survey_pages(demo, client):
    found = opened()
    login(client, "organizer")
    assert found.title in client.get("/reports/surveys").get_data(as_text=True)
    page = client.get(f"/reports/surveys/{found.id}")
    assert page.status_code == 200 and "乡村振兴" in page.get_data(as_text=True)
    bad = client.post(
        f"/reports/surveys/{found.id}",
        data={"topics": ["党性教育"], "cadres-0": "abc", "note": "周末为宜"},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "周末为宜" in text and 'value="abc"' in text  # what was typed is kept
    ok = client.post(
        f"/reports/surveys/{found.id}",
        data={"topics": ["党性教育"], "months": ["4", "x"], "cadres-0": "12"},
    )
    assert ok.status_code == 400  # a month that is not one
    ok = client.post(
        f"/reports/surveys/{found.id}",
        data={"topics": ["党性教育"], "months": ["4"], "cadres-0": "12"},
    )
    assert ok.status_code == 302
    login(client, "office")
    summary = client.get(f"/reports/surveys/{found.id}").get_data(as_text=True)
    assert "by-topic" in summary and "已有 1 个单位填报" in summary
    export = client.get(f"/reports/surveys/{found.id}.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert client.post("/reports/surveys", data={"title": ""}).status_code == 400
    assert client.post(f"/reports/surveys/{found.id}/close", data={}).status_code == 302
    db.session.expire_all()
    assert survey.get_survey(found.id, user("office")).status == "closed"
