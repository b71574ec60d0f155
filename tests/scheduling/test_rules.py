"""Every fitting rule of portal.scheduling.fitting, one by one, and the booking life cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal import plugins
from portal.catalog import services as catalog_services
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import book, cancel_booking, decide, move_booking
from portal.scheduling.classes import needs_ring_route, register_class
from portal.scheduling.fitting import (
    BookingRefused,
    PlannedStop,
    check_plan,
    plan_from_template,
    shift_plan,
    suggest_dates,
    travel_minutes,
)
from portal.scheduling.history import booking_events
from portal.scheduling.models import Booking, Reservation
from portal.scheduling.settings import all_settings, set_setting
from portal.scheduling.waitlist import accept_offer, expire_offers
from portal.timeutil import LOCAL_TZ, utcnow
from tests.scheduling.helpers import (
    at,
    codes,
    future_weekday,
    new_class,
    site,
    stop,
    teacher,
    template,
    user,
)

pytestmark = pytest.mark.db


def test_an_open_site_with_room_fits(demo):
    tuesday = future_weekday(2)
    assert check_plan([stop("dianxi_memorial", at(tuesday, 9), 90)], 30) == []


def test_closed_day(demo):
    monday = future_weekday(1)
    problems = check_plan([stop("spirit_base", at(monday, 9), 120)], 30)
    assert "closed_day" in codes(problems)
    assert "不开放" in problems[0].message


@pytest.mark.parametrize(
    ("hour", "minute", "minutes"),
    [(7, 0, 60), (16, 30, 60), (23, 30, 60)],  # before opening, after closing, across midnight
)
def test_closed_hour(demo, hour, minute, minutes):
    problems = check_plan(
        [stop("dianxi_memorial", at(future_weekday(2), hour, minute), minutes)], 20
    )
    assert "closed_hour" in codes(problems)


def test_times_are_stored_in_utc_and_checked_in_local_time(demo):
    tuesday = future_weekday(2)
    klass = new_class(20)
    booking = book(klass, [stop("dianxi_memorial", at(tuesday, 9), 90)], user("organizer"))
    reservation = booking.reservations[0]
    assert reservation.starts_at.tzinfo is not None
    assert reservation.starts_at.astimezone(UTC).hour == 1  # 09:00 in Asia/Shanghai
    stored = db.session.execute(
        select(Reservation.starts_at).where(Reservation.id == reservation.id)
    ).scalar()
    assert stored.astimezone(UTC).hour == 1


def test_a_class_larger_than_the_site_is_offered_squads(demo):
    tuesday = future_weekday(2)
    problems = check_plan([stop("aisiqi_residence", at(tuesday, 9), 60)], 46)
    assert codes(problems) == ["too_large"]
    assert problems[0].suggestion == {"squads": 2}
    assert "分为 2 个小组" in problems[0].message
    split = stop("aisiqi_residence", at(tuesday, 9), 60, squads=2)
    assert check_plan([split], 46) == []
    booking = book(new_class(46), [split], user("organizer"))
    squads = [
        (r.squad, r.group_size, r.starts_at.astimezone(LOCAL_TZ).hour) for r in booking.reservations
    ]
    assert squads == [(1, 23, 9), (2, 23, 10)]


def test_a_full_session_is_refused_and_can_be_waitlisted(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    book(new_class(30, name="先到的班"), plan, user("organizer"))
    problems = check_plan(plan, 20)
    # 10 places left for 20: two squads one after another, or the waiting list.
    assert codes(problems) == ["full"]
    assert problems[0].suggestion == {"waitlist": True, "squads": 2}
    assert "剩余 10 个名额" in problems[0].message
    with pytest.raises(BookingRefused):
        book(new_class(20, name="后到的班"), plan, user("organizer"))
    waiting = book(new_class(20, name="候补的班"), plan, user("organizer"), waitlist_full=True)
    assert [r.status for r in waiting.reservations] == ["waitlisted"]


def test_guides_run_out(demo):
    tuesday = future_weekday(2)
    memorial = site("dianxi_memorial")
    memorial.guide_count = 1
    db.session.commit()
    plan = [stop("dianxi_memorial", at(tuesday, 9), 60)]
    book(new_class(10, name="甲"), plan, user("organizer"))
    assert "guide_busy" in codes(check_plan(plan, 10))


def test_a_teacher_cannot_be_in_two_places(demo):
    tuesday = future_weekday(2)
    lecturer = teacher("zhao_na")
    book(
        new_class(10, name="甲"),
        [stop("dianxi_memorial", at(tuesday, 9), 90, teacher_key="zhao_na")],
        user("organizer"),
    )
    elsewhere = stop("guoshang_cemetery", at(tuesday, 10), 60, teacher_key="zhao_na")
    problems = check_plan([elsewhere], 10)
    assert "teacher_busy" in codes(problems) and lecturer.name in problems[0].message
    later = stop("guoshang_cemetery", at(tuesday, 14), 60, teacher_key="zhao_na")
    assert check_plan([later], 10) == []


def test_a_teacher_on_leave_is_unavailable(demo):
    tuesday = future_weekday(2)
    catalog_services.add_unavailability(
        teacher("zhao_na"), user("office"), tuesday, tuesday, "出差"
    )
    db.session.commit()
    problems = check_plan([stop("dianxi_memorial", at(tuesday, 9), 90, teacher_key="zhao_na")], 10)
    assert "teacher_unavailable" in codes(problems)


def test_travel_time_between_far_stops(demo):
    tuesday = future_weekday(2)
    plan = [
        stop("main_hall", at(tuesday, 9), 120, index=0),
        stop("dianxi_memorial", at(tuesday, 11, 30), 60, index=1),
    ]
    problems = check_plan(plan, 20)
    assert codes(problems) == ["travel"]
    assert "路上约需" in problems[0].message
    minutes = travel_minutes(site("main_hall"), site("dianxi_memorial"), all_settings())
    assert 100 < minutes < 240
    roomy = [
        plan[0],
        stop("dianxi_memorial", at(tuesday, 11) + timedelta(minutes=minutes), 60, index=1),
    ]
    assert check_plan(roomy, 20) == []


def test_overlapping_stops_in_one_plan(demo):
    tuesday = future_weekday(2)
    plan = [
        stop("dianxi_memorial", at(tuesday, 9), 90, index=0),
        stop("dianxi_memorial", at(tuesday, 10), 60, index=1),
    ]
    assert "overlap" in codes(check_plan(plan, 10))


def test_a_route_through_a_member_that_has_since_been_disabled(demo):
    tuesday = future_weekday(2)
    plan = [stop("battlefield", at(tuesday, 10), 120, guide=True)]
    assert check_plan(plan, 20) == []
    plugins.set_enabled("songshan_base", False, by="test")
    db.session.commit()
    problems = check_plan(plan, 20)
    assert codes(problems) == ["member_disabled"] and "已暂停参与环线" in problems[0].message


def test_a_suspended_site_takes_no_bookings(demo):
    memorial = site("dianxi_memorial")
    catalog_services.change_status(memorial, user("office"), "suspended", "维修")
    db.session.commit()
    assert codes(check_plan([stop("dianxi_memorial", at(future_weekday(2), 9), 60)], 10)) == [
        "site_status"
    ]


def test_a_member_plugin_rule_says_no(demo):
    soon = datetime.now(LOCAL_TZ).date() + timedelta(days=1)
    while soon.isoweekday() == 7:
        soon += timedelta(days=1)
    problems = check_plan([stop("main_hall", at(soon, 9), 120)], 30)
    assert "member_rule" in codes(problems)
    assert "提前3天" in problems[codes(problems).index("member_rule")].message


def test_times_in_the_past_are_refused(demo):
    yesterday = datetime.now(LOCAL_TZ).date() - timedelta(days=1)
    assert "past" in codes(check_plan([stop("cemetery", at(yesterday, 9), 60)], 10))


def test_nearest_dates_on_which_the_whole_route_fits(demo):
    monday = future_weekday(1)
    plan = plan_from_template(template("杨善洲精神一日环线"), monday)
    assert "closed_day" in codes(check_plan(plan, 30))
    suggested = suggest_dates(plan, 30)
    assert suggested and suggested[0] in (monday - timedelta(days=1), monday + timedelta(days=1))
    assert all(d.isoweekday() != 1 for d in suggested)


def test_checking_a_long_route_costs_the_same_queries_however_many_bookings_exist(demo):
    start = future_weekday(2, 30)
    plan = plan_from_template(template("三点一线五日精品环线"), start)
    plan = [
        PlannedStop(**{**p.__dict__, "squads": 2}) if p.site and p.site.capacity < 46 else p
        for p in plan
    ]

    def queries() -> int:
        db.session.commit()  # start from the same (expired) state each time
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            check_plan(plan, 46)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = queries()
    for week in range(1, 4):
        book(
            new_class(10, name=f"第{week}周", start=start + timedelta(days=7 * week)),
            shift_plan(plan, 7 * week)[:3],
            user("organizer"),
        )
    assert queries() == before


def test_confirm_decline_and_booking_status(demo):
    tuesday = future_weekday(2)
    plan = [
        stop("dianxi_memorial", at(tuesday, 9), 90, index=0),
        stop("guoshang_cemetery", at(tuesday, 11), 60, index=1),
    ]
    booking = book(new_class(20), plan, user("organizer"))
    first, second = booking.reservations
    staff = user("tengchong_college_staff")
    decide(first, staff, confirm=True)
    assert db.session.get(Booking, booking.id).status == "pending"
    decide(db.session.get(Reservation, second.id), staff, confirm=True)
    assert db.session.get(Booking, booking.id).status == "confirmed"
    with pytest.raises(ServiceError):
        decide(db.session.get(Reservation, second.id), staff, confirm=True)
    actions = [e.action for e in booking_events(db.session.get(Booking, booking.id))]
    assert actions.count("confirm") == 2 and "status" in actions


def test_declining_needs_a_reason_and_only_the_host_decides(demo):
    booking = book(
        new_class(20), [stop("dianxi_memorial", at(future_weekday(2), 9), 90)], user("organizer")
    )
    reservation = booking.reservations[0]
    with pytest.raises(ValidationFailed):
        decide(reservation, user("tengchong_college_staff"), confirm=False, reason=" ")
    with pytest.raises(NotFound):
        decide(reservation, user("party_school_staff"), confirm=True)
    decide(reservation, user("tengchong_college_admin"), confirm=False, reason="当天馆内布展")
    assert db.session.get(Booking, booking.id).status == "declined"


def test_confirming_rechecks_capacity(demo, app):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    booking = book(new_class(30), plan, user("organizer"))
    # Someone shrinks the site after the booking was made: confirming sees it.
    library = site("heshun_library")
    library.capacity = 20
    db.session.commit()
    with pytest.raises(BookingRefused):
        decide(booking.reservations[0], user("tengchong_college_staff"), confirm=True)


def test_auto_confirm_sites(demo):
    memorial = site("dianxi_memorial")
    memorial.auto_confirm = True
    db.session.commit()
    booking = book(
        new_class(20), [stop("dianxi_memorial", at(future_weekday(2), 9), 90)], user("organizer")
    )
    assert booking.status == "confirmed" and booking.reservations[0].status == "confirmed"


def test_cancel_frees_the_place_and_offers_it_to_the_first_in_line(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    first = book(new_class(30, name="先"), plan, user("organizer"))
    waiting = book(new_class(20, name="候补一"), plan, user("organizer"), waitlist_full=True)
    later = book(new_class(20, name="候补二"), plan, user("organizer"), waitlist_full=True)
    last = book(new_class(15, name="候补三"), plan, user("organizer"), waitlist_full=True)
    cancel_booking(first, user("organizer"), "行程调整")
    waiting = db.session.get(Booking, waiting.id)
    assert waiting.reservations[0].status == "offered"
    assert db.session.get(Booking, later.id).reservations[0].status == "offered"
    assert db.session.get(Booking, last.id).reservations[0].status == "waitlisted"
    assert codes(check_plan(plan, 10)) == ["full"]  # offered places are held
    accept_offer(waiting.reservations[0], user("organizer"))
    assert db.session.get(Reservation, waiting.reservations[0].id).status == "pending"


def test_expired_offers_go_to_the_next_in_line(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    first = book(new_class(40, name="满员"), plan, user("organizer"))
    one = book(new_class(30, name="候补一"), plan, user("organizer"), waitlist_full=True)
    two = book(new_class(30, name="候补二"), plan, user("organizer"), waitlist_full=True)
    cancel_booking(first, user("organizer"), "取消")
    offered = db.session.get(Booking, one.id).reservations[0]
    assert offered.status == "offered"
    assert expire_offers(now=utcnow() + timedelta(hours=25)) == 1
    assert db.session.get(Reservation, offered.id).status == "cancelled"
    assert db.session.get(Booking, two.id).reservations[0].status == "offered"
    with pytest.raises(ServiceError):
        accept_offer(db.session.get(Reservation, offered.id), user("organizer"))


def test_cancel_deadline_binds_the_organizer_not_the_office(demo):
    soon = datetime.now(LOCAL_TZ).date() + timedelta(days=2)
    booking = book(
        new_class(10, start=soon), [stop("cemetery", at(soon, 9), 60)], user("organizer")
    )
    with pytest.raises(ServiceError, match="已过取消截止日期"):
        cancel_booking(booking, user("organizer"), "临时变化")
    cancel_booking(booking, user("office"), "临时变化")
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_ring_route_rule_is_a_setting_and_is_enforced(demo):
    # The rule is about 市内 classes (the helper's default origin is 省外: never).
    three_days = new_class(30, days=3, theme="党性教育", origin="city")
    two_days = new_class(30, days=2, theme="党性教育", origin="city")
    visit = new_class(30, days=5, theme="党性教育", is_study_visit=True, origin="city")
    assert needs_ring_route(three_days)
    assert not needs_ring_route(two_days) and not needs_ring_route(visit)
    set_setting("ring_route_min_days", 2, user("office"))
    db.session.commit()
    assert needs_ring_route(two_days)
    booking = book(
        three_days, [stop("cemetery", at(three_days.starts_on, 9), 60)], user("organizer")
    )
    with pytest.raises(ServiceError, match="须安排环线教学"):
        cancel_booking(booking, user("organizer"), "不去了")
    with pytest.raises(PermissionDenied):
        set_setting("ring_route_min_days", 5, user("organizer"))


def test_the_same_form_submitted_twice_makes_one_booking(demo):
    klass = new_class(10)
    plan = [stop("cemetery", at(future_weekday(2), 9), 60)]
    one = book(klass, plan, user("organizer"), idempotency_key="form-123")
    two = book(klass, plan, user("organizer"), idempotency_key="form-123")
    assert one.id == two.id
    assert len(db.session.scalars(select(Booking)).all()) == 1


def test_only_the_organizer_or_office_books_for_a_class(demo):
    klass = new_class(10)
    plan = [stop("cemetery", at(future_weekday(2), 9), 60)]
    with pytest.raises(NotFound):
        book(klass, plan, user("trainee"))
    with pytest.raises(NotFound):
        book(klass, plan, user("party_school_staff"))
    assert book(klass, plan, user("office")).status == "pending"


def test_class_validation(demo):
    with pytest.raises(ValidationFailed) as failed:
        register_class(
            user("organizer"),
            {
                "name": "",
                "kind": "x",
                "origin": "y",
                "sending_unit": "",
                "size": 0,
                "starts_on": None,
                "ends_on": None,
                "theme": "",
                "contact_name": "",
                "contact_phone": "",
            },
        )
    assert set(failed.value.errors) >= {
        "name",
        "kind",
        "origin",
        "sending_unit",
        "size",
        "starts_on",
        "theme",
    }
    with pytest.raises(PermissionDenied):
        new_class(10, organizer="trainee")


def test_moving_a_booking_rechecks_every_stop_and_frees_the_old_places(demo):
    tuesday = future_weekday(2)
    plan = [stop("heshun_library", at(tuesday, 10), 60)]
    booking = book(new_class(40, name="要改期的班", days=9), plan, user("organizer"))
    decide(booking.reservations[0], user("tengchong_college_staff"), confirm=True)
    waiting = book(new_class(20, name="候补的班"), plan, user("organizer"), waitlist_full=True)
    # Another class already fills the library a week later: moving there is refused.
    next_week = tuesday + timedelta(days=7)
    book(new_class(40, name="占位的班", start=next_week), shift_plan(plan, 7), user("organizer"))
    with pytest.raises(BookingRefused):
        move_booking(
            db.session.get(Booking, booking.id), tuesday + timedelta(days=7), user("organizer")
        )
    move_booking(
        db.session.get(Booking, booking.id), tuesday + timedelta(days=1), user("organizer")
    )
    moved = db.session.get(Booking, booking.id)
    assert moved.start_date == tuesday + timedelta(days=1)
    assert moved.status == "pending" and moved.reservations[0].status == "pending"
    assert moved.reservations[0].starts_at.astimezone(LOCAL_TZ).date() == tuesday + timedelta(
        days=1
    )
    assert db.session.get(Booking, waiting.id).reservations[0].status == "offered"
    assert "move" in [e.action for e in booking_events(moved)]


def test_moving_after_the_deadline_is_for_the_office(demo):
    soon = datetime.now(LOCAL_TZ).date() + timedelta(days=2)
    booking = book(
        new_class(10, start=soon, days=9), [stop("cemetery", at(soon, 9), 60)], user("organizer")
    )
    with pytest.raises(ServiceError, match="已过改期截止日期"):
        move_booking(booking, soon + timedelta(days=7), user("organizer"))
    move_booking(booking, soon + timedelta(days=7), user("office"))
    with pytest.raises(ValidationFailed):
        move_booking(db.session.get(Booking, booking.id), soon - timedelta(days=30), user("office"))


def test_the_booking_page_moves_a_booking(demo, client):
    from tests.conftest import login

    tuesday = future_weekday(2)
    booking = book(
        new_class(10, name="页面改期", days=3),
        [stop("cemetery", at(tuesday, 9), 60)],
        user("organizer"),
    )
    login(client, "organizer")
    assert "改期" in client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    new_day = (tuesday + timedelta(days=2)).isoformat()
    page = client.post(
        f"/bookings/{booking.id}/move", data={"start_date": new_day}, follow_redirects=True
    )
    assert "已改期" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_date.isoformat() == new_day
    bad = client.post(
        f"/bookings/{booking.id}/move", data={"start_date": "2026-02-30"}, follow_redirects=True
    )
    assert bad.status_code == 400 and "已改期" not in bad.get_data(as_text=True)
    assert "请填写有效的日期" in bad.get_data(as_text=True)
    assert 'value="2026-02-30"' in bad.get_data(as_text=True)
