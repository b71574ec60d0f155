"""Contests: criteria and weights, judges and their scores, ranking, publishing, winners."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.catalog.models import CatalogChange
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.events.contests import (
    appoint_judge,
    judge_sheet,
    publish_results,
    record_scores,
    remove_judge,
    results,
    results_visible,
    score_field,
    set_criteria,
    set_top_winners,
    set_winners,
    submit_entry,
    withdraw_entry,
)
from portal.events.models import ContestScore
from portal.extensions import db
from tests.conftest import login
from tests.events.builders import (
    appoint,
    courses_of,
    end_contest,
    enter_course,
    first_site,
    future_day,
    make_contest,
    member,
    score,
    site,
    text_of,
    user,
)

pytestmark = pytest.mark.db


# ---------------------------------------------------------------- criteria


def test_weights_must_sum_to_100(demo):
    event = make_contest(criteria=None)
    office = user("office")
    with pytest.raises(ValidationFailed) as refused:
        set_criteria(event, office, [("内容", 40), ("表达", 30)])
    assert "100" in refused.value.errors["criteria"] and "70" in refused.value.errors["criteria"]
    db.session.rollback()
    saved = set_criteria(event, office, [("内容", 40), ("", ""), ("表达", "30"), ("效果", 30)])
    db.session.commit()
    assert [(c.name, c.weight, c.position) for c in saved] == [
        ("内容", 40, 1),
        ("表达", 30, 2),
        ("效果", 30, 3),
    ]


@pytest.mark.parametrize(
    ("rows", "key"),
    [
        ([("内容", 0), ("表达", 100)], "criteria-0-weight"),
        ([("内容", 101)], "criteria-0-weight"),
        ([("内容", "abc"), ("表达", 50)], "criteria-0-weight"),
        ([("内容", "1e2")], "criteria-0-weight"),
        ([("内容", 50), ("内容", 50)], "criteria-1-name"),
        ([("", 50), ("表达", 50)], "criteria-0-name"),
        ([("x" * 65, 100)], "criteria-0-name"),
        ([], "criteria"),
    ],
)
def test_bad_criteria_are_refused_by_field(demo, rows, key):
    event = make_contest(criteria=None)
    with pytest.raises(ValidationFailed) as refused:
        set_criteria(event, user("office"), rows)
    assert key in refused.value.errors


def test_criteria_are_frozen_once_scoring_started(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    score(entry, "tengchong_college_staff", 90, 80, 70)
    with pytest.raises(ServiceError, match="评分标准不能再修改"):
        set_criteria(event, user("office"), [("内容", 100)])


def test_only_the_office_sets_criteria(demo, client):
    event = make_contest(criteria=None)
    with pytest.raises(PermissionDenied):
        set_criteria(event, user("party_school_admin"), [("内容", 100)])
    login(client, "party_school_admin")
    response = client.post(
        f"/events/{event.id}/criteria",
        data={"criteria-0-name": "内容", "criteria-0-weight": "100"},
    )
    assert response.status_code == 403
    login(client, "office")
    response = client.post(
        f"/events/{event.id}/criteria",
        data={"criteria-0-name": "内容", "criteria-0-weight": "60", "criteria-1-name": "表达"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "第 2 项的权重须为 1 到 100 之间的整数" in page
    response = client.post(
        f"/events/{event.id}/criteria",
        data={
            "criteria-0-name": "内容",
            "criteria-0-weight": "60",
            "criteria-1-name": "表达",
            "criteria-1-weight": "30",
        },
    )
    assert response.status_code == 400
    assert "各项权重之和须为 100，现为 90" in response.get_data(as_text=True)
    response = client.post(
        f"/events/{event.id}/criteria",
        data={
            "criteria-0-name": "内容",
            "criteria-0-weight": "60",
            "criteria-1-name": "表达",
            "criteria-1-weight": "40",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [(c.name, c.weight) for c in event.criteria] == [("内容", 60), ("表达", 40)]


# ---------------------------------------------------------------- judges


def test_judges_are_member_staff_appointed_by_the_office(demo):
    event = make_contest()
    office = user("office")
    for username in ("office", "organizer", "trainee"):
        with pytest.raises(ValidationFailed):
            appoint_judge(event, office, user(username).id)
    with pytest.raises(ValidationFailed):
        appoint_judge(event, office, 999999)
    with pytest.raises(PermissionDenied):
        appoint_judge(event, user("party_school_admin"), user("tengchong_college_staff").id)
    appoint(event, "tengchong_college_staff")
    with pytest.raises(ValidationFailed, match="已是本次大赛的评委"):
        appoint_judge(event, office, user("tengchong_college_staff").id)
    # The judge is told.
    from portal.notifications.services import inbox

    assert any("评委聘请" in m.subject for m in inbox(user("tengchong_college_staff")))


def test_a_judge_who_scored_cannot_be_withdrawn(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appointment = appoint(event, "tengchong_college_staff")
    idle = appoint(event, "songshan_base_staff")
    score(entry, "tengchong_college_staff", 90, 80, 70)
    with pytest.raises(ServiceError, match="不能撤销"):
        remove_judge(appointment, user("office"))
    remove_judge(idle, user("office"))
    db.session.commit()
    assert [j.user.username for j in event.judges] == ["tengchong_college_staff"]


# ---------------------------------------------------------------- scores


def test_weighted_total_of_a_sheet(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    appoint(event, "songshan_base_staff")
    # 90 × 40% + 80 × 30% + 70 × 30% = 36 + 24 + 21 = 81
    assert score(entry, "tengchong_college_staff", 90, 80, 70) == Decimal("81.00")
    # 85.5 × 40% + 90 × 30% + 100 × 30% = 34.2 + 27 + 30 = 91.2
    assert score(entry, "songshan_base_staff", "85.5", 90, 100) == Decimal("91.20")
    rows = results(event)
    assert rows[0].total == Decimal("86.10")  # (81 + 91.2) / 2
    assert rows[0].judges == 2
    criteria = event.criteria
    assert rows[0].averages[criteria[0].id] == Decimal("87.75")
    # Scoring again replaces the judge's earlier sheet.
    assert score(entry, "tengchong_college_staff", 100, 100, 100) == Decimal("100.00")
    assert results(event)[0].total == Decimal("95.60")
    assert db.session.query(ContestScore).count() == 6


@pytest.mark.parametrize(
    "bad", [101, -1, "abc", "nan", "inf", "1e400", "85.55", "", None, True, float("nan")]
)
def test_scores_must_be_0_to_100(demo, bad):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    criteria = event.criteria
    with pytest.raises(ValidationFailed) as refused:
        record_scores(
            entry,
            user("tengchong_college_staff"),
            {criteria[0].id: bad, criteria[1].id: 80, criteria[2].id: 70},
        )
    assert list(refused.value.errors) == [score_field(criteria[0])]
    assert db.session.query(ContestScore).count() == 0


def test_every_criterion_must_be_scored(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    with pytest.raises(ValidationFailed) as refused:
        record_scores(entry, user("tengchong_college_staff"), {event.criteria[0].id: 90})
    assert len(refused.value.errors) == 2


def test_limits_of_the_scale_are_accepted(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    assert score(entry, "tengchong_college_staff", 0, 0, 0) == Decimal("0.00")
    assert score(entry, "tengchong_college_staff", 100, "100.0", 100) == Decimal("100.00")


def test_a_judge_cannot_score_an_entry_of_their_own_member(demo, client):
    event = make_contest()
    own = enter_course(event, "party_school")
    other = enter_course(event, "tengchong_college")
    appoint(event, "party_school_staff")
    judge = user("party_school_staff")
    values = {c.id: 90 for c in event.criteria}
    with pytest.raises(PermissionDenied, match="回避"):
        record_scores(own, judge, values)
    record_scores(other, judge, values)
    db.session.commit()
    sheet = {row.entry.id: row.scoreable for row in judge_sheet(event, judge)}
    assert sheet == {own.id: False, other.id: True}

    login(client, "party_school_staff")
    page = client.get(f"/events/{event.id}/judging").get_data(as_text=True)
    assert f'data-entry="{own.id}" data-scoreable="no"' in page
    assert f"/events/entries/{own.id}/score" not in page
    assert f"/events/entries/{other.id}/score" in page
    assert "本单位项目，回避" in page
    response = client.get(f"/events/entries/{own.id}/score")
    assert response.status_code == 403
    assert "评委不能为本单位的参赛项目评分" in response.get_data(as_text=True)
    form = {score_field(c): "95" for c in event.criteria}
    response = client.post(f"/events/entries/{own.id}/score", data=form)
    assert response.status_code == 403
    assert not [s for s in own.scores]


def test_only_appointed_judges_score(demo, client):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    values = {c.id: 90 for c in event.criteria}
    for username in ("songshan_base_staff", "office", "organizer"):
        with pytest.raises(PermissionDenied, match="只有本次大赛的评委可以评分"):
            record_scores(entry, user(username), values)
    form = {score_field(c): "90" for c in event.criteria}
    for username in ("songshan_base_staff", "office"):
        login(client, username)
        assert client.post(f"/events/entries/{entry.id}/score", data=form).status_code == 403
        assert client.get(f"/events/{event.id}/judging").status_code == 403
    client.post("/logout")
    assert client.post(f"/events/entries/{entry.id}/score", data=form).status_code == 302
    assert db.session.query(ContestScore).count() == 0

    login(client, "tengchong_college_staff")
    response = client.post(f"/events/entries/{entry.id}/score", data=form)
    assert response.status_code == 302
    assert db.session.query(ContestScore).count() == 3
    bad = dict(form, **{score_field(event.criteria[0]): "120"})
    response = client.post(f"/events/entries/{entry.id}/score", data=bad)
    assert response.status_code == 400
    assert "分数须为 0 到 100 之间的数" in response.get_data(as_text=True)


def test_scoring_closes_when_results_are_published(demo):
    event = make_contest()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    score(entry, "tengchong_college_staff", 90, 80, 70)
    end_contest(event)
    publish_results(event, user("office"))
    db.session.commit()
    with pytest.raises(ServiceError, match="成绩已公布"):
        record_scores(entry, user("tengchong_college_staff"), {c.id: 50 for c in event.criteria})


# ---------------------------------------------------------------- ranking and results


def test_ranking_with_ties(demo):
    event = make_contest()
    a = enter_course(event, "party_school")
    b = enter_course(event, "tengchong_college")
    c = enter_course(event, "songshan_base")
    d = enter_course(event, "yangshanzhou_college")
    appoint(event, "yangshanzhou_college_staff")
    appoint(event, "party_school_staff")
    score(a, "yangshanzhou_college_staff", 80, 80, 80)  # 80
    score(b, "yangshanzhou_college_staff", 90, 75, 70)  # 36 + 22.5 + 21 = 79.5
    score(b, "party_school_staff", 80, 85, 85)  # 32 + 25.5 + 25.5 = 83 → (79.5 + 83) / 2 = 81.25
    score(c, "yangshanzhou_college_staff", 90, 75, 70)  # 79.5
    score(c, "party_school_staff", 80, 85, 85)  # 83 → 81.25: a tie with b
    rows = results(event)
    assert [(r.entry.id, r.total, r.rank) for r in rows] == [
        (b.id, Decimal("81.25"), 1),
        (c.id, Decimal("81.25"), 1),
        (a.id, Decimal("80.00"), 3),
        (d.id, None, None),
    ]


def test_results_are_hidden_until_published(demo, client):
    event = make_contest(title="2026年环线课程评比大赛")
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    score(entry, "tengchong_college_staff", 90, 80, 70)
    label = entry.label
    for username in (None, "party_school_staff", "tengchong_college_staff", "organizer"):
        if username:
            login(client, username)
        else:
            client.post("/logout")
        page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
        assert "评比结果尚未公布" in page
        assert "81.00" not in page and label not in text_of(page).split("评比结果尚未公布")[1]
        assert client.get(f"/events/{event.id}/results.xlsx").status_code == 404
        assert not results_visible(event, user(username) if username else None)
    login(client, "office")
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    assert "81.00" in page and "尚未公布" in page
    # Only the office publishes.
    login(client, "party_school_admin")
    assert client.post(f"/events/{event.id}/results/publish").status_code == 403
    login(client, "office")
    end_contest(event)
    # The confirmation step: without it nothing is published.
    page = client.post(f"/events/{event.id}/results/publish", follow_redirects=True)
    assert "请勾选确认" in page.get_data(as_text=True)
    db.session.expire_all()
    assert event.results_published_at is None
    answer = client.post(f"/events/{event.id}/results/publish", data={"confirm": "yes"})
    assert answer.status_code == 302
    client.post("/logout")
    page = client.get(f"/events/{event.id}/results").get_data(as_text=True)
    assert "81.00" in page and label in page
    assert client.get(f"/events/{event.id}/results.xlsx").status_code == 200
    from portal.notifications.services import inbox

    assert any("成绩公布" in m.subject for m in inbox(user("party_school_staff")))


def test_results_cannot_be_published_without_scores(demo):
    event = make_contest()
    enter_course(event, "party_school")
    end_contest(event)
    with pytest.raises(ServiceError, match="还没有任何完整的评分"):
        publish_results(event, user("office"))


# ---------------------------------------------------------------- winners and the 精品课程 mark


def test_winning_courses_get_the_excellent_mark(demo, client):
    event = make_contest(title="课程评比大赛")
    first = enter_course(event, "party_school")
    second = enter_course(event, "tengchong_college")
    already = next(c for c in courses_of("songshan_base") if c.excellent)
    third = enter_course(event, "songshan_base", already)
    appoint(event, "yangshanzhou_college_staff")
    score(first, "yangshanzhou_college_staff", 95, 95, 95)
    score(second, "yangshanzhou_college_staff", 60, 60, 60)
    score(third, "yangshanzhou_college_staff", 90, 90, 90)
    assert not first.course.excellent and not second.course.excellent

    # Members cannot name winners.
    login(client, "party_school_admin")
    assert client.post(f"/events/{event.id}/winners", data={"top": "1"}).status_code == 403
    assert not first.course.excellent

    winners = set_top_winners(event, user("office"), 2)
    db.session.commit()
    assert {w.id for w in winners} == {first.id, third.id}
    assert first.course.excellent and third.course.excellent and not second.course.excellent
    change = db.session.scalar(
        select(CatalogChange).where(
            CatalogChange.item_type == "course",
            CatalogChange.item_id == first.course.id,
            CatalogChange.action == "excellent",
        )
    )
    assert change is not None and "课程评比大赛" in change.reason
    page = client.get(f"/courses/{first.course.id}").get_data(as_text=True)
    assert "精品课程" in page

    # Choosing the winners by hand: the award taken back takes back the mark the contest
    # gave, never one the course had before.
    login(client, "office")
    response = client.post(f"/events/{event.id}/winners", data={"entry_ids": [str(second.id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert second.winner and second.course.excellent
    assert not first.winner and not first.course.excellent
    assert not third.winner and third.course.excellent


def test_winners_come_from_scored_entries_of_the_contest(demo):
    event = make_contest()
    scored = enter_course(event, "party_school")
    unscored = enter_course(event, "tengchong_college")
    other = make_contest(title="另一场")
    stranger = enter_course(other, "songshan_base")
    appoint(event, "yangshanzhou_college_staff")
    score(scored, "yangshanzhou_college_staff", 90, 90, 90)
    office = user("office")
    with pytest.raises(ValidationFailed, match="已评分"):
        set_winners(event, office, [unscored.id])
    with pytest.raises(ValidationFailed, match="不属于本次大赛"):
        set_winners(event, office, [stranger.id])
    with pytest.raises(ValidationFailed):
        set_top_winners(event, office, "abc")
    with pytest.raises(ValidationFailed):
        set_top_winners(event, office, 0)


# ---------------------------------------------------------------- entries


def test_guide_contest_entries_are_a_guide_at_one_of_the_members_sites(demo, client):
    event = make_contest("guide_contest", title="环线讲解员大赛")
    staff = user("songshan_base_staff")
    own_site = site("battlefield")
    with pytest.raises(ValidationFailed) as refused:
        submit_entry(
            event.id, staff, {"guide_name": "李晓梅", "site_id": first_site("party_school").id}
        )
    assert "site_id" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        submit_entry(event.id, staff, {"guide_name": " ", "site_id": own_site.id})
    assert "guide_name" in refused.value.errors
    entry = submit_entry(event.id, staff, {"guide_name": "李晓梅", "site_id": own_site.id})
    db.session.commit()
    assert entry.member_id == member("songshan_base").id
    assert entry.label == "李晓梅（松山战役遗址）"
    with pytest.raises(ValidationFailed, match="已报送该讲解员"):
        submit_entry(event.id, staff, {"guide_name": "李晓梅", "site_id": own_site.id})

    login(client, "tengchong_college_staff")
    sites = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "报送讲解员" in sites and "李晓梅" not in sites  # another member's entry
    response = client.post(
        f"/events/{event.id}/entries",
        data={
            "entry-guide_name": "张讲解",
            "entry-site_id": str(first_site("tengchong_college").id),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "张讲解" in page
    response = client.post(
        f"/events/{event.id}/entries",
        data={"entry-guide_name": "王讲解", "entry-site_id": str(own_site.id)},
    )
    assert response.status_code == 400
    assert "请选择本单位的教学点" in response.get_data(as_text=True)


def test_course_contest_entries_are_the_members_own_courses(demo):
    event = make_contest()
    staff = user("party_school_staff")
    foreign = courses_of("tengchong_college")[0]
    with pytest.raises(ValidationFailed, match="本单位的课程"):
        submit_entry(event.id, staff, {"course_id": foreign.id})
    for bad in ("abc", None, -1, 2**40):
        with pytest.raises(ValidationFailed):
            submit_entry(event.id, staff, {"course_id": bad})
    entry = enter_course(event, "party_school")
    with pytest.raises(ValidationFailed, match="已报送"):
        submit_entry(event.id, staff, {"course_id": entry.course_id})


def test_only_invited_members_enter(demo, client):
    event = make_contest(open_to_all=False, invited=("party_school", "tengchong_college"))
    with pytest.raises(PermissionDenied, match="邀请范围"):
        enter_course(event, "songshan_base")
    with pytest.raises(PermissionDenied):
        submit_entry(event.id, user("organizer"), {"course_id": 1})
    login(client, "songshan_base_staff")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'name="entry-course_id"' not in page
    course = courses_of("songshan_base")[0]
    response = client.post(f"/events/{event.id}/entries", data={"entry-course_id": str(course.id)})
    assert response.status_code == 403
    enter_course(event, "party_school")


def test_entries_close_with_the_deadline_and_the_results(demo):
    event = make_contest(deadline=future_day(-1))
    with pytest.raises(ServiceError, match="截止"):
        enter_course(event, "party_school")
    event.registration_deadline = future_day(10)
    db.session.commit()
    entry = enter_course(event, "party_school")
    appoint(event, "tengchong_college_staff")
    score(entry, "tengchong_college_staff", 90, 90, 90)
    with pytest.raises(ServiceError, match="不能撤回"):
        withdraw_entry(entry, user("party_school_staff"))
    with pytest.raises(ServiceError, match="报送截止日期"):
        publish_results(event, user("office"))
    db.session.rollback()
    end_contest(event)
    publish_results(event, user("office"))
    db.session.commit()
    with pytest.raises(ServiceError, match="成绩已公布"):
        enter_course(event, "tengchong_college")


def test_a_member_withdraws_its_own_unscored_entry(demo, client):
    event = make_contest()
    entry = enter_course(event, "party_school")
    login(client, "tengchong_college_staff")
    assert client.post(f"/events/entries/{entry.id}/withdraw").status_code == 404
    login(client, "party_school_staff")
    assert client.post(f"/events/entries/{entry.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert event.entries == []
