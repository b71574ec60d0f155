"""Work a list page does on every request that it need not (docs/benchmarks.md, "What to fix").

Each of these was measured on /sites at scale 20: the catalogue looked up for every ``_()``
of a template, WTForms' per-option attribute handling in the filter bar, the latest
assessment of every site worked out to count the search results.
"""

from __future__ import annotations

import flask_babel
import pytest
from sqlalchemy import event
from wtforms import SelectField

from portal import extensions
from portal.catalog import forms
from portal.extensions import db

pytestmark = pytest.mark.db


def test_a_page_looks_up_its_translations_once(demo, client, monkeypatch):
    calls = []
    real = flask_babel.get_translations

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr("portal.web.get_translations", counting)
    monkeypatch.setattr("flask_babel.get_translations", counting)
    page = client.get("/sites").get_data(as_text=True)
    assert "现场教学点" in page
    assert len(calls) == 1
    # …and each request in its own language.
    client.post("/locale", data={"locale": "en", "next": "/sites"})
    assert "On-site teaching sites" in client.get("/sites").get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_Hans_CN", "next": "/sites"})
    assert "现场教学点" in client.get("/sites").get_data(as_text=True)


def test_wtforms_messages_are_read_from_disk_once(demo, client, monkeypatch):
    """Flask-WTF would read WTForms' catalogue for every request that builds a form."""
    from babel import support

    loads = []
    real = support.Translations.load

    def counting(*args, **kwargs):
        loads.append(kwargs.get("domain"))
        return real(*args, **kwargs)

    from flask_wtf import FlaskForm
    from wtforms import HiddenField

    class Unlabelled(FlaskForm):
        waitlist = HiddenField()  # its label is WTForms' gettext of "Waitlist"

    client.application.add_url_rule("/unlabelled", "unlabelled", lambda: Unlabelled().waitlist())
    monkeypatch.setattr(support.Translations, "load", counting)
    extensions.wtforms_translations.cache_clear()
    for _ in range(3):
        assert client.get("/unlabelled").status_code == 200
    assert loads.count("wtforms") == 1
    # Each locale has its own: WTForms' messages in English after switching.
    client.post("/locale", data={"locale": "en", "next": "/login"})
    with client.application.test_request_context():
        assert extensions.wtforms_translations("en").gettext("Not a valid integer value.") == (
            "Not a valid integer value."
        )
        assert (
            extensions.wtforms_translations("zh_Hans_CN").gettext("Not a valid integer value.")
            != "Not a valid integer value."
        )


@pytest.mark.parametrize(
    "form_class", [forms.SiteFilterForm, forms.TeacherFilterForm, forms.CourseFilterForm]
)
def test_every_filter_select_renders_its_options_in_one_pass(form_class):
    selects = [
        field
        for name, field in vars(form_class).items()
        if not name.startswith("_") and getattr(field, "field_class", None) is SelectField
    ]
    selects += [vars(forms.FilterForm)[name] for name in ("member", "status")]
    assert len(selects) >= 4
    assert all(isinstance(f.kwargs.get("widget"), forms.LongSelect) for f in selects)


def test_counting_search_results_does_not_work_out_assessments(demo, client, app):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    app.config["PAGE_CACHE"] = False
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get("/sites?q=%E7%BA%AA%E5%BF%B5")
        by_name = [s for s in statements if "count(*)" in s]
        statements.clear()
        client.get("/sites?q=%E7%BA%AA%E5%BF%B5&sort=score")
        by_score = [s for s in statements if "count(*)" in s]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(by_name) == 1 and "site_assessments" not in by_name[0]
    # Sorting by score needs them (and the count query is the same query, unordered).
    assert len(by_score) == 1 and "site_assessments" in by_score[0]
