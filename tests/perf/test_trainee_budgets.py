"""Query budgets of the trainee side (issue 20): statements per request constant as data grows.

The pages of the morning rush (the trainee's ``/me``, the organizer's class pages, the
member's inbox) and the two writes of the rushes (a QR sign-in, an open-run seat booking)
are requested on the demo season (trainees and attendance), then again after bulk-inserting
more of what each shows: 45 more trainees on the demo class with marks, four more (ended)
classes of the demo trainee with notices, twenty more open runs, forty more seats in the demo run.
The writes are counted for a trainee who has not signed in / booked yet, on both sizes.
Pattern and counting as in tests/perf/test_query_budgets.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, insert, select, update

from portal.attendance import tokens
from portal.attendance.models import AttendanceMark
from portal.attendance.services import ensure_sessions
from portal.auth.models import User
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees.demo import DEMO_CLASS, DEMO_RUN
from portal.trainees.models import ClassNotice, ClassProfile, OpenRun, OpenRunSeat, RosterEntry
from tests.conftest import empty_all_tables, login, make_test_app

pytestmark = pytest.mark.db

MORE_TRAINEES = 45
MORE_CLASSES = 4
MORE_RUNS = 20
MORE_SEATS = 40

# (name, url, user): GET pages.
PAGES = [
    ("me", "/me", "trainee"),
    ("my_class", "/me/classes/{class_id}", "trainee"),
    ("my_attendance", "/attendance/me", "trainee"),
    ("runs", "/runs", "trainee"),
    ("run_detail", "/runs/{run_id}", "trainee"),
    ("class_roster", "/classes/{class_id}/trainees", "organizer"),
    ("class_attendance", "/attendance/classes/{class_id}", "organizer"),
    ("class_board", "/attendance/classes/{class_id}/board", "organizer"),
    ("session_sheet", "/attendance/sessions/{session_id}", "organizer"),
    ("inbox_member", "/inbox", "yangshanzhou_college_staff"),
]
WRITES = ["sign_in", "book_seat"]


@dataclass
class Targets:
    class_id: int
    run_id: int
    session_id: int


@dataclass
class Measured:
    small: dict[str, int] = field(default_factory=dict)
    large: dict[str, int] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)
    small_statements: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)


def _ids(model, rows: list[dict]) -> list[int]:
    return list(
        db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    )


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _open_session_now(class_id: int) -> int:
    """One of the class's sessions, moved so that its sign-in is open now."""
    training_class = db.session.get(TrainingClass, class_id)
    sessions = ensure_sessions(training_class)
    db.session.commit()
    now = utcnow()
    session = sessions[0]
    session.opens_at = now - timedelta(minutes=30)
    session.starts_at = now - timedelta(minutes=5)
    session.ends_at = now + timedelta(hours=3)
    db.session.commit()
    return session.id


def _scale_one() -> Targets:
    from portal.demo import load_demo

    load_demo(season=["trainees", "attendance"])
    db.session.commit()
    class_id = db.session.scalar(select(TrainingClass.id).where(TrainingClass.name == DEMO_CLASS))
    run_id = db.session.scalar(select(OpenRun.id).where(OpenRun.title == DEMO_RUN))
    return Targets(class_id=class_id, run_id=run_id, session_id=_open_session_now(class_id))


def _trainees(prefix: str, n: int) -> list[int]:
    """``n`` trainee accounts with the demo password (copied from the demo trainee)."""
    password_hash = _user("trainee").password_hash
    return _ids(
        User,
        [
            {
                "username": f"{prefix}_{i:03}",
                "display_name": f"学员{prefix}{i}",
                "role": "trainee",
                "unit_name": "某县委组织部",
                "phone": f"139{hash(prefix) % 1000:03}{i:05}",
                "password_hash": password_hash,
            }
            for i in range(n)
        ],
    )


def _enrol(class_id: int, user_ids: list[int]) -> list[int]:
    return _ids(
        RosterEntry,
        [
            {
                "class_id": class_id,
                "user_id": u,
                "name": f"学员{u}",
                "gender": "男",
                "unit": "某县委组织部",
                "phone": f"1390000{u:04}"[-11:],
            }
            for u in user_ids
        ],
    )


