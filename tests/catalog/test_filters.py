"""The filter bars of the public lists: which members they offer, and how their options render."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from wtforms import SelectChoice
from wtforms.widgets import Select

from portal.catalog import forms
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from tests.conftest import login

pytestmark = pytest.mark.db


def member_options(page: str) -> dict[str, str]:
    """The member <select>'s options: value → label (the blank "all members" left out)."""
    select_html = re.search(r'<select [^>]*name="member"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, "no member filter on the page"
    return {
        value: label
        for value, label in re.findall(
            r'<option [^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_html.group(1)
        )
        if value
    }


@pytest.fixture
def members(demo):
    """Three more members: one with nothing, one with a private teacher only, one with a course."""
    added = {}
    for key, name in (("empty", "空成员"), ("private", "私有师资成员"), ("courses", "课程成员")):
        added[key] = Member(
            key=f"extra_{key}",
            plugin=f"extra_{key}",
            name=name,
            short_name=name,
            kind="training_base",
        )
        db.session.add(added[key])
    db.session.flush()
    db.session.add(
        Teacher(member_id=added["private"].id, name="私有教师", kind="part_time", shared=False)
    )
    db.session.add(Course(member_id=added["courses"].id, name="只有课程", kind="lecture", hours=2))
    db.session.commit()
    return {key: str(m.id) for key, m in added.items()}


def test_each_list_offers_only_members_that_have_such_items(members, client):
    sites = member_options(client.get("/sites").get_data(as_text=True))
    with_sites = {str(i) for i in db.session.scalars(select(TeachingSite.member_id).distinct())}
    assert set(sites) == with_sites
    assert not set(members.values()) & set(sites)

    courses = member_options(client.get("/courses").get_data(as_text=True))
    assert members["courses"] in courses and members["empty"] not in courses

    # A teacher who is not shared makes the member appear for those who may see it only.
    assert members["private"] not in member_options(client.get("/teachers").get_data(as_text=True))
    login(client, "office")
    assert members["private"] in member_options(client.get("/teachers").get_data(as_text=True))


def test_the_member_asked_for_stays_selected_even_without_items(members, client):
    page = client.get(f"/sites?member={members['empty']}").get_data(as_text=True)
    assert f'<option selected value="{members["empty"]}">空成员</option>' in page
    assert "没有符合条件的教学点。" in page


def test_long_selects_render_the_same_html_as_wtforms(app):
    choices = [SelectChoice("", "全部"), SelectChoice("1", "<甲&乙>"), SelectChoice('"2"', "丙")]
    with app.test_request_context("/sites?member=1"):
        form = forms.SiteFilterForm(formdata=None)
        form.member.choices = choices
        for chosen in ("", "1", '"2"', "9"):
            form.member.data = chosen
            fast = form.member(class_="form-select")
            form.member.widget = Select()
            assert fast == form.member(class_="form-select")
            form.member.widget = forms.LongSelect()
        assert "&lt;甲&amp;乙&gt;" in fast and 'value="&#34;2&#34;"' in fast
