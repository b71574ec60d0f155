"""A member plugin adds fields to its own kind of joint event (hook portal_event_fields)."""

from __future__ import annotations

from datetime import date

import pytest

from portal import hookimpl
from portal.catalog.models import EventType
from portal.events.events import add_session, field_specs, publish_event
from portal.events.fields import check_specs, clean_values, display_items
from portal.events.models import JointEvent
from portal.extensions import db
from portal.members.models import PluginState
from portal.plugins import PluginHookError
from portal.specs import EventFieldSpec
from tests.conftest import login
from tests.events.builders import event_type, member, session_values, user
from tests.members.test_plugins import registered

pytestmark = pytest.mark.db

PLUGIN = "field_tester"


class FieldPlugin:
    """A plugin with one kind of event and four fields of every kind."""

    @hookimpl
    def portal_event_fields(self, event_type_key):
        if event_type_key != "river_walk":
            return []
        return [
            EventFieldSpec(
                key="distance_km",
                label="路线长度（公里）",
                kind="int",
                required=True,
                min_value=1,
                max_value=40,
            ),
            EventFieldSpec(key="meeting_day", label="集合日期", kind="date", required=True),
            EventFieldSpec(key="level", label="强度", kind="choice", choices=("低", "中", "高")),
            EventFieldSpec(
                key="gear", label="装备要求", kind="text", max_length=20, help="如：雨具"
            ),
        ]


class Raising:
    @hookimpl
    def portal_event_fields(self, event_type_key):
        raise RuntimeError("fields service down")


class Garbage:
    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def portal_event_fields(self, event_type_key):
        return self.answer


def kind_of(plugin_name: str = PLUGIN, key: str = "river_walk") -> EventType:
    kind = EventType(
        member_id=member("tengchong_college").id, plugin=plugin_name, key=key, name="龙川江徒步研学"
    )
    db.session.add(kind)
    db.session.commit()
    return kind


FORM = {
    "title": "龙川江徒步研学",
    "category": "training",
    "description": "沿江徒步",
    "open_to_all": "y",
    "capacity": "30",
}


def test_hook_portal_event_fields(demo, client):
    kind = kind_of()
    with registered(demo, FieldPlugin(), PLUGIN):
        assert [s.key for s in field_specs(kind)] == [
            "distance_km",
            "meeting_day",
            "level",
            "gear",
        ]
        login(client, "office")
        page = client.get(f"/events/new?type_id={kind.id}").get_data(as_text=True)
        for label in ("路线长度（公里）", "集合日期", "强度", "装备要求", "如：雨具"):
            assert label in page
        assert 'name="x_distance_km"' in page and 'type="number"' in page
        assert 'name="x_meeting_day"' in page and 'type="date"' in page

        # Required, int, range, date and choice are checked, beside each field.
        response = client.post(f"/events/new?type_id={kind.id}", data=FORM)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "请填写路线长度（公里）。" in page and "请填写集合日期。" in page
        bad = {
            **FORM,
            "x_distance_km": "十二",
            "x_meeting_day": "2026-02-30",
            "x_level": "极高",
            "x_gear": "很" * 21,
        }
        page = client.post(f"/events/new?type_id={kind.id}", data=bad).get_data(as_text=True)
        assert "路线长度（公里）须为整数。" in page
        assert "集合日期须为有效日期（YYYY-MM-DD）。" in page
        assert "请从列表中选择强度。" in page
        assert "装备要求不能超过 20 个字符。" in page
        page = client.post(
            f"/events/new?type_id={kind.id}",
            data={**FORM, "x_distance_km": "41", "x_meeting_day": "2026-11-22"},
        ).get_data(as_text=True)
        assert "路线长度（公里）须在 1 到 40 之间。" in page
        assert db.session.query(JointEvent).count() == 0

        good = {
            **FORM,
            "x_distance_km": " 12 ",
            "x_meeting_day": "2026-11-22",
            "x_level": "中",
            "x_gear": "<b>雨具</b>",
        }
        response = client.post(f"/events/new?type_id={kind.id}", data=good)
        assert response.status_code == 302
        event = db.session.query(JointEvent).one()
        assert event.extra == {
            "distance_km": {"label": "路线长度（公里）", "value": 12},
            "meeting_day": {"label": "集合日期", "value": "2026-11-22"},
            "level": {"label": "强度", "value": "中"},
            "gear": {"label": "装备要求", "value": "<b>雨具</b>"},
        }
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        assert "路线长度（公里）" in page and ">12<" in page and "2026-11-22" in page
        assert "&lt;b&gt;雨具&lt;/b&gt;" in page and "<b>雨具</b>" not in page
        # The edit form shows the stored values.
        page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
        assert 'value="12"' in page and 'value="2026-11-22"' in page

    # Without the plugin the values stay stored and shown, and an edit keeps them.
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "路线长度（公里）" in page and "2026-11-22" in page
    response = client.post(f"/events/{event.id}/edit", data={**FORM, "title": "改名"})
    assert response.status_code == 302
    db.session.expire_all()
    assert event.title == "改名" and event.extra["distance_km"]["value"] == 12


