"""The guide corps: rosters per member, dated records and promotion, a roster guide named for
a stop (the free text still works), and never one guide at two overlapping groups, also when
two staff name the same guide at once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.labels import ACTION_LABELS
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.guides import services
from portal.guides.models import Guide, GuideEntry
from portal.scheduling.models import Reservation
from tests.conftest import login
from tests.scheduling.helpers import at, future_weekday, new_class, user
from tests.scheduling.test_staffing import add_booking

pytestmark = pytest.mark.db


@pytest.fixture
def overlapping(demo):
    """Two classes at 杨善洲干部学院's two sites, overlapping in time on one Wednesday."""
    day = future_weekday(3)
    first = add_booking(
        new_class(name="讲解测试一班", start=day),
        [("spirit_base", at(day, 9), at(day, 10))],
        status="confirmed",
    )
    second = add_booking(
        new_class(name="讲解测试二班", start=day),
        [("former_residence", at(day, 9, 30), at(day, 10, 30))],
        status="confirmed",
    )
    later = add_booking(
        new_class(name="讲解测试三班", start=day),
        [("former_residence", at(day, 14), at(day, 15))],
        status="confirmed",
    )
    staff = user("yangshanzhou_college_staff")
    guide = services.create_guide(staff, " 李  讲解 ", "13900000000", None, "junior")
    return guide, first[0], second[0], later[0]


def test_a_roster_per_member_with_dated_records_and_promotion(demo):
    staff = user("yangshanzhou_college_staff")
    guide = services.create_guide(staff, "王芳", "13900000001", None, "trainee")
    assert guide.member_id == staff.member_id and guide.name == "王芳"
    services.add_entry(guide.id, staff, "training", date(2026, 3, 1), "红色讲解员培训班结业")
    services.add_entry(guide.id, staff, "certificate", date(2026, 4, 1), "讲解员资格证")
    services.add_entry(guide.id, staff, "reward", date(2026, 9, 1), "讲解比赛二等奖")
    services.add_entry(guide.id, staff, "promotion", date(2026, 10, 1), "", "junior")
    db.session.expire_all()
    guide = db.session.get(Guide, guide.id)
    assert guide.grade == "junior"
    assert [e.kind for e in guide.entries] == ["promotion", "reward", "certificate", "training"]
    with pytest.raises(ValidationFailed) as refused:
        services.add_entry(guide.id, staff, "promotion", date(2026, 11, 1), "", "junior")
    assert "grade" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.add_entry(guide.id, staff, "penalty", None, "")
    assert {"on", "note"} <= set(refused.value.errors)
    # Another member's staff neither see nor change the guide; the office sees every roster.
    other = user("tengchong_college_staff")
    assert guide.id not in [g.id for g in services.roster(other)]
    with pytest.raises(NotFound):
        services.add_entry(guide.id, other, "reward", date(2026, 9, 1), "x")
    assert guide.id in [g.id for g in services.roster(user("office"))]
    for key in ("create", "training", "certificate", "promotion", "reward", "penalty"):
        assert f"guides.{key}" in ACTION_LABELS


def test_a_roster_guide_is_named_and_never_at_two_overlapping_groups(overlapping):
    guide, first, second, later = overlapping
    staff = user("yangshanzhou_college_staff")
    named = services.assign_guide(first.id, staff, guide.id)
    assert named.guide_id == guide.id and named.guide_name == "李 讲解"
    with pytest.raises(ServiceError) as refused:
        services.assign_guide(second.id, staff, guide.id)
    assert "已有安排" in refused.value.message
    # A later group that day is fine; so is the free-text fallback at the overlapping one.
    services.assign_guide(later.id, staff, guide.id)
    free = services.assign_guide(second.id, staff, None, "张三")
    assert free.guide_id is None and free.guide_name == "张三"
    # Once the first group is cancelled, the guide is free again at that time.
    db.session.get(Reservation, first.id).status = "cancelled"
    db.session.commit()
    assert services.assign_guide(second.id, staff, guide.id).guide_id == guide.id
    # Another member's guide cannot be named.
    other = services.create_guide(user("tengchong_college_staff"), "赵六")
    with pytest.raises(ValidationFailed):
        services.assign_guide(later.id, staff, other.id)


