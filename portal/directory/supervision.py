"""Supervision visits (调研督查): the office plans a visit to sites, records findings per site,
assigns each fix to the site's member with a deadline; the member marks it done (like a
meeting's decisions: open, done, overdue once the deadline has passed)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from portal.catalog.models import TeachingSite
from portal.directory.models import SupervisionFinding, SupervisionVisit
from portal.directory.services import log, require_office, tell_member, text, today_local
from portal.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.extensions import db
from portal.timeutil import utcnow


def _date(value: Any, field: str, low: date, high: date) -> date:
    if not isinstance(value, date) or not low <= value <= high:
        raise ValidationFailed(
            {
                field: _(
                    "日期须在 %(low)s 到 %(high)s 之间。",
                    low=low.isoformat(),
                    high=high.isoformat(),
                )
            }
        )
    return value


def plan_visit(
    actor: Any, title: str, planned_on: date, site_ids: list[int], purpose: str = ""
) -> SupervisionVisit:
    """The office plans a visit to one or more sites. The caller commits."""
    require_office(actor)
    today = today_local()
    title = text(title, "title", required=True)
    if len(title) > 128:
        raise ValidationFailed({"title": _("标题不能超过 128 个字符。")})
    planned_on = _date(
        planned_on, "planned_on", today - timedelta(days=366), today + timedelta(days=366)
    )
    ids = sorted(
        {
            int(i)
            for i in site_ids or []
            if str(i).isascii() and str(i).isdigit() and len(str(i)) < 10
        }
    )
    found = db.session.scalars(select(TeachingSite.id).where(TeachingSite.id.in_(ids))).all()
    if not ids or len(found) != len(ids):
        raise ValidationFailed({"site_ids": _("请选择要督查的教学点。")})
    visit = SupervisionVisit(
        title=title,
        planned_on=planned_on,
        purpose=text(purpose, "purpose"),
        site_ids=ids,
        created_by_id=actor.id,
    )
    db.session.add(visit)
    return visit


def visits() -> list[SupervisionVisit]:
    return list(
        db.session.scalars(
            select(SupervisionVisit)
            .options(selectinload(SupervisionVisit.findings))
            .order_by(SupervisionVisit.planned_on.desc(), SupervisionVisit.id.desc())
        )
    )


def visit_sites(visit: SupervisionVisit) -> list[TeachingSite]:
    ids = list(visit.site_ids or [])
    sites = {
        s.id: s for s in db.session.scalars(select(TeachingSite).where(TeachingSite.id.in_(ids)))
    }
    return [sites[i] for i in ids if i in sites]


def get_visit(visit_id: int, actor: Any) -> SupervisionVisit:
    """A visit for the office, or for the staff of a member whose site it visits."""
    visit = db.session.get(SupervisionVisit, visit_id)
    if visit is None or actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound(_("没有找到该条目。"))
    if actor.is_office:
        return visit
    if actor.is_member_user and any(s.member_id == actor.member_id for s in visit_sites(visit)):
        return visit
    raise NotFound(_("没有找到该条目。"))


def add_finding(
    visit: SupervisionVisit,
    actor: Any,
    site_id: int,
    finding: str,
    fix: str,
    due_on: date,
    photo: FileStorage | None = None,
) -> SupervisionFinding:
    """The office records a finding at a site of the visit and assigns its fix. The caller commits."""
    require_office(actor)
    site_id = (
        int(site_id)
        if str(site_id).isascii() and str(site_id).isdigit() and len(str(site_id)) < 10
        else 0
    )
    if site_id not in (visit.site_ids or []):
        raise ValidationFailed({"site_id": _("请选择本次督查的教学点。")})
    site = db.session.get(TeachingSite, site_id)
    today = today_local()
    row = SupervisionFinding(
        visit=visit,
        site_id=site.id,
        member_id=site.member_id,
        text=text(finding, "text", required=True),
        fix=text(fix, "fix", required=True),
        due_on=_date(due_on, "due_on", visit.planned_on, today + timedelta(days=366)),
    )
    if photo is not None and photo.filename:
        row.photo_name, row.thumb_name = store_photo(photo)
    db.session.add(row)
    db.session.flush()
    log(site, "finding", actor, row.text, visit=visit.title, due_on=row.due_on.isoformat())
    tell_member(
        site,
        _("督查发现问题，请限期整改：%(site)s", site=site.name),
        _(
            "%(text)s\n整改要求：%(fix)s\n期限：%(day)s",
            text=row.text,
            fix=row.fix,
            day=row.due_on.isoformat(),
        ),
    )
    return row


def store_photo(upload: FileStorage) -> tuple[str, str]:
    """Check and re-encode a finding's photo as the site photos are; the two stored names."""
    from portal.catalog.photos import LARGE, THUMB, _checked_image, _save
    from portal.catalog.uploads import remove_stored

    image = _checked_image(upload)
    large, _w, _h = _save(image, LARGE)
    try:
        thumb, _w, _h = _save(image, THUMB)
    except Exception:
        remove_stored(large)
        raise
    return large, thumb


