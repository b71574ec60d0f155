"""The year's plan against what is held, on the hand-counted year of conftest.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.auth.models import User
from portal.errors import PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.reports import plan
from portal.reports.dashboard import dashboard_for
from portal.reports.models import PlanTarget
from tests.conftest import login

pytestmark = pytest.mark.db


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def target(**values) -> dict:
    return {"year": 2025, "label": "计划", "planned_classes": 10, **values}


def test_progress_counts_matching_classes(year):
    office = user("office")
    plan.add_target(office, target(label="全部培训班", planned_classes=10, planned_trainees=100))
    plan.add_target(office, target(label="市内班", origin="city", planned_classes=4))
    plan.add_target(office, target(label="主体班", kind="main", theme="党性", planned_classes=5))
    plan.add_target(office, target(label="委托班", kind="commissioned", planned_classes=2))
    db.session.commit()
    rows = {r.target.label: r for r in plan.progress(2025, date(2025, 6, 30))}
    # Held by 30 June: c1 (1 Jan, city) and c3 (10 June); c8, c9 and c2 come later.
    assert (rows["全部培训班"].held, rows["全部培训班"].held_trainees) == (2, 40)
    assert rows["全部培训班"].registered == 5 and rows["全部培训班"].percent == 20
    assert (rows["市内班"].held, rows["市内班"].registered) == (1, 2)  # c1; c9 in August
    assert rows["主体班"].held == 2  # every fixture class is 主体班 of 党性教育
    assert rows["委托班"].held == 0
    assert plan.progress(2024, date(2025, 6, 30)) == []
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert "plan.add" in actions


@pytest.mark.parametrize(
    "values, field",
    [
        ({"label": " "}, "label"),
        ({"label": "长" * 129}, "label"),
        ({"planned_classes": 0}, "planned_classes"),
        ({"planned_classes": None}, "planned_classes"),
        ({"planned_trainees": -5}, "planned_trainees"),
        ({"kind": "nonsense"}, "kind"),
        ({"origin": "mars"}, "origin"),
        ({"theme": "词" * 33}, "theme"),
        ({"year": 1999}, "year"),
        ({"year": 99999}, "year"),
    ],
)
def test_wrong_targets_are_refused_in_words(demo, values, field):
    with pytest.raises(ValidationFailed) as error:
        plan.add_target(user("office"), target(**values))
    assert field in error.value.errors


def test_only_the_office_plans(demo):
    with pytest.raises(PermissionDenied):
        plan.add_target(user("party_school_admin"), target())


def test_plan_page_adds_and_deletes(year, client):
    login(client, "office")
    page = client.post(
        "/reports/plan?year=2025",
        data={"label": "专业能力培训班", "planned_classes": "56", "kind": "", "origin": ""},
        follow_redirects=True,
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "已添加计划项目：专业能力培训班" in html
    assert 'data-testid="plan-table"' in html and "56 期" in html
    bad = client.post("/reports/plan?year=2025", data={"label": "", "planned_classes": "abc"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请填写整数" in text and "请填写计划项目" in text
    kept = client.post("/reports/plan?year=2025", data={"label": "保留", "planned_classes": "x"})
    assert 'value="保留"' in kept.get_data(as_text=True)
    target_id = db.session.scalar(select(PlanTarget.id))
    done = client.post("/reports/plan?year=2025", data={"target_id": str(target_id), "delete": "1"})
    assert done.status_code == 302 and db.session.scalar(select(PlanTarget.id)) is None
    assert (
        client.post("/reports/plan", data={"target_id": "999999", "delete": "1"}).status_code == 404
    )
    assert client.get("/reports/plan?year=abc").status_code == 200
    assert client.get("/reports/plan?year=" + "9" * 5000).status_code == 200
    huge = {"target_id": "9" * 5000, "delete": "1"}
    assert client.post("/reports/plan", data=huge).status_code == 400
    login(client, "party_school_admin")
    assert client.get("/reports/plan").status_code == 403


def test_office_dashboard_shows_the_plan(demo, client):
    today = date.today()
    plan.add_target(
        user("office"), target(year=today.year, label="专业能力培训班", planned_classes=56)
    )
    db.session.commit()
    board = dashboard_for(user("office"), today)
    assert [r.target.label for r in board.plan] == ["专业能力培训班"]
    login(client, "office")
    assert 'data-testid="plan-progress"' in client.get("/dashboard").get_data(as_text=True)


def test_rotation_target_counts_each_cadre_once(year):
    """处级 cadres on the rosters of the classes held so far, each person once."""
    from portal.trainees.models import RosterEntry

    people = []
    for index in range(4):
        person = User(
            username=f"cadre{index}", display_name=f"干部{index}", role="trainee", password_hash="x"
        )
        db.session.add(person)
        people.append(person)
    db.session.flush()
    # c1 and c3 are held by 30 June; c9 (August) is not yet.
    for klass, person, rank in (
        (year["c1"], people[0], "县处级正职"),
        (year["c3"], people[0], "县处级正职"),  # the same person again: counted once
        (year["c3"], people[1], "县处级副职"),
        (year["c3"], people[2], "一级主任科员"),  # not 处级
        (year["c9"], people[3], "县处级正职"),  # later in the year
    ):
        db.session.add(
            RosterEntry(
                class_id=klass.id, user_id=person.id, name=person.display_name, phone="1", rank=rank
            )
        )
    plan.add_target(
        user("office"),
        target(label="处级领导干部轮训一遍", rank="处级", cadres=4, planned_classes=3),
    )
    db.session.commit()
    (row,) = plan.progress(2025, date(2025, 6, 30))
    assert (row.covered, row.coverage) == (2, 50)
    (row,) = plan.progress(2025, date(2025, 12, 31))
    assert row.covered == 3


def test_a_rank_needs_the_number_of_cadres(demo):
    with pytest.raises(ValidationFailed) as error:
        plan.add_target(user("office"), target(rank="处级"))
    assert "cadres" in error.value.errors