def test_two_staff_naming_one_guide_at_once_only_one_wins(overlapping, app):
    guide, first, second, _later = overlapping
    ids = [first.id, second.id]
    start = threading.Barrier(2)
    won: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def run(reservation_id: int) -> None:
        with app.app_context():
            try:
                start.wait()
                services.assign_guide(reservation_id, user("yangshanzhou_college_staff"), guide.id)
                won.append(reservation_id)
            except ServiceError as error:
                refused.append(error.message)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(won) == 1 and len(refused) == 1
    db.session.expire_all()
    named = db.session.scalars(select(Reservation).where(Reservation.guide_id == guide.id)).all()
    assert [r.id for r in named] == won


def test_without_the_locks_both_win(overlapping, app):
    """The race the locks prevent: with them off, both namings pass the check."""
    guide, first, second, _later = overlapping
    app.config["SCHEDULING_LOCKS"] = False
    start = threading.Barrier(2)
    won: list[int] = []
    original = services.busy_with

    def slow_busy_with(guide_id, reservation):
        found = original(guide_id, reservation)
        start.wait(timeout=5)  # both have checked before either writes
        return found

    services.busy_with = slow_busy_with
    try:

        def run(reservation_id: int) -> None:
            with app.app_context():
                try:
                    services.assign_guide(
                        reservation_id, user("yangshanzhou_college_staff"), guide.id
                    )
                    won.append(reservation_id)
                except Exception:  # noqa: BLE001  (a lost race shows as fewer winners)
                    pass
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in (first.id, second.id)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        services.busy_with = original
        app.config["SCHEDULING_LOCKS"] = True
    assert len(won) == 2


