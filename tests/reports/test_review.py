"""Plan review (审核培训计划) and the ring-route rule as a requirement of approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.reports import review
from portal.scheduling.booking import book, decide
from portal.scheduling.classes import needs_ring_route
from portal.scheduling.models import Reservation
from portal.scheduling.settings import set_setting
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user

pytestmark = pytest.mark.db


def plan_values(klass, **extra) -> dict:
    return {
        "starts_on": klass.starts_on,
        "ends_on": klass.ends_on,
        "theme": klass.theme,
        "size": klass.size,
        "itinerary": "第一天：现场教学；第二天：专题讲座",
        **extra,
    }


def submitted(klass):
    plan = review.submit_plan(klass, user("organizer"), plan_values(klass))
    db.session.commit()
    return plan


def review_on() -> None:
    set_setting("plan_review_required", 1, user("office"))
    db.session.commit()


# ---------------------------------------------------------------- the rule's boundaries


def test_the_ring_route_rule_applies_to_long_city_party_classes_and_office_hosted_ones(demo):
    city = {"origin": "city", "theme": "党性教育"}
    three = new_class(30, days=3, name="三天", **city)
    two = new_class(30, days=2, name="两天", **city)
    province = new_class(30, days=3, name="市外省内", origin="province", theme="党性教育")
    other = new_class(30, days=5, name="省外", origin="other_province", theme="党性教育")
    hosted = new_class(30, days=1, name="干教委办", origin="province", hosted_by_office=True)
    hosted_other = new_class(
        30, days=5, name="干教委办省外", origin="other_province", hosted_by_office=True
    )
    assert needs_ring_route(three) and not needs_ring_route(two)
    assert not needs_ring_route(province)  # not 市内
    assert not needs_ring_route(other)  # 省外: never
    assert needs_ring_route(hosted)  # the flag, whatever its theme, length and origin
    assert not needs_ring_route(hosted_other)  # ... except 省外
    set_setting("ring_route_min_days", 2, user("office"))
    db.session.commit()
    assert needs_ring_route(two)


# ---------------------------------------------------------------- submitting and deciding


def test_an_organizer_submits_and_the_office_approves_or_returns(demo):
    klass = new_class(30, days=2)
    with pytest.raises(NotFound):  # another organizer's class
        review.submit_plan(klass, user("yangshanzhou_college_staff"), plan_values(klass))
    plan = submitted(klass)
    assert plan.status == "submitted" and plan.itinerary.startswith("第一天")
    with pytest.raises(PermissionDenied):
        review.decide_plan(plan, user("organizer"), approve=True)
    with pytest.raises(ValidationFailed) as error:
        review.decide_plan(plan, user("office"), approve=False, comments=" ")
    assert "comments" in error.value.errors
    review.decide_plan(plan, user("office"), approve=False, comments="请补充行程")
    db.session.commit()
    assert plan.status == "returned" and plan.comments == "请补充行程"
    with pytest.raises(ServiceError):  # only a submitted plan is decided
        review.decide_plan(plan, user("office"), approve=True)
    submitted(klass)  # sent again after the return
    review.decide_plan(plan, user("office"), approve=True)
    db.session.commit()
    assert review.plan_approved(klass)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"plan.submit", "plan.return", "plan.approve"} <= actions


@pytest.mark.parametrize(
    "change, field",
    [
        ({"starts_on": None}, "starts_on"),
        ({"theme": " "}, "theme"),
        ({"size": 0}, "size"),
        ({"itinerary": ""}, "itinerary"),
        ({"template_id": 999999}, "template_id"),
        ({"itinerary": "长" * 2001}, "itinerary"),
    ],
)
def test_a_wrong_plan_names_its_field(demo, change, field):
    klass = new_class(30)
    with pytest.raises(ValidationFailed) as error:
        review.submit_plan(klass, user("organizer"), plan_values(klass, **change))
    assert field in error.value.errors


def test_ends_before_starts_is_refused(demo):
    klass = new_class(30)
    values = plan_values(klass, ends_on=klass.starts_on - timedelta(days=1))
    with pytest.raises(ValidationFailed) as error:
        review.submit_plan(klass, user("organizer"), values)
    assert "ends_on" in error.value.errors


def test_a_ring_route_class_is_approved_only_with_a_booking_or_an_exemption(demo):
    klass = new_class(30, days=3, origin="city", theme="党性教育")
    plan = submitted(klass)
    with pytest.raises(ServiceError, match="须安排环线教学"):
        review.decide_plan(plan, user("office"), approve=True)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        review.exempt(plan, user("organizer"), "理由")
    with pytest.raises(ValidationFailed):
        review.exempt(plan, user("office"), "  ")
    review.exempt(plan, user("office"), "该班已在本单位安排同类现场教学")
    review.decide_plan(plan, user("office"), approve=True)
    db.session.commit()
    assert plan.status == "approved"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.exempt"))
    assert entry.detail["reason"] == "该班已在本单位安排同类现场教学"


def test_a_booked_ring_route_class_is_approved(demo):
    klass = new_class(30, days=3, origin="city", theme="党性教育")
    book(klass, [stop("cemetery", at(klass.starts_on, 9), 60)], user("organizer"))
    plan = submitted(klass)
    review.decide_plan(plan, user("office"), approve=True)
    assert plan.status == "approved"


def test_an_other_province_class_needs_no_ring_route_to_be_approved(demo):
    klass = new_class(30, days=5, origin="other_province", theme="党性教育")
    plan = submitted(klass)
    review.decide_plan(plan, user("office"), approve=True)
    assert plan.status == "approved"


# ---------------------------------------------------------------- the gate in the confirm service


def pending_reservation(klass) -> Reservation:
    booking = book(klass, [stop("cemetery", at(klass.starts_on, 9), 60)], user("organizer"))
    return booking.reservations[0]


def test_with_review_off_members_confirm_as_before(demo):
    klass = new_class(30)
    reservation = pending_reservation(klass)
    staff = user(f"{reservation.site.member.key}_staff")
    decide(reservation, staff, confirm=True)
    assert db.session.get(Reservation, reservation.id).status == "confirmed"


def test_with_review_on_members_confirm_only_once_the_plan_is_approved(demo):
    review_on()
    klass = new_class(30)
    reservation = pending_reservation(klass)
    staff = user(f"{reservation.site.member.key}_staff")
    with pytest.raises(ServiceError, match="尚未经环线办审核通过"):
        decide(reservation, staff, confirm=True)
    plan = submitted(klass)
    with pytest.raises(ServiceError):  # submitted is not approved
        decide(reservation, staff, confirm=True)
    decide(reservation, staff, confirm=False, reason="当天闭馆")  # declining stays possible
    assert db.session.get(Reservation, reservation.id).status == "declined"
    other = pending_reservation(new_class(20, name="第二班", start=future_weekday(3)))
    review.decide_plan(plan, user("office"), approve=True)
    db.session.commit()
    # The second class has no approved plan: still refused; the first one's plan is.
    with pytest.raises(ServiceError):
        decide(other, user(f"{other.site.member.key}_staff"), confirm=True)


def test_with_review_on_an_automatic_site_holds_the_stop_pending(demo):
    review_on()
    auto = site("cemetery")
    auto.auto_confirm = True
    db.session.commit()
    klass = new_class(30)
    reservation = pending_reservation(klass)
    assert reservation.status == "pending"
    plan = submitted(klass)
    review.decide_plan(plan, user("office"), approve=True)
    db.session.commit()
    second = book(klass, [stop("cemetery", at(klass.starts_on, 14), 60)], user("organizer"))
    assert second.reservations[0].status == "confirmed"
    staff = user(f"{reservation.site.member.key}_staff")
    decide(reservation, staff, confirm=True)
    assert db.session.get(Reservation, reservation.id).status == "confirmed"


# ---------------------------------------------------------------- pages


def test_the_plan_pages(demo, client):
    klass = new_class(30, days=3, origin="city", theme="党性教育")
    login(client, "organizer")
    page = client.get(f"/reports/classes/{klass.id}/plan")
    assert page.status_code == 200 and "提交培训计划" in page.get_data(as_text=True)
    bad = client.post(
        f"/reports/classes/{klass.id}/plan",
        data={"starts_on": "2026-13-40", "theme": "党性教育", "size": "abc", "itinerary": "x"},
    )
    assert bad.status_code == 400
    assert "党性教育" in bad.get_data(as_text=True)  # what was typed is kept
    ok = client.post(
        f"/reports/classes/{klass.id}/plan",
        data={
            "starts_on": klass.starts_on.isoformat(),
            "ends_on": klass.ends_on.isoformat(),
            "theme": "党性教育",
            "size": "30",
            "itinerary": "三天现场教学",
        },
    )
    assert ok.status_code == 302
    login(client, "office")
    listing = client.get("/reports/plan-reviews").get_data(as_text=True)
    assert klass.name in listing and "须安排环线教学" in listing
    refused = client.post(f"/reports/classes/{klass.id}/plan/decide", data={"d-approve": "1"})
    assert refused.status_code == 400 and "须安排环线教学" in refused.get_data(as_text=True)
    empty = client.post(f"/reports/classes/{klass.id}/plan/exempt", data={"x-reason": ""})
    assert empty.status_code == 400
    client.post(f"/reports/classes/{klass.id}/plan/exempt", data={"x-reason": "特批"})
    done = client.post(f"/reports/classes/{klass.id}/plan/decide", data={"d-approve": "1"})
    assert done.status_code == 302
    assert review.plan_approved(klass)


def test_the_demo_has_plans_under_review_and_a_survey_with_answers(demo, client):
    from portal.demo import load_demo
    from portal.reports.models import ClassPlan, NeedsSurvey

    load_demo(season=["trainees", "attendance", "reports"])
    load_demo(season=["trainees", "attendance", "reports"])  # idempotent
    statuses = sorted(db.session.scalars(select(ClassPlan.status)))
    assert statuses == ["approved", "submitted"]
    (found,) = db.session.scalars(select(NeedsSurvey)).all()
    assert len(found.answers) == 2
    login(client, "office")
    listing = client.get("/reports/plan-reviews").get_data(as_text=True)
    assert "须安排环线教学" in listing and "已通过" in listing
    assert "已有 2 个单位填报" in client.get(f"/reports/surveys/{found.id}").get_data(as_text=True)
    login(client, "organizer")
    assert found.title in client.get("/reports/surveys").get_data(as_text=True)


def test_another_organizers_plan_is_not_found_and_members_are_refused(demo, client):
    from portal.auth import services as auth_services

    klass = new_class(30)
    submitted(klass)
    auth_services.create_user(
        username="organizer_b",
        display_name="第二联系人",
        role="organizer",
        password="huanxian2026",
        unit_name="另一单位",
    )
    db.session.commit()
    login(client, "organizer_b")
    assert client.get(f"/reports/classes/{klass.id}/plan").status_code == 404
    before = review.plan_of(klass).itinerary
    response = client.post(
        f"/reports/classes/{klass.id}/plan",
        data={"theme": "越权", "size": "1", "itinerary": "越权"},
    )
    assert response.status_code == 404
    assert (
        client.post(f"/reports/classes/{klass.id}/plan/decide", data={"d-approve": "1"}).status_code
        == 403
    )
    login(client, "party_school_staff")
    assert client.get(f"/reports/classes/{klass.id}/plan").status_code == 403
    assert client.get("/reports/plan-reviews").status_code == 403
    db.session.expire_all()
    assert review.plan_of(klass).itinerary == before and review.plan_of(klass).status == "submitted"


def test_with_review_on_the_organizers_dashboard_asks_for_the_plan(demo, client):
    klass = new_class(30)
    pending_reservation(klass)
    login(client, "organizer")
    assert 'data-next="pending"' in client.get("/dashboard").get_data(as_text=True)
    review_on()
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-next="plan"' in page and f"/reports/classes/{klass.id}/plan" in page
    plan = submitted(klass)
    review.decide_plan(plan, user("office"), approve=True)
    db.session.commit()
    assert 'data-next="pending"' in client.get("/dashboard").get_data(as_text=True)


def test_an_exempted_class_no_longer_shows_the_ring_route_warning(demo, client):
    klass = new_class(30, days=3, origin="city", theme="党性教育")
    login(client, "organizer")
    assert 'data-testid="ring-route-warning"' in client.get(f"/classes/{klass.id}").get_data(
        as_text=True
    )
    plan = submitted(klass)
    review.exempt(plan, user("office"), "特批")
    db.session.commit()
    detail = client.get(f"/classes/{klass.id}").get_data(as_text=True)
    assert 'data-testid="ring-route-warning"' not in detail and "待审核" in detail
    assert "须安排环线教学" not in client.get("/classes").get_data(as_text=True)


def test_an_exempted_class_may_cancel_its_only_booking(demo):
    from portal.scheduling.booking import cancel_booking

    klass = new_class(30, days=3, origin="city", theme="党性教育")
    booking = book(klass, [stop("cemetery", at(klass.starts_on, 9), 60)], user("organizer"))
    with pytest.raises(ServiceError, match="须安排环线教学"):
        cancel_booking(booking, user("organizer"), "不去了")
    db.session.rollback()
    review.exempt(submitted(klass), user("office"), "改为本单位自行组织现场教学")
    db.session.commit()
    cancel_booking(booking, user("organizer"), "不去了")
    assert booking.status == "cancelled"
