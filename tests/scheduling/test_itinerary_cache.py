"""The itinerary PDF is typeset once per change of what it shows, and never served stale."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal import pdfcache
from portal.extensions import db
from portal.scheduling import calendars
from portal.scheduling.booking import book, cancel_booking, decide
from portal.scheduling.fitting import plan_from_template
from portal.scheduling.models import Booking, Reservation, RouteTemplate
from tests.conftest import login
from tests.scheduling.helpers import future_weekday, new_class, site, user

pytestmark = pytest.mark.db


@pytest.fixture
def typeset(app, monkeypatch):
    """Count the PDFs typeset; each is a stub made of what it shows (no font needed)."""
    app.config["PDF_FONT_PATH"] = __file__  # any readable file: the stub never opens it
    made: list[dict] = []

    def stub(**document):
        made.append(document)
        return b"%PDF-1.4 " + repr([document["facts"], document["days"]]).encode()

    monkeypatch.setattr(calendars, "build_itinerary_pdf", stub)
    return made


@pytest.fixture
def booked(demo):
    template = db.session.scalar(
        select(RouteTemplate).where(RouteTemplate.name == "杨善洲精神一日环线")
    )
    klass = new_class(30)
    booking = book(
        klass,
        plan_from_template(template, future_weekday(2)),
        user("organizer"),
        template=template,
    )
    return klass.id, booking.id


def cached_files(app) -> list[str]:
    folder = pdfcache._directory()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_second_request_is_served_from_the_cache(app, client, booked, typeset):
    class_id, _booking = booked
    login(client, "organizer")
    url = f"/classes/{class_id}/itinerary.pdf"
    first = client.get(url)
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    second = client.get(url)
    assert second.data == first.data
    assert len(typeset) == 1
    files = cached_files(app)
    assert len(files) == 1 and files[0].startswith(f"itinerary-{class_id}-zh_Hans_CN-")
    login(client, "office")  # another user allowed to see it gets the same document
    assert client.get(url).data == first.data and len(typeset) == 1


def test_a_booking_change_gives_a_new_pdf(app, client, booked, typeset):
    class_id, booking_id = booked
    login(client, "organizer")
    url = f"/classes/{class_id}/itinerary.pdf"
    before = client.get(url).data
    pending = db.session.scalars(
        select(Reservation).where(
            Reservation.booking_id == booking_id, Reservation.status == "pending"
        )
    ).first()
    decide(pending, user("yangshanzhou_college_staff"), confirm=True)
    after = client.get(url).data
    assert len(typeset) == 2 and after != before
    assert len(cached_files(app)) == 1  # the older version is gone
    cancel_booking(db.session.get(Booking, booking_id), user("office"), "行程调整")
    client.get(url)
    assert len(typeset) == 3 and typeset[-1]["days"] == []


def test_a_renamed_site_gives_a_new_pdf(app, client, booked, typeset):
    class_id, _booking = booked
    login(client, "organizer")
    url = f"/classes/{class_id}/itinerary.pdf"
    client.get(url)
    spirit = site("spirit_base")
    spirit.name = "杨善洲精神教育基地（新馆）"
    db.session.commit()
    client.get(url)
    assert len(typeset) == 2
    assert any("新馆" in row.place for day in typeset[-1]["days"] for row in day.rows)


def test_each_language_has_its_own_pdf(app, client, booked, typeset):
    class_id, _booking = booked
    login(client, "organizer")
    url = f"/classes/{class_id}/itinerary.pdf"
    chinese = client.get(url).data
    with client.session_transaction() as session:
        session["locale"] = "en"
    english = client.get(url).data
    assert english != chinese and len(typeset) == 2
    assert client.get(url).data == english and len(typeset) == 2
    assert len(cached_files(app)) == 2


def test_pdfs_go_to_redis_when_it_is_configured(app, client, booked, typeset):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    app.config.update(CACHE_REDIS_URL=url, PAGE_CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}:")
    class_id, _booking = booked
    login(client, "organizer")
    path = f"/classes/{class_id}/itinerary.pdf"
    first = client.get(path).data
    assert client.get(path).data == first and len(typeset) == 1
    assert cached_files(app) == []  # not in files: every server shares Redis
    keys = redis.Redis.from_url(url).keys(app.config["PAGE_CACHE_KEY_PREFIX"] + "pdf:*")
    assert len(keys) == 1
    redis.Redis.from_url(url).delete(*keys)


def test_without_the_cache_every_request_typesets(app, client, booked, typeset):
    app.config["PDF_CACHE"] = False
    class_id, _booking = booked
    login(client, "organizer")
    client.get(f"/classes/{class_id}/itinerary.pdf")
    client.get(f"/classes/{class_id}/itinerary.pdf")
    assert len(typeset) == 2 and cached_files(app) == []
