"""Member institutions and plugin sync: upsert what enabled plugins contribute.

``sync_plugins`` is idempotent: items are keyed by (plugin, key); running it twice changes
nothing. An item a plugin no longer lists is retired (退出), never deleted, and an item that
staff edited in the portal (``edited_locally``) keeps the staff's values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal import plugins
from portal.catalog import services as catalog_services
from portal.catalog.models import Course, EventType, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member, PluginError, PluginState
from portal.members.parts import ask_parts
from portal.specs import (
    COURSE_KINDS,
    INSTITUTION_KINDS,
    TEACHER_KINDS,
    CourseSpec,
    EventTypeSpec,
    InstitutionSpec,
    SiteSpec,
    TeacherSpec,
)
from portal.timeutil import utcnow


@dataclass
class SyncReport:
    """What one plugin's sync did, per kind of item."""

    plugin: str
    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    kept_local: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def site_values(spec: SiteSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "theme": spec.theme,
        "description": spec.description,
        "capacity": spec.capacity,
        "session_minutes": spec.session_minutes,
        "open_weekdays": "".join(str(d) for d in sorted(set(spec.open_weekdays))),
        "opens": spec.opens,
        "closes": spec.closes,
        "needs_guide": spec.needs_guide,
        "address": spec.address,
        "latitude": spec.latitude,
        "longitude": spec.longitude,
    }


def teacher_values(spec: TeacherSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "topics": "、".join(spec.topics),
        "shared": spec.shared,
        "bio": spec.bio,
    }


def event_type_values(spec: EventTypeSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description}


def spec_problems(spec: Any) -> list[str]:
    """What makes a contributed spec unusable, in words for the plugins page."""
    problems = []
    if not spec.key or not str(spec.key).strip():
        problems.append("缺少 key")
    if not spec.name or not str(spec.name).strip():
        problems.append(f"{spec.key}: 缺少名称")
    if isinstance(spec, SiteSpec):
        if spec.capacity <= 0:
            problems.append(f"{spec.key}: 容量须为正数")
        if spec.session_minutes <= 0:
            problems.append(f"{spec.key}: 单场时长须为正数")
        if spec.opens >= spec.closes:
            problems.append(f"{spec.key}: 开放时间须早于关闭时间")
        if not spec.open_weekdays or not set(spec.open_weekdays) <= set(range(1, 8)):
            problems.append(f"{spec.key}: 开放日须为 1（周一）至 7（周日）")
        if not spec.theme:
            problems.append(f"{spec.key}: 缺少主题")
    elif isinstance(spec, TeacherSpec) and spec.kind not in TEACHER_KINDS:
        problems.append(f"{spec.key}: 师资类型须为 {'/'.join(TEACHER_KINDS)}")
    elif isinstance(spec, CourseSpec):
        if spec.kind not in COURSE_KINDS:
            problems.append(f"{spec.key}: 课程类型须为 {'/'.join(COURSE_KINDS)}")
        if spec.hours <= 0:
            problems.append(f"{spec.key}: 学时须为正数")
    return problems


def _ask(hook: str, name: str, kind: type) -> list | None:
    """The plugin's answer to a list hook; None when it implements the hook and failed."""
    answers = plugins.call_each(hook, plugins={name}, check=plugins.list_of(kind))
    if answers:
        return answers[0][1]
    return None if plugins.implements(name, hook) else []


def _valid_specs(specs: list, report: SyncReport) -> list:
    seen: set[str] = set()
    valid = []
    for spec in specs:
        problems = spec_problems(spec)
        if spec.key in seen:
            problems.append(f"{spec.key}: key 重复")
        seen.add(spec.key)
        if problems:
            report.problems.extend(problems)
        else:
            valid.append(spec)
    return valid


def sync_actor_name(member: Member) -> str:
    """Who a sync's history entries name: the member (short name) and how it changed them."""
    return f"{member.short_name or member.name}（插件同步）"


