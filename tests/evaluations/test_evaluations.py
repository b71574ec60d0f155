"""Evaluations: once per stop, only after it ends, anonymous aggregates, the ≥N threshold."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.demo import load_demo
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.evaluations import services
from portal.evaluations.demo import FINISHED_CLASS
from portal.evaluations.models import Evaluation, EvaluationAlert
from portal.extensions import db
from portal.notifications.models import Message
from portal.scheduling.models import TrainingClass
from portal.scheduling.settings import set_setting
from portal.timeutil import LOCAL_TZ
from portal.trainees.demo import DEMO_CLASS
from portal.trainees.models import RosterEntry
from tests.conftest import fresh_database_url, login, make_test_app
from tests.scheduling.helpers import user


def klass(name: str = FINISHED_CLASS) -> TrainingClass:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == name))


def entry_of(training_class: TrainingClass, username: str = "trainee") -> RosterEntry:
    return db.session.scalar(
        select(RosterEntry).where(
            RosterEntry.class_id == training_class.id, RosterEntry.user_id == user(username).id
        )
    )


def full_scores(reservation_id: int, value: int = 4) -> dict[int, int]:
    from portal.scheduling.models import Reservation

    reservation = db.session.get(Reservation, reservation_id)
    return {c.id: value for t in services.targets_of(reservation) for c in services.criteria(t)}


def test_the_demo_trainee_has_one_stop_left_and_answers_it_once(eval_demo, client):
    training_class = klass()
    login(client, "trainee")
    page = client.get(f"/evaluations/classes/{training_class.id}/mine").get_data(as_text=True)
    assert page.count("已评价") >= 2 and "去评价" in page
    open_stop = [
        i
        for i in services.answerable_stops(training_class, entry_of(training_class))
        if not i.answered
    ][0]
    url = f"/evaluations/stops/{open_stop.reservation_id}"
    form = client.get(url)
    assert form.status_code == 200 and "提交评价" in form.get_data(as_text=True)
    # A missing score: answered in Chinese, what was typed stays, nothing stored.
    data = {f"c{cid}": str(v) for cid, v in full_scores(open_stop.reservation_id).items()}
    partial = dict(data)
    partial.pop(next(iter(partial)))
    bad = client.post(url, data={**partial, "comment": "留着的意见"})
    assert bad.status_code == 400
    assert "打 1 到 5 分" in bad.get_data(as_text=True)
    assert "留着的意见" in bad.get_data(as_text=True)
    out_of_range = client.post(url, data={**data, next(iter(data)): "9"})
    assert out_of_range.status_code == 400
    ok = client.post(url, data={**data, "comment": "很好"}, follow_redirects=True)
    assert "感谢您的评价" in ok.get_data(as_text=True)
    again = client.post(url, data=data, follow_redirects=True)
    assert "只能评价一次" in again.get_data(as_text=True)
    count = db.session.scalar(
        select(func.count()).where(
            Evaluation.reservation_id == open_stop.reservation_id,
            Evaluation.entry_id == entry_of(training_class).id,
        )
    )
    assert count == 1


def test_a_stop_that_has_not_ended_cannot_be_evaluated(eval_demo):
    current = klass(DEMO_CLASS)
    entry = entry_of(current)
    items = services.answerable_stops(current, entry)
    upcoming = [i for i in items if not i.ended][0]
    with pytest.raises(ServiceError, match="结束后"):
        services.submit(entry, upcoming.reservation_id, full_scores(upcoming.reservation_id))
    # One second after it ends it can.
    later = upcoming.stop.ends + timedelta(seconds=1)
    services.submit(entry, upcoming.reservation_id, full_scores(upcoming.reservation_id), now=later)
    # Another class's stop is not the trainee's: not found.
    finished = klass()
    other = services.answerable_stops(finished, entry_of(finished))[0]
    with pytest.raises(NotFound):
        services.submit(entry, other.reservation_id, {}, now=later)


def test_comments_and_scores_are_checked(eval_demo):
    training_class = klass()
    entry = entry_of(training_class)
    item = [i for i in services.answerable_stops(training_class, entry) if not i.answered][0]
    scores = full_scores(item.reservation_id)
    with pytest.raises(ValidationFailed) as raised:
        services.submit(entry, item.reservation_id, {**scores, next(iter(scores)): "x"})
    assert len(raised.value.errors) == 1
    with pytest.raises(ValidationFailed):
        services.submit(entry, item.reservation_id, scores, comment="长" * 1001)


def test_averages_show_on_catalogue_pages_from_the_threshold(eval_demo, client):
    from portal.catalog.models import TeachingSite

    training_class = klass()
    first = services.answerable_stops(training_class, entry_of(training_class))[0]
    site_id = first.stop and db.session.scalar(
        select(Evaluation.site_id).where(Evaluation.reservation_id == first.reservation_id)
    )
    count = services.item_summary("site", site_id).count
    assert count >= 5
    page = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert "学员评价：平均" in page
    set_setting("evaluation_min_answers", count + 1, user("office"))
    db.session.commit()
    assert services.public_summary("site", site_id) is None
    assert "学员评价：平均" not in client.get(f"/sites/{site_id}").get_data(as_text=True)
    set_setting("evaluation_min_answers", count, user("office"))
    db.session.commit()
    assert services.public_summary("site", site_id).count == count
    assert db.session.get(TeachingSite, site_id) is not None
    # The office's yearly assessment shows every answer's average as one of its inputs.
    login(client, "office")
    page = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert "学员评价（考核参考）" in page
    from portal.evaluations.services import year_summary
    from portal.timeutil import utcnow

    this_year = year_summary("site", site_id, utcnow().astimezone(LOCAL_TZ).year)
    assessed = client.get(f"/directory/sites/{site_id}/assess").get_data(as_text=True)
    assert f"{this_year.count} 份，平均 {this_year.average_text}" in assessed
    assert year_summary("site", site_id, 2000).count == 0


def test_a_low_average_alerts_the_member_once(eval_demo):
    training_class = klass()
    set_setting("evaluation_min_answers", 1, user("office"))
    set_setting("evaluation_alert_below", 5, user("office"))  # every demo average is below 5
    entry = entry_of(training_class)
    item = [i for i in services.answerable_stops(training_class, entry) if not i.answered][0]
    before = db.session.scalar(select(func.count()).select_from(Message))
    evaluation = services.submit(entry, item.reservation_id, full_scores(item.reservation_id, 1))
    db.session.commit()
    alerts = db.session.scalars(select(EvaluationAlert)).all()
    assert {a.target for a in alerts} >= {"site"}
    told = db.session.scalars(select(Message).order_by(Message.id).offset(before)).all()
    assert told and all("评估预警" in m.subject for m in told)
    from portal.auth.models import User
    from portal.catalog.models import TeachingSite

    member_id = db.session.get(TeachingSite, evaluation.site_id).member_id
    recipients = {db.session.get(User, m.user_id) for m in told}
    assert any(u.member_id == member_id for u in recipients)
    assert all(u.role in ("member_admin", "member_staff") for u in recipients)
    # Still low after another check: no second alert while it stays low.
    count = db.session.scalar(select(func.count()).select_from(Message))
    services.check_alerts(evaluation)
    assert db.session.scalar(select(func.count()).select_from(Message)) == count
    # Back above the line: the alert is cleared, so a later fall is told again.
    set_setting("evaluation_alert_below", 1, user("office"))
    services.check_alerts(evaluation)
    assert db.session.scalar(select(func.count()).select_from(EvaluationAlert)) == 0


def test_aggregates_never_name_the_trainee(eval_demo, client):
    training_class = klass()
    login(client, "organizer")
    page = client.get(f"/evaluations/classes/{training_class.id}").get_data(as_text=True)
    assert "平均" in page
    for name in ("王建国", "刘晓燕", "李学员"):
        assert name not in page
    login(client, "party_school_staff")
    overview = client.get("/evaluations/").get_data(as_text=True)
    assert "王建国" not in overview and "学员意见" not in overview
    # Below the threshold a member sees counts, not averages.
    from portal.members.models import Member

    member = db.session.get(Member, db.session.scalar(select(Evaluation.member_id).limit(1)))
    set_setting("evaluation_min_answers", 100, user("office"))
    db.session.commit()
    login(client, f"{member.key}_staff")
    few = client.get("/evaluations/").get_data(as_text=True)
    assert "不足 100 份" in few and "以免推知个人的评分" in few
    login(client, "office")
    office = client.get("/evaluations/").get_data(as_text=True)
    assert "学员意见（匿名）" in office and "王建国" not in office


def test_the_office_keeps_the_criteria(eval_demo, client):
    login(client, "office")
    page = client.get("/evaluations/criteria").get_data(as_text=True)
    assert "教学内容针对性" in page
    empty = client.post("/evaluations/criteria", data={"course": "", "teacher": "a", "site": "b"})
    assert empty.status_code == 400 and "至少填写一项" in empty.get_data(as_text=True)
    ok = client.post(
        "/evaluations/criteria",
        data={"course": "教学内容针对性\n新指标", "teacher": "互动与答疑", "site": "后勤保障"},
        follow_redirects=True,
    )
    assert "评估指标已保存" in ok.get_data(as_text=True)
    labels = [c.label for c in services.criteria("course")]
    assert labels == ["教学内容针对性", "新指标"]
    with pytest.raises(PermissionDenied):
        services.save_criteria(user("organizer"), {"course": "x", "teacher": "y", "site": "z"})


# ---------------------------------------------------------------- concurrency

ATTEMPTS = 8


@pytest.fixture
def concurrent_app(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(
            url, str(tmp_path), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20}
        )
        with app.app_context():
            db.create_all()
            load_demo(season=["trainees", "evaluations"])
            db.session.remove()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.mark.db
def test_concurrent_submits_give_one_evaluation(concurrent_app):
    with concurrent_app.app_context():
        training_class = klass()
        entry = entry_of(training_class)
        item = [i for i in services.answerable_stops(training_class, entry) if not i.answered][0]
        entry_id, reservation_id = entry.id, item.reservation_id
        scores = full_scores(reservation_id)
        db.session.remove()

    def attempt(_n: int) -> str:
        with concurrent_app.app_context():
            try:
                services.submit(db.session.get(RosterEntry, entry_id), reservation_id, scores)
                db.session.commit()
                return "ok"
            except ServiceError:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        results = list(pool.map(attempt, range(ATTEMPTS)))
    assert results.count("ok") == 1, results
    assert results.count("refused") == ATTEMPTS - 1
    with concurrent_app.app_context():
        stored = db.session.scalar(
            select(func.count()).where(
                Evaluation.entry_id == entry_id, Evaluation.reservation_id == reservation_id
            )
        )
        assert stored == 1
