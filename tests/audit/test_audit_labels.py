"""The audit log in words: a label for every action the code records, names, pages, categories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.audit import labels, services
from portal.audit.models import AuditEntry
from portal.catalog.models import CHANGE_ACTIONS, ITEM_TYPES, CatalogChange
from portal.extensions import db
from portal.guides.models import ENTRY_KINDS
from portal.scheduling.models import HOLDING, TEMPLATE_STATUSES
from tests.conftest import login
from tests.scheduling.helpers import user

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PORTAL.rglob("*.py"))


def recorded_audit_keys() -> set[str]:
    """Every key passed to audit ``record(actor, "<key>", …)`` in the portal's code."""
    keys: set[str] = set()
    for argument in re.findall(r"\brecord\(\s*[\w.]+,\s*([^,)]+)", _sources()):
        for key in re.findall(r'"([a-z_]+\.[a-z_{}]+)"', argument):
            if "{status}" in key:
                keys.update(key.replace("{status}", status) for status in TEMPLATE_STATUSES)
            elif "{outcome}" in key:  # an open run at its deadline
                keys.update(key.replace("{outcome}", end) for end in ("confirmed", "cancelled"))
            elif "{kind}" in key:  # a dated entry of a guide's record
                keys.update(key.replace("{kind}", kind) for kind in ENTRY_KINDS)
            else:
                keys.add(key)
    return keys


def recorded_booking_keys() -> set[str]:
    """Every action of a booking's history (``record_event(booking, "<action>", …)``)."""
    actions: set[str] = set()
    for argument in re.findall(r"\brecord_event\(\s*[\w.]+,\s*([^,]+),", _sources()):
        actions.update(re.findall(r'"(\w+)"', argument))
    # A stop's first event is named by the status it is created with.
    actions.update((*HOLDING, "waitlisted"))
    return {f"booking.{action}" for action in actions}


def recorded_catalog_actions() -> set[str]:
    sources = _sources()
    found = set(re.findall(r'\brecord_change\(\s*[\w.]+,\s*"(\w+)"', sources))
    found.update(re.findall(r'\blog\(row, "(\w+)"', sources))  # the plugin sync
    return found


def test_the_scans_find_what_they_should():
    assert {"account.create", "route.published", "plugin.disable"} <= recorded_audit_keys()
    assert {"booking.confirm", "booking.decline", "booking.pending"} <= recorded_booking_keys()
    assert {"assess", "material", "create"} <= recorded_catalog_actions()


def test_every_recorded_action_has_a_label():
    tracked = set(
        re.findall(r'"((?:meeting|event)\.\w+)"', (PORTAL / "audit/tracking.py").read_text())
    )
    assert {"meeting.create", "event.publish"} <= tracked
    missing = sorted(
        key
        for key in recorded_audit_keys() | recorded_booking_keys() | tracked
        if key not in labels.ACTION_LABELS
    )
    assert missing == []
    for action in recorded_catalog_actions() | {"sync", "import"}:
        assert any(f"{kind}.{action}" in labels.ACTION_LABELS for kind in ITEM_TYPES), action
    for kind in ITEM_TYPES:
        for action in ("create", "edit", "suspend", "retire", "activate", "sync", "import"):
            assert f"{kind}.{action}" in labels.ACTION_LABELS
    assert set(recorded_catalog_actions()) <= set(CHANGE_ACTIONS)


def test_labels_are_words_in_either_language(app):
    assert labels.action_label("booking.pending") == "预约站点（待确认）"
    assert labels.action_label("route.edit") == "修改环线线路"
    assert labels.action_label("account.create") == "新建账号"
    assert labels.action_label("no.such") == "no.such"
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert labels.action_label("account.create") == "Create account"


@pytest.mark.db
def test_pages_of_the_log(demo, client):
    office = user("office")
    before = services.entries(office, area="route").total
    for number in range(120):
        services.record(office, "route.edit", f"线路 {number:03d}")
    db.session.commit()
    total = before + 120
    first = services.entries(office, area="route")
    assert (first.page, first.total, len(first.rows)) == (1, total, services.PER_PAGE)
    assert first.rows[0].subject == "线路 119"
    last = services.entries(office, area="route", page=999)
    assert last.page == last.pages == -(-total // services.PER_PAGE)
    assert len(last.rows) == total - (last.pages - 1) * services.PER_PAGE
    # Every row once, over all pages, newest first.
    seen = [
        r.subject
        for number in range(1, first.pages + 1)
        for r in services.entries(office, area="route", page=number).rows
    ]
    ours = [s for s in seen if s.startswith("线路 ")]
    assert len(seen) == total and ours == [f"线路 {n:03d}" for n in range(119, -1, -1)]
    everything = services.entries(office)
    assert everything.total == db.session.scalar(
        select(db.func.count()).select_from(AuditEntry)
    ) + db.session.scalar(select(db.func.count()).select_from(CatalogChange))

    login(client, "office")
    page = client.get("/admin/audit?area=route&page=2").get_data(as_text=True)
    assert f"共 {total} 条记录，显示第 51–100 条" in page
    assert 'href="/admin/audit?page=3&amp;area=route"' in page or "page=3" in page
    assert "线路 069" in page and "线路 070" not in page
    assert client.get("/admin/audit?page=abc").status_code == 200
    assert client.get("/admin/audit?area=nonsense").status_code == 400


@pytest.mark.db
def test_meetings_and_events_have_their_categories(demo, client):
    from tests.events.builders import make_event
    from tests.meetings.helpers import make_meeting

    meeting = make_meeting(title="审计用联席会议")
    event = make_event("training", title="审计用联合集训")
    office = user("office")
    meetings = services.entries(office, area="meeting").rows
    assert [(r.action, r.subject, r.actor) for r in meetings] == [
        ("meeting.create", meeting.title, office.display_name)
    ]
    events = {r.action: r for r in services.entries(office, area="event").rows}
    assert {"event.create", "event.publish"} <= set(events)
    assert events["event.publish"].subject == event.title
    assert events["event.publish"].area_label == "联动活动"

    # Through the portal, the logged-in user is the one named.
    login(client, "office")
    response = client.post(
        f"/meetings/{meeting.id}/cancel",
        data={"cancel-reason": "改期另行通知"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    newest = services.entries(office, area="meeting").rows[0]
    assert (newest.action_label, newest.actor) == ("取消会议", office.display_name)
    page = client.get("/admin/audit?area=meeting").get_data(as_text=True)
    assert "召集会议" in page and "取消会议" in page and "审计用联席会议" in page
    assert '<option value="event">联动活动</option>' in client.get("/admin/audit").get_data(
        as_text=True
    )
