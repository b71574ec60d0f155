"""Joint ownership (共建): co-owners' staff edit a site or course, others still get 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.catalog import services
from portal.catalog.models import Course, TeachingSite
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.reports.figures import courses_added, sites_added
from portal.reports.period import Scope, year_period
from tests.catalog.test_catalog import member, site_of, user
from tests.conftest import login

pytestmark = pytest.mark.db


def site_form(site: TeachingSite, **change) -> dict:
    return {
        "name": site.name,
        "theme": site.theme,
        "capacity": str(site.capacity),
        "session_minutes": str(site.session_minutes),
        "open_weekdays": list(site.open_weekdays),
        "opens": site.opens.strftime("%H:%M"),
        "closes": site.closes.strftime("%H:%M"),
        "needs_guide": "y" if site.needs_guide else "",
        "address": site.address,
        "description": site.description,
        **change,
    }


def test_only_office_or_owner_admin_names_coowners(demo):
    site = site_of("songshan_base")
    with pytest.raises(NotFound):
        services.set_coowners(site, user("songshan_base_staff"), [member("party_school").id])
    with pytest.raises(NotFound):
        services.set_coowners(site, user("party_school_admin"), [member("party_school").id])
    with pytest.raises(ValidationFailed):
        services.set_coowners(site, user("office"), ["x"])
    with pytest.raises(ValidationFailed):
        services.set_coowners(site, user("office"), [999999])
    changed = services.set_coowners(
        site, user("songshan_base_admin"), [member("party_school").id, site.member_id]
    )
    db.session.commit()
    assert [m.key for m in site.coowners] == ["party_school"]  # the owner is never a co-owner
    assert "coowners" in changed
    assert services.history(site)[0].actor_name == user("songshan_base_admin").display_name


def test_coowner_staff_edit_with_history_and_third_member_gets_404(demo, client):
    site = site_of("songshan_base")
    services.set_coowners(site, user("office"), [member("party_school").id])
    db.session.commit()
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "共建：" in page and member("party_school").short_name in page

    login(client, "party_school_staff")
    response = client.post(
        f"/sites/{site.id}/edit", data=site_form(site, description="共建单位修改的介绍")
    )
    assert response.status_code == 302
    db.session.refresh(site)
    assert site.description == "共建单位修改的介绍"
    entry = services.history(site)[0]
    assert entry.action == "edit" and entry.actor_id == user("party_school_staff").id

    client.post("/logout")
    login(client, "tengchong_college_staff")
    assert client.get(f"/sites/{site.id}/edit").status_code == 404
    assert (
        client.post(f"/sites/{site.id}/edit", data=site_form(site, description="x")).status_code
        == 404
    )


def test_coowned_course_service_checks(demo):
    course = db.session.scalars(
        select(Course).where(Course.member_id == member("songshan_base").id)
    ).first()
    services.set_coowners(course, user("office"), [member("party_school").id])
    db.session.commit()
    assert services.can_edit_item(user("party_school_staff"), course)
    assert not services.can_edit_item(user("tengchong_college_staff"), course)
    with pytest.raises(NotFound):
        services.get_for_edit(Course, course.id, user("tengchong_college_staff"))
    assert services.get_for_edit(Course, course.id, user("party_school_staff")) is course


def test_report_counts_a_coowned_item_for_each_coowner(demo):
    site = site_of("songshan_base")
    course = db.session.scalars(
        select(Course).where(Course.member_id == member("songshan_base").id)
    ).first()
    when = datetime(2025, 6, 1, 4, tzinfo=UTC)
    site.created_at = course.created_at = when
    services.set_coowners(site, user("office"), [member("party_school").id])
    services.set_coowners(course, user("office"), [member("party_school").id])
    db.session.commit()
    period = year_period(2025)
    for key in ("songshan_base", "party_school"):
        scope = Scope(member(key))
        assert (
            site.id
            in db.session.scalars(
                sites_added(period, scope).with_only_columns(TeachingSite.id)
            ).all()
        )
        assert (
            course.id
            in db.session.scalars(courses_added(period, scope).with_only_columns(Course.id)).all()
        )
    third = Scope(member("tengchong_college"))
    assert (
        site.id
        not in db.session.scalars(
            sites_added(period, third).with_only_columns(TeachingSite.id)
        ).all()
    )
    consortium = db.session.scalars(
        sites_added(period, Scope(None)).with_only_columns(TeachingSite.id)
    ).all()
    assert consortium.count(site.id) == 1  # consortium-wide it is still one site


def test_owner_admin_names_coowners_on_the_page(demo, client):
    site = site_of("party_school")
    login(client, "party_school_staff")
    assert "保存共建单位" not in client.get(f"/sites/{site.id}").get_data(as_text=True)
    url = f"/sites/{site.id}/coowners"
    assert client.post(url, data={"coowners": str(member("songshan_base").id)}).status_code == 404
    client.post("/logout")
    login(client, "party_school_admin")
    assert "保存共建单位" in client.get(f"/sites/{site.id}").get_data(as_text=True)
    response = client.post(url, data={"coowners": "坏"}, follow_redirects=True)
    assert response.status_code == 200 and "请选择有效的成员单位" in response.get_data(as_text=True)
    assert client.post(url, data={"coowners": str(member("songshan_base").id)}).status_code == 302
    db.session.refresh(site)
    assert [m.key for m in site.coowners] == ["songshan_base"]
    course = db.session.scalars(
        select(Course).where(Course.member_id == member("party_school").id)
    ).first()
    assert client.post(f"/courses/{course.id}/coowners", data={}).status_code == 302
    db.session.refresh(course)
    assert course.coowners == []
