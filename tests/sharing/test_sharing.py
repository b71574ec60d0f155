"""Teacher sharing: a member asks to borrow another member's teacher, the owner confirms or
declines; a confirmed loan lets the borrower put the teacher on its courses; a teacher's
year shows lectures and hours per hosting member."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.catalog import services as catalog
from portal.catalog.models import Course
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import book, decide
from portal.sharing import services
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, stop, teacher, user


def course_values(teacher_id: int) -> dict:
    return {
        "name": "借用教师的课程",
        "kind": "lecture",
        "hours": 2.0,
        "description": "",
        "teacher_ids": [teacher_id],
        "site_id": None,
    }


def test_borrowing_a_teacher_needs_the_owners_confirmation(demo):
    yang = teacher("yang_li")  # member A (party school), not shared
    borrower = user("tengchong_college_staff")
    today = services.today_local()
    with pytest.raises(ValidationFailed):
        catalog.create_item(Course, borrower, None, course_values(yang.id))
    db.session.rollback()
    with pytest.raises(ServiceError):  # one's own teacher needs no loan
        services.request_loan(user("party_school_staff"), yang, today, today, "授课")
    with pytest.raises(PermissionDenied):
        services.request_loan(user("office"), yang, today, today, "授课")
    with pytest.raises(ValidationFailed):
        services.request_loan(borrower, yang, today + timedelta(days=3), today, "授课")
    loan = services.request_loan(borrower, yang, today, today + timedelta(days=30), "讲授党史")
    db.session.commit()
    with pytest.raises(PermissionDenied):  # the borrower cannot confirm its own request
        services.decide_loan(loan, borrower, True, "")
    with pytest.raises(ValidationFailed):  # declining needs a reason
        services.decide_loan(loan, user("party_school_staff"), False, "")
    services.decide_loan(loan, user("party_school_staff"), True, "")
    db.session.commit()
    assert yang.id in services.borrowed_teacher_ids(borrower.member_id)
    assert yang in catalog.teachers_for_courses(borrower.member_id)
    created = catalog.create_item(Course, borrower, None, course_values(yang.id))
    db.session.commit()
    assert created.teachers == [yang]
    with pytest.raises(ServiceError):
        services.decide_loan(loan, user("office"), False, "再议")
    assert yang.id not in services.borrowed_teacher_ids(
        borrower.member_id, today + timedelta(days=31)
    )


def test_a_teachers_year_counts_lectures_and_hours_per_hosting_member(demo):
    day = future_weekday(2, at_least_days=20)
    klass = new_class(20, start=day)
    booking = book(
        klass,
        [stop("main_hall", at(day, 9), 120, course_key="theory_lecture")],
        user("organizer"),
    )
    for reservation in booking.reservations:
        decide(reservation, user("party_school_staff"), True)
    db.session.commit()
    lecturer = booking.reservations[0].teacher
    rows, by_member = services.lectures(lecturer, day.year)
    assert len(rows) == 1 and rows[0].class_name == klass.name
    assert list(by_member.values()) == [(1, rows[0].hours)]


def test_sharing_pages(demo, client):
    yang = teacher("yang_li")
    login(client, "tengchong_college_staff")
    assert client.get("/sharing/").status_code == 200
    today = services.today_local()
    response = client.post(
        "/sharing/",
        data={
            "loan-teacher_id": str(yang.id),
            "loan-starts_on": today.isoformat(),
            "loan-ends_on": (today + timedelta(days=5)).isoformat(),
            "loan-purpose": "讲授党史",
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/sharing/", data={"loan-teacher_id": "abc", "loan-purpose": "x", "loan-starts_on": "x"}
    )
    assert response.status_code == 400
    assert client.get(f"/sharing/teachers/{yang.id}/lectures").status_code == 404
    login(client, "party_school_staff")
    page = client.get("/sharing/").get_data(as_text=True)
    assert "讲授党史" in page
    assert client.get(f"/sharing/teachers/{yang.id}/lectures?year=abc").status_code == 200
    loan = services.loans_for(user("party_school_staff"))[0]
    response = client.post(f"/sharing/loans/{loan.id}/decide", data={"decide-approve": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert loan.status == "confirmed"


def test_the_demo_has_a_pending_and_a_confirmed_loan(demo):
    from portal.demo import load_demo
    from portal.sharing.models import TeacherLoan

    load_demo(season=["directory"])
    load_demo(season=["directory"])
    statuses = sorted(loan.status for loan in db.session.query(TeacherLoan))
    assert statuses == ["confirmed", "pending"]
    assert teacher("zhou_jun") in catalog.teachers_for_courses(teacher("yang_li").member_id)
