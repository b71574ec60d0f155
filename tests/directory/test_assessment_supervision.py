"""Weighted assessment with the portal's inputs, supervision findings, the yearly directory
exports, the demo loader and the pages."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.catalog.models import SiteAssessment, TeachingSite
from portal.demo import load_demo
from portal.directory import assessment, services, supervision, yearly
from portal.directory.models import SiteProposal, SiteWarning, SupervisionFinding
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from tests.conftest import login
from tests.scheduling.helpers import site, user


def scores(marks: dict[str, float]) -> dict[int, tuple[float, str]]:
    return {c.id: (marks[c.key], f"{c.name}说明") for c in assessment.active_criteria()}


def test_default_criteria_are_seeded_and_the_total_is_weighted(demo):
    criteria = assessment.ensure_criteria()
    assert [c.key for c in criteria] == [k for k, _n, _w in assessment.DEFAULT_CRITERIA]
    assert sum(c.weight for c in criteria) == 100
    memorial = site("dianxi_memorial")
    marks = {
        "teaching_quality": 90,
        "facilities": 80,
        "guide_service": 70,
        "safety": 60,
        "use": 100,
    }
    done = assessment.record(memorial, user("office"), 2026, scores(marks), "总评")
    db.session.commit()
    expected = round((90 * 30 + 80 * 20 + 70 * 20 + 60 * 15 + 100 * 15) / 100, 1)
    assert done.score == expected
    assert [(s.criterion.key, s.score) for s in assessment.scores_of(done)] == list(marks.items())
    # again for the same year: replaced, not added
    assessment.record(memorial, user("office"), 2026, scores(dict.fromkeys(marks, 50)), "")
    db.session.commit()
    rows = db.session.scalars(
        select(SiteAssessment).where(SiteAssessment.site_id == memorial.id)
    ).all()
    assert [r.score for r in rows] == [50.0]


def test_assessment_rules_and_permissions(demo):
    memorial = site("dianxi_memorial")
    marks = dict.fromkeys([k for k, _n, _w in assessment.DEFAULT_CRITERIA], 80)
    with pytest.raises(PermissionDenied):
        assessment.record(memorial, user("tengchong_college_admin"), 2026, scores(marks))
    bad = scores(marks)
    first = next(iter(bad))
    bad[first] = ("abc", "")
    with pytest.raises(ValidationFailed) as failed:
        assessment.record(memorial, user("office"), 2026, bad)
    assert f"score_{first}" in failed.value.errors
    with pytest.raises(ValidationFailed):
        assessment.save_weights(user("office"), {c.id: 10 for c in assessment.ensure_criteria()})
    with pytest.raises(PermissionDenied):
        assessment.save_weights(user("party_school_admin"), {})
    criteria = assessment.ensure_criteria()
    weights = {c.id: w for c, w in zip(criteria, (50, 50, 0, 0, 0), strict=True)}
    assessment.save_weights(user("office"), weights)
    db.session.commit()
    assert [c.key for c in assessment.active_criteria()] == ["teaching_quality", "facilities"]


def test_supervision_visit_findings_followed_up_like_decisions(demo):
    office = user("office")
    library, hall = site("heshun_library"), site("main_hall")
    today = services.today_local()
    with pytest.raises(PermissionDenied):
        supervision.plan_visit(user("party_school_staff"), "督查", today, [hall.id])
    with pytest.raises(ValidationFailed):
        supervision.plan_visit(office, "督查", today, ["x"])
    visit = supervision.plan_visit(office, "和顺督查", today, [library.id, hall.id], "安全")
    db.session.commit()
    with pytest.raises(ValidationFailed):  # not a site of this visit
        supervision.add_finding(visit, office, site("simola_village").id, "问题", "整改", today)
    finding = supervision.add_finding(visit, office, library.id, "登记缺失", "补齐登记", today)
    db.session.commit()
    assert finding.member_id == library.member_id and finding.status == "open"
    assert finding.overdue_on(today + timedelta(days=1))
    # the visited members see the visit; another member finds nothing
    assert supervision.get_visit(visit.id, user("tengchong_college_staff")) is visit
    with pytest.raises(NotFound):
        supervision.get_visit(visit.id, user("songshan_base_staff"))
    with pytest.raises(PermissionDenied):
        supervision.mark_done(finding, user("party_school_staff"), "")
    assert [f.id for f in supervision.findings_for(user("party_school_staff"))] == []
    supervision.mark_done(finding, user("tengchong_college_staff"), "已补齐")
    db.session.commit()
    assert finding.status == "done" and not finding.overdue_on(today + timedelta(days=9))
    with pytest.raises(ServiceError):
        supervision.mark_done(finding, office, "")
    assert assessment.inputs(library, today.year).open_findings == 0


def test_inputs_count_the_sites_year(demo):
    load_demo(season=["trainees", "directory"])
    memorial = site("dianxi_memorial")
    got = assessment.inputs(memorial, services.today_local().year)
    assert got.visits >= 1 and got.trainees >= 1
    assert assessment.inputs(site("heshun_library"), 2026).open_findings == 1


def test_demo_loader_is_idempotent_and_complete(demo):
    load_demo(season=["directory"])
    load_demo(season=["directory"])
    assert db.session.scalar(select(SiteProposal).where(SiteProposal.decision == "pending"))
    proposed = db.session.scalars(
        select(TeachingSite).where(TeachingSite.admission == "proposed")
    ).all()
    assert len(proposed) == 1
    assert len(db.session.scalars(select(SiteWarning)).all()) == 1
    assert len(db.session.scalars(select(SupervisionFinding)).all()) == 1
    assert db.session.scalar(select(SiteAssessment).where(SiteAssessment.year == 2026))


def test_yearly_directory_exports_parse_back(demo, client, tmp_path):
    load_demo(season=["directory"])
    year = services.today_local().year
    page = client.get(f"/directory/years/{year}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "滇西抗战纪念馆" in html and "由旺镇木榔村" not in html  # proposals are not listed
    response = client.get(f"/directory/years/{year}.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "教学点"
    names = [r[1] for r in rows[1:]]
    assert "滇西抗战纪念馆" in names and len(names) == len(yearly.entries(year))
    scored = next(r for r in rows[1:] if r[1] == "滇西抗战纪念馆")
    assert isinstance(scored[6], int | float)
    response = client.get(f"/directory/years/{year}.pdf")
    if response.status_code == 503:
        pytest.skip("no CJK font installed")
    body = response.get_data()
    assert body.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        pdf = tmp_path / "directory.pdf"
        pdf.write_bytes(body)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert f"{year} 年度现场教学点目录" in text and "滇西抗战纪念馆" in text
    assert client.get("/directory/years/1999").status_code == 404


def test_pages_for_staff_and_office(demo, client):
    load_demo(season=["directory"])
    proposed = db.session.scalar(select(TeachingSite).where(TeachingSite.admission == "proposed"))
    login(client, "songshan_base_staff")
    for url in ("/directory/", f"/directory/sites/{proposed.id}", "/directory/visits"):
        assert client.get(url).status_code == 200, url
    assert client.get("/directory/review").status_code == 403
    assert client.get(f"/sites/{proposed.id}").status_code == 200
    login(client, "tengchong_college_staff")
    assert client.get(f"/directory/sites/{proposed.id}").status_code == 404
    assert client.get(f"/sites/{proposed.id}").status_code == 404
    login(client, "office")
    page = client.get("/directory/review").get_data(as_text=True)
    assert "由旺镇木榔村" in page
    memorial = site("dianxi_memorial")
    assert client.get(f"/directory/sites/{memorial.id}/assess").status_code == 200
    assert client.get("/directory/criteria").status_code == 200
    assert client.get("/directory/visits/new").status_code == 200
    # a bad score answers 400 with the message, keeping what was typed
    criteria = assessment.active_criteria()
    form = {"assess-year": "2026", "assess-remarks": "评语"}
    form |= {f"score_{c.id}": "80" for c in criteria}
    form[f"score_{criteria[0].id}"] = "abc"
    response = client.post(f"/directory/sites/{memorial.id}/assess", data=form)
    assert response.status_code == 400
    assert "分数须在 0 到 100 之间" in response.get_data(as_text=True)
    form[f"score_{criteria[0].id}"] = "90"
    response = client.post(f"/directory/sites/{memorial.id}/assess", data=form)
    assert response.status_code == 302
    # admit through the page
    response = client.post(
        f"/directory/sites/{proposed.id}/decide", data={"decide-approve": "1", "decide-reason": ""}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TeachingSite, proposed.id).admission == "admitted"


def test_the_office_sees_sites_below_the_threshold_to_warn(demo, client):
    office = user("office")
    library = site("heshun_library")
    marks = dict.fromkeys([k for k, _n, _w in assessment.DEFAULT_CRITERIA], 40)
    year = services.today_local().year
    assessment.record(library, office, year, scores(marks))
    db.session.commit()
    assert [s.id for s, _score in services.below_threshold(year)] == [library.id]
    login(client, "office")
    assert "和顺图书馆" in client.get("/directory/").get_data(as_text=True)
    services.warn(library, office, "整改", None)
    db.session.commit()
    assert services.below_threshold(year) == []


def test_a_member_creating_a_site_is_sent_to_submit_it(demo, client):
    login(client, "party_school_staff")
    response = client.post(
        "/sites/new",
        data={
            "name": "新申报教学点",
            "theme": "党性教育",
            "capacity": "30",
            "session_minutes": "60",
            "open_weekdays": ["1", "2"],
            "opens": "09:00",
            "closes": "17:00",
            "guide_count": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    created = db.session.scalar(select(TeachingSite).where(TeachingSite.name == "新申报教学点"))
    assert created.admission == "proposed"
    assert response.headers["Location"].endswith(f"/directory/sites/{created.id}")
    page = client.get(f"/sites/{created.id}").get_data(as_text=True)
    assert "尚未入录目录" in page
    response = client.post(
        f"/directory/sites/{created.id}/propose",
        data={"proposal-materials": "材料", "proposal-safety_notes": "安全"},
    )
    assert response.status_code == 302
    assert services.latest_proposal(created).decision == "pending"


def test_a_finding_may_carry_a_photo_seen_by_its_member_and_the_office(demo, client):
    from PIL import Image
    from werkzeug.datastructures import FileStorage

    office = user("office")
    library = site("heshun_library")
    today = services.today_local()
    visit = supervision.plan_visit(office, "督查", today, [library.id])
    db.session.commit()
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(picture, "PNG")
    picture.seek(0)
    upload = FileStorage(stream=picture, filename="现场.png", content_type="image/png")
    finding = supervision.add_finding(visit, office, library.id, "护栏松动", "加固", today, upload)
    db.session.commit()
    assert finding.photo_name and finding.thumb_name
    url = f"/directory/findings/{finding.id}/photo/small.jpg"
    login(client, "tengchong_college_staff")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    login(client, "party_school_staff")
    assert client.get(url).status_code == 404
    bad = FileStorage(stream=io.BytesIO(b"not an image"), filename="x.png")
    with pytest.raises(ServiceError):
        supervision.add_finding(visit, office, library.id, "问题", "整改", today, bad)


def test_overdue_findings_are_notified_once_and_the_cli_runs(demo, app):
    from portal.directory.cli import directory_sweep
    from portal.notifications.models import Message

    office = user("office")
    library = site("heshun_library")
    today = services.today_local()
    visit = supervision.plan_visit(office, "督查", today, [library.id])
    db.session.flush()
    supervision.add_finding(visit, office, library.id, "登记缺失", "补齐", today)
    db.session.commit()
    assert supervision.remind_overdue(today) == []
    later = today + timedelta(days=1)
    before = len(db.session.scalars(select(Message)).all())
    assert len(supervision.remind_overdue(later)) == 1
    assert supervision.remind_overdue(later) == []
    assert len(db.session.scalars(select(Message)).all()) > before
    result = app.test_cli_runner().invoke(directory_sweep, ["--date", later.isoformat()])
    assert result.exit_code == 0, result.output
    assert "0 site(s) suspended, 0 overdue finding(s) notified" in result.output