def mark_done(finding: SupervisionFinding, actor: Any, note: str) -> None:
    """The finding's member (or the office) reports the fix done. The caller commits."""
    if not (actor.is_office or (actor.is_member_user and actor.member_id == finding.member_id)):
        raise PermissionDenied(_("只能办理本单位的整改事项。"))
    if finding.status == "done":
        raise ServiceError(_("该整改事项已完成。"))
    finding.status, finding.done_note = "done", text(note, "note")
    finding.done_at, finding.done_by_id = utcnow(), actor.id
    log(finding.site, "fixed", actor, finding.done_note, finding=finding.id)


def get_finding(finding_id: int, actor: Any) -> SupervisionFinding:
    finding = db.session.get(SupervisionFinding, finding_id)
    if finding is None or not (
        actor.is_office or (actor.is_member_user and actor.member_id == finding.member_id)
    ):
        raise NotFound(_("没有找到该条目。"))
    return finding


def findings_for(actor: Any, only_open: bool = False) -> list[SupervisionFinding]:
    """Findings the actor follows: its member's, or all for the office; open first by deadline."""
    query = select(SupervisionFinding).options(
        selectinload(SupervisionFinding.site), selectinload(SupervisionFinding.visit)
    )
    if not actor.is_office:
        query = query.where(SupervisionFinding.member_id == actor.member_id)
    if only_open:
        query = query.where(SupervisionFinding.status == "open")
    return list(
        db.session.scalars(
            query.order_by(SupervisionFinding.status.desc(), SupervisionFinding.due_on)
        )
    )


def remind_overdue(today: date | None = None) -> list[int]:
    """Tell each member (and the office) once that a finding's fix is overdue. Commits.

    Each finding is claimed with a conditional UPDATE (``overdue_notified_at IS NULL``), so
    two servers running the daily job notify once. Returns the findings this run claimed.
    """
    from sqlalchemy import update

    from portal.directory.services import office_users
    from portal.notifications.services import member_staff, notify

    today = today or today_local()
    due = db.session.scalars(
        select(SupervisionFinding.id).where(
            SupervisionFinding.status == "open",
            SupervisionFinding.due_on < today,
            SupervisionFinding.overdue_notified_at.is_(None),
        )
    ).all()
    claimed = []
    for finding_id in due:
        won = db.session.execute(
            update(SupervisionFinding)
            .where(
                SupervisionFinding.id == finding_id,
                SupervisionFinding.status == "open",
                SupervisionFinding.overdue_notified_at.is_(None),
            )
            .values(overdue_notified_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not won:
            continue
        claimed.append(finding_id)
        finding = db.session.get(SupervisionFinding, finding_id)
        subject = _("督查整改事项已逾期：%(site)s", site=finding.site.name)
        body = _(
            "%(text)s\n整改要求：%(fix)s\n期限：%(day)s",
            text=finding.text,
            fix=finding.fix,
            day=finding.due_on.isoformat(),
        )
        notify(
            [*member_staff([finding.member_id]), *office_users()],
            subject,
            body,
            "/directory/visits",
        )
        db.session.commit()
    return claimed
