"""Member institutions (public list) and the office's plugins page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import plugins
from portal.extensions import db
from portal.members import services
from portal.members.forms import ConfirmForm

bp = Blueprint("members", __name__, template_folder="templates")


@bp.get("/members")
def index():
    return render_template("members/index.html", members=services.members_with_state())


def _office_only() -> None:
    if not current_user.is_office:
        abort(403)


@bp.get("/admin/plugins")
@login_required
def plugins_page():
    _office_only()
    return render_template(
        "members/plugins.html",
        rows=services.plugin_overview(),
        refused=plugins.refused_plugins(),
        form=ConfirmForm(),
    )


@bp.post("/admin/plugins/<name>/<any(enable, disable):action>")
@login_required
def plugin_toggle(name: str, action: str):
    _office_only()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        plugins.set_enabled(name, action == "enable", by=current_user.username)
    except KeyError:
        abort(404)
    db.session.commit()
    if action == "enable":
        flash(_("已启用插件 %(name)s。", name=name), "success")
    else:
        flash(_("已停用插件 %(name)s。", name=name), "success")
    return redirect(url_for("members.plugins_page"))


@bp.post("/admin/plugins/sync")
@login_required
def plugin_sync():
    _office_only()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reports = services.sync_plugins()
    db.session.commit()
    changed = sum(r.created + r.updated + r.retired for r in reports)
    problems = sum(len(r.problems) for r in reports)
    flash(
        _(
            "同步完成：%(plugins)s 个插件，%(changed)s 项有变化，%(problems)s 个问题。",
            plugins=len(reports),
            changed=changed,
            problems=problems,
        ),
        "success",
    )
    return redirect(url_for("members.plugins_page"))
