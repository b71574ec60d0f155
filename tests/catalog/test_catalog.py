"""The shared catalogue: browsing, editing one's own items only, history, assessments, sharing."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import hookimpl
from portal.auth.models import User
from portal.catalog import services
from portal.catalog.models import CatalogChange, Course, CourseMaterial, Teacher, TeachingSite
from portal.errors import NotFound, PermissionDenied
from portal.extensions import db
from portal.members.models import Member
from portal.members.services import sync_plugins
from portal.specs import DetailField
from tests.conftest import login
from tests.members.test_plugins import registered

pytestmark = pytest.mark.db

SITE_FORM = {
    "name": "新教学点",
    "theme": "乡村振兴",
    "capacity": "50",
    "session_minutes": "90",
    "open_weekdays": ["2", "3", "4"],
    "opens": "09:00",
    "closes": "17:00",
    "address": "施甸县",
    "description": "一个新的现场教学点。",
}


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member(key: str) -> Member:
    return db.session.scalar(select(Member).where(Member.key == key))


def site_of(key: str) -> TeachingSite:
    return db.session.scalars(
        select(TeachingSite)
        .where(TeachingSite.member_id == member(key).id)
        .order_by(TeachingSite.id)
    ).first()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- public browsing


def test_anyone_browses_sites_with_search_and_filters(demo, client):
    page = client.get("/sites").get_data(as_text=True)
    assert "滇西抗战纪念馆" in page and "松山战役遗址" in page
    page = client.get("/sites?q=抗战").get_data(as_text=True)
    assert "滇西抗战纪念馆" in page and "善洲墓园" not in page
    tengchong = member("tengchong_college")
    page = client.get(f"/sites?member={tengchong.id}").get_data(as_text=True)
    assert "国殇墓园" in page and "松山战役遗址" not in page
    page = client.get("/sites?theme=抗战历史&min_capacity=120").get_data(as_text=True)
    assert all(
        s.capacity >= 120 for s in services.search_sites(theme="抗战历史", min_capacity=120).items
    )
    assert "没有符合条件" in page or "抗战历史" in page


def test_site_filters_match_the_service(demo):
    everything = services.search_sites(per_page=100).items
    guided = services.search_sites(needs_guide=True, per_page=100).items
    assert guided and all(s.needs_guide for s in guided)
    assert len(guided) < len(everything)
    by_capacity = services.search_sites(sort="capacity", per_page=100).items
    assert [s.capacity for s in by_capacity] == sorted(
        (s.capacity for s in by_capacity), reverse=True
    )
    two = services.search_sites(per_page=2, page=2)
    assert (
        len(two.items) == 2
        and two.total == len(everything)
        and two.pages == (len(everything) + 1) // 2
    )


def test_bad_filter_values_get_a_message_not_a_500(demo, client):
    for query in (
        "min_capacity=abc",
        "min_capacity=-3",
        "status=bogus",
        "page=0",
        "page=99999999999999999999",
    ):
        response = client.get(f"/sites?{query}")
        assert response.status_code == 400, query
    assert client.get("/sites?q=%27%20OR%201=1--").status_code == 200
    nul = client.get("/sites?q=a%00b")
    assert nul.status_code == 400 and "包含无效字符" in nul.get_data(as_text=True)
    assert client.get("/sites?member=%C2%B2").status_code == 200
    assert client.get("/sites?member=99999999999999999999999").status_code == 200
    assert client.get("/sites?q=" + "长" * 5000).status_code == 200


def test_paging_keeps_the_filters(demo, client):
    for i in range(25):
        services.create_item(
            TeachingSite,
            user("office"),
            member("party_school").id,
            {
                **SITE_FORM,
                "name": f"分页点{i:02d}",
                "capacity": 30,
                "session_minutes": 60,
                "opens": _t(9),
                "closes": _t(17),
                "open_weekdays": "12345",
            },
        )
    db.session.commit()
    page = client.get("/sites?q=分页点").get_data(as_text=True)
    assert "第 1 / 2 页" in page and "q=%E5%88%86%E9%A1%B5%E7%82%B9" in page
    second = client.get("/sites?q=分页点&page=2").get_data(as_text=True)
    assert "分页点24" in second and "分页点00" not in second


def _t(hour: int):
    from datetime import time

    return time(hour)


def test_anonymous_sees_only_shared_teachers(demo, client, app):
    hidden = db.session.scalars(select(Teacher).where(Teacher.shared.is_(False))).first()
    shared = db.session.scalars(select(Teacher).where(Teacher.shared.is_(True))).first()
    page = client.get("/teachers").get_data(as_text=True)
    assert shared.name in page and hidden.name not in page
    assert client.get(f"/teachers/{hidden.id}").status_code == 404
    assert client.get(f"/teachers/{shared.id}").status_code == 200
    own = app.test_client()
    login(own, f"{hidden.member.key}_staff")
    assert own.get(f"/teachers/{hidden.id}").status_code == 200
    assert hidden.name in own.get("/teachers").get_data(as_text=True)
    other_key = next(k for k in ("party_school", "songshan_base") if k != hidden.member.key)
    other = app.test_client()
    login(other, f"{other_key}_staff")
    assert other.get(f"/teachers/{hidden.id}").status_code == 404


def test_teacher_filters(demo):
    office = user("office")
    professors = services.search_teachers(office, title="教授", per_page=100).items
    assert professors and all(t.title == "教授" for t in professors)
    part_time = services.search_teachers(office, kind="part_time", per_page=100).items
    assert part_time and all(t.kind == "part_time" for t in part_time)
    shared = services.search_teachers(None, per_page=100).items
    assert all(t.shared for t in shared)
    topic = shared[0].topics.split("、")[0]
    assert shared[0] in services.search_teachers(None, topic=topic, per_page=100).items


def test_courses_list_and_detail(demo, client):
    course = db.session.scalars(select(Course)).first()
    assert course.name in client.get("/courses").get_data(as_text=True)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert course.name in page and course.kind_label in page
    assert client.get("/courses?kind=nonsense").status_code == 400


def test_site_page_shows_details_and_courses(demo, client):
    course = db.session.scalars(select(Course).where(Course.site_id.is_not(None))).first()
    page = client.get(f"/sites/{course.site_id}").get_data(as_text=True)
    for text in ("每场容量", "开放日", "开放时间", "讲解员", "地址", course.name):
        assert text in page
    assert "变更记录" not in page  # history is for signed-in users
    assert client.get("/sites/999999").status_code == 404


def test_hook_portal_site_detail_fields(demo, client, app):
    class Extra:
        @hookimpl
        def portal_site_detail_fields(self, site):
            return (
                [DetailField("徒步距离", "<b>约 3 公里</b>")] if site.name == "松山战役遗址" else []
            )

    songshan = db.session.scalar(select(TeachingSite).where(TeachingSite.name == "松山战役遗址"))
    with registered(app, Extra(), "extra"):
        sync_plugins()  # the fields are asked at sync, once per site, and kept
        db.session.commit()
        page = client.get(f"/sites/{songshan.id}").get_data(as_text=True)
        assert "徒步距离" in page and "&lt;b&gt;约 3 公里&lt;/b&gt;" in page
        other = client.get(f"/sites/{site_of('party_school').id}").get_data(as_text=True)
        assert "徒步距离" not in other


# ---------------------------------------------------------------- editing one's own items


def test_staff_create_a_site_for_their_own_member_with_history(demo, client):
    login(client, "tengchong_college_staff")
    response = client.post("/sites/new", data={**SITE_FORM, "member_id": member("party_school").id})
    assert response.status_code == 302
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.name == "新教学点"))
    assert site.member.key == "tengchong_college"  # never another member's, whatever was posted
    assert site.open_weekdays == "234" and site.plugin is None
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "变更记录" in page and "新建" in page and "腾冲干部学院工作人员" in page


def test_office_must_choose_the_member(demo, client):
    login(client, "office")
    response = client.post("/sites/new", data={**SITE_FORM, "member_id": "0"})
    assert response.status_code == 400
    assert "请选择所属成员单位" in response.get_data(as_text=True)
    response = client.post(
        "/sites/new", data={**SITE_FORM, "member_id": member("songshan_base").id}
    )
    assert response.status_code == 302


def test_bad_site_input_is_explained_and_nothing_is_written(demo, client):
    login(client, "party_school_staff")
    before = count(TeachingSite)
    cases = {
        "请填写名称": {"name": "  "},
        "每场容量须为 1 到 10000": {"capacity": "-5"},
        "关闭时间须晚于开放时间": {"opens": "18:00", "closes": "09:00"},
        "名称不能超过 128 个字符": {"name": "长" * (5 * 1024 * 1024 // 3)},
        "请至少选择一个开放日": {"open_weekdays": []},
        "包含无效字符": {"name": "坏\x00名字"},
    }
    for message, change in cases.items():
        response = client.post("/sites/new", data={**SITE_FORM, **change})
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True), message
    response = client.post("/sites/new", data={**SITE_FORM, "capacity": "很多"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="新教学点"' in page  # what was typed stays
    assert count(TeachingSite) == before


def test_script_in_text_is_stored_as_text_and_escaped(demo, client):
    login(client, "party_school_staff")
    client.post("/sites/new", data={**SITE_FORM, "name": "<script>alert(1)</script>"})
    site = db.session.scalar(
        select(TeachingSite).where(TeachingSite.name == "<script>alert(1)</script>")
    )
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_records_what_changed_and_sync_keeps_it(demo, client):
    site = site_of("tengchong_college")
    login(client, "tengchong_college_admin")
    form = client.get(f"/sites/{site.id}/edit").get_data(as_text=True)
    assert site.name in form
    data = {
        "name": site.name,
        "theme": site.theme,
        "capacity": str(site.capacity + 10),
        "session_minutes": str(site.session_minutes),
        "open_weekdays": list(site.open_weekdays),
        "opens": site.opens.strftime("%H:%M"),
        "closes": site.closes.strftime("%H:%M"),
        "needs_guide": "y" if site.needs_guide else "",
        "address": site.address,
        "description": site.description,
        "reason": "新展厅开放",
    }
    old_capacity = site.capacity
    assert client.post(f"/sites/{site.id}/edit", data=data).status_code == 302
    db.session.refresh(site)
    assert site.capacity == old_capacity + 10 and site.edited_locally
    entry = services.history(site)[0]
    assert entry.action == "edit" and entry.reason == "新展厅开放"
    assert entry.changes == {"capacity": [str(old_capacity), str(old_capacity + 10)]}
    sync_plugins()
    db.session.commit()
    db.session.refresh(site)
    assert site.capacity == old_capacity + 10
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "新展厅开放" in page and "每场容量" in page


def test_staff_cannot_touch_another_members_items(demo, client):
    login(client, "party_school_staff")
    site = site_of("songshan_base")
    teacher = db.session.scalars(select(Teacher).where(Teacher.member_id == site.member_id)).first()
    course = db.session.scalars(select(Course).where(Course.member_id == site.member_id)).first()
    for url in (
        f"/sites/{site.id}/edit",
        f"/teachers/{teacher.id}/edit",
        f"/courses/{course.id}/edit",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={"name": "改掉"}).status_code == 404, url
    assert (
        client.post(
            f"/sites/{site.id}/status", data={"status-status": "retired", "status-reason": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/teachers/{teacher.id}/unavailable", data={}).status_code == 404
    assert client.post(f"/courses/{course.id}/materials", data={}).status_code == 404
    db.session.refresh(site)
    assert site.status == "active" and site.name != "改掉"
    with pytest.raises(NotFound):
        services.update_item(site, user("party_school_staff"), {"name": "x"})
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert f"/sites/{site.id}/edit" not in page


@pytest.mark.parametrize("username", ["organizer", "trainee"])
def test_organizers_and_trainees_do_not_edit_the_catalogue(demo, client, username):
    login(client, username)
    assert client.get("/sites/new").status_code == 403
    assert client.get(f"/sites/{site_of('party_school').id}/edit").status_code == 403


def test_suspend_needs_a_reason_and_is_kept_in_history(demo, client):
    site = site_of("yangshanzhou_college")
    login(client, "yangshanzhou_college_staff")
    client.post(
        f"/sites/{site.id}/status", data={"status-status": "suspended", "status-reason": ""}
    )
    db.session.refresh(site)
    assert site.status == "active"
    client.post(
        f"/sites/{site.id}/status", data={"status-status": "suspended", "status-reason": "展馆维修"}
    )
    db.session.refresh(site)
    assert site.status == "suspended"
    entry = services.history(site)[0]
    assert (entry.action, entry.reason) == ("suspend", "展馆维修")
    assert "展馆维修" in client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert site.name not in client.get("/sites").get_data(as_text=True)
    assert site.name in client.get("/sites?status=suspended").get_data(as_text=True)
    # A plugin sync leaves the staff's decision alone.
    sync_plugins()
    db.session.commit()
    db.session.refresh(site)
    assert site.status == "suspended"


def test_sync_changes_are_in_the_history(app):
    sync_plugins()
    db.session.commit()
    site = db.session.scalars(select(TeachingSite)).first()
    entries = services.history(site)
    # Named by the member whose plugin brought it ("松山基地（插件同步）"), not by a plugin key.
    assert entries[-1].action == "create"
    assert entries[-1].actor_name == f"{site.member.short_name}（插件同步）"
    assert site.member.plugin not in entries[-1].actor_name


# ---------------------------------------------------------------- assessments


def test_office_records_yearly_assessments_and_the_list_sorts_by_score(demo, client):
    low, high = site_of("party_school"), site_of("songshan_base")
    office = user("office")
    services.record_assessment(low, office, 2025, 95, "")
    services.record_assessment(low, office, 2026, 70.5, "讲解需加强")
    services.record_assessment(high, office, 2026, 92, "优秀")
    db.session.commit()
    ranked = services.search_sites(sort="score", per_page=100).items
    assert ranked[0] == high and ranked[1] == low
    page = client.get(f"/sites/{low.id}").get_data(as_text=True)
    assert "2025" in page and "70.5" in page and "讲解需加强" in page
    login(client, "office")
    client.post(
        f"/sites/{low.id}/assessments",
        data={"assess-year": "2026", "assess-score": "88", "assess-remarks": "复核"},
    )
    assert services.assessments(low)[0].score == 88


def test_assessment_rules(demo, client):
    site = site_of("party_school")
    with pytest.raises(PermissionDenied):
        services.record_assessment(site, user("party_school_admin"), 2026, 90, "")
    login(client, "party_school_admin")
    assert (
        client.post(
            f"/sites/{site.id}/assessments", data={"assess-year": "2026", "assess-score": "90"}
        ).status_code
        == 403
    )
    login(client, "office")
    page = client.post(
        f"/sites/{site.id}/assessments",
        data={"assess-year": "2026", "assess-score": "150"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "分数须在 0 到 100 之间" in page
    assert services.assessments(site) == []


# ---------------------------------------------------------------- teachers and courses


def test_teacher_unavailable_dates(demo, client):
    teacher = db.session.scalars(
        select(Teacher).where(Teacher.member_id == member("party_school").id)
    ).first()
    login(client, "party_school_staff")
    start = date.today() + timedelta(days=10)
    client.post(
        f"/teachers/{teacher.id}/unavailable",
        data={
            "off-starts_on": start.isoformat(),
            "off-ends_on": (start + timedelta(days=2)).isoformat(),
            "off-reason": "外出授课",
        },
    )
    assert not services.teacher_available_on(teacher, start + timedelta(days=1))
    assert services.teacher_available_on(teacher, start + timedelta(days=3))
    page = client.get(f"/teachers/{teacher.id}").get_data(as_text=True)
    assert "外出授课" in page
    response = client.post(
        f"/teachers/{teacher.id}/unavailable",
        data={
            "off-starts_on": start.isoformat(),
            "off-ends_on": (start - timedelta(days=2)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
    entry = services.unavailable_spans(teacher)[0]
    other = client.application.test_client()
    login(other, "songshan_base_staff")
    assert other.post(f"/teachers/unavailable/{entry.id}/delete").status_code == 404
    client.post(f"/teachers/unavailable/{entry.id}/delete")
    assert services.teacher_available_on(teacher, start + timedelta(days=1))


def test_courses_take_own_and_shared_teachers_only(demo, client):
    party = member("party_school")
    own = db.session.scalars(select(Teacher).where(Teacher.member_id == party.id)).first()
    shared = db.session.scalars(
        select(Teacher).where(Teacher.member_id != party.id, Teacher.shared.is_(True))
    ).first()
    private = db.session.scalars(
        select(Teacher).where(Teacher.member_id != party.id, Teacher.shared.is_(False))
    ).first()
    login(client, "party_school_staff")
    data = {
        "name": "联合课程",
        "kind": "lecture",
        "hours": "3",
        "site_id": "0",
        "teacher_ids": [str(own.id), str(shared.id)],
    }
    assert client.post("/courses/new", data=data).status_code == 302
    course = db.session.scalar(select(Course).where(Course.name == "联合课程"))
    assert {t.id for t in course.teachers} == {own.id, shared.id}
    response = client.post(
        "/courses/new", data={**data, "name": "越权课程", "teacher_ids": [str(private.id)]}
    )
    assert response.status_code == 400
    assert "只能选择本单位的师资或环线共享师资" in response.get_data(as_text=True)
    form = client.get("/courses/new").get_data(as_text=True)
    assert shared.name in form and private.name not in form


def test_excellent_mark_is_given_by_the_office(demo, client):
    course = db.session.scalars(select(Course).where(Course.excellent.is_(False))).first()
    login(client, f"{course.member.key}_admin")
    assert (
        client.post(f"/courses/{course.id}/excellent", data={"excellent": "1"}).status_code == 403
    )
    login(client, "office")
    client.post(f"/courses/{course.id}/excellent", data={"excellent": "1"})
    db.session.refresh(course)
    assert course.excellent
    assert services.history(course)[0].action == "excellent"
    assert course in services.search_courses(excellent=True, per_page=100).items


def test_materials_and_cases_with_checked_files(demo, client, app):
    course = db.session.scalars(
        select(Course).where(Course.member_id == member("songshan_base").id)
    ).first()
    login(client, "songshan_base_staff")
    client.post(
        f"/courses/{course.id}/materials",
        data={
            "mat-kind": "material",
            "mat-title": "松山战役讲义",
            "mat-file": (io.BytesIO(b"%PDF-1.4 test"), "讲义.pdf"),
        },
        content_type="multipart/form-data",
    )
    client.post(
        f"/courses/{course.id}/materials", data={"mat-kind": "case", "mat-title": "远征军案例"}
    )
    materials = db.session.scalars(
        select(CourseMaterial).where(CourseMaterial.course_id == course.id)
    ).all()
    assert [(m.kind, m.title) for m in materials] == [
        ("material", "松山战役讲义"),
        ("case", "远征军案例"),
    ]
    assert materials[0].stored_name != "讲义.pdf" and materials[0].original_name == "讲义.pdf"
    download = client.get(f"/materials/{materials[0].id}/file")
    assert download.data == b"%PDF-1.4 test"
    for name, body, message in (
        ("evil.exe", b"MZ\x90\x00", "只能上传"),
        ("fake.pdf", b"<html>not a pdf</html>", "文件内容与扩展名不符"),
        ("../../etc/passwd.pdf", b"", "附件是空文件"),
    ):
        page = client.post(
            f"/courses/{course.id}/materials",
            data={
                "mat-kind": "material",
                "mat-title": "坏文件",
                "mat-file": (io.BytesIO(body), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)
        assert message in page, name
    assert count(CourseMaterial) == 2
    client.post(f"/materials/{materials[0].id}/delete")
    assert count(CourseMaterial) == 1


def test_history_entries_name_the_member_for_reports(demo):
    site = site_of("party_school")
    services.change_status(site, user("office"), "suspended", "整改")
    db.session.commit()
    entry = db.session.scalars(select(CatalogChange).order_by(CatalogChange.id.desc())).first()
    assert entry.member_id == site.member_id and entry.actor_name == "环线办 王主任"


def test_the_history_shows_opening_days_as_names_and_keeps_the_note(demo, client):
    login(client, "party_school_staff")
    client.post("/sites/new", data={**SITE_FORM, "reason": "新馆开放"})
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.name == "新教学点"))
    entry = services.history(site)[0]
    assert entry.changes["open_weekdays"] == ["", "周二、周三、周四"]
    assert entry.reason == "新馆开放"


def test_a_site_page_lists_the_routes_through_it_and_how_bookings_are_confirmed(demo, client):
    memorial = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "dianxi_memorial"))
    page = client.get(f"/sites/{memorial.id}").get_data(as_text=True)
    assert "滇西抗战精神三日环线" in page and "杨善洲精神一日环线" not in page
    assert "由本单位逐一确认" in page


def test_staff_set_auto_confirm_and_guides_and_imports_leave_them(demo, client):
    site = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "dianxi_memorial"))
    login(client, "tengchong_college_staff")
    form = {
        **SITE_FORM,
        "name": site.name,
        "theme": site.theme,
        "capacity": str(site.capacity),
        "guide_count": "4",
        "auto_confirm": "y",
    }
    assert client.post(f"/sites/{site.id}/edit", data=form).status_code == 302
    db.session.refresh(site)
    assert (site.guide_count, site.auto_confirm) == (4, True)
    # An edit without these fields (an import, say) leaves them as they are.
    values = {
        "name": site.name,
        "theme": site.theme,
        "capacity": 90,
        "session_minutes": site.session_minutes,
        "open_weekdays": site.open_weekdays,
        "opens": site.opens,
        "closes": site.closes,
    }
    services.update_item(site, user("tengchong_college_staff"), values)
    db.session.commit()
    db.session.refresh(site)
    assert (site.capacity, site.guide_count, site.auto_confirm) == (90, 4, True)
    bad = client.post(f"/sites/{site.id}/edit", data={**form, "guide_count": "-1"})
    assert bad.status_code == 400 and "讲解员人数须为 0 到 100" in bad.get_data(as_text=True)