def test_pages_roster_record_and_naming_from_the_inbox(overlapping, client):
    guide, first, second, _later = overlapping
    login(client, "yangshanzhou_college_staff")
    page = client.get("/guides/").get_data(as_text=True)
    assert 'data-testid="guide-row"' in page and "李 讲解" in page
    # Adding a guide: a missing name is refused in Chinese, what was typed is kept.
    answer = client.post("/guides/", data={"name": "", "phone": "13911112222", "grade": "junior"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "请填写讲解员姓名" in body and "13911112222" in body
    answer = client.post("/guides/", data={"name": "周七", "grade": "bogus"})
    assert answer.status_code == 400
    answer = client.post("/guides/", data={"name": "周七", "grade": "senior"})
    assert answer.status_code == 302
    # A record line, with a bad date refused, not a 500.
    url = f"/guides/{guide.id}"
    bad = client.post(url, data={"kind": "reward", "on": "2026-13-45", "note": "x"})
    assert bad.status_code == 400 and "有效的日期" in bad.get_data(as_text=True)
    ok = client.post(url, data={"kind": "reward", "on": "2026-09-01", "note": "优秀讲解员"})
    assert ok.status_code == 302
    assert db.session.scalar(select(GuideEntry.note).where(GuideEntry.guide_id == guide.id))
    # The inbox offers the roster; naming from it, then a clash refused with the reason.
    inbox = client.get("/inbox?status=confirmed").get_data(as_text=True)
    assert f'<option value="{guide.id}"' in inbox
    client.post(f"/reservations/{first.id}/guide", data={"guide_id": str(guide.id)})
    clash = client.post(
        f"/reservations/{second.id}/guide",
        data={"guide_id": str(guide.id)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已有安排" in clash
    sheet = client.get(f"/guides/{guide.id}").get_data(as_text=True)
    assert sheet.count('data-testid="guide-group"') == 1
    day = first.starts_at.date().isoformat()
    assert f'href="/guides/{guide.id}"' in client.get(f"/inbox/guides?day={day}").get_data(
        as_text=True
    )
    # Another member's staff find nothing.
    login(client, "tengchong_college_staff")
    assert client.get(url).status_code == 404
    assert client.post(url, data={"kind": "reward", "on": "2026-09-01"}).status_code == 404


def test_the_demo_has_guides_with_records_and_one_named(app):
    from portal.demo import load_demo

    load_demo(season=["trainees", "directory"])
    load_demo(season=["directory"])  # idempotent
    guides = db.session.scalars(select(Guide).order_by(Guide.id)).all()
    assert len(guides) == 3 and any(g.entries for g in guides)
    named = db.session.scalars(select(Reservation).where(Reservation.guide_id.is_not(None))).all()
    assert len(named) == 1 and named[0].guide_name == guides[0].name


def test_a_plugins_later_site_is_proposed_unless_its_member_is_trusted(demo, client):
    """After a plugin's first sync, a site it adds enters as proposed (with a proposal for the
    office's review queue); once the office trusts the member, new sites enter admitted."""
    from portal.catalog.models import TeachingSite
    from portal.directory.models import SiteProposal
    from portal.directory.services import pending_proposals
    from portal.members import services as members
    from portal.members.models import Member
    from portal.specs import SiteSpec

    member = db.session.scalar(select(Member).order_by(Member.id))
    original = members._ask
    extra: list[SiteSpec] = []

    def ask(hook, name, kind):
        specs = original(hook, name, kind)
        if hook == "portal_teaching_sites" and name == member.plugin and specs is not None:
            return [*specs, *extra]
        return specs

    template = members._ask("portal_teaching_sites", member.plugin, SiteSpec)[0]
    members._ask = ask
    try:
        extra.append(replace(template, key="new_one", name="新点一"))
        members.sync_plugin(member.plugin)
        db.session.commit()
        first = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "new_one"))
        assert first.admission == "proposed" and not first.bookable
        assert first.id in [p.site_id for p in pending_proposals()]
        # The office trusts the member (through its page); the next new site is admitted.
        login(client, "office")
        answer = client.post(f"/directory/members/{member.id}/trusted", data={"trusted": "1"})
        assert answer.status_code == 302
        db.session.expire_all()
        assert db.session.get(Member, member.id).trusted
        extra.append(replace(template, key="new_two", name="新点二"))
        members.sync_plugin(member.plugin)
        db.session.commit()
        second = db.session.scalar(select(TeachingSite).where(TeachingSite.key == "new_two"))
        assert second.admission == "admitted"
        assert (
            db.session.scalar(select(SiteProposal).where(SiteProposal.site_id == second.id)) is None
        )
        assert "directory.trust" in ACTION_LABELS
    finally:
        members._ask = original


def test_moving_a_booking_clears_its_roster_guide(overlapping):
    """The guide was checked free at the old time only: after a move it is named again."""
    from datetime import timedelta

    from portal.scheduling.booking import move_booking

    guide, first, _second, _later = overlapping
    staff = user("yangshanzhou_college_staff")
    services.assign_guide(first.id, staff, guide.id)
    booking = db.session.get(Reservation, first.id).booking
    move_booking(booking, booking.start_date + timedelta(days=1), user("organizer"))
    db.session.expire_all()
    moved = db.session.get(Reservation, first.id)
    assert moved.guide_id is None and moved.guide_name == ""


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x" * 100_000, "grade": "junior"},
        {"name": "a\x00b", "phone": "\x00", "grade": "junior"},
        {"name": "周七", "site": "99999999999", "member": "-1", "grade": "senior"},
        {"name": "<script>alert(1)</script>", "site": "abc", "grade": "trainee"},
    ],
)
def test_hostile_roster_input_is_refused_or_kept_escaped(demo, client, data):
    login(client, "office")
    before = db.session.scalar(select(db.func.count(Guide.id)))
    answer = client.post("/guides/", data=data)
    assert answer.status_code in (302, 400)
    body = answer.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    if answer.status_code == 400:
        assert db.session.scalar(select(db.func.count(Guide.id))) == before
    # The office must name the member: none chosen is refused in Chinese.
    if answer.status_code == 400 and "member" not in data:
        assert "请" in body or "最多" in body


def test_the_office_adds_a_guide_to_a_members_roster_only_with_its_sites(demo, client):
    from tests.scheduling.helpers import site

    login(client, "office")
    member_id = site("spirit_base").member_id
    other_site = site("main_hall").id
    answer = client.post(
        "/guides/",
        data={"name": "钱八", "member": str(member_id), "site": str(other_site), "grade": "junior"},
    )
    assert answer.status_code == 400 and "本单位的教学点" in answer.get_data(as_text=True)
    answer = client.post(
        "/guides/",
        data={
            "name": "钱八",
            "member": str(member_id),
            "site": str(site("spirit_base").id),
            "grade": "junior",
        },
    )
    assert answer.status_code == 302
    guide = db.session.scalar(select(Guide).where(Guide.name == "钱八"))
    assert guide.member_id == member_id and guide.site_id == site("spirit_base").id
