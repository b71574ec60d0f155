"""Ring Route Portal: the core Flask application of a cadre-training consortium."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from portal.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl", "migrations_dir"]


def migrations_dir() -> str:
    """The Alembic folder at the top of the project (`migrations/`)."""
    return str(Path(__file__).resolve().parent.parent / "migrations")


def _secret_key(instance_path: str) -> str:
    """Return the deployment's secret key, generating it into instance/ on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the portal: config, extensions, plugins, blueprints and CLI."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    from portal import config

    app.config.from_object(config.Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "portal.sqlite3"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("PORTAL")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    if app.config.get("PROXY_FIX"):
        # Behind nginx: trust one proxy's X-Forwarded-For/-Proto/-Host, so links are https.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    from portal import extensions, models  # noqa: F401  (models: complete metadata)

    extensions.init_app(app)

    from portal import pagecache

    pagecache.init_app(app)
    from portal.audit.tracking import init_tracking

    init_tracking()

    from portal import plugins

    plugins.init_app(app)

    from portal import web

    app.url_map.converters["int"] = web.DatabaseId
    web.init_app(app)

    from portal.api import openapi as _api_openapi  # noqa: F401  (adds its route to api_bp)
    from portal.api import scheduling as _api_scheduling  # noqa: F401  (adds its routes to api_bp)
    from portal.api.views import bp as api_bp
    from portal.attendance.views import bp as attendance_bp
    from portal.audit.views import bp as audit_bp
    from portal.auth.views import bp as auth_bp
    from portal.catalog.photo_views import bp as site_photos_bp
    from portal.catalog.transfer_views import bp as catalog_transfer_bp
    from portal.catalog.views import bp as catalog_bp
    from portal.certificates.views import bp as certificates_bp
    from portal.directory.views import bp as directory_bp
    from portal.evaluations.views import bp as evaluations_bp
    from portal.events import award_views as _award_views  # noqa: F401  (adds routes to events_bp)
    from portal.events import calendar_views as _event_calendar_views  # noqa: F401  (adds routes)
    from portal.events import contest_views as _contest_views  # noqa: F401  (adds routes)
    from portal.events import registration_views as _registration_views  # noqa: F401  (adds routes)
    from portal.events.views import bp as events_bp
    from portal.feedback.views import bp as feedback_bp
    from portal.guides.views import bp as guides_bp
    from portal.home.views import bp as home_bp
    from portal.meetings import agenda_views as _agenda_views  # noqa: F401  (adds routes)
    from portal.meetings import decision_views as _decision_views  # noqa: F401  (adds routes)
    from portal.meetings import export_views as _export_views  # noqa: F401  (adds routes)
    from portal.meetings import poll_views as _poll_views  # noqa: F401  (adds routes)
    from portal.meetings.views import bp as meetings_bp
    from portal.members.views import bp as members_bp
    from portal.notifications.views import bp as messages_bp
    from portal.planner.views import bp as planner_bp
    from portal.records.views import bp as records_bp
    from portal.reports.dashboard_views import bp as dashboard_bp
    from portal.reports.views import bp as reports_bp
    from portal.scheduling import class_views as _class_views  # noqa: F401  (adds routes)
    from portal.scheduling import inbox_views as _inbox_views  # noqa: F401  (adds routes)
    from portal.scheduling import replace_views as _replace_views  # noqa: F401  (adds routes)
    from portal.scheduling import staff_views as _staff_views  # noqa: F401  (adds routes to bookings_bp)
    from portal.scheduling.booking_views import bp as bookings_bp
    from portal.scheduling.calendar_views import bp as calendars_bp
    from portal.scheduling.route_views import bp as routes_bp
    from portal.sharing.views import bp as sharing_bp
    from portal.trainees.views import bp as trainees_bp

    for bp in (
        home_bp,
        auth_bp,
        members_bp,
        catalog_bp,
        catalog_transfer_bp,
        site_photos_bp,
        routes_bp,
        bookings_bp,
        calendars_bp,
        messages_bp,
        meetings_bp,
        events_bp,
        audit_bp,
        trainees_bp,
        attendance_bp,
        evaluations_bp,
        certificates_bp,
        records_bp,
        feedback_bp,
        planner_bp,
        reports_bp,
        dashboard_bp,
        directory_bp,
        guides_bp,
        sharing_bp,
        api_bp,
    ):
        app.register_blueprint(bp)
    plugins.register_plugin_blueprints(app)

    from portal.cli import portal_cli

    app.cli.add_command(portal_cli)
    return app
