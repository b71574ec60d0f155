"""The site life cycle: proposed → admitted / returned, change review, warning, suspension
(the daily sweep acts once), exit, and bookability enforced in the booking service."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from portal.catalog import services as catalog
from portal.catalog.models import TeachingSite
from portal.directory import services
from portal.directory.models import DirectoryEvent, SiteChangeRequest, SiteWarning
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.fitting import BookingRefused, PlannedStop, bookable_sites_query
from portal.scheduling.models import Booking
from portal.scheduling.settings import set_setting
from tests.scheduling.helpers import at, future_weekday, new_class, site, stop, user

SITE_VALUES = {
    "name": "木榔村乡村振兴示范点",
    "theme": "乡村振兴",
    "description": "村史馆",
    "capacity": 40,
    "session_minutes": 60,
    "open_weekdays": "1234567",
    "opens": time(8, 0),
    "closes": time(18, 0),
    "needs_guide": False,
    "guide_count": 2,
    "auto_confirm": False,
    "address": "施甸县由旺镇",
    "latitude": 24.73,
    "longitude": 99.18,
}


def propose_site() -> TeachingSite:
    staff = user("party_school_staff")
    new = catalog.create_item(TeachingSite, staff, None, dict(SITE_VALUES))
    db.session.commit()
    return new


def plan_at(new: TeachingSite, day) -> list[PlannedStop]:
    return [PlannedStop(index=0, kind="visit", starts_at=at(day, 10), minutes=60, site=new)]


def test_a_members_new_site_is_proposed_hidden_and_not_bookable(demo):
    new = propose_site()
    assert new.admission == "proposed" and new.status == "active"
    assert not new.bookable
    assert new.id not in [s.id for s in catalog.search_sites(per_page=100).items]
    assert db.session.scalar(bookable_sites_query().where(TeachingSite.id == new.id)) is None
    day = future_weekday(2)
    klass = new_class(20, start=day)
    with pytest.raises(BookingRefused) as refused:
        book(klass, plan_at(new, day), user("organizer"))
    assert [p.code for p in refused.value.problems] == ["site_not_admitted"]


def test_sites_from_plugins_are_admitted_by_sync(demo):
    synced = db.session.scalars(select(TeachingSite).where(TeachingSite.plugin.is_not(None))).all()
    assert synced and all(s.admission == "admitted" for s in synced)


def test_the_office_creates_admitted_sites(demo):
    new = catalog.create_item(
        TeachingSite, user("office"), site("main_hall").member_id, SITE_VALUES
    )
    db.session.commit()
    assert new.admission == "admitted"


@pytest.mark.db
def test_proposal_review_admit_and_return_with_permissions(demo):
    new = propose_site()
    staff, office = user("party_school_staff"), user("office")
    with pytest.raises(ValidationFailed):
        services.submit_proposal(new, staff, "", "")
    with pytest.raises(ServiceError):  # another member's staff finds nothing
        services.submit_proposal(new, user("tengchong_college_staff"), "材料", "安全")
    services.submit_proposal(new, staff, "村史馆材料", "两处安全出口")
    db.session.commit()
    assert [p.site_id for p in services.pending_proposals()] == [new.id]
    with pytest.raises(PermissionDenied):
        services.decide_proposal(new, staff, True, "")
    with pytest.raises(ValidationFailed):  # sending back needs a reason
        services.decide_proposal(new, office, False, "")
    services.decide_proposal(new, office, False, "缺少照片")
    db.session.commit()
    assert new.admission == "returned"
    with pytest.raises(ServiceError):
        services.decide_proposal(new, office, True, "")
    services.submit_proposal(new, staff, "补充材料", "两处安全出口")
    services.decide_proposal(new, office, True, "")
    db.session.commit()
    assert new.admission == "admitted" and new.bookable
    actions = [e.action for e in services.history(new)]
    assert actions == ["admit", "propose", "return", "propose"]
    day = future_weekday(3)
    booking = book(new_class(20, start=day), plan_at(new, day), user("organizer"))
    assert booking.status == "pending"


def test_changes_of_capacity_wait_for_review_when_the_office_requires_it(demo):
    office, staff = user("office"), user("party_school_staff")
    hall = site("main_hall")
    values = {f: getattr(hall, f) for f in catalog.SITE_FIELDS}
    old_capacity = hall.capacity
    catalog.update_item(hall, staff, {**values, "capacity": old_capacity + 10})
    db.session.commit()
    assert hall.capacity == old_capacity + 10  # no review by default
    set_setting("directory_review_changes", 1, office)
    db.session.commit()
    catalog.update_item(hall, staff, {**values, "capacity": 5, "description": "新简介"})
    db.session.commit()
    assert hall.capacity == old_capacity + 10 and hall.description == "新简介"
    change = db.session.scalar(select(SiteChangeRequest))
    assert change.values == {"capacity": 5}
    with pytest.raises(PermissionDenied):
        services.decide_change(change, staff, True, "")
    services.decide_change(change, office, True, "同意")
    db.session.commit()
    assert hall.capacity == 5 and change.status == "approved"
    # the office's own edits apply at once
    catalog.update_item(hall, office, {**values, "capacity": 60})
    db.session.commit()
    assert hall.capacity == 60


def book_at(site_key: str, days_ahead: int = 20) -> Booking:
    day = future_weekday(3, at_least_days=days_ahead)
    return book(new_class(20, start=day), [stop(site_key, at(day, 10))], user("organizer"))


@pytest.mark.db
def test_warning_then_sweep_suspends_once_and_cancels_bookings_as_chosen(demo):
    office = user("office")
    memorial = site("dianxi_memorial")
    booking = book_at("dianxi_memorial")
    today = services.today_local()
    with pytest.raises(PermissionDenied):
        services.warn(memorial, user("tengchong_college_staff"), "整改", today)
    with pytest.raises(ValidationFailed):
        services.warn(memorial, office, "整改", today - timedelta(days=1), today=today)
    warning = services.warn(memorial, office, "讲解词更新", today + timedelta(days=5), "cancel")
    db.session.commit()
    with pytest.raises(ServiceError):  # one open warning at a time
        services.warn(memorial, office, "再次", today + timedelta(days=5))
    assert services.sweep(today + timedelta(days=5)) == []  # not overdue yet
    assert services.sweep(today + timedelta(days=6)) == [warning.id]
    assert services.sweep(today + timedelta(days=6)) == []  # the second run does nothing
    db.session.expire_all()
    assert memorial.status == "suspended" and not memorial.bookable
    assert db.session.get(SiteWarning, warning.id).status == "suspended"
    assert db.session.get(Booking, booking.id).status == "cancelled"
    suspensions = db.session.scalar(
        select(func.count()).where(
            DirectoryEvent.site_id == memorial.id, DirectoryEvent.action == "suspend"
        )
    )
    assert suspensions == 1
    with pytest.raises(BookingRefused):
        book_at("dianxi_memorial", 30)
    services.reinstate(memorial, office, "已整改")
    db.session.commit()
    assert memorial.bookable


def test_a_fixed_warning_is_not_swept(demo):
    office = user("office")
    memorial = site("dianxi_memorial")
    today = services.today_local()
    warning = services.warn(memorial, office, "讲解词更新", today + timedelta(days=1))
    db.session.commit()
    services.mark_fixed(warning, office, "已更新")
    db.session.commit()
    with pytest.raises(ServiceError):
        services.mark_fixed(warning, office, "再次")
    assert services.sweep(today + timedelta(days=10)) == []
    assert memorial.status == "active"


@pytest.mark.db
def test_two_sweeps_at_once_act_once(demo, app):
    office = user("office")
    today = services.today_local()
    ids = []
    for key in ("dianxi_memorial", "heshun_library", "simola_village"):
        ids.append(services.warn(site(key), office, "整改", today, "keep").id)
    db.session.commit()
    results: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(services.sweep(today + timedelta(days=1)))
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    acted = sorted(i for r in results for i in r)
    assert acted == sorted(ids)  # each warning acted on by exactly one run
    db.session.expire_all()
    counts = db.session.execute(
        select(DirectoryEvent.site_id, func.count())
        .where(DirectoryEvent.action == "suspend")
        .group_by(DirectoryEvent.site_id)
    ).all()
    assert len(counts) == 3 and all(n == 1 for _s, n in counts)


def test_exit_keeps_or_cancels_bookings_and_only_the_office_decides(demo):
    office = user("office")
    kept = book_at("heshun_library")
    library = site("heshun_library")
    with pytest.raises(PermissionDenied):
        services.exit_directory(library, user("tengchong_college_admin"), "不再开放")
    with pytest.raises(ValidationFailed):
        services.exit_directory(library, office, "")
    assert services.exit_directory(library, office, "场馆改建", "keep") == 0
    assert db.session.get(Booking, kept.id).status != "cancelled"
    assert db.session.get(TeachingSite, library.id).status == "retired"
    with pytest.raises(ServiceError):
        services.exit_directory(library, office, "再次")
    cancelled = book_at("simola_village")
    simola = site("simola_village")
    assert services.suspend(simola, office, "安全隐患", "cancel") == 1
    assert db.session.get(Booking, cancelled.id).status == "cancelled"


def test_every_step_has_an_audit_label():
    from portal.audit.labels import ACTION_LABELS

    assert set(services.AUDIT_KEYS.values()) <= set(ACTION_LABELS)


def test_the_api_hides_a_site_under_review(demo, client):
    new = propose_site()
    assert client.get(f"/api/v1/sites/{new.id}").status_code == 404
    hall = site("main_hall")
    assert client.get(f"/api/v1/sites/{hall.id}").status_code == 200