def _upsert(
    model: type,
    plugin: str,
    member: Member,
    specs: list,
    values_of: Any,
    report: SyncReport,
    skipped_keys: set[str],
) -> dict[str, Any]:
    """Create or update one row per spec; retire the plugin's rows it no longer lists.

    Sites, teachers and courses get a history entry for what sync did to them.
    """
    rows = {r.key: r for r in db.session.scalars(select(model).where(model.plugin == plugin))}
    # A site a plugin adds after its first sync enters the directory for the office's
    # review, unless the office trusts the member (docs/directory.md).
    state = db.session.get(PluginState, plugin)
    review_new_sites = not member.trusted and state is not None and state.last_synced_at is not None
    tracked = model in catalog_services.ITEM_TYPE
    by_key = {}
    # The history names the member whose plugin changed the item: "松山基地（插件同步）".
    sync_actor = sync_actor_name(member)

    def log(row: Any, action: str, changes: dict[str, list[str]], reason: str = "") -> None:
        if tracked:
            catalog_services.record_change(
                row, action, changes=changes, reason=reason, actor_name=sync_actor
            )

    for spec in specs:
        values = values_of(spec)
        row = rows.get(spec.key)
        if row is None:
            row = model(plugin=plugin, key=spec.key, member=member, **values)
            db.session.add(row)
            report.created += 1
            log(row, "create", {})
            if model is TeachingSite and review_new_sites:
                _propose_synced_site(row)
        elif row.edited_locally:
            report.kept_local += 1
        else:
            changed = {k: v for k, v in values.items() if getattr(row, k) != v}
            if row.member_id != member.id:
                changed["member"] = member
            shown = {
                k: [catalog_services.display(getattr(row, k), k), catalog_services.display(v, k)]
                for k, v in changed.items()
                if k != "member"
            }
            for k, v in changed.items():
                setattr(row, k, v)
            reactivated = row.status == "retired"
            if reactivated:
                row.status = "active"
                log(row, "activate", {}, "插件重新提供此项")
            if changed:
                log(row, "sync", shown)
            if changed or reactivated:
                report.updated += 1
            else:
                report.unchanged += 1
        by_key[spec.key] = row
    for key, row in rows.items():
        if key not in by_key and key not in skipped_keys and row.status != "retired":
            row.status = "retired"
            report.retired += 1
            log(row, "retire", {}, "插件不再提供此项")
    return by_key


def _propose_synced_site(site: TeachingSite) -> None:
    """A plugin's new site waits for the office's review like a member's proposal."""
    from portal.directory.models import SiteProposal

    site.admission = "proposed"
    db.session.add(SiteProposal(site=site, materials="插件同步新增的教学点"))


def _sync_courses(
    plugin: str,
    member: Member,
    specs: list[CourseSpec],
    sites: dict[str, TeachingSite],
    teachers: dict[str, Teacher],
    report: SyncReport,
    skipped: set[str],
) -> None:
    usable = []
    for spec in specs:
        missing = [k for k in spec.teacher_keys if k not in teachers]
        if spec.site_key and spec.site_key not in sites:
            missing.append(spec.site_key)
        if missing:
            report.problems.append(f"{spec.key}: 引用了不存在的 key {'、'.join(missing)}")
            skipped.add(spec.key)
        else:
            usable.append(spec)

    def values(spec: CourseSpec) -> dict[str, Any]:
        return {
            "name": spec.name,
            "kind": spec.kind,
            "hours": float(spec.hours),
            "description": spec.description,
            "excellent": spec.excellent,
            "site": sites[spec.site_key] if spec.site_key else None,
            # In id order, as the relationship loads them, so unchanged means equal.
            "teachers": sorted((teachers[k] for k in spec.teacher_keys), key=lambda t: t.id),
        }

    _upsert(Course, plugin, member, usable, values, report, skipped)


