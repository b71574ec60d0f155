"""Contest awards: results only once the contest is over and confirmed, grades, winners'
certificates, outside experts as judges, and the judge picker without appointed judges."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.errors import ServiceError, ValidationFailed
from portal.events.awards import appoint_outside_judge, set_grades
from portal.events.contests import publish_results
from portal.extensions import db
from tests.conftest import login
from tests.events.builders import (
    appoint,
    courses_of,
    end_contest,
    enter_course,
    future_day,
    make_contest,
    score,
    user,
)

pytestmark = pytest.mark.db


@pytest.fixture
def scored(demo):
    """A course contest with two scored entries (party_school, yangshanzhou) and an unscored
    one (tengchong), judged by 腾冲's and 党校's staff."""
    event = make_contest(title="2026年环线课程评比大赛", deadline=future_day(5))
    first = enter_course(event, "party_school")
    second = enter_course(event, "yangshanzhou_college")
    unscored = enter_course(event, "tengchong_college")
    appoint(event, "tengchong_college_staff")
    score(first, "tengchong_college_staff", 95, 90, 90)
    score(second, "tengchong_college_staff", 80, 80, 80)
    return event, first, second, unscored


def test_results_wait_for_the_deadline_and_the_contest_day(scored, client):
    event, *_entries = scored
    with pytest.raises(ServiceError, match="报送截止日期"):
        publish_results(event, user("office"))
    db.session.rollback()
    event.registration_deadline = future_day(-3)
    db.session.commit()
    with pytest.raises(ServiceError, match="结束后才能公布成绩"):
        publish_results(event, user("office"))
    db.session.rollback()
    login(client, "office")
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    assert 'data-testid="publish-problem"' in page and 'data-testid="publish-form"' not in page
    assert (
        client.post(f"/events/{event.id}/results/publish", data={"confirm": "yes"}).status_code
        == 302
    )
    db.session.expire_all()
    assert event.results_published_at is None
    end_contest(event)
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    assert 'data-testid="publish-form"' in page and 'name="confirm"' in page
    client.post(f"/events/{event.id}/results/publish", data={"confirm": "yes"})
    db.session.expire_all()
    assert event.results_published_at is not None


def test_the_office_gives_grades(scored, client):
    event, first, second, unscored = scored
    login(client, "office")
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    for label in ("一等奖", "二等奖", "三等奖", "优秀奖"):
        assert label in page
    answer = client.post(
        f"/events/{event.id}/grades",
        data={
            f"grade-{first.id}": "first",
            f"grade-{second.id}": "merit",
            f"grade-{unscored.id}": "",
        },
        follow_redirects=True,
    )
    assert "已评定获奖项目 2 个" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert (first.grade, first.winner) == ("first", True)
    assert (second.grade, second.winner) == ("merit", True)
    assert (unscored.grade, unscored.winner) == (None, False)
    assert first.course.excellent  # a winning course is marked 精品课程
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.award")).first()
    # An unscored entry or an unknown grade are refused; nothing changes.
    with pytest.raises(ValidationFailed):
        set_grades(event, user("office"), {unscored.id: "first"})
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        set_grades(event, user("office"), {first.id: "gold"})
    db.session.rollback()
    answer = client.post(f"/events/{event.id}/grades", data={f"grade-{first.id}": "金奖"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert first.grade == "first"
    # Taking the award back takes the grade back.
    client.post(
        f"/events/{event.id}/grades", data={f"grade-{first.id}": "", f"grade-{second.id}": "merit"}
    )
    db.session.expire_all()
    assert (first.grade, first.winner) == (None, False)
    # Members cannot give grades.
    login(client, "party_school_staff")
    assert (
        client.post(f"/events/{event.id}/grades", data={f"grade-{first.id}": "first"}).status_code
        == 403
    )


def test_winners_get_a_certificate_once_published(scored, client):
    event, first, second, _unscored = scored
    set_grades(event, user("office"), {first.id: "second", second.id: ""})
    db.session.commit()
    url = f"/events/entries/{first.id}/certificate.pdf"
    login(client, "office")
    assert client.get(url).status_code == 404  # not published yet
    end_contest(event)
    publish_results(event, user("office"))
    db.session.commit()
    answer = client.get(url)
    assert answer.status_code in (200, 503)  # 503: no CJK font on this machine
    if answer.status_code == 200:
        assert answer.mimetype == "application/pdf"
        if shutil.which("pdftotext"):
            text = subprocess.run(
                ["pdftotext", "-", "-"], input=answer.data, capture_output=True, check=True
            ).stdout.decode()
            assert "荣誉证书" in text and "二等奖" in text and event.title in text.replace("\n", "")
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    assert url in page and f"/events/entries/{second.id}/certificate.pdf" not in page
    login(client, "party_school_staff")
    assert client.get(url).status_code in (200, 503)
    login(client, "tengchong_college_staff")
    assert client.get(url).status_code == 404
    assert client.get(f"/events/entries/{second.id}/certificate.pdf").status_code == 404


def test_outside_experts_judge_and_the_picker_hides_appointed_judges(demo, client):
    event = make_contest()
    appoint(event, "tengchong_college_staff")
    login(client, "office")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    picker = re.search(r'<select[^>]*name="judge-user_id".*?</select>', page, re.S).group(0)
    assert f'value="{user("tengchong_college_staff").id}"' not in picker
    assert f'value="{user("party_school_staff").id}"' in picker
    answer = client.post(
        f"/events/{event.id}/judges/outside",
        data={"outside-name": "王专家", "outside-unit": "云南大学"},
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert "已聘请评委：王专家（云南大学）" in page and "外部专家" in page
    # The same expert twice, or without a unit: refused in Chinese, what was typed kept.
    with pytest.raises(ValidationFailed):
        appoint_outside_judge(event, user("office"), "王专家", "云南大学")
    db.session.rollback()
    answer = client.post(
        f"/events/{event.id}/judges/outside", data={"outside-name": "李专家", "outside-unit": ""}
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "请填写评委的工作单位" in text and 'value="李专家"' in text
    login(client, "party_school_staff")
    assert (
        client.post(
            f"/events/{event.id}/judges/outside",
            data={"outside-name": "x", "outside-unit": "y"},
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert [j.label for j in event.judges if j.user_id is None] == ["王专家（云南大学）"]
    assert courses_of("party_school")  # the demo is intact
