"""The page cache of anonymous reads (portal/pagecache.py): fast, and never stale.

A cached page must show a change as soon as the change is committed (a catalogue edit, a
new booking on a site's calendar and in the availability API), whoever made it and however
(ORM, bulk statements); signed-in users, visitors with a message waiting and a different
language never get someone else's page; a hit costs at most one SQL statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import insert, select, update

from portal import pagecache
from portal.auth.models import User
from portal.catalog import services as catalog
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.scheduling.booking import book
from portal.scheduling.classes import register_class
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import RouteTemplate
from portal.timeutil import LOCAL_TZ
from tests.conftest import empty_all_tables, login, make_test_app, recorded_statements

pytestmark = pytest.mark.db

SITE_KEY = "spirit_base"  # 杨善洲干部学院's site, the first stop of the one-day route
ROUTE = "杨善洲精神一日环线"


def site() -> TeachingSite:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == SITE_KEY))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def future_tuesday() -> str:
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=21)
    return (day + timedelta(days=(1 - day.weekday()) % 7)).isoformat()


def get(client, url: str, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response


def without_token(response) -> bytes:
    """The page without its CSRF token (signed anew at every request)."""
    return re.sub(
        rb'(name="csrf_token" value|name="csrf-token" content)="[^"]+"', rb"\1", response.get_data()
    )


def cache_state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def book_the_route(day: str) -> None:
    """The demo organizer registers a class of 30 and books the one-day route on ``day``."""
    starts = datetime.fromisoformat(day).date()
    organizer = user("organizer")
    training_class = register_class(
        organizer,
        {
            "name": "缓存测试班",
            "kind": "main",
            "origin": "province",
            "sending_unit": "某州委组织部",
            "size": 30,
            "starts_on": starts,
            "ends_on": starts,
            "theme": "党性教育",
            "contact_name": "张联系人",
            "contact_phone": "13800000000",
        },
    )
    db.session.commit()
    template = db.session.scalar(select(RouteTemplate).where(RouteTemplate.name == ROUTE))
    book(training_class, plan_from_template(template, starts), organizer, template=template)


def test_pages_are_served_from_the_cache_the_second_time(demo, client):
    site_id = site().id
    for url in (
        "/sites",
        "/sites?q=%E7%BA%AA%E5%BF%B5&sort=score",
        f"/sites/{site_id}",
        "/teachers",
        "/courses",
        "/routes",
        f"/calendar/site/{site_id}",
        f"/api/v1/availability?site={site_id}&from=2026-01-01&to=2026-01-31",
    ):
        first, second = get(client, url), get(client, url)
        assert (cache_state(first), cache_state(second)) == ("miss", "hit"), url
        assert without_token(second) == without_token(first), url
        assert second.headers["Content-Type"] == first.headers["Content-Type"]
        assert second.headers["X-Content-Type-Options"] == "nosniff"  # after_request still runs
    # The same query in another order is the same page.
    assert cache_state(get(client, "/sites?sort=score&q=%E7%BA%AA%E5%BF%B5")) == "hit"


def test_a_catalogue_edit_shows_at_once(demo, client):
    spirit = site()
    assert spirit.name in get(client, "/sites").get_data(as_text=True)
    assert cache_state(get(client, f"/sites/{spirit.id}")) == "miss"
    assert cache_state(get(client, f"/sites/{spirit.id}")) == "hit"
    before = pagecache.generations()

    values = {f: getattr(spirit, f) for f in catalog.SITE_FIELDS}
    catalog.update_item(spirit, user("office"), {**values, "name": "改名后的教学点"})
    # Not committed yet: the cached pages stand.
    assert pagecache.generations() == before
    db.session.commit()
    after = pagecache.generations()
    assert after[pagecache.CATALOGUE] > before[pagecache.CATALOGUE]
    assert after[pagecache.SCHEDULE] == before[pagecache.SCHEDULE]

    for url in ("/sites", f"/sites/{spirit.id}", f"/calendar/site/{spirit.id}"):
        response = get(client, url)
        assert cache_state(response) == "miss", url
        assert "改名后的教学点" in response.get_data(as_text=True), url


def test_a_new_booking_shows_on_the_calendar_and_in_availability_at_once(demo, client):
    spirit_id = site().id
    day = future_tuesday()
    calendar = f"/calendar/site/{spirit_id}?date={day}"
    availability = f"/api/v1/availability?site={spirit_id}&from={day}&to={day}"
    for url in (calendar, availability):
        get(client, url)
        assert cache_state(get(client, url)) == "hit"
    assert get(client, availability).get_json()["days"][0]["held"] == []
    catalogue_before = pagecache.generations()[pagecache.CATALOGUE]

    book_the_route(day)

    assert pagecache.generations()[pagecache.CATALOGUE] == catalogue_before
    held = get(client, availability).get_json()["days"][0]["held"]
    assert [h["seats_taken"] for h in held] == [30]
    page = get(client, calendar)
    assert cache_state(page) == "miss"
    assert "已预约" in page.get_data(as_text=True)
    # The catalogue's pages were not touched by the booking.
    assert cache_state(get(client, "/courses")) == "miss"
    assert cache_state(get(client, "/courses")) == "hit"


def test_bulk_statements_and_rollbacks(demo, client):
    get(client, "/sites")
    before = pagecache.generations()
    # A bulk UPDATE through the session, as portal/scale.py and bench/run.py write.
    db.session.execute(update(TeachingSite).where(TeachingSite.key == SITE_KEY).values(capacity=7))
    db.session.rollback()
    assert pagecache.generations() == before
    assert cache_state(get(client, "/sites")) == "hit"

    db.session.execute(
        insert(TeachingSite),
        [
            {
                "member_id": site().member_id,
                "name": "批量新增的教学点",
                "theme": "党性教育",
                "capacity": 40,
                "session_minutes": 60,
                "open_weekdays": "12345",
                "opens": datetime(2026, 1, 1, 9).time(),
                "closes": datetime(2026, 1, 1, 17).time(),
            }
        ],
    )
    db.session.commit()
    assert pagecache.generations()[pagecache.CATALOGUE] > before[pagecache.CATALOGUE]
    assert "批量新增的教学点" in get(client, "/sites").get_data(as_text=True)

    # A savepoint that is released does not bump until the outer transaction commits.
    now = pagecache.generations()
    with db.session.begin_nested():
        site().capacity = 99
    assert pagecache.generations() == now
    db.session.commit()
    assert pagecache.generations()[pagecache.CATALOGUE] > now[pagecache.CATALOGUE]


def test_signed_in_users_are_never_served_a_cached_page(demo, client, app):
    spirit_id = site().id
    url = f"/sites/{spirit_id}"
    get(client, url)
    assert cache_state(get(client, url)) == "hit"
    office = app.test_client()
    login(office, "office")
    for _ in range(2):
        response = get(office, url)
        assert cache_state(response) is None
        page = response.get_data(as_text=True)
        assert 'data-testid="whoami"' in page and "变更记录" in page
    # …and what they were shown is not kept for anyone else.
    anonymous = get(client, url)
    assert cache_state(anonymous) == "hit"
    assert 'data-testid="whoami"' not in anonymous.get_data(as_text=True)


def test_a_waiting_message_and_the_language_are_respected(demo, client, app):
    get(client, "/sites")
    # A visitor sent to the login page has a flashed message waiting: they see it.
    visitor = app.test_client()
    visitor.get("/classes")
    response = get(visitor, "/sites")
    assert cache_state(response) is None
    assert "请先登录。" in response.get_data(as_text=True)
    assert "请先登录。" not in get(visitor, "/sites").get_data(as_text=True)
    # English is another page.
    english = app.test_client()
    english.post("/locale", data={"locale": "en", "next": "/sites"})
    response = get(english, "/sites")
    assert cache_state(response) == "miss" and '<html lang="en">' in response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in get(client, "/sites").get_data(as_text=True)


def test_a_cached_page_carries_each_visitors_own_csrf_token(_schema, tmp_path):
    app = make_test_app(_schema, str(tmp_path), WTF_CSRF_ENABLED=True)
    with app.app_context():
        empty_all_tables()
        from portal.demo import load_demo

        load_demo()
        tokens = []
        for _ in range(2):
            visitor = app.test_client()
            response = get(visitor, "/sites")
            token = re.search(
                r'<meta name="csrf-token" content="([^"]+)">', response.get_data(as_text=True)
            )
            tokens.append(token.group(1))
            # The token works for this visitor's own session: the language switch takes it.
            switched = visitor.post(
                "/locale", data={"locale": "en", "next": "/sites", "csrf_token": token.group(1)}
            )
            assert switched.status_code == 302
        assert cache_state(response) == "hit"
        assert tokens[0] != tokens[1]
        assert "\x00" not in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_a_cache_hit_costs_at_most_one_statement(demo, client):
    for url in ("/sites?q=%E7%BA%AA%E5%BF%B5", f"/calendar/site/{site().id}"):
        get(client, url)
        with recorded_statements() as statements:
            response = get(client, url)
        assert cache_state(response) == "hit"
        assert len(statements) <= 1, statements


def test_the_cache_can_be_turned_off(_schema, tmp_path):
    app = make_test_app(_schema, str(tmp_path), PAGE_CACHE=False)
    with app.app_context():
        empty_all_tables()
        from portal.demo import load_demo

        load_demo()
        client = app.test_client()
        assert cache_state(get(client, "/sites")) is None
        assert cache_state(get(client, "/sites")) is None
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def redis_app(_schema: str, tmp_path, shared_redis) -> Iterator[Flask]:
    """The portal with its pages and generations in Redis (a key prefix of its own)."""
    url, prefix = shared_redis
    app = make_test_app(_schema, str(tmp_path), CACHE_REDIS_URL=url, PAGE_CACHE_KEY_PREFIX=prefix)
    with app.app_context():
        empty_all_tables()
        from portal.demo import load_demo

        load_demo()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_with_redis_every_worker_shares_pages_and_generations(redis_app):
    spirit = site()
    first, second = redis_app.test_client(), redis_app.test_client()
    assert cache_state(get(first, f"/sites/{spirit.id}")) == "miss"
    assert cache_state(get(second, f"/sites/{spirit.id}")) == "hit"
    before = pagecache.generations()
    assert isinstance(
        pagecache.current_app.extensions[pagecache.EXTENSION], pagecache.RedisGenerations
    )

    spirit.capacity = 77
    db.session.commit()
    assert pagecache.generations()[pagecache.CATALOGUE] == before[pagecache.CATALOGUE] + 1
    response = get(second, f"/sites/{spirit.id}")
    assert cache_state(response) == "miss" and "77" in response.get_data(as_text=True)
    # No generation is kept in the database.
    assert db.session.scalars(select(pagecache.CacheGeneration)).all() == []


def test_clearing_the_cache_after_a_restore(demo, client, app):
    get(client, "/sites")
    assert cache_state(get(client, "/sites")) == "hit"
    before = pagecache.generations()
    # pg_restore replaces rows under the portal: no session event sees it.
    with db.engine.begin() as conn:
        conn.execute(update(TeachingSite).where(TeachingSite.key == SITE_KEY).values(name="还原后"))
    result = app.test_cli_runner().invoke(args=["portal", "clear-cache"])
    assert result.exit_code == 0, result.output
    assert all(pagecache.generations()[a] > before[a] for a in pagecache.AREAS)
    response = get(client, "/sites")
    assert cache_state(response) == "miss" and "还原后" in response.get_data(as_text=True)
