"""Every figure against the hand-counted year of conftest.py, for each scope and period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.reports import services
from portal.reports.figures import FIGURES, compute
from portal.reports.period import Scope, parse_period, quarter_period, range_period, year_period
from tests.reports.conftest import build_year

pytestmark = pytest.mark.db

CONSORTIUM_2025 = {
    "classes": 5,  # c1 c2 c3 c8 c9
    "trainees": 75,
    "classes_city": 2,  # c1 c9
    "trainees_city": 18,
    "classes_province": 1,  # c2 (c5 is a study visit)
    "trainees_province": 20,
    "classes_other_province": 1,  # c3
    "trainees_other_province": 30,
    "classes_international": 1,  # c8
    "trainees_international": 7,
    "ring_classes": 2,  # c1 c3 (c8 cancelled its booking, c9's is pending)
    "ring_trainees": 40,
    "study_visits": 1,  # c5
    "visit_groups": 5,  # c1@A, c2@B (31 Dec), c3@A (two squads, one group), c3@B, c5@A
    "visit_people": 95,
    "sites_added": 2,  # 新点一 (New Year's morning in Shanghai), 新点二
    "courses_added": 1,
    "materials_added": 1,
    "routes_added": 1,  # the draft is not counted
    "teachers": 2,  # 甲 乙 (丙 retired)
    "teachers_full_time": 1,
    "teachers_part_time": 1,
    "meetings_held": 1,
    "events_held": 1,
    "certificates_issued": 3,  # c1, c3, c9 (c1's New Year's morning one is 2026)
    "certificates_withdrawn": 2,  # c3 revoked in 2025, c2 withheld
}
MEMBER_A_2025 = {
    "classes": 2,  # c1 c3
    "trainees": 40,
    "classes_city": 1,
    "trainees_city": 10,
    "classes_province": 0,
    "trainees_province": 0,
    "classes_other_province": 1,
    "trainees_other_province": 30,
    "classes_international": 0,
    "trainees_international": 0,
    "ring_classes": 2,
    "ring_trainees": 40,
    "study_visits": 1,
    "visit_groups": 3,  # c1, c3 (two squads), c5
    "visit_people": 45,
    "sites_added": 1,
    "courses_added": 0,
    "materials_added": 0,
    "routes_added": 1,  # its stop is at A's site
    "teachers": 1,
    "teachers_full_time": 1,
    "teachers_part_time": 0,
    "meetings_held": 1,  # invited
    "events_held": 0,
    "certificates_issued": 2,  # c1, c3
    "certificates_withdrawn": 1,  # c3
}
MEMBER_B_2025 = {
    "classes": 2,  # c2 c3
    "trainees": 50,
    "classes_city": 0,
    "trainees_city": 0,
    "classes_province": 1,
    "trainees_province": 20,
    "classes_other_province": 1,
    "trainees_other_province": 30,
    "classes_international": 0,
    "trainees_international": 0,
    "ring_classes": 1,  # c3
    "ring_trainees": 30,
    "study_visits": 0,
    "visit_groups": 2,  # c2 on 31 Dec, c3 (its declined stop is not)
    "visit_people": 50,
    "sites_added": 1,
    "courses_added": 1,
    "materials_added": 1,
    "routes_added": 0,
    "teachers": 1,
    "teachers_full_time": 0,
    "teachers_part_time": 1,
    "meetings_held": 0,
    "events_held": 1,  # hosts the event's kind
    "certificates_issued": 1,  # c3
    "certificates_withdrawn": 2,  # c3 revoked, c2 withheld (its stop of 31 Dec)
}


def test_every_figure_is_asserted():
    assert set(FIGURES) == set(CONSORTIUM_2025) == set(MEMBER_A_2025) == set(MEMBER_B_2025)


def test_consortium_year(year):
    assert compute(year_period(2025), Scope(None)).values == CONSORTIUM_2025


def test_member_scopes(year):
    assert compute(year_period(2025), Scope(year["a"])).values == MEMBER_A_2025
    assert compute(year_period(2025), Scope(year["b"])).values == MEMBER_B_2025


def test_period_boundaries(year):
    q1 = compute(quarter_period(2025, 1), Scope(None))
    assert (q1["classes"], q1["visit_groups"], q1["sites_added"], q1["routes_added"]) == (
        1,
        1,
        1,
        1,
    )
    q4 = compute(quarter_period(2025, 4), Scope(None))
    assert (q4["classes"], q4["trainees"], q4["visit_groups"], q4["events_held"]) == (1, 20, 1, 1)
    # One day: 2025-12-31 holds c2 and its first stop; the next day is 2026.
    day = compute(range_period(date(2025, 12, 31), date(2025, 12, 31)), Scope(None))
    assert (day["classes"], day["visit_people"]) == (1, 20)
    new_year = compute(range_period(date(2026, 1, 1), date(2026, 1, 1)), Scope(None))
    # c7 starts then; its stop at midnight and c2's second stop are received that day.
    assert (new_year["classes"], new_year["visit_groups"], new_year["visit_people"]) == (1, 2, 80)
    # Teachers are those on the books on the last day: none at the start of January.
    assert compute(range_period(date(2025, 1, 1), date(2025, 1, 4)), Scope(None))["teachers"] == 0
    # c1's certificate of New Year's morning in Shanghai counts on 1 January 2026.
    assert new_year["certificates_issued"] == 1
    assert (
        compute(range_period(date(2025, 12, 31), date(2025, 12, 31)), Scope(None))[
            "certificates_issued"
        ]
        == 0
    )


def test_certificate_records(year):
    period = year_period(2025)
    _fig, rows, _ = services.figure_records("certificates_withdrawn", period, Scope(year["b"]))
    assert sorted(r.status for r in rows) == ["revoked", "withheld"]
    _fig, rows, _ = services.figure_records("certificates_issued", period, Scope(year["a"]))
    assert sorted(r.training_class.name for r in rows) == ["c1", "c3"]


def test_records_are_what_is_counted(year):
    period = year_period(2025)
    fig, rows, more = services.figure_records("classes", period, Scope(None))
    assert {c.name for c in rows} == {"c1", "c2", "c3", "c8", "c9"} and not more
    _fig, rows, _ = services.figure_records("ring_classes", period, Scope(year["b"]))
    assert [c.name for c in rows] == ["c3"]
    _fig, rows, _ = services.figure_records("visit_people", period, Scope(year["a"]))
    assert sorted(r.group_size for r in rows) == [5, 10, 15, 15]


def test_breakdowns(year):
    period = year_period(2025)
    months = services.trainees_per_month(period, Scope(None))
    assert months["city"][0] == 10 and months["city"][7] == 8
    assert months["province"][11] == 20 and months["other_province"][5] == 30
    per_member = {
        r.member.key: (r.classes, r.trainees)
        for r in services.classes_per_member(period, Scope(None))
    }
    assert per_member["party_school"] == (2, 40)
    assert per_member["tengchong_college"] == (2, 50)
    assert per_member["songshan_base"] == (0, 0)
    occupancy = {r.site.id: r.groups for r in services.site_occupancy(period, Scope(None))}
    assert occupancy[year["site_a"].id][0] == 1 and occupancy[year["site_a"].id][5] == 1
    assert occupancy[year["site_b"].id][11] == 1 and sum(occupancy[year["site_b"].id]) == 2


def test_report_text_fills_every_blank(year):
    report = compute(year_period(2025), Scope(None))
    text = services.report_text(report)
    assert "总班次5期，培训总人数75人" in text
    assert "市内班次2期、18人，市外省内班次1期、20人，省外班次1期、30人" in text
    assert "环线培训班次2期、40人" in text
    assert "共接待参观学习和培训班次5批95人次" in text
    assert "另有国际班次1期、7人" in text
    assert "召开联席会议1次，举办联动活动1项" in text


def test_queries_are_bounded(year):
    """The report costs the same number of queries whatever the number of classes."""

    def count() -> int:
        statements: list[str] = []
        engine = db.engine

        def record(*args):
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            compute(year_period(2025), Scope(None))
            services.classes_per_member(year_period(2025), Scope(None))
            services.site_occupancy(year_period(2025), Scope(None))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    before = count()
    for _ in range(3):  # as many classes, stops, sites and meetings again, three times
        build_year()
    assert count() == before


@pytest.mark.parametrize(
    "args, field",
    [
        ({"year": "1999"}, "year"),
        ({"year": "20x6"}, "year"),
        ({"year": "2026", "quarter": "5"}, "quarter"),
        ({"year": "2026", "quarter": "9" * 5000}, "quarter"),
        ({"year": "2" * 5000}, "year"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end"),
        ({"start": "2000-01-01", "end": "2100-12-31"}, "end"),
        ({"start": "1900-01-01", "end": "2026-01-01"}, "start"),
    ],
)
def test_wrong_periods_are_refused_in_words(app, args, field):
    with pytest.raises(ValidationFailed) as error:
        parse_period(args)
    assert field in error.value.errors


def test_periods_are_named(app):
    assert parse_period({"year": "2026"}).label == "2026年"
    assert parse_period({"year": "2026", "quarter": "2"}).end == date(2026, 6, 30)
    assert parse_period({"start": "2026-01-01", "end": "2026-12-31"}).label == "2026年"
    assert parse_period({"start": "2026年1月1日", "end": "20260331"}).label == "2026年第1季度"
    assert (
        parse_period({"start": "2026-01-05", "end": "2026-02-01"}).label == "2026-01-05至2026-02-01"
    )


def test_overdue_decisions_per_member(year):
    from portal.meetings.models import Decision, Meeting

    meeting = Meeting(title="会议", status="held")
    db.session.add(meeting)
    db.session.flush()
    for member, due, status in (
        (year["a"], date(2026, 1, 1), "open"),
        (year["a"], date(2026, 1, 2), "open"),
        (year["a"], date(2026, 3, 1), "open"),  # not due yet
        (year["b"], date(2026, 1, 1), "done"),
    ):
        db.session.add(
            Decision(
                meeting_id=meeting.id, member_id=member.id, text="事项", due_on=due, status=status
            )
        )
    db.session.flush()
    counts = {m.key: n for m, n in services.overdue_per_member(date(2026, 2, 1))}
    assert counts["party_school"] == 2 and counts["tengchong_college"] == 0
