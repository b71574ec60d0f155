"""Completion and certificates: who completes, issuing once, the office's decisions, the
PDF (Chinese, one A4 page each, with the serial) and the public verification page."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.certificates import services
from portal.certificates.demo import REVOKED_REASON, WITHHELD_REASON
from portal.certificates.models import Certificate
from portal.errors import PermissionDenied, ServiceError, ValidationFailed
from portal.evaluations.demo import FINISHED_CLASS
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.trainees.demo import DEMO_CLASS
from tests.conftest import login
from tests.scheduling.helpers import user


def klass(name: str = FINISHED_CLASS) -> TrainingClass:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.name == name))


def certificate(status: str) -> Certificate:
    return db.session.scalar(
        select(Certificate).where(Certificate.status == status).order_by(Certificate.id)
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_finished_class_lists_who_completes(cert_demo):
    standings = services.standings(klass())
    assert len(standings) == 12
    refused = [s for s in standings if not s.eligible]
    # Two half days of approved leave in a five-day class: 8 学时, above 1/7 of the class's.
    assert len(refused) == 1 and "七分之一" in refused[0].reason
    assert refused[0].certificate is None
    assert all(s.certificate is not None for s in standings if s.eligible)
    assert all(s.certificate.hours == s.attendance.class_hours > 8 for s in standings if s.eligible)


def test_the_rules_at_their_boundaries(cert_demo):
    from portal.attendance.services import Summary

    entry = services.standings(klass())[0].entry
    # Leave of exactly 1/7 of the class's 学时 is allowed (attendance computes withdrawal_due).
    assert services.eligible(entry, Summary(entry.id, sessions=14, leave=2, class_hours=56))[0]
    assert not services.eligible(entry, Summary(entry.id, withdrawal_due="leave"))[0]
    assert not services.eligible(entry, Summary(entry.id, withdrawal_due="absence"))[0]
    assert not services.eligible(entry, Summary(entry.id, withdrawn=True))[0]


def test_issuing_is_once_per_trainee_and_only_after_the_class(cert_demo):
    finished = klass()
    before = db.session.scalar(select(func.count()).select_from(Certificate))
    assert services.issue_certificates(finished, user("organizer")) == []
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == before
    with pytest.raises(ServiceError, match="结束后"):
        services.issue_certificates(klass(DEMO_CLASS), user("organizer"))
    with pytest.raises(PermissionDenied):
        services.issue_certificates(finished, user("party_school_staff"))
    serials = db.session.scalars(select(Certificate.serial)).all()
    assert len(set(serials)) == len(serials)
    assert all(s.startswith("HX") and len(s) == 18 for s in serials)


def test_the_office_withholds_releases_and_revokes_with_a_reason(cert_demo):
    office = user("office")
    issued = certificate("issued")
    with pytest.raises(ValidationFailed):
        services.decide(issued, "withhold", "  ", office)
    with pytest.raises(PermissionDenied):
        services.decide(issued, "revoke", "理由", user("organizer"))
    services.decide(issued, "withhold", "待核实", office)
    assert issued.status == "withheld"
    services.decide(issued, "release", "已核实", office)
    assert issued.status == "issued"
    services.decide(issued, "revoke", "违反纪律", office)
    with pytest.raises(ServiceError):
        services.decide(issued, "release", "想恢复", office)
    db.session.commit()
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("certificate.%"))
    ).all()
    assert {"certificate.issue", "certificate.withhold", "certificate.release"} <= set(actions)
    assert "certificate.revoke" in actions


def test_the_verification_page_for_valid_withheld_revoked_and_forged(cert_demo, client):
    valid = certificate("issued")
    page = client.get(f"/verify/{valid.serial}")
    assert page.status_code == 200
    body = text(page)
    assert "真实有效" in body and valid.masked_name in body and FINISHED_CLASS in body
    assert valid.name not in body  # only partly shown
    # Typed in lower case with spaces, it is still found.
    typed = client.get("/verify", query_string={"serial": valid.serial.lower().replace("-", " -")})
    assert typed.status_code == 302 and valid.serial in typed.headers["Location"]
    withheld = text(client.get(f"/verify/{certificate('withheld').serial}"))
    assert "暂缓发放" in withheld and WITHHELD_REASON not in withheld
    assert certificate("withheld").name not in withheld
    revoked = text(client.get(f"/verify/{certificate('revoked').serial}"))
    assert "已被撤销" in revoked and REVOKED_REASON not in revoked
    forged = client.get("/verify/HX2026-ABCDE-FGHJK")
    assert forged.status_code == 404 and "没有找到" in text(forged)
    assert client.get("/verify/%3Cscript%3E").status_code == 404


def test_masked_names():
    assert Certificate(name="王建国").masked_name == "王*国"
    assert Certificate(name="赵明").masked_name == "赵*"
    assert Certificate(name="欧阳晓燕").masked_name == "欧**燕"


def test_the_class_page_and_the_office_form(cert_demo, client):
    finished = klass()
    login(client, "organizer")
    page = text(client.get(f"/certificates/classes/{finished.id}"))
    assert "不符合" in page and "打印全班证书" in page and "暂缓发放或撤销" not in page
    login(client, "office")
    page = text(client.get(f"/certificates/classes/{finished.id}"))
    assert "暂缓发放或撤销" in page
    target = certificate("issued")
    empty = client.post(
        f"/certificates/{target.id}/decide", data={"action": "withhold", "reason": ""}
    )
    assert empty.status_code == 302
    db.session.refresh(target)
    assert target.status == "issued"
    client.post(f"/certificates/{target.id}/decide", data={"action": "withhold", "reason": "核实"})
    db.session.refresh(target)
    assert target.status == "withheld" and target.reason == "核实"
    # Not the organizer of this class: nothing (404).
    login(client, "party_school_staff")
    assert client.get(f"/certificates/classes/{finished.id}").status_code == 404


def test_the_class_pdf_has_one_a4_page_per_valid_certificate(cert_demo, client, tmp_path):
    finished = klass()
    login(client, "organizer")
    response = client.get(f"/certificates/classes/{finished.id}/certificates.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "c.pdf"
    path.write_bytes(response.data)
    valid = db.session.scalars(
        select(Certificate).where(
            Certificate.class_id == finished.id, Certificate.status == "issued"
        )
    ).all()
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(valid) == 9
    assert "(A4)" in info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "yes" in fonts.splitlines()[-1].split()  # embedded
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "结业证书" in out and valid[0].serial in out and valid[0].name in out
    # The trainee downloads their own; someone else's answers 404.
    login(client, "trainee")
    mine = text(client.get("/certificates/mine"))
    own = [c for c in valid if c.entry.user_id == user("trainee").id][0]
    assert own.serial in mine
    assert client.get(f"/certificates/{own.id}.pdf").status_code == 200
    other = [c for c in valid if c.id != own.id][0]
    assert client.get(f"/certificates/{other.id}.pdf").status_code == 404


def test_a_certificate_outlives_its_roster_line(cert_demo, client):
    from portal.trainees import roster

    valid = certificate("issued")
    serial, training_class = valid.serial, valid.training_class
    roster.remove_trainee(training_class, valid.entry_id, user("organizer"))
    db.session.commit()
    page = client.get(f"/verify/{serial}")
    assert page.status_code == 200 and "真实有效" in text(page)
