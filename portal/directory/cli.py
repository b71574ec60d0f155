"""`flask portal directory-sweep`: the daily job that suspends sites whose rectification
notice (整改通知) passed its deadline unfixed, and tells members once of supervision fixes
that became overdue.

Run it once a day (cron, early morning). Two servers may run it at the same time: each
overdue warning is claimed by a conditional UPDATE, so a site is suspended (and its
bookings handled) once.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("directory-sweep")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to check for (YYYY-MM-DD; default today in Asia/Shanghai).",
)
@with_appcontext
def directory_sweep(day) -> None:
    """Suspend the sites whose rectification deadline has passed."""
    from portal.directory.services import sweep
    from portal.directory.supervision import remind_overdue

    today = day.date() if day is not None else None
    acted = sweep(today)
    reminded = remind_overdue(today)
    click.echo(
        f"directory sweep: {len(acted)} site(s) suspended, "
        f"{len(reminded)} overdue finding(s) notified"
    )
