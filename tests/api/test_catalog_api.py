"""The JSON read API of the catalogue (/api/v1): fields, filters, paging, visibility, errors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from portal.auth.models import User
from portal.catalog.models import Course, SiteAssessment, Teacher, TeachingSite
from portal.catalog.services import search_courses, search_sites, search_teachers
from portal.extensions import db
from portal.members.models import Member
from tests.conftest import login

pytestmark = pytest.mark.db

SITE_FIELDS = {
    "id",
    "key",
    "name",
    "member",
    "theme",
    "description",
    "capacity",
    "session_minutes",
    "open_weekdays",
    "opens",
    "closes",
    "needs_guide",
    "address",
    "latitude",
    "longitude",
    "status",
    "latest_score",
    "url",
}
TEACHER_FIELDS = {
    "id",
    "key",
    "name",
    "member",
    "kind",
    "kind_label",
    "title",
    "topics",
    "shared",
    "status",
    "url",
}
COURSE_FIELDS = {
    "id",
    "key",
    "name",
    "member",
    "kind",
    "kind_label",
    "hours",
    "excellent",
    "site",
    "teachers",
    "status",
    "url",
}
MEMBER_FIELDS = {"id", "key", "name", "short_name"}
PAGE_FIELDS = {"items", "page", "per_page", "total", "pages"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    return response.get_json()


def ids(body: dict) -> list[int]:
    return [item["id"] for item in body["items"]]


def member(key: str) -> Member:
    return db.session.scalar(select(Member).where(Member.key == key))


def teacher(name: str) -> Teacher:
    return db.session.scalar(select(Teacher).where(Teacher.name == name))


def site(name: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.name == name))


def every_id(page) -> list[int]:
    return [item.id for item in page.items]


# ---------------------------------------------------------------- shapes


def test_sites_list_has_the_documented_fields(demo, client):
    body = get_json(client, "/api/v1/sites?per_page=100")
    assert set(body) == PAGE_FIELDS
    total = db.session.scalar(
        select(db.func.count()).select_from(TeachingSite).where(TeachingSite.status == "active")
    )
    assert body["total"] == total == len(body["items"])
    assert body["page"] == 1 and body["per_page"] == 100 and body["pages"] == 1
    for item in body["items"]:
        assert set(item) == SITE_FIELDS
        assert set(item["member"]) == MEMBER_FIELDS
        assert all(isinstance(d, int) and 1 <= d <= 7 for d in item["open_weekdays"])
        assert re.fullmatch(r"\d\d:\d\d", item["opens"]) and item["opens"] < item["closes"]
        assert item["url"].startswith("http://localhost/") and item["url"].endswith(
            f"/sites/{item['id']}"
        )
        assert item["latest_score"] is None
        assert item["status"] == "active"

    songshan = site("松山战役遗址")
    item = get_json(client, f"/api/v1/sites/{songshan.id}")
    assert item == next(i for i in body["items"] if i["id"] == songshan.id)
    assert item["name"] == "松山战役遗址" and item["theme"] == "抗战历史"
    assert item["member"]["key"] == "songshan_base"
    assert item["capacity"] == songshan.capacity and item["needs_guide"] is True
    assert item["open_weekdays"] == [int(d) for d in songshan.open_weekdays]
    assert item["key"] == songshan.key


def test_site_detail_url_opens_the_html_page(demo, client):
    item = get_json(client, f"/api/v1/sites/{site('国殇墓园').id}")
    path = item["url"].removeprefix("http://localhost")
    assert client.get(path).status_code == 200


def test_teachers_and_courses_have_the_documented_fields(demo, client):
    body = get_json(client, "/api/v1/teachers?per_page=100")
    assert set(body) == PAGE_FIELDS and body["items"]
    for item in body["items"]:
        assert set(item) == TEACHER_FIELDS
        assert set(item["member"]) == MEMBER_FIELDS
        assert item["url"].startswith("http://") and item["url"].endswith(f"/teachers/{item['id']}")
    zhang = next(i for i in body["items"] if i["name"] == "张红")
    assert zhang["topics"] == ["党的创新理论", "党史党建"]
    assert zhang["kind"] == "full_time" and zhang["kind_label"] == "专职"
    assert zhang["title"] == "教授" and zhang["shared"] is True
    # No personal data beyond the documented fields.
    assert "bio" not in zhang

    body = get_json(client, "/api/v1/courses?per_page=100")
    assert set(body) == PAGE_FIELDS and body["items"]
    for item in body["items"]:
        assert set(item) == COURSE_FIELDS
        assert isinstance(item["hours"], float)
        assert item["url"].endswith(f"/courses/{item['id']}")
        for person in item["teachers"]:
            assert set(person) == {"id", "name", "title"}
    course = db.session.scalar(select(Course).where(Course.name == "松山战役与中国远征军"))
    item = get_json(client, f"/api/v1/courses/{course.id}")
    assert item["kind"] == "lecture" and item["kind_label"] == "专题讲座"
    assert item["site"] == {"id": course.site.id, "name": course.site.name}
    assert item["teachers"] == [
        {"id": t.id, "name": t.name, "title": t.title} for t in course.teachers
    ]
    no_site = db.session.scalar(select(Course).where(Course.site_id.is_(None)))
    assert get_json(client, f"/api/v1/courses/{no_site.id}")["site"] is None


def test_chinese_is_readable_after_decoding(demo, client):
    body = get_json(client, "/api/v1/sites?member=tengchong_college&q=国殇")
    assert [i["name"] for i in body["items"]] == ["国殇墓园"]
    assert body["items"][0]["member"]["short_name"] == "腾冲干部学院"


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ("q=抗战", {"q": "抗战"}),
        ("q=%25", {"q": "%"}),
        ("theme=党性教育", {"theme": "党性教育"}),
        ("min_capacity=100", {"min_capacity": 100}),
        ("guide=yes", {"needs_guide": True}),
        ("guide=no", {"needs_guide": False}),
        ("sort=capacity", {"sort": "capacity"}),
        ("sort=score", {"sort": "score"}),
        (
            "q=抗战&guide=yes&min_capacity=90&sort=capacity",
            {"q": "抗战", "needs_guide": True, "min_capacity": 90, "sort": "capacity"},
        ),
    ],
)
def test_site_filters_match_the_service(demo, client, query, kwargs):
    body = get_json(client, f"/api/v1/sites?per_page=100&{query}")
    expected = every_id(search_sites(per_page=100, **kwargs))
    assert ids(body) == expected
    assert body["total"] == len(expected)


def test_site_filters_do_what_they_say(demo, client):
    body = get_json(client, "/api/v1/sites?q=抗战&per_page=100")
    assert body["items"] and all(
        "抗战" in (i["name"] + i["description"] + i["address"] + i["theme"]) for i in body["items"]
    )
    body = get_json(client, "/api/v1/sites?theme=生态文明")
    assert [i["name"] for i in body["items"]] == ["杨善洲精神教育基地（大亮山林场）"]
    body = get_json(client, "/api/v1/sites?min_capacity=150&per_page=100")
    assert body["items"] and all(i["capacity"] >= 150 for i in body["items"])
    body = get_json(client, "/api/v1/sites?guide=yes&per_page=100")
    assert body["items"] and all(i["needs_guide"] for i in body["items"])
    body = get_json(client, "/api/v1/sites?guide=no&per_page=100")
    assert body["items"] and not any(i["needs_guide"] for i in body["items"])
    capacities = [
        i["capacity"] for i in get_json(client, "/api/v1/sites?sort=capacity&per_page=100")["items"]
    ]
    assert capacities == sorted(capacities, reverse=True)
    names = [i["name"] for i in get_json(client, "/api/v1/sites?per_page=100")["items"]]
    assert names == [s.name for s in search_sites(per_page=100).items]


def test_member_filter_by_key_and_by_id(demo, client):
    tengchong = member("tengchong_college")
    by_key = get_json(client, "/api/v1/sites?member=tengchong_college&per_page=100")
    by_id = get_json(client, f"/api/v1/sites?member={tengchong.id}&per_page=100")
    assert by_key == by_id
    assert by_key["total"] == 5
    assert {i["member"]["key"] for i in by_key["items"]} == {"tengchong_college"}
    assert ids(by_key) == every_id(search_sites(member_id=tengchong.id, per_page=100))

    teachers = get_json(client, "/api/v1/teachers?member=songshan_base&per_page=100")
    assert {i["member"]["key"] for i in teachers["items"]} == {"songshan_base"}
    courses = get_json(client, f"/api/v1/courses?member={member('party_school').id}")
    assert courses["total"] == 4
    assert {i["member"]["key"] for i in courses["items"]} == {"party_school"}


@pytest.mark.parametrize(
    "value", ["nobody", "<script>alert(1)</script>", "0", "999999", "99999999999999999999999", "²"]
)
def test_unknown_member_gives_an_empty_list(demo, client, value):
    for what in ("sites", "teachers", "courses"):
        response = client.get(f"/api/v1/{what}", query_string={"member": value})
        assert response.status_code == 200, (what, value, response.data[:300])
        body = response.get_json()
        assert body == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 1}


def test_status_filter(demo, client):
    suspended = site("和顺图书馆")
    suspended.status = "suspended"
    retired = site("善洲故居")
    retired.status = "retired"
    db.session.commit()

    active = get_json(client, "/api/v1/sites?per_page=100")
    assert suspended.id not in ids(active) and retired.id not in ids(active)
    assert active == get_json(client, "/api/v1/sites?per_page=100&status=active")
    only = get_json(client, "/api/v1/sites?status=suspended")
    assert ids(only) == [suspended.id] and only["items"][0]["status"] == "suspended"
    assert ids(get_json(client, "/api/v1/sites?status=retired")) == [retired.id]
    everything = get_json(client, "/api/v1/sites?status=&per_page=100")
    assert everything["total"] == active["total"] + 2
    assert ids(everything) == every_id(search_sites(status="", per_page=100))
    # A single item answers whatever its status.
    assert get_json(client, f"/api/v1/sites/{retired.id}")["status"] == "retired"

    course = db.session.scalar(select(Course).where(Course.name == "松山战役与中国远征军"))
    course.status = "suspended"
    db.session.commit()
    assert course.id not in ids(get_json(client, "/api/v1/courses?per_page=100"))
    assert ids(get_json(client, "/api/v1/courses?status=suspended")) == [course.id]


def test_sort_by_latest_score(demo, client):
    first, second = site("和顺图书馆"), site("党校主报告厅")
    db.session.add_all(
        [
            SiteAssessment(site=first, year=2023, score=60),
            SiteAssessment(site=first, year=2025, score=97.5),
            SiteAssessment(site=second, year=2025, score=88),
            SiteAssessment(site=second, year=2024, score=99),
        ]
    )
    db.session.commit()
    body = get_json(client, "/api/v1/sites?sort=score&per_page=100")
    assert ids(body)[:2] == [first.id, second.id]
    assert [i["latest_score"] for i in body["items"][:2]] == [97.5, 88.0]
    assert all(i["latest_score"] is None for i in body["items"][2:])
    assert get_json(client, f"/api/v1/sites/{first.id}")["latest_score"] == 97.5


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ("kind=part_time", {"kind": "part_time"}),
        ("title=教授", {"title": "教授"}),
        ("topic=抗战", {"topic": "抗战"}),
        ("shared=yes", {"shared": True}),
        ("shared=no", {"shared": False}),
        ("q=杨", {"q": "杨"}),
    ],
)
@pytest.mark.parametrize("username", [None, "office", "tengchong_college_staff"])
def test_teacher_filters_match_the_service(demo, client, query, kwargs, username):
    viewer = None
    if username:
        login(client, username)
        viewer = db.session.scalar(select(User).where(User.username == username))
    body = get_json(client, f"/api/v1/teachers?per_page=100&{query}")
    assert ids(body) == every_id(search_teachers(viewer, per_page=100, **kwargs))


def test_teacher_filters_do_what_they_say(demo, client):
    login(client, "office")
    body = get_json(client, "/api/v1/teachers?kind=part_time&per_page=100")
    assert body["total"] == 4 and all(i["kind"] == "part_time" for i in body["items"])
    body = get_json(client, "/api/v1/teachers?title=高级讲解员&per_page=100")
    assert body["total"] == 3 and all(i["title"] == "高级讲解员" for i in body["items"])
    body = get_json(client, "/api/v1/teachers?topic=滇西抗战&per_page=100")
    assert {i["name"] for i in body["items"]} == {"杨正伟", "寸海燕", "赵娜"}
    body = get_json(client, "/api/v1/teachers?shared=no&per_page=100")
    assert body["items"] and not any(i["shared"] for i in body["items"])


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ("kind=onsite", {"kind": "onsite"}),
        ("excellent=yes", {"excellent": True}),
        ("q=抗战", {"q": "抗战"}),
        ("kind=lecture&excellent=yes", {"kind": "lecture", "excellent": True}),
    ],
)
def test_course_filters_match_the_service(demo, client, query, kwargs):
    body = get_json(client, f"/api/v1/courses?per_page=100&{query}")
    assert ids(body) == every_id(search_courses(per_page=100, **kwargs))


def test_course_filters_do_what_they_say(demo, client):
    body = get_json(client, "/api/v1/courses?excellent=yes&per_page=100")
    assert body["total"] == 4 and all(i["excellent"] for i in body["items"])
    body = get_json(client, "/api/v1/courses?kind=onsite&per_page=100")
    assert body["items"] and all(i["kind"] == "onsite" for i in body["items"])
    # Excellent courses come first.
    flags = [i["excellent"] for i in get_json(client, "/api/v1/courses?per_page=100")["items"]]
    assert flags == sorted(flags, reverse=True)


# ---------------------------------------------------------------- paging


def test_paging(demo, client):
    everything = ids(get_json(client, "/api/v1/sites?per_page=100"))
    body = get_json(client, "/api/v1/sites?per_page=2&page=2")
    assert body["page"] == 2 and body["per_page"] == 2
    assert body["total"] == len(everything) and body["pages"] == (len(everything) + 1) // 2
    assert ids(body) == everything[2:4]

    pages = [
        ids(get_json(client, f"/api/v1/sites?per_page=5&page={n}"))
        for n in range(1, (len(everything) + 4) // 5 + 1)
    ]
    assert [i for page in pages for i in page] == everything
    # A page past the end answers the last page.
    last = get_json(client, "/api/v1/sites?per_page=5&page=999")
    assert last["page"] == len(pages) and ids(last) == pages[-1]
    # Defaults, and empty parameters mean the defaults.
    assert get_json(client, "/api/v1/sites")["per_page"] == 20
    assert get_json(client, "/api/v1/sites?page=&per_page=&min_capacity=&guide=")["page"] == 1

    teachers = get_json(client, "/api/v1/teachers?per_page=3&page=2")
    assert teachers["page"] == 2 and len(teachers["items"]) == 3
    courses = get_json(client, "/api/v1/courses?per_page=1")
    assert courses["pages"] == courses["total"] == 14


def test_site_list_queries_do_not_grow_with_the_page(demo, client):
    for one_site in db.session.scalars(select(TeachingSite)):
        db.session.add(SiteAssessment(site=one_site, year=2025, score=80))
    db.session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        get_json(client, "/api/v1/sites?per_page=1")
        small = len(statements)
        statements.clear()
        body = get_json(client, "/api/v1/sites?per_page=100")
        large = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(body["items"]) > 10 and all(i["latest_score"] == 80 for i in body["items"])
    assert large == small


# ---------------------------------------------------------------- who sees which teacher


def test_anonymous_users_see_only_shared_teachers(demo, client):
    body = get_json(client, "/api/v1/teachers?per_page=100")
    shared = db.session.scalars(
        select(Teacher.id).where(Teacher.shared.is_(True), Teacher.status == "active")
    ).all()
    assert sorted(ids(body)) == sorted(shared)
    assert all(i["shared"] for i in body["items"])
    # Asking for the others answers nothing, not an error.
    assert get_json(client, "/api/v1/teachers?shared=no")["total"] == 0

    hidden = teacher("杨丽")
    assert not hidden.shared
    body = get_json(client, f"/api/v1/teachers/{hidden.id}", status=404)
    assert body["status"] == 404 and CHINESE.search(body["error"])
    assert get_json(client, f"/api/v1/teachers/{teacher('张红').id}")["name"] == "张红"


@pytest.mark.parametrize("username", ["organizer", "trainee"])
def test_outside_users_see_only_shared_teachers(demo, client, username):
    login(client, username)
    assert all(i["shared"] for i in get_json(client, "/api/v1/teachers?per_page=100")["items"])
    get_json(client, f"/api/v1/teachers/{teacher('杨丽').id}", status=404)


def test_office_sees_every_teacher(demo, client):
    login(client, "office")
    body = get_json(client, "/api/v1/teachers?per_page=100")
    assert body["total"] == db.session.scalar(select(db.func.count()).select_from(Teacher))
    hidden = teacher("杨丽")
    assert get_json(client, f"/api/v1/teachers/{hidden.id}")["shared"] is False


def test_member_staff_see_their_own_teachers_but_not_other_members(demo, client):
    login(client, "tengchong_college_staff")
    body = get_json(client, "/api/v1/teachers?per_page=100")
    tengchong = member("tengchong_college")
    names = {i["name"] for i in body["items"]}
    assert {"李云飞", "艾康"} <= names  # tengchong's own, not shared
    assert "杨丽" not in names  # party school's, not shared
    for item in body["items"]:
        assert item["shared"] or item["member"]["id"] == tengchong.id
    assert get_json(client, f"/api/v1/teachers/{teacher('李云飞').id}")["shared"] is False
    get_json(client, f"/api/v1/teachers/{teacher('杨丽').id}", status=404)
    own_hidden = get_json(client, "/api/v1/teachers?shared=no&per_page=100")
    assert {i["name"] for i in own_hidden["items"]} == {"李云飞", "艾康"}


# ---------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("path", "query", "fields"),
    [
        ("sites", {"page": "abc"}, {"page"}),
        ("sites", {"page": "0"}, {"page"}),
        ("sites", {"page": "-3"}, {"page"}),
        ("sites", {"page": "99999999999999999999"}, {"page"}),
        ("sites", {"page": "9" * 5000}, {"page"}),
        ("sites", {"page": "²"}, {"page"}),
        ("sites", {"min_capacity": "-1"}, {"min_capacity"}),
        ("sites", {"min_capacity": "1e9"}, {"min_capacity"}),
        ("sites", {"min_capacity": "1000000000"}, {"min_capacity"}),
        ("sites", {"status": "bogus"}, {"status"}),
        ("sites", {"sort": "bogus"}, {"sort"}),
        ("sites", {"guide": "maybe"}, {"guide"}),
        ("sites", {"per_page": "0"}, {"per_page"}),
        ("sites", {"per_page": "101"}, {"per_page"}),
        ("sites", {"per_page": "x"}, {"per_page"}),
        ("sites", {"per_page": "99999999999999999999"}, {"per_page"}),
        (
            "sites",
            {"page": "abc", "min_capacity": "-1", "status": "bogus", "sort": "bogus"},
            {"page", "min_capacity", "status", "sort"},
        ),
        ("teachers", {"kind": "boss"}, {"kind"}),
        ("teachers", {"shared": "maybe"}, {"shared"}),
        ("teachers", {"status": "gone"}, {"status"}),
        ("teachers", {"page": "abc"}, {"page"}),
        ("courses", {"kind": "party"}, {"kind"}),
        ("courses", {"excellent": "perhaps"}, {"excellent"}),
        ("courses", {"per_page": "1000"}, {"per_page"}),
    ],
)
def test_bad_parameters_answer_400_with_chinese_messages(demo, client, path, query, fields):
    response = client.get(f"/api/v1/{path}", query_string=query)
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == 400 and CHINESE.search(body["error"])
    assert set(body["fields"]) == fields
    assert all(CHINESE.search(message) for message in body["fields"].values())


@pytest.mark.parametrize("path", ["sites", "teachers", "courses"])
@pytest.mark.parametrize(
    "query",
    [
        {"q": "抗战" * 5000},
        {"q": "x\x00y"},
        {"q": "%_\\'\"; DROP TABLE members; --"},
        {"q": "<script>alert(1)</script>"},
        {"member": "<script>"},
        {"member": "a\x00b"},
        {"member": "9" * 5000},
        {"theme": "\x00"},
        {"title": "x" * 10000},
        {"topic": "\x00"},
        {"status": "\x00"},
        {"page": "\x00"},
        {"per_page": "\x00"},
        {"min_capacity": "1" * 5000},
        {"unknown": "\x00"},
        {"q": "\ud800".encode("utf-8", "surrogatepass")},
        {"q": b"\xff\xfe"},
    ],
)
def test_hostile_parameters_never_fail_the_server(demo, client, path, query):
    response = client.get(f"/api/v1/{path}", query_string=query)
    assert response.status_code in (200, 400), response.data[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    if response.status_code == 400:
        assert CHINESE.search(body["error"]) and body["fields"]
    else:
        assert set(body) == PAGE_FIELDS


def test_long_query_is_fine_and_nul_is_refused(demo, client):
    body = get_json(client, "/api/v1/sites?q=" + "x" * 10000)
    assert body["total"] == 0
    body = get_json(client, "/api/v1/sites?q=%E6%8A%97%00", status=400)
    assert set(body["fields"]) == {"q"}


@pytest.mark.parametrize("path", ["sites", "teachers", "courses"])
def test_unknown_ids_answer_404_json(demo, client, path):
    for item_id in ("999999", "0", "2147483647", "2147483648", "99999999999999999999"):
        body = get_json(client, f"/api/v1/{path}/{item_id}", status=404)
        assert body["status"] == 404 and CHINESE.search(body["error"])
    get_json(client, f"/api/v1/{path}/abc", status=404)
    get_json(client, f"/api/v1/{path}/-1", status=404)


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("path", ["sites", "teachers", "courses", "sites/1", "teachers/1"])
def test_the_api_is_read_only(demo, client, method, path):
    response = getattr(client, method)(f"/api/v1/{path}", json={"name": "x"})
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["status"] == 405


def test_unknown_api_path_answers_404_json(client):
    body = get_json(client, "/api/v1/nothing", status=404)
    assert body["status"] == 404
