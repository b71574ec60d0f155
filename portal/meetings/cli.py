"""`flask portal meetings-digest`: the weekly digest of meetings and overdue decisions.

Register it on the portal's command group (portal/cli.py)::

    from portal.meetings.cli import meetings_digest
    portal_cli.add_command(meetings_digest)

and run it once a week (cron, Monday morning): ``flask portal meetings-digest``.
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from portal.extensions import db


@click.command("meetings-digest")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the digest is for (YYYY-MM-DD; default today in Asia/Shanghai).",
)
@with_appcontext
def meetings_digest(day) -> None:
    """Send the weekly meetings digest (overdue decisions …) to the office and members."""
    from portal.meetings.decisions import send_weekly_digest

    today: date | None = day.date() if day is not None else None
    sent = send_weekly_digest(today)
    db.session.commit()
    click.echo(f"meetings digest sent to {sent} user(s)")
