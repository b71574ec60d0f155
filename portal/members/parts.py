"""What plugins add to pages, asked at sync and kept: menu entries, fields on a site's page.

A plugin's menu entries (``portal_nav_items``) and the fields it adds to a site's page
(``portal_site_detail_fields``) do not change from one request to the next, so they are
asked once, when ``flask portal sync`` (or the plugins page's 同步插件数据) runs, and kept
in ``plugin_parts``; pages read them back and never wait for a plugin, however slow or
broken it is. The menu is asked once per kind of user (``NavAudience``: anonymous, each
role, and the member staff of each member), the fields once per site. A plugin whose hook
fails keeps what it answered before; its fault is recorded as usual.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from portal import plugins
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import Member, PluginPart
from portal.specs import DetailField, NavAudience, NavItem
from portal.timeutil import utcnow

NAV = "nav"
SITE_FIELDS = "site_fields"
NAV_HOOK = "portal_nav_items"
SITE_FIELDS_HOOK = "portal_site_detail_fields"
PLAIN_ROLES = ("", "office", "organizer", "trainee")
MEMBER_ROLES = ("member_admin", "member_staff")


def audiences() -> list[NavAudience]:
    """Every kind of user a menu is built for: anonymous, each role, each member's staff."""
    found = [NavAudience(role=role) for role in PLAIN_ROLES]
    for member_id, key in db.session.execute(select(Member.id, Member.key).order_by(Member.id)):
        found += [NavAudience(role, member_id, key) for role in MEMBER_ROLES]
    return found


def audience_of(user: Any) -> NavAudience:
    """The kind of user ``user`` is, as far as menus go (no query: ids only)."""
    if not getattr(user, "is_authenticated", False):
        return NavAudience()
    role = getattr(user, "role", "")
    if role in MEMBER_ROLES:
        return NavAudience(role, getattr(user, "member_id", None))
    return NavAudience(role if role in PLAIN_ROLES else "")


def _nav_json(items: list[NavItem]) -> list[dict[str, Any]]:
    return [
        {"label": str(i.label), "url": str(i.url), "children": _nav_json(list(i.children))}
        for i in items
    ]


def _nav_items(rows: list[dict[str, Any]]) -> list[NavItem]:
    return [
        NavItem(str(r.get("label", "")), str(r.get("url", "")), _nav_items(r.get("children", [])))
        for r in rows
        if isinstance(r, dict)
    ]


def _keep(name: str, part: str, answers: dict[str, list]) -> None:
    """Replace the plugin's kept answers of ``part`` by those it gave now (only those keys)."""
    if not answers:
        return
    db.session.execute(
        delete(PluginPart).where(
            PluginPart.plugin == name, PluginPart.part == part, PluginPart.key.in_(answers)
        )
    )
    now = utcnow()
    db.session.add_all(
        PluginPart(plugin=name, part=part, key=key, items=items, asked_at=now)
        for key, items in answers.items()
    )


def ask_parts(name: str) -> None:
    """Ask plugin ``name`` for its menu entries and site fields and keep them. The caller commits.

    An answer that fails (raises, times out, is not a list of the right items) leaves what
    was kept before for that kind of user or site; the fault is recorded by ``call_each``.
    """
    if plugins.implements(name, NAV_HOOK):
        nav: dict[str, list] = {}
        for audience in audiences():
            for _plugin, items in plugins.call_each(
                NAV_HOOK, plugins={name}, check=plugins.list_of(NavItem), user=audience
            ):
                nav[audience.key] = _nav_json(items)
        _keep(name, NAV, nav)
    if plugins.implements(name, SITE_FIELDS_HOOK):
        fields: dict[str, list] = {}
        sites = db.session.scalars(select(TeachingSite).where(TeachingSite.status != "retired"))
        for site in sites:
            for _plugin, items in plugins.call_each(
                SITE_FIELDS_HOOK, plugins={name}, check=plugins.list_of(DetailField), site=site
            ):
                fields[str(site.id)] = [{"label": f.label, "value": f.value} for f in items]
        _keep(name, SITE_FIELDS, fields)


def _kept(part: str, key: str, hook: str) -> list[tuple[str, list]]:
    """(plugin, items) kept for ``key`` from the enabled plugins that implement ``hook``.

    No query at all when no installed plugin implements the hook (the code says so).
    """
    if not any(True for _ in plugins.hook_implementations(hook, None)):
        return []
    enabled = plugins.enabled_plugin_names()
    rows = db.session.execute(
        select(PluginPart.plugin, PluginPart.items)
        .where(PluginPart.part == part, PluginPart.key == key)
        .order_by(PluginPart.plugin)
    )
    return [(plugin, items) for plugin, items in rows if plugin in enabled and items]


def nav_items_for(user: Any) -> list[NavItem]:
    """The menu entries enabled plugins gave at the last sync for this kind of user."""
    found: list[NavItem] = []
    for _plugin, items in _kept(NAV, audience_of(user).key, NAV_HOOK):
        found.extend(_nav_items(items))
    return found


def site_fields(site: TeachingSite) -> list[tuple[str, list[DetailField]]]:
    """(plugin, fields) the enabled plugins gave at the last sync for this site."""
    return [
        (
            plugin,
            [
                DetailField(str(f.get("label", "")), str(f.get("value", "")))
                for f in items
                if isinstance(f, dict)
            ],
        )
        for plugin, items in _kept(SITE_FIELDS, str(site.id), SITE_FIELDS_HOOK)
    ]