def _grow(t: Targets) -> None:
    organizer = _user("organizer")
    trainee = _user("trainee")
    office = _user("office")
    klass = db.session.get(TrainingClass, t.class_id)
    # 45 more trainees on the demo class, each signed in to the open session.
    entries = _enrol(t.class_id, _trainees("grow", MORE_TRAINEES))
    db.session.execute(
        insert(AttendanceMark),
        [
            {"session_id": t.session_id, "entry_id": e, "status": "present", "source": "qr"}
            for e in entries
        ],
    )
    # Notices on the demo class.
    db.session.execute(
        insert(ClassNotice),
        [
            {
                "class_id": t.class_id,
                "title": f"通知{i}",
                "body": "内容",
                "created_by_id": organizer.id,
            }
            for i in range(20)
        ],
    )
    # The demo trainee's history: four ended classes, each with rules and notices. (/me and
    # /attendance/me give full cards only to classes not ended: about ten statements each.)
    today = datetime.now(LOCAL_TZ).date()
    classes = _ids(
        TrainingClass,
        [
            {
                "name": f"增长培训班{i}",
                "kind": "commissioned",
                "origin": "province",
                "sending_unit": klass.sending_unit,
                "size": 20,
                "starts_on": today - timedelta(days=60 * (i + 1)),
                "ends_on": today - timedelta(days=60 * (i + 1) - 2),
                "theme": "党性教育",
                "contact_name": "联系人",
                "contact_phone": "13800000000",
                "organizer_id": organizer.id,
            }
            for i in range(MORE_CLASSES)
        ],
    )
    for c in classes:
        _enrol(c, [trainee.id])
        db.session.execute(
            insert(ClassProfile), [{"class_id": c, "rules_text": "守则", "contacts_text": ""}]
        )
        db.session.execute(
            insert(ClassNotice),
            [
                {"class_id": c, "title": f"通知{i}", "body": "内容", "created_by_id": organizer.id}
                for i in range(5)
            ],
        )
    # Twenty more open runs the trainee may book, each with a class of the office's.
    run_classes = _ids(
        TrainingClass,
        [
            {
                "name": f"开放班次{i}",
                "kind": "commissioned",
                "origin": "province",
                "sending_unit": "联盟办公室",
                "size": 30,
                "starts_on": today + timedelta(days=40 + i),
                "ends_on": today + timedelta(days=40 + i),
                "theme": "党性教育",
                "contact_name": "联系人",
                "contact_phone": "13800000000",
                "organizer_id": office.id,
            }
            for i in range(MORE_RUNS)
        ],
    )
    _ids(
        OpenRun,
        [
            {
                "class_id": c,
                "title": f"增长开放班次{i}",
                "publisher_id": office.id,
                "starts_on": today + timedelta(days=40 + i),
                "ends_on": today + timedelta(days=40 + i),
                "seats": 30,
                "min_participants": 5,
                "booking_deadline": today + timedelta(days=30),
                "cancel_deadline": today + timedelta(days=30),
                "open_to": "all",
                "status": "open",
            }
            for i, c in enumerate(run_classes)
        ],
    )
    # Forty more seats in the demo run.
    seat_users = _trainees("seat", MORE_SEATS)
    db.session.execute(
        insert(OpenRunSeat),
        [
            {
                "run_id": t.run_id,
                "user_id": u,
                "name": f"学员{u}",
                "unit": "某县委组织部",
                "booked_by_id": u,
                "status": "booked",
            }
            for u in seat_users
        ],
    )
    db.session.execute(update(OpenRun).where(OpenRun.id == t.run_id).values(seats=500))
    db.session.commit()


def _listen() -> list[str]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return statements, record


def _count_get(client, url: str) -> tuple[int, list[str], int]:
    client.get(url)  # warm up: first connection, caches
    statements, record = _listen()
    try:
        status = client.get(url).status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements), statements, status


