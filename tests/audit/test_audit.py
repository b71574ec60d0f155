"""The audit log: who did what and when, for accounts, plugins, rules, routes, catalogue, bookings."""

from __future__ import annotations

import io

import openpyxl
import pytest

from portal import plugins
from portal.audit import services
from portal.catalog import services as catalog_services
from portal.errors import PermissionDenied
from portal.extensions import db
from portal.scheduling.booking import book, cancel_booking
from portal.scheduling.settings import set_setting
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user

pytestmark = pytest.mark.db


@pytest.fixture
def activity(demo, client):
    login(client, "office")
    client.post(
        "/admin/users",
        data={
            "username": "audited",
            "display_name": "被审计的人",
            "role": "organizer",
            "member_id": 0,
            "password": "first-pass-2026",
        },
    )
    plugins.set_enabled("songshan_base", False, by="office")
    set_setting("change_deadline_days", 5, user("office"))
    catalog_services.change_status(
        site("cemetery"), user("yangshanzhou_college_staff"), "suspended", "墓园修缮"
    )
    db.session.commit()
    booking = book(
        new_class(10), [stop("heshun_library", at(future_weekday(2), 10), 60)], user("organizer")
    )
    cancel_booking(booking, user("organizer"), "行程有变")
    return client


def test_every_kind_of_change_is_in_the_log(activity):
    rows = services.entries(user("office"))
    actions = {r.action for r in rows}
    assert {
        "account.create",
        "plugin.disable",
        "setting.change",
        "site.suspend",
        "booking.cancel",
    } <= actions
    by_action = {r.action: r for r in reversed(rows)}  # the newest of each action
    assert (
        by_action["account.create"].actor == "环线办 王主任"
        and by_action["account.create"].subject == "audited"
    )
    assert by_action["site.suspend"].reason == "墓园修缮"
    assert by_action["booking.cancel"].reason == "行程有变"
    assert rows == sorted(rows, key=lambda r: r.at, reverse=True)


def test_filters_by_area_and_person(activity):
    office = user("office")
    assert {r.area for r in services.entries(office, area="catalog")} == {"catalog"}
    assert {r.action for r in services.entries(office, area="plugin")} == {"plugin.disable"}
    assert all("杨善洲" in r.actor for r in services.entries(office, who="杨善洲"))


def test_the_office_browses_and_exports_it(activity):
    page = activity.get("/admin/audit").get_data(as_text=True)
    assert "account.create" in page and "墓园修缮" in page
    assert activity.get("/admin/audit?area=booking").get_data(as_text=True).count("booking.") >= 1
    assert activity.get("/admin/audit?start=2026-02-30").status_code == 400
    workbook = openpyxl.load_workbook(
        io.BytesIO(activity.get("/admin/audit.xlsx?area=catalog").data)
    )
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["时间", "操作人", "类别", "操作", "对象", "原因"]
    assert any(row[5] == "墓园修缮" for row in sheet.iter_rows(min_row=2, values_only=True))


@pytest.mark.parametrize("username", ["party_school_admin", "organizer", "trainee"])
def test_only_the_office_sees_the_log(activity, client, username):
    login(client, username)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.xlsx").status_code == 403
    with pytest.raises(PermissionDenied):
        services.entries(user(username))
