"""/dashboard: where the office, member staff and organizers land after login."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.errors import PermissionDenied
from portal.reports.dashboard import dashboard_for

bp = Blueprint("dashboard", __name__, template_folder="templates")


def landing_url(user) -> str:
    """Where a user lands after login: trainees on 我的, the others on their dashboard."""
    if user.role == "trainee":
        return url_for("trainees.me")
    return url_for("dashboard.index")


@bp.get("/dashboard")
@login_required
def index():
    if current_user.role == "trainee":
        return redirect(url_for("trainees.me"))
    try:
        board = dashboard_for(current_user)
    except PermissionDenied:
        return redirect(url_for("home.index"))
    return render_template("reports/dashboard.html", board=board)