def _count_write(app: Flask, name: str, t: Targets, usernames: list[str]) -> tuple[int, list, int]:
    """A sign-in or booking by the last of ``usernames``; the others warm up (same request)."""
    if name == "sign_in":
        url = f"/attendance/sessions/{t.session_id}/scan/"
    else:
        url = f"/runs/{t.run_id}/book"
    result = (0, [], 0)
    for username in usernames:
        client = app.test_client()
        login(client, username)
        full = (
            url + tokens.make_token(t.session_id, tokens.period_at()) if name == "sign_in" else url
        )
        statements, record = _listen()
        try:
            response = client.post(full, data={"submit": "1"})
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        ok = response.status_code in (200, 302)
        result = (len(statements), statements, 200 if ok else response.status_code)
    return result


def _written(name: str, t: Targets, username: str) -> bool:
    user = _user(username)
    if name == "sign_in":
        entry = db.session.scalar(
            select(RosterEntry.id).where(
                RosterEntry.class_id == t.class_id, RosterEntry.user_id == user.id
            )
        )
        query = select(AttendanceMark.id).where(
            AttendanceMark.session_id == t.session_id, AttendanceMark.entry_id == entry
        )
    else:
        query = select(OpenRunSeat.id).where(
            OpenRunSeat.run_id == t.run_id, OpenRunSeat.user_id == user.id
        )
    return db.session.scalar(query) is not None


def _new_trainees_on_class(t: Targets, prefix: str, n: int) -> list[str]:
    users = _trainees(prefix, n)
    _enrol(t.class_id, users)
    db.session.commit()
    return [db.session.get(User, u).username for u in users]


def _measure(app: Flask, t: Targets, into: dict[str, int], measured: Measured, tag: str) -> None:
    clients = {}
    for name, url, user in PAGES:
        if user not in clients:
            clients[user] = app.test_client()
            login(clients[user], user)
        count, statements, status = _count_get(clients[user], url.format(**t.__dict__))
        into[name] = count
        measured.statements[name] = statements
        measured.status[name] = status
    # The pages above derive the sessions again from the itinerary (moving them back).
    assert _open_session_now(t.class_id) == t.session_id
    for name in WRITES:
        usernames = _new_trainees_on_class(t, f"{tag}{name}", 2)
        count, statements, status = _count_write(app, name, t, usernames)
        if status == 200 and not _written(name, t, usernames[-1]):
            status = 0  # answered, but nothing recorded: a refusal is not what is measured
        into[name] = count
        measured.statements[name] = statements
        measured.status[name] = status


@pytest.fixture(scope="module")
def measured(_schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    app = make_test_app(
        _schema,
        str(tmp_path_factory.mktemp("trainee_budgets")),
        PAGE_CACHE=False,
        RATELIMIT_ENABLED=False,
    )
    with app.app_context():
        empty_all_tables()
        result = Measured()
        targets = _scale_one()
        _measure(app, targets, result.small, result, "s")
        small_status = dict(result.status)
        result.small_statements = dict(result.statements)
        _grow(targets)
        _measure(app, targets, result.large, result, "l")
        for name, status in small_status.items():
            assert status == 200, f"{name} answered {status} on the demo"
        yield result
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


def _normalise(statement: str) -> str:
    return re.sub(r"\s+", " ", statement)[:160]


@pytest.mark.parametrize("name", [n for n, _, _ in PAGES] + WRITES)
def test_statements_do_not_grow_with_the_data(measured: Measured, name: str) -> None:
    assert measured.status[name] == 200, f"{name} answered {measured.status[name]}"
    small, large = measured.small[name], measured.large[name]
    grown = Counter(_normalise(s) for s in measured.statements[name])
    grown.subtract(Counter(_normalise(s) for s in measured.small_statements[name]))
    repeated = [(s, n) for s, n in grown.most_common(3) if n > 0]
    assert large <= small, (
        f"{name}: {small} statements on the demo, {large} with more data; the statements added: {repeated}"
    )
