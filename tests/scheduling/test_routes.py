"""Route templates (精品环线): public browsing, the office's editor and publishing, settings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.catalog.models import Course, TeachingSite
from portal.errors import PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.scheduling import route_services
from portal.scheduling.models import RouteStop, RouteTemplate, Setting
from portal.scheduling.settings import DEFAULT_SETTINGS, all_settings, setting
from tests.conftest import login

pytestmark = pytest.mark.db

TEMPLATE_FORM = {
    "name": "新环线",
    "theme": "抗战历史",
    "days": "3",
    "description": "一条新的环线。",
    "class_kinds": ["main", "commissioned"],
}


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def course(key: str) -> Course:
    return db.session.scalar(select(Course).where(Course.key == key))


def template_named(name: str) -> RouteTemplate | None:
    db.session.expire_all()
    return db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == name))


def stop_count(template: RouteTemplate | None = None) -> int:
    query = select(func.count()).select_from(RouteStop)
    if template is not None:
        query = query.where(RouteStop.template_id == template.id)
    return db.session.scalar(query)


def course_stop(day: int = 1, at: str = "09:00", minutes: int = 90, **extra) -> dict:
    return {
        "day": str(day),
        "starts": at,
        "minutes": str(minutes),
        "kind": "course",
        "site_id": str(site("dianxi_memorial").id),
        "course_id": str(course("memorial_onsite").id),
        "title": "",
        "note": "",
        **extra,
    }


def new_template(client, **extra) -> RouteTemplate:
    login(client, "office")
    response = client.post("/routes/new", data={**TEMPLATE_FORM, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    template = template_named(extra.get("name", TEMPLATE_FORM["name"]))
    assert response.headers["Location"].endswith(f"/routes/{template.id}/stops")
    return template


def add(client, template: RouteTemplate, **values):
    return client.post(f"/routes/{template.id}/stops", data=values)


def draft(client) -> RouteTemplate:
    """A draft the office made: no stops yet."""
    template = new_template(client)
    client.post("/logout")
    return template


# ---------------------------------------------------------------- public browsing


def test_anyone_browses_the_published_routes(demo, client):
    page = client.get("/routes").get_data(as_text=True)
    for name in ("杨善洲精神一日环线", "滇西抗战精神三日环线", "三点一线五日精品环线"):
        assert name in page
    assert "新建线路" not in page and "草稿" not in page
    # Cards: theme, days, kinds allowed, number of stops, members whose sites it visits.
    assert "12 个站点" in page and "3 天" in page
    assert "主体班、委托班、临时班" in page
    assert "腾冲干部学院" in page and "松山基地" in page and "杨善洲干部学院" in page

    only_three = client.get("/routes?days=3").get_data(as_text=True)
    assert "滇西抗战精神三日环线" in only_three and "杨善洲精神一日环线" not in only_three
    themed = client.get("/routes?theme=党性教育")
    assert themed.status_code == 200 and "三点一线五日精品环线" in themed.get_data(as_text=True)
    none = client.get("/routes?theme=乡村振兴&days=7")
    assert none.status_code == 200 and "没有符合条件的线路。" in none.get_data(as_text=True)


def test_itinerary_day_by_day(demo, client):
    template = template_named("滇西抗战精神三日环线")
    page = client.get(f"/routes/{template.id}").get_data(as_text=True)
    for text in ("第1天", "第2天", "第3天", "时间", "安排", "地点", "类型", "授课"):
        assert text in page
    assert "第4天" not in page
    day1, rest = page.split('id="day-1"', 1)[1].split('id="day-2"', 1)
    day2, day3 = rest.split('id="day-3"', 1)
    assert "党的创新理论专题辅导" in day1 and "乘车前往腾冲" in day1 and "国殇墓园" not in day1
    assert "国殇墓园" in day2 and "和顺图书馆" in day2 and "松山" not in day2
    assert "乘车前往龙陵松山" in day3 and "松山战役纪念馆" in day3
    assert "09:00–12:00" in page and "14:00–16:30" in page
    for label in ("课程", "现场参观", "用餐", "交通"):
        assert f">{label}</span>" in page
    assert "张红" in page and "李晓梅、王德胜" in page
    # The plain list of sites, linked to their pages, and the hours of the courses.
    assert "站点一览" in page
    assert f'href="/sites/{site("battle_museum").id}"' in page
    assert page.count(f'href="/sites/{site("guoshang_cemetery").id}"') == 2
    assert "合计：11 学时" in page


def test_booking_button_only_when_the_bookings_page_exists(demo, client, app):
    template = template_named("杨善洲精神一日环线")
    if "bookings.new" not in app.view_functions:
        page = client.get(f"/routes/{template.id}").get_data(as_text=True)
        assert "预约此线路" not in page
        app.add_url_rule(
            "/test-bookings/new", endpoint="bookings.new", view_func=lambda: "booking form"
        )
    page = client.get(f"/routes/{template.id}").get_data(as_text=True)
    assert "预约此线路" in page and f"template_id={template.id}" in page


def test_drafts_are_hidden_except_from_the_office(demo, client):
    template = draft(client)
    assert client.get(f"/routes/{template.id}").status_code == 404
    assert "新环线" not in client.get("/routes").get_data(as_text=True)
    for username in ("organizer", "trainee", "party_school_admin"):
        login(client, username)
        assert client.get(f"/routes/{template.id}").status_code == 404, username
        assert "新环线" not in client.get("/routes").get_data(as_text=True)
    login(client, "office")
    page = client.get(f"/routes/{template.id}")
    assert page.status_code == 200 and "草稿" in page.get_data(as_text=True)
    listing = client.get("/routes").get_data(as_text=True)
    assert "新环线" in listing and "草稿" in listing and "新建线路" in listing
    assert client.get("/routes/999999").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=abc", "天数须为 1 到 30 之间的整数。"),
        ("days=0", "天数须为 1 到 30 之间的整数。"),
        ("days=31", "天数须为 1 到 30 之间的整数。"),
        ("days=-1", "天数须为 1 到 30 之间的整数。"),
        ("days=99999999999999999999999", "天数须为 1 到 30 之间的整数。"),
        ("days=%C2%B2", "天数须为 1 到 30 之间的整数。"),
        ("theme=" + "长" * 40, "培训主题不能超过 32 个字符。"),
        ("theme=a%00b", "包含无效字符。"),
    ],
)
def test_bad_filters_get_a_message_not_a_500(demo, client, query, message):
    response = client.get(f"/routes?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_hostile_text_is_escaped(demo, client):
    hostile = "<script>alert(1)</script>"
    template = new_template(client, name=f"线路{hostile}", description=hostile)
    response = add(client, template, **course_stop(note=f"<img src=x onerror=alert(1)>{hostile}"))
    assert response.status_code == 302
    assert (
        client.post(f"/routes/{template.id}/status", data={"status": "published"}).status_code
        == 302
    )
    client.post("/logout")
    for path in ("/routes", f"/routes/{template.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert hostile not in page and "<img src=x" not in page


# ---------------------------------------------------------------- the office edits templates


def test_office_creates_and_edits_a_template(demo, client):
    template = new_template(client)
    assert template.status == "draft" and template.days == 3
    assert template.kinds == ["main", "commissioned"]
    page = client.get(f"/routes/{template.id}/edit").get_data(as_text=True)
    assert 'value="新环线"' in page and "checked" in page
    response = client.post(
        f"/routes/{template.id}/edit",
        data={**TEMPLATE_FORM, "name": "改名环线", "days": "5", "class_kinds": ["adhoc"]},
    )
    assert response.status_code == 302
    template = template_named("改名环线")
    assert template.days == 5 and template.kinds == ["adhoc"]


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"name": ""}, "请填写线路名称。"),
        ({"name": "长" * 129}, "线路名称不能超过 128 个字符。"),
        ({"theme": "  "}, "请填写培训主题。"),
        ({"days": "0"}, "天数须为 1 到 30 之间的整数。"),
        ({"days": "31"}, "天数须为 1 到 30 之间的整数。"),
        ({"days": "abc"}, "天数须为 1 到 30 之间的整数。"),
        ({"class_kinds": []}, "请至少选择一种可使用此线路的班次类型。"),
        ({"class_kinds": ["vip"]}, "班次类型无效。"),
    ],
)
def test_template_validation(demo, client, changes, field_message):
    login(client, "office")
    before = db.session.scalar(select(func.count()).select_from(RouteTemplate))
    data = {**TEMPLATE_FORM, "name": "保留我输入的名称", **changes}
    response = client.post("/routes/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_message in page
    assert "invalid-feedback" in page  # beside the field
    if "name" not in changes:
        assert "保留我输入的名称" in page
    if changes.get("days") == "abc":
        assert 'value="abc"' in page
    assert db.session.scalar(select(func.count()).select_from(RouteTemplate)) == before


def test_days_cannot_shrink_below_the_stops(demo, client):
    template = new_template(client)
    assert add(client, template, **course_stop(day=3)).status_code == 302
    response = client.post(f"/routes/{template.id}/edit", data={**TEMPLATE_FORM, "days": "2"})
    assert response.status_code == 400
    assert "第 3 天已有安排" in response.get_data(as_text=True)
    assert template_named("新环线").days == 3


# ---------------------------------------------------------------- stops


def test_office_adds_edits_and_removes_stops(demo, client):
    template = new_template(client)
    page = client.get(f"/routes/{template.id}/stops").get_data(as_text=True)
    assert "第3天" in page and "添加站点" in page
    assert "<optgroup" in page and "腾冲干部学院" in page  # sites grouped by member
    assert "（腾冲干部学院 · 滇西抗战纪念馆）" in page  # courses with member and site
    assert add(client, template, **course_stop()).status_code == 302
    response = add(
        client,
        template,
        day="1",
        starts="11:00",
        minutes="60",
        kind="meal",
        site_id="",
        course_id="",
        title="午餐（学院食堂）",
        note="清真餐请提前说明",
    )
    assert response.status_code == 302
    assert (
        add(
            client,
            template,
            day="2",
            starts="09:30",
            minutes="60",
            kind="visit",
            site_id=str(site("guoshang_cemetery").id),
            course_id="",
            title="",
        ).status_code
        == 302
    )
    assert (
        add(
            client, template, day="2", starts="08:00", minutes="60", kind="travel", title="乘车"
        ).status_code
        == 302
    )
    template = template_named("新环线")
    assert [(s.day, s.kind) for s in template.stops] == [
        (1, "course"),
        (1, "meal"),
        (2, "travel"),
        (2, "visit"),
    ]
    meal = template.stops[1]
    assert meal.site is None and meal.title == "午餐（学院食堂）"

    edit_page = client.get(f"/routes/{template.id}/stops/{meal.id}/edit").get_data(as_text=True)
    assert 'value="午餐（学院食堂）"' in edit_page and 'value="11:00"' in edit_page
    response = client.post(
        f"/routes/{template.id}/stops/{meal.id}/edit",
        data={"day": "1", "starts": "11:30", "minutes": "45", "kind": "meal", "title": "午餐"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    meal = db.session.get(RouteStop, meal.id)
    assert meal.starts.strftime("%H:%M") == "11:30" and meal.minutes == 45

    meal_id = meal.id
    assert client.post(f"/routes/{template.id}/stops/{meal_id}/delete").status_code == 302
    assert db.session.scalar(select(RouteStop.id).where(RouteStop.id == meal_id)) is None
    assert stop_count(template) == 3

    other = template_named("杨善洲精神一日环线")
    foreign = other.stops[0]
    assert client.post(f"/routes/{template.id}/stops/{foreign.id}/delete").status_code == 404
    assert client.get(f"/routes/{template.id}/stops/{foreign.id}/edit").status_code == 404


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"day": "4"}, "day", "请选择第 1 到第 3 天中的一天。"),
        ({"day": "0"}, "day", "请选择第 1 到第 3 天中的一天。"),
        ({"day": "abc"}, "day", "请选择第 1 到第 3 天中的一天。"),
        ({"minutes": "5"}, "minutes", "时长须为 10 到 720 分钟之间的整数。"),
        ({"minutes": "721"}, "minutes", "时长须为 10 到 720 分钟之间的整数。"),
        ({"minutes": "abc"}, "minutes", "时长须为 10 到 720 分钟之间的整数。"),
        ({"starts": "23:00", "minutes": "90"}, "minutes", "须在当天结束"),
        ({"starts": ""}, "starts", "请填写开始时间。"),
        ({"starts": "25:99"}, "starts", "时间格式应为"),
        ({"kind": "party"}, "kind", "请选择站点类型。"),
        ({"site_id": ""}, "site_id", "课程须选择授课的教学点。"),
        ({"site_id": "999999"}, "site_id", "没有找到该教学点。"),
        ({"course_id": ""}, "course_id", "请选择课程。"),
        ({"course_id": "999999"}, "course_id", "没有找到该课程。"),
        (
            {"course_id": "theory_lecture"},
            "course_id",
            "课程“党的创新理论专题辅导”在“党校主报告厅”开设，与所选教学点“滇西抗战纪念馆”不一致。",
        ),
        ({"kind": "visit", "site_id": ""}, "site_id", "现场参观须选择教学点。"),
        ({"kind": "visit"}, "course_id", "现场参观不关联课程"),
        (
            {"kind": "meal", "site_id": "", "course_id": "", "title": ""},
            "title",
            "用餐和交通须填写说明",
        ),
        (
            {"kind": "meal", "course_id": "", "title": "午餐"},
            "site_id",
            "用餐和交通不选择教学点。",
        ),
        (
            {"kind": "travel", "site_id": "", "title": "乘车"},
            "course_id",
            "用餐和交通不选择课程。",
        ),
        ({"title": "长" * 129}, "title", "说明不能超过 128 个字符。"),
    ],
)
def test_invalid_stops_are_refused_with_a_message(demo, client, values, field, message):
    template = new_template(client)
    data = course_stop(note="保留我写的备注")
    for key, value in values.items():
        data[key] = str(course(value).id) if value == "theory_lecture" else value
    response = add(client, template, **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "invalid-feedback" in page
    assert "保留我写的备注" in page
    assert stop_count(template) == 0


def test_courses_and_sites_must_be_active(demo, client):
    template = new_template(client)
    course("memorial_onsite").status = "suspended"
    db.session.commit()
    response = add(client, template, **course_stop())
    assert response.status_code == 400
    assert "当前为“暂停”，不能安排" in response.get_data(as_text=True)
    site("guoshang_cemetery").status = "retired"
    db.session.commit()
    response = add(
        client,
        template,
        **course_stop(kind="visit", site_id=str(site("guoshang_cemetery").id), course_id=""),
    )
    assert response.status_code == 400
    assert "教学点“国殇墓园”当前为“退出”" in response.get_data(as_text=True)
    assert stop_count(template) == 0


def test_a_course_without_a_site_of_its_own_fits_any_site(demo, client):
    template = new_template(client)
    response = add(
        client,
        template,
        **course_stop(
            site_id=str(site("multi_hall").id), course_id=str(course("dianxi_lecture").id)
        ),
    )
    assert response.status_code == 302
    assert stop_count(template) == 1


# ---------------------------------------------------------------- publishing


def test_publish_needs_a_site_stop(demo, client):
    template = new_template(client)
    add(client, template, day="1", starts="12:00", minutes="60", kind="meal", title="午餐")
    page = client.get(f"/routes/{template.id}/stops").get_data(as_text=True)
    assert "发布前需要解决" in page
    response = client.post(
        f"/routes/{template.id}/status", data={"status": "published"}, follow_redirects=True
    )
    assert "线路须至少包含一个在教学点进行的课程或现场参观。" in response.get_data(as_text=True)
    assert template_named("新环线").status == "draft"


def test_publish_refuses_overlapping_stops_then_publishes_and_retires(demo, client):
    template = new_template(client)
    add(client, template, **course_stop(at="09:00", minutes=90))
    add(
        client,
        template,
        **course_stop(
            at="10:00",
            minutes=60,
            kind="visit",
            site_id=str(site("guoshang_cemetery").id),
            course_id="",
        ),
    )
    add(client, template, day="2", starts="09:00", minutes="60", kind="travel", title="乘车")
    response = client.post(
        f"/routes/{template.id}/status",
        data={"status": "published", "back": "stops"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "第 1 天“铭记历史 缅怀先烈——滇西抗战纪念馆、国殇墓园现场教学”（09:00–10:30）" in page
    assert "与“国殇墓园”（10:00–11:00）时间重叠。" in page
    assert template_named("新环线").status == "draft"

    visit = next(s for s in template_named("新环线").stops if s.kind == "visit")
    response = client.post(
        f"/routes/{template.id}/stops/{visit.id}/edit",
        data={
            **course_stop(at="10:50", minutes=60, kind="visit", course_id=""),
            "site_id": str(site("guoshang_cemetery").id),
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/routes/{template.id}/status", data={"status": "published"}, follow_redirects=True
    )
    assert "线路状态已改为“已发布”。" in response.get_data(as_text=True)
    assert template_named("新环线").status == "published"
    client.post("/logout")
    assert client.get(f"/routes/{template.id}").status_code == 200
    assert "新环线" in client.get("/routes").get_data(as_text=True)

    login(client, "office")
    client.post(f"/routes/{template.id}/status", data={"status": "retired"})
    assert template_named("新环线").status == "retired"
    client.post("/logout")
    assert client.get(f"/routes/{template.id}").status_code == 404
    assert "新环线" not in client.get("/routes").get_data(as_text=True)

    login(client, "office")
    client.post(f"/routes/{template.id}/status", data={"status": "draft"})
    assert template_named("新环线").status == "draft"
    response = client.post(
        f"/routes/{template.id}/status", data={"status": "draft"}, follow_redirects=True
    )
    assert "该线路已是“草稿”状态。" in response.get_data(as_text=True)
    response = client.post(f"/routes/{template.id}/status", data={"status": "bogus"})
    assert template_named("新环线").status == "draft"


def test_a_published_template_stays_publishable(demo, client):
    template = new_template(client)
    add(client, template, **course_stop())
    client.post(f"/routes/{template.id}/status", data={"status": "published"})
    assert template_named("新环线").status == "published"
    only = template_named("新环线").stops[0]
    response = client.post(f"/routes/{template.id}/stops/{only.id}/delete", follow_redirects=True)
    assert "线路须至少包含一个在教学点进行的课程或现场参观。" in response.get_data(as_text=True)
    assert stop_count(template) == 1
    response = add(
        client,
        template,
        **course_stop(
            at="10:00", kind="visit", course_id="", site_id=str(site("heshun_library").id)
        ),
    )
    assert response.status_code == 400 and "时间重叠" in response.get_data(as_text=True)
    assert stop_count(template) == 1


def test_demo_templates_pass_the_publish_check(demo):
    for template in db.session.scalars(select(RouteTemplate)):
        assert route_services.publish_problems(template) == [], template.name


# ---------------------------------------------------------------- only the office


def test_only_the_office_changes_templates(demo, client):
    template = template_named("杨善洲精神一日环线")
    stop = template.stops[0]
    before = (template.name, template.status, stop_count(template), stop.minutes)
    attempts = [
        ("get", "/routes/new", None),
        ("post", "/routes/new", TEMPLATE_FORM),
        ("get", f"/routes/{template.id}/edit", None),
        ("post", f"/routes/{template.id}/edit", {**TEMPLATE_FORM, "name": "被改了"}),
        ("post", f"/routes/{template.id}/status", {"status": "retired"}),
        ("get", f"/routes/{template.id}/stops", None),
        ("post", f"/routes/{template.id}/stops", course_stop(day=1, at="16:00", minutes=30)),
        (
            "post",
            f"/routes/{template.id}/stops/{stop.id}/edit",
            course_stop(minutes=30, site_id=str(stop.site_id), course_id=str(stop.course_id)),
        ),
        ("post", f"/routes/{template.id}/stops/{stop.id}/delete", {}),
    ]
    for username in ("organizer", "trainee", "party_school_admin", "tengchong_college_staff"):
        login(client, username)
        for method, path, data in attempts:
            response = getattr(client, method)(path, data=data)
            assert response.status_code == 403, (username, method, path)
    client.post("/logout")
    for method, path, data in attempts:
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    template = template_named("杨善洲精神一日环线")
    assert (
        template.name,
        template.status,
        stop_count(template),
        template.stops[0].minutes,
    ) == before
    assert template_named("新环线") is None

    with pytest.raises(PermissionDenied):
        route_services.set_template_status(template, user("organizer"), "retired")
    with pytest.raises(PermissionDenied):
        route_services.create_template(user("party_school_admin"), TEMPLATE_FORM)
    with pytest.raises(PermissionDenied):
        route_services.remove_stop(template.stops[0], user("trainee"))
    db.session.rollback()
    assert stop_count(template) == 4


def test_service_validation_without_the_web(demo):
    office = user("office")
    with pytest.raises(ValidationFailed) as caught:
        route_services.create_template(office, {"name": "", "days": 40, "class_kinds": []})
    assert set(caught.value.errors) == {"name", "theme", "days", "class_kinds"}
    template = route_services.create_template(office, {**TEMPLATE_FORM, "days": 1})
    with pytest.raises(ValidationFailed) as caught:
        route_services.add_stop(template, office, {"kind": "meal", "day": 2, "minutes": 0})
    assert set(caught.value.errors) == {"day", "starts", "minutes", "title"}
    db.session.rollback()


# ---------------------------------------------------------------- settings


def settings_data(**changes) -> dict:
    return {key: str(value) for key, value in {**all_settings(), **changes}.items()}


def test_office_changes_the_consortium_rules(demo, client):
    login(client, "office")
    page = client.get("/admin/settings").get_data(as_text=True)
    for label in (
        "党性教育班须安排环线的最少天数",
        "适用规则的培训主题",
        "开班前几天停止联系人自行取消或改期",
        "候补名额保留小时数",
        "站点间平均车速（公里/小时）",
        "站点间额外预留分钟数",
        "推荐日期的搜索范围（天）",
    ):
        assert label in page
    for key in DEFAULT_SETTINGS:
        assert f'name="{key}"' in page
    response = client.post(
        "/admin/settings",
        data=settings_data(
            ring_route_min_days=5, ring_route_theme=" 理想信念 ", travel_speed_kmh=35
        ),
        follow_redirects=True,
    )
    assert "环线规则已保存。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert setting("ring_route_min_days") == 5
    assert setting("ring_route_theme") == "理想信念"
    assert setting("travel_speed_kmh") == 35
    assert db.session.get(Setting, "ring_route_min_days").updated_by == "office"
    # Unchanged rules are not written.
    assert db.session.get(Setting, "waitlist_offer_hours") is None
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="5"' in page and 'value="理想信念"' in page


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ring_route_min_days", "abc", "请填写 1 到 365 之间的整数。"),
        ("change_deadline_days", "-1", "请填写 0 到 365 之间的整数。"),
        ("waitlist_offer_hours", "99999", "请填写 1 到 720 之间的整数。"),
        ("travel_speed_kmh", "0", "请填写 1 到 200 之间的整数。"),
        ("suggest_within_days", "1.5", "请填写 1 到 365 之间的整数。"),
        ("travel_margin_minutes", "", "请填写 0 到 240 之间的整数。"),
        ("ring_route_theme", "  ", "请填写不超过 32 个字符的文字。"),
        ("ring_route_theme", "长" * 33, "请填写不超过 32 个字符的文字。"),
    ],
)
def test_bad_settings_are_refused(demo, client, key, value, message):
    login(client, "office")
    response = client.post(
        "/admin/settings", data=settings_data(**{"ring_route_min_days": "4", key: value})
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and "invalid-feedback" in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0
    assert setting("ring_route_min_days") == DEFAULT_SETTINGS["ring_route_min_days"]


def test_only_the_office_opens_the_settings(demo, client):
    for username in ("organizer", "trainee", "party_school_admin"):
        login(client, username)
        assert client.get("/admin/settings").status_code == 403
        response = client.post("/admin/settings", data=settings_data(ring_route_min_days=9))
        assert response.status_code == 403
    client.post("/logout")
    response = client.get("/admin/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.expire_all()
    assert setting("ring_route_min_days") == DEFAULT_SETTINGS["ring_route_min_days"]
    with pytest.raises(PermissionDenied):
        route_services.save_settings(user("organizer"), settings_data(ring_route_min_days=9))
