"""The living demo's season and the planner's pages, as the office and an organizer see them."""

from __future__ import annotations

from sqlalchemy import select

from portal.demo import load_demo
from portal.extensions import db
from portal.planner.demo import DEMO_SEASON
from portal.planner.models import PlanRun, PlanSeason
from tests.conftest import login


def test_the_demo_season_has_requests_and_a_plan(app):
    load_demo(season=["trainees", "planner"])
    load_demo(season=["planner"])  # idempotent
    seasons = list(db.session.scalars(select(PlanSeason).where(PlanSeason.name == DEMO_SEASON)))
    assert len(seasons) == 1
    assert len(seasons[0].requests) == 11
    run = db.session.scalar(select(PlanRun).where(PlanRun.season_id == seasons[0].id))
    assert run is not None and run.status == "proposed"
    assert run.placed == 11, [(i.request.training_class.name, i.reason) for i in run.items]
    assert run.fcfs_placed == 10  # booked in submission order, the last class is left out

    client = app.test_client()
    login(client, "office")
    page = client.get(f"/planner/runs/{run.id}").get_data(as_text=True)
    assert "接受方案并逐一预约" in page
    assert "按周、按教学点查看" in page
    assert client.get(f"/planner/seasons/{seasons[0].id}").status_code == 200
    assert client.get("/planner").status_code == 200
    login(client, "organizer")
    page = client.get(f"/planner/seasons/{seasons[0].id}").get_data(as_text=True)
    assert "浙江省处级干部党性教育专题班" in page
    assert "运行规划" not in page
    assert client.get(f"/planner/runs/{run.id}").status_code == 403
    # The organizer changes a request: what was there is in the form; the class stays.
    request = seasons[0].requests[0]
    request_id, class_id, dates = request.id, request.class_id, request.dates
    page = client.get(f"/planner/requests/{request_id}").get_data(as_text=True)
    assert "撤回请求" in page and dates[0][0] in page
    answer = client.post(
        f"/planner/requests/{request_id}",
        data={
            "size": "44",
            "dates_text": f"{dates[0][0]} 4",
            "template_ids": [str(t) for t in request.template_ids],
            "days": "0",
            "squads_allowed": "y",
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    changed = db.session.get(type(request), request_id)
    assert (changed.size, changed.class_id, changed.dates) == (44, class_id, [[dates[0][0], 4]])
    assert client.post(f"/planner/requests/{request_id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(type(request), request_id).status == "withdrawn"


def test_forms_answer_in_chinese_and_keep_what_was_typed(app):
    load_demo()
    client = app.test_client()
    login(client, "office")
    assert client.get("/planner/seasons/new").status_code == 200
    answer = client.post(
        "/planner/seasons/new",
        data={
            "name": "秋季调训",
            "starts_on": "2099-13-45",
            "ends_on": "昨天",
            "time_limit": "abc",
        },
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "请填写有效的日期" in text and "请填写整数" in text
    assert 'value="秋季调训"' in text
    answer = client.post(
        "/planner/seasons/new",
        data={
            "name": "秋季调训",
            "starts_on": "2027-09-01",
            "ends_on": "2027-08-01",
            "time_limit": "30",
        },
    )
    assert "结束日期不能早于开始日期" in answer.get_data(as_text=True)
    answer = client.post(
        "/planner/seasons/new",
        data={
            "name": "秋季调训",
            "starts_on": "2027-09-01",
            "ends_on": "2027-11-30",
            "time_limit": "20",
        },
        follow_redirects=True,
    )
    assert "调训季已开启" in answer.get_data(as_text=True)
    season_id = db.session.scalar(select(PlanSeason.id).where(PlanSeason.name == "秋季调训"))
    login(client, "organizer")
    assert client.get(f"/planner/seasons/{season_id}/requests/new").status_code == 200
    answer = client.post(
        f"/planner/seasons/{season_id}/requests/new",
        data={
            "class_id": "abc",
            "size": "x",
            "dates_text": "2027-09-07 9\n\x00",
            "template_ids": ["1", "zz"],
            "days": "-1",
        },
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "请填写整数" in text and "包含无效字符" in text
    # Well-formed but wrong for its context: the service's words beside the fields.
    answer = client.post(
        f"/planner/seasons/{season_id}/requests/new",
        data={
            "class_id": "999999",
            "size": "30",
            "dates_text": "2027-12-07 3",
            "template_ids": ["999999"],
            "days": "0",
        },
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "请选择您的培训班" in text
    assert "不在调训季" in text
    assert "请至少选择一条可接受的线路" in text
    assert "2027-12-07 3" in text


def test_the_office_runs_the_planner_in_the_background_and_watches_it(app):
    """The run page says 规划中 with a progress bar and refreshes until the plan is there."""
    import time

    from portal.planner.models import PlanRun

    load_demo(season=["planner"])
    season_id = db.session.scalar(select(PlanSeason.id).where(PlanSeason.name == DEMO_SEASON))
    app.config["PLANNER_WORKERS"] = 1
    client = app.test_client()
    login(client, "office")
    answer = client.post(f"/planner/seasons/{season_id}/run", data={"time_limit": "0"})
    assert answer.status_code == 302
    assert "/planner/seasons/" in answer.headers["Location"]  # refused: 1–600 seconds
    answer = client.post(f"/planner/seasons/{season_id}/run", data={"time_limit": "3"})
    run_url = answer.headers["Location"]
    run_id = int(run_url.rsplit("/", 1)[1])
    first = client.get(run_url).get_data(as_text=True)
    assert "规划中" in first or "接受方案并逐一预约" in first
    for _ in range(100):
        db.session.expire_all()
        if db.session.get(PlanRun, run_id).status != "running":
            break
        time.sleep(0.2)
    run = db.session.get(PlanRun, run_id)
    assert run.status == "proposed", run.message
    page = client.get(run_url).get_data(as_text=True)
    assert "接受方案并逐一预约" in page
    assert 'http-equiv="refresh"' not in page


def test_a_running_run_shows_its_progress_and_a_lost_one_says_so(app):
    from datetime import timedelta

    from portal.planner import services
    from portal.planner.models import PlanRun
    from tests.scheduling.helpers import user

    load_demo(season=["planner"])
    season = db.session.scalar(select(PlanSeason).where(PlanSeason.name == DEMO_SEASON))
    run = services.start_run(season, user("office"), time_limit=20)
    run_id = run.id
    client = app.test_client()
    login(client, "office")
    page = client.get(f"/planner/runs/{run_id}").get_data(as_text=True)
    assert "规划中" in page and "<progress" in page and 'http-equiv="refresh"' in page
    assert "接受方案并逐一预约" not in page
    # Only one run of a season at a time …
    try:
        services.start_run(season, user("office"), time_limit=20)
        raise AssertionError("two runs at once")
    except services.ServiceError as refused:
        assert "正在规划中" in refused.message
    # … unless it was lost (its process ended): then the page says so and a new one may start.
    lost = db.session.get(PlanRun, run_id)
    lost.created_at = lost.created_at - timedelta(hours=1)
    db.session.commit()
    page = client.get(f"/planner/runs/{run_id}").get_data(as_text=True)
    assert "没有完成" in page and 'http-equiv="refresh"' not in page
    assert services.start_run(season, user("office"), time_limit=20).id != run_id
    db.session.rollback()
