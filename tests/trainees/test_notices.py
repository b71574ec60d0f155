"""Notices go to page, inbox and SMS; rules are acknowledged, and again when they change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Message, OutboxSms
from portal.notifications.sms import ConsoleSmsBackend, sms_backend
from portal.trainees import notices
from tests.scheduling.helpers import user
from tests.trainees.helpers import class_with_roster, entries

pytestmark = pytest.mark.db


class RecordingGateway:
    """A gateway named by SMS_BACKEND ("tests.trainees.test_notices:RecordingGateway")."""

    def __init__(self, config):
        self.config = config

    def send(self, sms):  # pragma: no cover - only resolved here
        raise AssertionError


def test_a_notice_reaches_every_trainee_by_inbox_and_sms(demo):
    klass = class_with_roster()
    notices.post_notice(klass, user("organizer"), "集合时间", "明早 7:40 大堂集合")
    people = [e.user_id for e in entries(klass)]
    inbox = db.session.scalars(select(Message).where(Message.subject.contains("集合时间"))).all()
    assert sorted(m.user_id for m in inbox) == sorted(people)
    texts = db.session.scalars(select(OutboxSms)).all()
    assert len(texts) == 3 and "7:40" in texts[0].body
    with pytest.raises(ValidationFailed):
        notices.post_notice(klass, user("organizer"), "", "")
    with pytest.raises(NotFound):
        notices.post_notice(klass, user("trainee"), "越权", "越权")


def test_rules_are_acknowledged_and_asked_again_when_they_change(demo):
    klass = class_with_roster()
    entry = entries(klass)[0]
    with pytest.raises(ServiceError):
        notices.acknowledge_rules(entry)  # no rules yet
    notices.save_profile(klass, user("organizer"), "一、不迟到。", "", False)
    notices.acknowledge_rules(entry)
    assert [e.name for e in notices.not_acknowledged(klass)] == ["李四", "王五"]
    notices.save_profile(klass, user("organizer"), "一、不迟到。", "班主任 139", True)
    assert len(notices.not_acknowledged(klass)) == 2  # same rules: still acknowledged
    notices.save_profile(klass, user("organizer"), "一、不迟到。二、不早退。", "", True)
    assert len(notices.not_acknowledged(klass)) == 3


def test_the_sms_backend_is_pluggable(app):
    assert isinstance(sms_backend(), ConsoleSmsBackend)
    app.config["SMS_BACKEND"] = "tests.trainees.test_notices:RecordingGateway"
    backend = sms_backend()
    assert type(backend).__name__ == "RecordingGateway" and backend.config is app.config
