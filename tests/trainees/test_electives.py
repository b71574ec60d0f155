"""Electives: each option booked in the engine for its seats, choices, placing the rest."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import Booking, Reservation
from portal.timeutil import utcnow
from portal.trainees import electives, itinerary
from portal.trainees.models import ElectiveChoice
from tests.scheduling.helpers import future_weekday, site, user
from tests.trainees.helpers import class_with_roster, entries


def people(count: int) -> list[tuple[str, str, str]]:
    return [(f"学员{i:02d}", f"1350000{i:04d}", "甲县") for i in range(count)]


def make_elective(trainees: int = 3, seats: tuple[int, ...] = (2, 2), title: str = "下午选学"):
    """A class of ``trainees`` with an elective of one option per entry of ``seats``."""
    klass = class_with_roster(
        size=max(trainees, 1), people=people(trainees), start=future_weekday(2)
    )
    keys = ("simola_village", "guoshang_cemetery", "heshun_library")
    elective = electives.create_elective(
        klass,
        user("organizer"),
        {
            "title": title,
            "day": klass.starts_on,
            "starts": time(10, 0),
            "minutes": 60,
            "choose_by": klass.starts_on - timedelta(days=2),
            "options": [
                {"site_id": site(key).id, "course_id": None, "seats": n}
                for key, n in zip(keys, seats, strict=False)
            ],
        },
    )
    return klass, elective


@pytest.mark.db
def test_each_option_is_booked_for_its_seats_in_the_engine(demo):
    klass, elective = make_elective(seats=(2, 3))
    bookings = [db.session.get(Booking, o.booking_id) for o in elective.options]
    assert [b.class_id for b in bookings] == [klass.id, klass.id]
    sizes = [r.group_size for b in bookings for r in b.reservations]
    assert sizes == [2, 3]
    assert {r.site_id for b in bookings for r in b.reservations} == {
        site("simola_village").id,
        site("guoshang_cemetery").id,
    }


@pytest.mark.db
def test_the_options_must_hold_everyone_and_number_two_to_four(demo):
    klass = class_with_roster(people=people(5))
    base = {
        "title": "选学",
        "day": klass.starts_on,
        "starts": time(10, 0),
        "minutes": 60,
        "choose_by": klass.starts_on - timedelta(days=1),
    }
    with pytest.raises(ValidationFailed) as bad:
        electives.create_elective(
            klass,
            user("organizer"),
            {
                **base,
                "options": [{"site_id": site("simola_village").id, "course_id": None, "seats": 5}],
            },
        )
    assert "2 到 4" in bad.value.errors["options"]
    with pytest.raises(ValidationFailed) as bad:
        electives.create_elective(
            klass,
            user("organizer"),
            {
                **base,
                "options": [
                    {"site_id": site("simola_village").id, "course_id": None, "seats": 2},
                    {"site_id": site("guoshang_cemetery").id, "course_id": None, "seats": 2},
                ],
            },
        )
    assert "不少于名单人数" in bad.value.errors["options"]
    with pytest.raises(NotFound):
        electives.create_elective(klass, user("trainee"), base)


@pytest.mark.db
def test_choices_respect_the_seats_and_the_itinerary_shows_ones_own(demo):
    klass, elective = make_elective(trainees=3, seats=(1, 2))
    first, second, third = entries(klass)
    small, large = elective.options
    electives.choose(elective.id, first.id, small.id)
    with pytest.raises(ServiceError, match="名额已满"):
        electives.choose(elective.id, second.id, small.id)
    electives.choose(elective.id, second.id, large.id)
    # Changing one's mind frees the seat.
    electives.choose(elective.id, first.id, large.id)
    electives.choose(elective.id, third.id, small.id)
    db.session.expire_all()
    assert electives.counts(elective) == {small.id: 1, large.id: 2}
    mine = itinerary.class_stops(klass, entries(klass)[2])
    assert [s.site_name for s in mine if s.elective] == [site("simola_village").name]
    everyone = itinerary.class_stops(klass, None)
    assert len([s for s in everyone if s.elective]) == 2


@pytest.mark.db
def test_a_trainee_who_has_not_chosen_sees_it_waiting(demo):
    klass, _elective = make_elective()
    stops = itinerary.class_stops(klass, entries(klass)[0])
    assert [s.pending_choice for s in stops if s.elective] == [True]


@pytest.mark.db
def test_placing_the_rest_keeps_the_options_balanced_and_happens_once(demo):
    klass, elective = make_elective(trainees=9, seats=(6, 6))
    first = entries(klass)[0]
    electives.choose(elective.id, first.id, elective.options[0].id)
    assert electives.place_due(utcnow()) == 0  # not due yet
    later = elective.choose_by + timedelta(minutes=1)
    assert electives.place_due(later) == 8
    db.session.expire_all()
    taken = electives.counts(elective)
    assert sorted(taken.values()) == [4, 5]
    assert electives.place_due(later) == 0
    assert electives.place(elective.id) == 0
    assert (
        db.session.scalar(
            select(ElectiveChoice).where(ElectiveChoice.entry_id == first.id)
        ).placed_by_portal
        is False
    )
    with pytest.raises(ServiceError, match="截止"):
        electives.choose(elective.id, first.id, elective.options[1].id)


@pytest.mark.db
def test_hosting_members_see_how_many_come(demo):
    klass, elective = make_elective(seats=(2, 2))
    electives.choose(elective.id, entries(klass)[0].id, elective.options[1].id)
    rows = electives.hosting_counts(site("guoshang_cemetery").member_id)
    counted = {r.option.site_id: r.count for r in rows if r.elective.id == elective.id}
    assert counted == {site("simola_village").id: 0, site("guoshang_cemetery").id: 1}
    held = db.session.scalars(
        select(Reservation).where(Reservation.booking_id == elective.options[1].booking_id)
    ).all()
    assert [r.group_size for r in held] == [2]