def _sync_member(name: str, spec: InstitutionSpec, report: SyncReport) -> Member | None:
    if spec.kind not in INSTITUTION_KINDS:
        report.problems.append(f"机构类型须为 {'/'.join(INSTITUTION_KINDS)}，实际为 {spec.kind}")
        return None
    member = db.session.scalar(select(Member).where(Member.plugin == name))
    clash = db.session.scalar(select(Member).where(Member.key == spec.key, Member.plugin != name))
    if clash is not None:
        report.problems.append(f"成员单位 key {spec.key} 已被插件 {clash.plugin} 使用")
        return None
    values = {
        "key": spec.key,
        "name": spec.name,
        "short_name": spec.short_name,
        "kind": spec.kind,
        "address": spec.address,
        "phone": spec.phone,
        "contact_person": spec.contact_person,
        "email": spec.email,
        "website": spec.website,
        "description": spec.description,
    }
    if re.fullmatch(r"#[0-9a-fA-F]{6}", spec.colour or ""):
        values["colour"] = spec.colour.lower()
    elif spec.colour:
        report.problems.append(f"地图颜色须为 #rrggbb，实际为 {spec.colour}")
    if member is None:
        member = Member(plugin=name, **values)
        db.session.add(member)
        report.created += 1
    elif any(getattr(member, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(member, k, v)
        report.updated += 1
    else:
        report.unchanged += 1
    return member


def sync_plugin(name: str) -> SyncReport:
    """Upsert one plugin's institution and catalogue. The caller commits."""
    report = SyncReport(plugin=name)
    answers = plugins.call_each(
        "portal_institution", plugins={name}, check=plugins.one_of(InstitutionSpec)
    )
    if not answers:
        report.problems.append("portal_institution 没有给出成员单位，跳过同步")
        return report
    member = _sync_member(name, answers[0][1], report)
    if member is None:
        return report
    db.session.flush()

    collected: dict[str, tuple[list, set[str]]] = {}
    for hook, kind in (
        ("portal_teaching_sites", SiteSpec),
        ("portal_teachers", TeacherSpec),
        ("portal_courses", CourseSpec),
        ("portal_event_types", EventTypeSpec),
    ):
        specs = _ask(hook, name, kind)
        if specs is None:
            report.problems.append(f"{hook} 出错，保留现有数据不变")
            continue
        valid = _valid_specs(specs, report)
        collected[hook] = (valid, {s.key for s in specs} - {s.key for s in valid})

    sites: dict[str, TeachingSite] = {}
    teachers: dict[str, Teacher] = {}
    if "portal_teaching_sites" in collected:
        specs, skipped = collected["portal_teaching_sites"]
        sites = _upsert(TeachingSite, name, member, specs, site_values, report, skipped)
    if "portal_teachers" in collected:
        specs, skipped = collected["portal_teachers"]
        teachers = _upsert(Teacher, name, member, specs, teacher_values, report, skipped)
    if "portal_event_types" in collected:
        specs, skipped = collected["portal_event_types"]
        _upsert(EventType, name, member, specs, event_type_values, report, skipped)
    if "portal_courses" in collected:
        db.session.flush()
        specs, skipped = collected["portal_courses"]
        _sync_courses(name, member, specs, sites, teachers, report, skipped)

    state = db.session.get(PluginState, name) or PluginState(name=name, enabled=True)
    state.last_synced_at = utcnow()
    db.session.add(state)
    if report.problems:
        plugins.record_error(name, "sync", "；".join(report.problems))
    return report


def sync_plugins(only: str | None = None) -> list[SyncReport]:
    """Sync every enabled plugin (or just ``only``) and return what each did. The caller commits."""
    names = sorted(plugins.enabled_plugin_names())
    if only is not None:
        if only not in plugins.plugin_names():
            raise KeyError(only)
        names = [only] if only in names else []
    reports = [sync_plugin(name) for name in names]
    db.session.flush()
    for name in names:
        # Menus and site fields are asked now, with every member and site in place.
        ask_parts(name)
    return reports


def members_with_state() -> list[tuple[Member, bool]]:
    """Every member with whether its plugin is enabled, by name."""
    enabled = plugins.enabled_plugin_names()
    members = db.session.scalars(select(Member).order_by(Member.id))
    return [(m, m.plugin in enabled) for m in members]


def contribution_counts() -> dict[str, dict[str, int]]:
    """Per plugin: how many sites, teachers, courses and event types it brought (not retired)."""
    from sqlalchemy import func

    counts: dict[str, dict[str, int]] = {}
    for label, model in (
        ("sites", TeachingSite),
        ("teachers", Teacher),
        ("courses", Course),
        ("event_types", EventType),
    ):
        rows = db.session.execute(
            select(model.plugin, func.count())
            .where(model.plugin.is_not(None), model.status != "retired")
            .group_by(model.plugin)
        )
        for plugin, n in rows:
            counts.setdefault(plugin, {})[label] = n
    return counts


@dataclass(frozen=True)
class PluginRow:
    """One line of the plugins page and of `flask portal plugins list`."""

    name: str
    version: str
    distribution: str
    institution: str
    enabled: bool
    hooks: tuple[str, ...]
    counts: dict[str, int]
    state: PluginState
    errors: list[PluginError] = field(default_factory=list)


def plugin_overview() -> list[PluginRow]:
    """Every installed plugin with its institution, state, contributions and recent faults.

    Plugins that could not be loaded are listed by ``plugins.refused_plugins()``.
    """
    states = plugins.plugin_states()
    counts = contribution_counts()
    errors = plugins.recent_errors()
    institutions = {m.plugin: m.name for m in db.session.scalars(select(Member))}
    return [
        PluginRow(
            name=p.name,
            version=p.version,
            distribution=p.distribution,
            institution=institutions.get(p.name) or _("（尚未同步）"),
            enabled=states[p.name].enabled,
            hooks=p.hooks,
            counts={
                k: counts.get(p.name, {}).get(k, 0)
                for k in ("sites", "teachers", "courses", "event_types")
            },
            state=states[p.name],
            errors=errors.get(p.name, []),
        )
        for p in plugins.installed_plugins()
    ]
