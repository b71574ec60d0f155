"""The trainee pages through HTTP: landing, class page, rules, handbook PDF, calendar, runs."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.scheduling.models import RouteTemplate, TrainingClass
from portal.trainees.demo import DEMO_CLASS, DEMO_RUN, ELECTIVE_TITLE
from portal.trainees.models import OpenRun, RosterEntry
from tests.conftest import login
from tests.scheduling.helpers import user


def demo_class() -> TrainingClass:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == DEMO_CLASS))


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_trainee_lands_on_their_page_with_the_next_stop(trainee_demo, client):
    response = login(client, "trainee")
    assert response.request.path == "/me"
    page = text(response)
    assert DEMO_CLASS in page and 'data-testid="next-stop"' in page
    assert ELECTIVE_TITLE in page  # waiting for a choice
    assert DEMO_RUN in page  # an open run they can book
    # Organizers land on their dashboard (工作台).
    assert login(client, "organizer").request.path == "/dashboard"


def test_the_class_page_has_itinerary_notice_rules_and_a_calendar_to_subscribe(
    trainee_demo, client
):
    login(client, "trainee")
    klass = demo_class()
    page = text(client.get(f"/me/classes/{klass.id}"))
    assert "明日集合时间调整" in page
    assert "学前纪律教育" in page and "我已阅读并承诺遵守" in page
    assert "data-copy-target" in page and "<svg" in page
    feed = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    assert client.post(f"/me/classes/{klass.id}/acknowledge").status_code == 302
    assert "您已于" in text(client.get(f"/me/classes/{klass.id}"))
    entry = db.session.scalar(
        select(RosterEntry).where(
            RosterEntry.class_id == klass.id, RosterEntry.user_id == user("trainee").id
        )
    )
    db.session.refresh(entry)
    assert entry.rules_acknowledged_at is not None
    # The calendar link works without a session, and stops when the organizer resets links.
    anonymous = client.application.test_client()
    ics = anonymous.get(feed.replace("http://localhost", ""))
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.data
    login(client, "organizer")
    client.post(f"/classes/{klass.id}/trainees/share-reset")
    assert anonymous.get(feed.replace("http://localhost", "")).status_code == 404


def test_the_organizer_sees_who_has_not_acknowledged(trainee_demo, client):
    login(client, "organizer")
    page = text(client.get(f"/classes/{demo_class().id}/trainees"))
    assert "尚有" in page and "未确认学前纪律" in page and "李学员" in page


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_the_handbook_pdf_embeds_its_chinese_font(trainee_demo, client, tmp_path):
    login(client, "trainee")
    response = client.get(f"/me/classes/{demo_class().id}/handbook.pdf")
    if response.status_code == 503:
        pytest.skip("no CJK font on this machine")
    path = tmp_path / "handbook.pdf"
    path.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "yes" in fonts.splitlines()[-1]
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "培训手册" in words and "学前纪律" in words


def test_a_trainee_books_a_run_from_the_route_page(trainee_demo, client):
    login(client, "trainee")
    run = db.session.scalar(select(OpenRun).where(OpenRun.title == DEMO_RUN))
    route = text(client.get(f"/routes/{run.template_id}"))
    assert "预约此线路" not in route and f"/runs/{run.id}" in route
    other = db.session.scalar(select(RouteTemplate).where(RouteTemplate.id != run.template_id))
    other_page = text(client.get(f"/routes/{other.id}"))
    assert "预约此线路" not in other_page and "报名（" not in other_page
    response = client.post(f"/runs/{run.id}/book", follow_redirects=True)
    assert "报名成功" in text(response)
    assert "您的报名状态：已报名" in text(client.get(f"/runs/{run.id}"))
    # An organizer still books routes.
    login(client, "organizer")
    assert "预约此线路" in text(client.get(f"/routes/{other.id}"))


def test_importing_a_roster_through_the_pages(trainee_demo, client):
    login(client, "organizer")
    klass = demo_class()
    body = "姓名,手机号,单位\n新学员,13911112222,某县\n".encode()
    import io

    page = client.post(
        f"/classes/{klass.id}/trainees/import", data={"file": (io.BytesIO(body), "r.csv")}
    )
    assert page.status_code == 200 and "确认导入" in text(page)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(page)).group(1)
    done = client.post(
        f"/classes/{klass.id}/trainees/import/confirm", data={"token": token}, follow_redirects=True
    )
    assert "新增 1 人" in text(done) and "新学员" in text(done)
    bad = client.post(
        f"/classes/{klass.id}/trainees/import", data={"file": (io.BytesIO(b"x"), "r.pdf")}
    )
    assert bad.status_code == 400 and "只能上传" in text(bad)


def test_bad_input_keeps_what_was_typed(trainee_demo, client):
    login(client, "organizer")
    klass = demo_class()
    page = client.post(
        f"/classes/{klass.id}/trainees",
        data={"name": "王明", "phone": "12345", "unit": "某县委", "id_card": "1101"},
    )
    assert page.status_code == 400
    html = text(page)
    assert "11 位" in html and "身份证号格式不正确" in html and 'value="某县委"' in html
    login(client, "office")
    form = client.post("/runs/new", data={"title": "x", "seats": "abc", "starts_on": "9999-12-31"})
    assert form.status_code == 400 and "2000 年至 2100 年" in text(form)


@pytest.mark.db
def test_the_whole_demo_loads_on_a_migrated_database_twice(tmp_path):
    """`make run`: migrate, load the demo (twice: nothing changes), the trainee's page shows it."""
    from flask_migrate import upgrade

    from portal.demo import load_demo
    from tests.conftest import fresh_database_url, make_test_app
    from tests.security.support import snapshot

    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            upgrade()
            load_demo(season=["trainees"])
            before = snapshot()
            load_demo(season=["trainees"])
            after = snapshot()
            changed = {t for t in before if before[t] != after[t]}
            # Syncing the plugins again notes the time, and commits move the page cache on.
            assert changed <= {"plugin_states", "cache_generations"}
            client = app.test_client()
            page = login(client, "trainee").get_data(as_text=True)
            assert DEMO_CLASS in page and 'data-testid="next-stop"' in page and DEMO_RUN in page
            db.session.remove()
            db.engine.dispose()