def test_a_plugin_that_raises_does_not_break_the_form(demo, client):
    kind = kind_of("raising")
    with registered(demo, Raising(), "raising"):
        login(client, "office")
        response = client.get(f"/events/new?type_id={kind.id}")
        assert response.status_code == 200
        assert 'name="title"' in response.get_data(as_text=True)
        response = client.post(f"/events/new?type_id={kind.id}", data=FORM)
        assert response.status_code == 302
        state = db.session.get(PluginState, "raising")
        assert state is not None and "fields service down" in state.last_error
        assert state.last_error_hook == "portal_event_fields"
    assert db.session.query(JointEvent).one().extra == {}


@pytest.mark.parametrize(
    "answer",
    [
        "not a list",
        [{"key": "a"}],
        [EventFieldSpec(key="Bad Key", label="x")],
        [EventFieldSpec(key="a", label="x", kind="colour")],
        [EventFieldSpec(key="a", label="x", kind="choice")],
        [EventFieldSpec(key="a", label="x"), EventFieldSpec(key="a", label="y")],
        [EventFieldSpec(key="a", label="", kind="text")],
        [EventFieldSpec(key="a", label="x", kind="int", min_value=5, max_value=1)],
    ],
)
def test_unusable_field_specs_add_no_fields(demo, client, answer):
    kind = kind_of("garbage")
    with registered(demo, Garbage(answer), "garbage"):
        assert field_specs(kind) == []
        login(client, "office")
        assert client.get(f"/events/new?type_id={kind.id}").status_code == 200
        assert db.session.get(PluginState, "garbage").last_error


def test_fields_are_asked_only_of_the_plugin_that_owns_the_kind(demo):
    # Another plugin's kind with the same key gets no fields from this plugin.
    foreign = kind_of("someone_else")
    with registered(demo, FieldPlugin(), PLUGIN):
        assert field_specs(foreign) == []
        assert field_specs(event_type("joint_training")) == []


def test_songshan_base_adds_its_trek_fields(demo, client):
    kind = event_type("battlefield_trek")
    assert kind is not None and kind.plugin == "songshan_base"
    assert [s.key for s in field_specs(kind)] == ["distance_km", "equipment", "difficulty"]
    login(client, "office")
    page = client.get(f"/events/new?type_id={kind.id}").get_data(as_text=True)
    assert "徒步距离（公里）" in page and "装备要求" in page
    response = client.post(
        f"/events/new?type_id={kind.id}",
        data={**FORM, "title": "重走松山战场", "x_equipment": "运动鞋、雨具"},
    )
    assert response.status_code == 400
    assert "请填写徒步距离（公里）。" in response.get_data(as_text=True)
    response = client.post(
        f"/events/new?type_id={kind.id}",
        data={**FORM, "title": "重走松山战场", "x_distance_km": "8", "x_equipment": "运动鞋、雨具"},
    )
    assert response.status_code == 302
    event = db.session.query(JointEvent).one()
    add_session(event, user("office"), session_values())
    publish_event(event, user("office"))
    db.session.commit()
    client.post("/logout")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "徒步距离（公里）" in page and ">8<" in page and "运动鞋、雨具" in page


def test_clean_values_by_kind():
    specs = [
        EventFieldSpec(key="n", label="人数", kind="int"),
        EventFieldSpec(key="d", label="日期", kind="date"),
        EventFieldSpec(key="c", label="等级", kind="choice", choices=("甲", "乙")),
        EventFieldSpec(key="t", label="说明", kind="text", required=True),
    ]
    stored, errors = clean_values(specs, {"n": "-3", "d": date(2026, 1, 2), "c": "乙", "t": "好"})
    assert errors == {}
    assert [v["value"] for v in stored.values()] == [-3, "2026-01-02", "乙", "好"]
    stored, errors = clean_values(specs, {"n": "1.5", "d": "20260102", "t": "\x00"})
    assert set(errors) == {"x_n", "x_d", "x_t"}
    stored, errors = clean_values(specs, {"n": "", "t": "说明"})
    assert errors == {} and list(stored) == ["t"]
    assert display_items(stored) == [("说明", "说明")]
    assert display_items("garbage") == [] and display_items({"x": "no dict"}) == []


def test_check_specs_refuses_garbage():
    assert check_specs(None) == []
    with pytest.raises(PluginHookError):
        check_specs([EventFieldSpec(key="a", label="x")] * 2)
    with pytest.raises(PluginHookError):
        check_specs([EventFieldSpec(key=f"k{i}", label="x") for i in range(21)])
