"""Signed-in users' own pages from the page cache (pagecache.private_page, issue 20).

The pages thousands open at 08:30 (the trainee's 我的 and 考勤, the organizer's roster and
attendance pages, the member's 预约待办 …) are kept per user: served again to the same
login while no data changed and the minute is the same; never to anyone else; never with
a message waiting; any commit that changes what a page may show makes it anew at once;
a kept page costs the user's own load and one read of the generations.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import pagecache
from portal.extensions import db
from portal.scheduling.models import Reservation, TrainingClass
from portal.trainees.demo import DEMO_CLASS
from tests.conftest import demo_apps, login, recorded_statements

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> dict[str, datetime]:
    """The cache key's clock stands still unless a test moves it: a minute turning between
    two requests of a slow run would (rightly) make the second one a miss."""
    now = {"at": datetime.now(UTC)}

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return now["at"].astimezone(tz) if tz else now["at"].replace(tzinfo=None)

    monkeypatch.setattr(pagecache, "datetime", Frozen)
    return now


@pytest.fixture
def season(app):
    from portal.demo import load_demo

    load_demo(season=["trainees", "attendance"])
    db.session.commit()
    return app


def demo_class() -> TrainingClass:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == DEMO_CLASS))


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def without_token(response) -> bytes:
    return re.sub(
        rb'(name="csrf_token" value|name="csrf-token" content)="[^"]+"', rb"\1", response.get_data()
    )


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def test_a_page_is_kept_for_its_user_and_a_change_shows_at_once(season):
    trainee = signed_in(season, "trainee")
    first = get(trainee, "/me")
    assert state(first) == "miss"
    again = get(trainee, "/me")
    assert state(again) == "hit"
    assert without_token(again) == without_token(first)
    klass = demo_class()
    assert klass.name in again.get_data(as_text=True)

    klass.name = "改名后的培训班"
    db.session.commit()
    changed = get(trainee, "/me")
    assert state(changed) == "miss"
    assert "改名后的培训班" in changed.get_data(as_text=True)

    # A bulk statement through the session moves the generations as well.
    db.session.execute(
        update(TrainingClass).where(TrainingClass.id == klass.id).values(name="再次改名的培训班")
    )
    db.session.commit()
    assert "再次改名的培训班" in get(trainee, "/me").get_data(as_text=True)


def test_never_served_to_another_user(season):
    trainee = signed_in(season, "trainee")
    organizer = signed_in(season, "organizer")
    mine = get(trainee, "/runs")
    assert state(get(trainee, "/runs")) == "hit"
    theirs = get(organizer, "/runs")
    assert state(theirs) == "miss"
    from portal.auth.models import User

    names = dict(db.session.execute(select(User.username, User.display_name)).all())
    assert names["trainee"] in mine.get_data(as_text=True)
    assert names["trainee"] not in theirs.get_data(as_text=True)
    assert names["organizer"] in theirs.get_data(as_text=True)
    # Anonymous visitors get neither.
    anonymous = get(season.test_client(), "/runs")
    assert state(anonymous) is None
    assert 'data-testid="whoami"' not in anonymous.get_data(as_text=True)


def test_each_keeps_its_own_csrf_token(season):
    trainee = signed_in(season, "trainee")
    get(trainee, "/attendance/me")
    other_login = signed_in(season, "trainee")  # the same person on a second phone
    # Another login of the same user is not a change of anything a page shows.
    page = get(other_login, "/attendance/me")
    assert state(page) == "hit"
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page.get_data()).group(1)
    with other_login.session_transaction() as s:
        assert s["csrf_token"]  # the token in the page is this session's own
    assert token and pagecache.CSRF_PLACEHOLDER not in page.get_data()


def test_a_waiting_message_is_shown_and_not_kept(season):
    trainee = signed_in(season, "trainee")
    get(trainee, "/me")
    with trainee.session_transaction() as s:
        s["_flashes"] = [("info", "一条等着的消息")]
    shown = get(trainee, "/me")
    assert state(shown) is None and "一条等着的消息" in shown.get_data(as_text=True)
    after = get(trainee, "/me")
    assert state(after) == "hit" and "一条等着的消息" not in after.get_data(as_text=True)


def test_at_most_a_minute_older_than_the_clock(season, clock):
    trainee = signed_in(season, "trainee")
    get(trainee, "/me")
    assert state(get(trainee, "/me")) == "hit"
    clock["at"] += timedelta(minutes=1)
    assert state(get(trainee, "/me")) == "miss"


def test_logging_out_or_losing_access_is_seen_at_once(season):
    organizer = signed_in(season, "organizer")
    url = f"/classes/{demo_class().id}/trainees"
    get(organizer, url)
    assert state(get(organizer, url)) == "hit"
    # The class handed to another organizer: the roster is no longer theirs.
    from portal.auth.models import User

    me = db.session.scalar(select(User).where(User.username == "organizer"))
    successor = User(
        username="organizer_b",
        display_name="李接手",
        role="organizer",
        unit_name=me.unit_name,
        password_hash=me.password_hash,
    )
    db.session.add(successor)
    db.session.flush()
    demo_class().organizer_id = successor.id
    db.session.commit()
    assert organizer.get(url).status_code == 404
    organizer.post("/logout")
    assert organizer.get(url).status_code in (302, 401)


def test_the_inbox_sees_a_decision_at_once_and_still_expires_offers(season):
    staff = signed_in(season, "yangshanzhou_college_staff")
    first = get(staff, "/inbox")
    assert state(get(staff, "/inbox")) == "hit"
    pending = db.session.scalar(select(Reservation).where(Reservation.status == "pending"))
    if pending is not None:
        pending.status = "confirmed"
        db.session.commit()
        assert state(get(staff, "/inbox")) == "miss"
    assert first.status_code == 200


def test_a_kept_page_costs_the_login_and_the_generations(season):
    trainee = signed_in(season, "trainee")
    staff = signed_in(season, "yangshanzhou_college_staff")
    for client, url, most in ((trainee, "/me", 2), (staff, "/inbox", 3)):
        get(client, url)
        with recorded_statements() as statements:
            response = get(client, url)
        assert state(response) == "hit"
        # The user with their login; the generations; the inbox: offers run out.
        assert len(statements) <= most, statements


def test_it_can_be_turned_off(_schema, tmp_path):
    for (app,) in demo_apps(_schema, tmp_path, season=["trainees"], PRIVATE_PAGE_CACHE=False):
        trainee = signed_in(app, "trainee")
        assert state(get(trainee, "/me")) is None
        assert state(get(trainee, "/me")) is None


@pytest.fixture
def two_servers(_schema: str, tmp_path, shared_redis):
    """Two portal apps (two servers) sharing the database and one Redis."""
    url, prefix = shared_redis
    yield from demo_apps(
        _schema,
        tmp_path,
        ("a", "b"),
        season=["trainees", "attendance"],
        CACHE_REDIS_URL=url,
        PAGE_CACHE_KEY_PREFIX=prefix,
    )


def test_two_servers_share_a_users_pages_and_see_each_others_changes(two_servers):
    a, b = two_servers
    trainee = signed_in(a, "trainee")  # the same session cookie goes to either server
    assert state(get(trainee, "/me")) == "miss"
    on_b = b.test_client()
    with trainee.session_transaction() as kept, on_b.session_transaction() as moved:
        moved.update(dict(kept))
    with b.app_context():
        assert state(get(on_b, "/me")) == "hit"
    # A change committed through server A is seen on server B's next request.
    demo_class().name = "两台服务器都看得到的新名字"
    db.session.commit()
    with b.app_context():
        page = get(on_b, "/me")
    assert state(page) == "miss"
    assert "两台服务器都看得到的新名字" in page.get_data(as_text=True)
