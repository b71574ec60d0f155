"""The class and booking pages: register a class, check and book a route, members decide."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth import services as auth_services
from portal.auth.models import User
from portal.catalog.models import Course, TeacherUnavailability, TeachingSite
from portal.extensions import db
from portal.scheduling.models import Booking, Reservation, RouteTemplate, TrainingClass
from portal.timeutil import LOCAL_TZ
from tests.conftest import login

pytestmark = pytest.mark.db

ONE_DAY = "杨善洲精神一日环线"
THREE_DAYS = "滇西抗战精神三日环线"


# ---------------------------------------------------------------- helpers


def weekday_ahead(isoweekday: int, at_least_days: int = 14) -> date:
    """The first given weekday (1 = Monday) at least ``at_least_days`` from today."""
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=at_least_days)
    while day.isoweekday() != isoweekday:
        day += timedelta(days=1)
    return day


TUESDAY = weekday_ahead(2)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def template(name: str) -> RouteTemplate:
    return db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == name))


def site(key: str) -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def course(key: str) -> Course:
    return db.session.scalar(select(Course).where(Course.key == key))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def class_named(name: str) -> TrainingClass:
    db.session.expire_all()
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == name))


def class_data(**overrides) -> dict:
    data = {
        "name": "某县科级干部党性教育培训班",
        "kind": "main",
        "origin": "province",
        "sending_unit": "某县委组织部",
        "size": "30",
        "starts_on": TUESDAY.isoformat(),
        "ends_on": TUESDAY.isoformat(),
        "theme": "党性教育",
        "contact_name": "王老师",
        "contact_phone": "0875-1234567",
    }
    data.update(overrides)
    return data


def register(client, **overrides) -> TrainingClass:
    data = class_data(**overrides)
    response = client.post("/classes/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return class_named(data["name"])


def book_form(
    tpl: RouteTemplate,
    start: date = TUESDAY,
    key: str = "key-0123456789abcdef",
    action: str | None = "check",
    squads: dict[int, int] | None = None,
    **extra,
) -> dict:
    data = {"template_id": str(tpl.id), "start_date": start.isoformat(), "key": key, **extra}
    if action:
        data[action] = "1"
    if squads is not None:
        data["checked_template"] = str(tpl.id)
        data.update({f"squads-{i}": str(n) for i, n in squads.items()})
    return data


def book_template(client, training_class: TrainingClass, name: str = ONE_DAY, **kwargs):
    return client.post(
        f"/bookings/new?class_id={training_class.id}",
        data=book_form(template(name), action="book", **kwargs),
    )


def booking_id_of(response) -> int:
    match = re.search(r"/bookings/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def custom_rows(*rows: tuple) -> dict:
    """Rows of (day, "HH:MM", minutes, site key, course key or None, squads)."""
    data = {}
    for i, (day, starts, minutes, site_key, course_key, squads) in enumerate(rows):
        data.update(
            {
                f"stops-{i}-day": str(day),
                f"stops-{i}-starts": starts,
                f"stops-{i}-minutes": str(minutes),
                f"stops-{i}-site_id": str(site(site_key).id),
                f"stops-{i}-course_id": str(course(course_key).id) if course_key else "0",
                f"stops-{i}-squads": str(squads),
            }
        )
    return data


@pytest.fixture
def organizer(demo, client):
    login(client, "organizer")
    return client


@pytest.fixture
def other_client(demo):
    return demo.test_client()


# ---------------------------------------------------------------- classes


def test_organizer_registers_a_class(organizer):
    page = organizer.get("/classes/new").get_data(as_text=True)
    for label in ("班级名称", "班次类型", "生源", "选派单位", "人数", "开班日期", "结业日期"):
        assert label in page
    assert "参观学习团组（非培训班）" in page
    assert 'list="theme-options"' in page and '<option value="党性教育">' in page

    response = organizer.post("/classes/new", data=class_data(), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已登记培训班：某县科级干部党性教育培训班" in page
    training_class = class_named("某县科级干部党性教育培训班")
    assert training_class.organizer_id == user("organizer").id
    assert training_class.size == 30 and training_class.days == 1
    # One day: the ring-route rule does not apply, no warning.
    assert "须安排环线教学" not in page
    assert "预约线路" in page

    listing = organizer.get("/classes").get_data(as_text=True)
    assert "某县科级干部党性教育培训班" in listing and "未预约" in listing


def test_class_validation_errors_in_chinese_keep_the_input(organizer):
    before = count(TrainingClass)
    response = organizer.post(
        "/classes/new",
        data=class_data(
            name="保留的名称",
            starts_on=TUESDAY.isoformat(),
            ends_on=(TUESDAY - timedelta(days=2)).isoformat(),
            size="0",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "结业日期不能早于开班日期。" in page
    assert "人数须为 1 到 2000 之间的整数。" in page
    assert 'value="保留的名称"' in page and 'value="某县委组织部"' in page

    response = organizer.post("/classes/new", data=class_data(name="坏\x00名称", size="abc"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "班级名称包含无效字符。" in page
    assert "请填写整数。" in page

    response = organizer.post("/classes/new", data=class_data(kind="x\x00", starts_on=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请填写开班日期。" in page
    assert count(TrainingClass) == before


def test_a_long_party_spirit_class_is_sent_to_book_its_ring_route(organizer):
    data = class_data(
        name="三天党性教育班", origin="city", ends_on=(TUESDAY + timedelta(days=2)).isoformat()
    )
    response = organizer.post("/classes/new", data=data)
    training_class = class_named("三天党性教育班")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/new?class_id={training_class.id}")

    page = organizer.get(response.headers["Location"]).get_data(as_text=True)
    assert "须安排环线教学" in page and "三天党性教育班" in page
    assert ONE_DAY in page and THREE_DAYS in page

    detail = organizer.get(f"/classes/{training_class.id}").get_data(as_text=True)
    assert 'data-testid="ring-route-warning"' in detail
    assert organizer.get("/classes").get_data(as_text=True).count("须安排环线教学") == 1

    # A study-visit group is not a training class: no rule, no warning.
    response = organizer.post(
        "/classes/new", data={**data, "name": "参观团", "is_study_visit": "y"}
    )
    assert "/classes/" in response.headers["Location"]
    assert class_named("参观团").is_study_visit


def test_editing_a_class(organizer):
    training_class = register(organizer)
    page = organizer.get(f"/classes/{training_class.id}/edit").get_data(as_text=True)
    assert 'value="某县科级干部党性教育培训班"' in page

    response = organizer.post(
        f"/classes/{training_class.id}/edit", data=class_data(size="45", contact_phone="")
    )
    assert response.status_code == 400
    assert "请填写联系电话。" in response.get_data(as_text=True)
    assert fresh(TrainingClass, training_class.id).size == 30

    response = organizer.post(
        f"/classes/{training_class.id}/edit", data=class_data(size="45"), follow_redirects=True
    )
    assert "已保存。" in response.get_data(as_text=True)
    assert fresh(TrainingClass, training_class.id).size == 45


def test_a_ring_route_class_may_not_lose_its_only_route_by_editing(organizer):
    training_class = register(organizer, origin="city")
    booking_id = booking_id_of(book_template(organizer, training_class))
    organizer.post(f"/bookings/{booking_id}/cancel", data={"reason": "改期"})
    assert fresh(Booking, booking_id).status == "cancelled"

    three_days = class_data(origin="city", ends_on=(TUESDAY + timedelta(days=2)).isoformat())
    response = organizer.post(f"/classes/{training_class.id}/edit", data=three_days)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "须安排环线教学" in page
    assert fresh(TrainingClass, training_class.id).days == 1


# ---------------------------------------------------------------- who may see what


def test_trainees_and_member_staff_may_not_register_classes(demo, client):
    login(client, "trainee")
    assert client.get("/classes/new").status_code == 403
    assert client.post("/classes/new", data=class_data()).status_code == 403
    assert client.get("/classes").status_code == 403
    assert client.get("/bookings/new").status_code == 403
    login(client, "yangshanzhou_college_staff")
    assert client.get("/classes/new").status_code == 403
    assert count(TrainingClass) == 0
    client.post("/logout")
    assert client.get("/classes/new").status_code == 302  # to the login page


def test_another_organizer_cannot_see_the_class(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    auth_services.create_user(
        username="organizer2",
        display_name="另一位联系人",
        role="organizer",
        password="huanxian2026",
        unit_name="另一单位",
    )
    db.session.commit()
    login(other_client, "organizer2")
    assert other_client.get(f"/classes/{training_class.id}").status_code == 404
    assert other_client.get(f"/classes/{training_class.id}/edit").status_code == 404
    assert other_client.get(f"/bookings/new?class_id={training_class.id}").status_code == 404
    assert other_client.get(f"/bookings/{booking_id}").status_code == 404
    response = other_client.post(f"/bookings/{booking_id}/cancel", data={"reason": "x"})
    assert response.status_code == 404
    assert training_class.name not in other_client.get("/classes").get_data(as_text=True)
    assert other_client.get("/classes/99999999999").status_code == 404
    # The office sees every class.
    login(other_client, "office")
    assert training_class.name in other_client.get("/classes").get_data(as_text=True)
    assert other_client.get(f"/bookings/{booking_id}").status_code == 200


# ---------------------------------------------------------------- booking a template


def test_booking_a_template_after_a_check(organizer):
    training_class = register(organizer)
    tpl = template(ONE_DAY)
    url = f"/bookings/new?class_id={training_class.id}&template_id={tpl.id}"
    page = organizer.get(url).get_data(as_text=True)
    assert f'<option selected value="{tpl.id}">' in page
    assert f'value="{TUESDAY.isoformat()}"' in page  # the class's first day
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    assert len(key) >= 16
    assert "确认预约" not in page  # only after a check

    response = organizer.post(url, data=book_form(tpl, key=key))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "所有站点均满足条件" in page and "确认预约" in page
    assert 'name="squads-0"' in page and 'name="squads-1"' not in page  # a meal: no squads

    response = organizer.post(url, data=book_form(tpl, key=key, action="book", squads={}))
    assert response.status_code == 302
    booking_id = booking_id_of(response)
    page = organizer.get(response.headers["Location"]).get_data(as_text=True)
    assert "预约已提交，等待各成员单位确认。" in page
    assert ONE_DAY in page and "待确认" in page
    assert "杨善洲精神教育基地（大亮山林场）" in page
    assert f"{TUESDAY.isoformat()} 09:00" in page  # local time, not UTC
    assert (TUESDAY - timedelta(days=3)).isoformat() in page  # the change deadline
    assert "提交预约" in page and "取消预约" in page
    booking = fresh(Booking, booking_id)
    assert booking.template_id == tpl.id and booking.status == "pending"
    assert len(booking.reservations) == 3

    listing = organizer.get("/classes").get_data(as_text=True)
    assert ONE_DAY in listing and "待确认" in listing
    assert organizer.get(f"/classes/{training_class.id}/book").status_code == 302


def test_double_submit_creates_one_booking(organizer):
    training_class = register(organizer)
    first = book_template(organizer, training_class, key="same-key-1234567890")
    second = book_template(organizer, training_class, key="same-key-1234567890")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Booking) == 1
    # A new form (a new key) is a new booking, checked again: the teachers are now taken.
    again = book_template(organizer, training_class, key="other-key-1234567890")
    assert again.status_code == 409
    assert "已有其他安排" in again.get_data(as_text=True)
    assert count(Booking) == 1


def test_a_monday_shows_the_closed_day_and_other_dates(organizer):
    monday = TUESDAY - timedelta(days=1)
    training_class = register(
        organizer,
        starts_on=(monday - timedelta(days=2)).isoformat(),
        ends_on=(TUESDAY + timedelta(days=2)).isoformat(),
    )
    tpl = template(ONE_DAY)
    url = f"/bookings/new?class_id={training_class.id}"
    page = organizer.post(url, data=book_form(tpl, start=monday)).get_data(as_text=True)
    # One row per closed stop: the open days, not also the member's own 每周一闭馆.
    assert "不开放" in page and "闭馆" not in page
    assert "确认预约" not in page
    assert 'data-testid="suggested-dates"' in page
    suggested = re.findall(r'name="suggest" value="(\d{4}-\d\d-\d\d)"', page)
    assert suggested and monday.isoformat() not in suggested
    assert TUESDAY.isoformat() in suggested

    # Pressing a suggested date checks again on that date.
    page = organizer.post(
        url, data=book_form(tpl, start=monday, action=None, suggest=TUESDAY.isoformat())
    ).get_data(as_text=True)
    assert "所有站点均满足条件" in page
    assert f'value="{TUESDAY.isoformat()}"' in page

    # Booking the Monday anyway is refused with the same reasons; nothing is saved.
    response = organizer.post(url, data=book_form(tpl, start=monday, action="book"))
    assert response.status_code == 409
    assert "不开放" in response.get_data(as_text=True)
    assert count(Booking) == 0


def test_a_large_class_is_offered_squads(organizer):
    training_class = register(
        organizer, size="50", ends_on=(TUESDAY + timedelta(days=2)).isoformat()
    )
    tpl = template(THREE_DAYS)
    url = f"/bookings/new?class_id={training_class.id}"
    page = organizer.post(url, data=book_form(tpl)).get_data(as_text=True)
    assert "和顺艾思奇故居" in page and "建议分为 2 组" in page
    assert "已按建议填好分组数" in page
    squads = dict(re.findall(r'name="squads-(\d+)" value="(\d+)"', page))
    heshun = [i for i, s in enumerate(tpl.stops) if s.site and s.site.capacity < 50]
    assert heshun and all(squads[str(i)] == "2" for i in heshun)
    assert "确认预约" not in page

    filled = {int(i): int(n) for i, n in squads.items()}
    page = organizer.post(url, data=book_form(tpl, squads=filled)).get_data(as_text=True)
    assert "所有站点均满足条件" in page

    response = organizer.post(url, data=book_form(tpl, action="book", squads=filled))
    booking = fresh(Booking, booking_id_of(response))
    at_heshun = [r for r in booking.reservations if r.site.capacity < 50]
    assert sorted((r.squad, r.group_size) for r in at_heshun) == [
        (1, 25),
        (1, 25),
        (2, 25),
        (2, 25),
    ]


def test_squads_must_be_whole_numbers(organizer):
    training_class = register(organizer)
    tpl = template(ONE_DAY)
    response = organizer.post(
        f"/bookings/new?class_id={training_class.id}",
        data=book_form(tpl, squads={}, **{"squads-0": "x\x00"}),
    )
    assert response.status_code == 400
    assert "分组数须为 1 到 20 之间的整数。" in response.get_data(as_text=True)


def test_a_full_session_offers_the_waiting_list_and_a_freed_place(organizer, other_client):
    first = register(organizer, name="先到的班", size="40")
    stop = custom_rows((1, "13:30", 60, "aisiqi_residence", None, 1))
    url = f"/bookings/new?class_id={first.id}&mode=custom"
    response = organizer.post(
        url,
        data={"start_date": TUESDAY.isoformat(), "key": "first-key-12345678", "book": "1", **stop},
    )
    first_booking = booking_id_of(response)

    second = register(organizer, name="后到的班", size="30")
    url = f"/bookings/new?class_id={second.id}&mode=custom"
    form = {"start_date": TUESDAY.isoformat(), "key": "second-key-1234567", **stop}
    page = organizer.post(url, data={**form, "check": "1"}).get_data(as_text=True)
    assert "这一场已满" in page and "加入候补并预约其余站点" in page
    response = organizer.post(url, data={**form, "waitlist": "1"})
    second_booking = booking_id_of(response)
    waiting = fresh(Booking, second_booking).reservations[0]
    assert waiting.status == "waitlisted"
    assert "候补中" in organizer.get(f"/bookings/{second_booking}").get_data(as_text=True)

    organizer.post(f"/bookings/{first_booking}/cancel", data={"reason": "行程调整"})
    page = organizer.get(f"/bookings/{second_booking}").get_data(as_text=True)
    assert "候补待接受" in page and "接受候补名额" in page

    login(other_client, "tengchong_college_staff")
    assert other_client.post(f"/reservations/{waiting.id}/accept").status_code == 404

    response = organizer.post(f"/reservations/{waiting.id}/accept", follow_redirects=True)
    assert "已接受候补名额。" in response.get_data(as_text=True)
    assert fresh(Reservation, waiting.id).status == "pending"


# ---------------------------------------------------------------- custom routes


def test_a_custom_route_with_two_stops(organizer):
    training_class = register(organizer)
    url = f"/bookings/new?class_id={training_class.id}&mode=custom"
    page = organizer.get(url).get_data(as_text=True)
    assert "定制线路" in page and 'name="stops-2-day"' in page and 'name="stops-3-day"' not in page
    assert "第几天" in page and "教学点" in page and "课程（可选）" in page

    rows = custom_rows(
        (1, "09:00", 90, "dianxi_memorial", "memorial_onsite", 1),
        (1, "10:50", 60, "guoshang_cemetery", None, 1),
    )
    form = {"start_date": TUESDAY.isoformat(), "key": "custom-key-123456789", **rows}
    page = organizer.post(url, data={**form, "add_row": "1"}).get_data(as_text=True)
    assert 'name="stops-3-day"' in page and 'name="stops-4-day"' not in page

    page = organizer.post(url, data={**form, "check": "1"}).get_data(as_text=True)
    assert "所有站点均满足条件" in page

    response = organizer.post(url, data={**form, "book": "1"})
    booking = fresh(Booking, booking_id_of(response))
    assert booking.template_id is None and booking.name == "定制线路"
    lesson, visit = booking.reservations
    memorial = course("memorial_onsite")
    assert lesson.course_id == memorial.id and lesson.teacher_id == memorial.teachers[0].id
    assert visit.course_id is None and visit.guide_requested
    assert lesson.starts_at.astimezone(LOCAL_TZ).strftime("%H:%M") == "09:00"


def test_custom_route_rows_are_checked(organizer):
    training_class = register(organizer)
    url = f"/bookings/new?class_id={training_class.id}&mode=custom"
    rows = custom_rows((1, "09:00", 90, "dianxi_memorial", "daliangshan_onsite", 1))
    rows["stops-0-starts"] = "25:99"
    response = organizer.post(
        url, data={"start_date": TUESDAY.isoformat(), "key": "k" * 20, "check": "1", **rows}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请填写有效的时间" in page and "该课程不在所选教学点开设。" in page

    # A too-large group on a custom route: the squads are suggested and filled in.
    big = register(organizer, name="大班", size="60")
    url = f"/bookings/new?class_id={big.id}&mode=custom"
    rows = custom_rows((1, "09:00", 60, "heshun_library", None, 1))
    page = organizer.post(
        url, data={"start_date": TUESDAY.isoformat(), "key": "k" * 20, "check": "1", **rows}
    ).get_data(as_text=True)
    assert "建议分为 2 组" in page
    assert re.search(r'id="stops-0-squads"[^>]*value="2"|value="2"[^>]*id="stops-0-squads"', page)


# ---------------------------------------------------------------- members decide


def test_member_staff_confirm_and_decline(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    staff = other_client
    login(staff, "yangshanzhou_college_staff")
    page = staff.get("/inbox").get_data(as_text=True)
    assert "预约待办" in page
    # A card (phones) and a table row (wider screens) per stop, and the class's 全部确认.
    assert page.count(training_class.name) == 2 * 3 + 1
    assert "全部确认（3 站）" in page
    assert "某县委组织部" in page and "市外省内" in page and ONE_DAY in page
    assert TUESDAY.isoformat() in page

    first, second, third = fresh(Booking, booking_id).reservations
    response = staff.post(f"/reservations/{first.id}/confirm", follow_redirects=True)
    assert "已确认：" in response.get_data(as_text=True)
    assert fresh(Reservation, first.id).status == "confirmed"

    response = staff.post(f"/reservations/{second.id}/decline", data={"reason": ""})
    assert response.status_code == 302
    assert "婉拒时请说明原因。" in staff.get("/inbox").get_data(as_text=True)
    assert fresh(Reservation, second.id).status == "pending"
    staff.post(f"/reservations/{second.id}/decline", data={"reason": "坏\x00原因"})
    assert fresh(Reservation, second.id).status == "pending"

    staff.post(f"/reservations/{second.id}/decline", data={"reason": "当天有接待任务"})
    assert fresh(Reservation, second.id).status == "declined"
    assert fresh(Booking, booking_id).status == "declined"
    assert fresh(Reservation, third.id).status == "pending"

    # Deciding twice is refused with a message.
    response = staff.post(f"/reservations/{first.id}/confirm", follow_redirects=True)
    assert "该预约已处理" in response.get_data(as_text=True)

    done = staff.get("/inbox?status=declined").get_data(as_text=True)
    assert "当天有接待任务" in done and training_class.name in done
    assert training_class.name in staff.get("/inbox?status=confirmed").get_data(as_text=True)

    page = organizer.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "有站点被婉拒" in page and "当天有接待任务" in page
    assert "婉拒" in page and "杨善洲干部学院" in page


def test_the_booking_is_confirmed_when_every_stop_is(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    login(other_client, "yangshanzhou_college_admin")
    for reservation in fresh(Booking, booking_id).reservations:
        assert other_client.post(f"/reservations/{reservation.id}/confirm").status_code == 302
    assert fresh(Booking, booking_id).status == "confirmed"
    page = organizer.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert 'text-bg-success">已确认' in page and 'text-bg-warning">待确认' not in page
    assert "暂无待确认的预约。" in other_client.get("/inbox").get_data(as_text=True)


def test_a_confirmation_that_no_longer_fits_is_refused(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    first = fresh(Booking, booking_id).reservations[0]
    teacher_id = first.teacher_id
    assert teacher_id is not None
    db.session.add(TeacherUnavailability(teacher_id=teacher_id, starts_on=TUESDAY, ends_on=TUESDAY))
    db.session.commit()
    login(other_client, "yangshanzhou_college_staff")
    response = other_client.post(f"/reservations/{first.id}/confirm", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "无法确认" in page and "不能授课" in page and "alert-danger" in page
    assert fresh(Reservation, first.id).status == "pending"


def test_other_members_and_organizers_cannot_decide(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    reservation = fresh(Booking, booking_id).reservations[0]
    login(other_client, "tengchong_college_staff")
    assert training_class.name not in other_client.get("/inbox").get_data(as_text=True)
    assert other_client.post(f"/reservations/{reservation.id}/confirm").status_code == 404
    response = other_client.post(f"/reservations/{reservation.id}/decline", data={"reason": "x"})
    assert response.status_code == 404
    assert other_client.post("/reservations/99999999/confirm").status_code == 404
    assert organizer.get("/inbox").status_code == 403
    assert organizer.post(f"/reservations/{reservation.id}/confirm").status_code == 403
    assert fresh(Reservation, reservation.id).status == "pending"


def test_the_office_sees_every_member_with_a_filter(organizer, other_client):
    training_class = register(organizer)
    book_template(organizer, training_class)
    login(other_client, "office")
    page = other_client.get("/inbox").get_data(as_text=True)
    assert training_class.name in page and "成员单位" in page
    yangshanzhou = site("spirit_base").member_id
    tengchong = site("dianxi_memorial").member_id
    assert training_class.name in other_client.get(f"/inbox?member={yangshanzhou}").get_data(
        as_text=True
    )
    assert training_class.name not in other_client.get(f"/inbox?member={tengchong}").get_data(
        as_text=True
    )


# ---------------------------------------------------------------- cancelling


def test_the_organizer_cancels_with_a_reason(organizer, other_client):
    training_class = register(organizer)
    booking_id = booking_id_of(book_template(organizer, training_class))
    response = organizer.post(
        f"/bookings/{booking_id}/cancel", data={"reason": ""}, follow_redirects=True
    )
    assert "请填写取消原因。" in response.get_data(as_text=True)
    assert fresh(Booking, booking_id).status == "pending"

    response = organizer.post(
        f"/bookings/{booking_id}/cancel", data={"reason": "学员临时有会"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "预约已取消。" in page and "学员临时有会" in page and "已取消" in page
    booking = fresh(Booking, booking_id)
    assert booking.status == "cancelled" and booking.cancel_reason == "学员临时有会"
    assert all(r.status == "cancelled" for r in booking.reservations)
    assert f'action="/bookings/{booking_id}/cancel"' not in page

    response = organizer.post(
        f"/bookings/{booking_id}/cancel", data={"reason": "再取消一次"}, follow_redirects=True
    )
    assert "该预约已取消。" in response.get_data(as_text=True)

    login(other_client, "yangshanzhou_college_staff")
    assert training_class.name not in other_client.get("/inbox").get_data(as_text=True)


def test_picking_a_class_for_a_route(organizer):
    page = organizer.get("/bookings/new").get_data(as_text=True)
    assert "请先登记" in page
    training_class = register(organizer)
    tpl = template(THREE_DAYS)
    page = organizer.get(f"/bookings/new?template_id={tpl.id}").get_data(as_text=True)
    assert training_class.name in page and THREE_DAYS in page
    assert f'name="template_id" type="hidden" value="{tpl.id}"' in page
