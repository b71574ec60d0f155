"""`flask portal …`: users, plugins, sync and the demo consortium from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal import plugins
from portal.directory.cli import directory_sweep
from portal.errors import ServiceError
from portal.extensions import db
from portal.meetings.cli import meetings_digest
from portal.reports.cli import report_command
from portal.scale import demo_command


@click.group("portal")
def portal_cli() -> None:
    """Run the consortium portal from the command line."""


@portal_cli.command("create-user")
@click.option("--username", prompt="用户名 (username)")
@click.option("--name", "display_name", prompt="姓名 (display name)")
@click.option(
    "--role",
    type=click.Choice(["office", "member_admin", "member_staff", "organizer", "trainee"]),
    default="office",
    show_default=True,
)
@click.option("--member", "member_key", help="Member key, for member_admin / member_staff.")
@click.option("--unit", "unit_name", help="Sending unit, for organizers and trainees.")
@click.password_option("--password", prompt="密码 (password)")
@with_appcontext
def create_user(username, display_name, role, member_key, unit_name, password) -> None:
    """Create an account; with no options it asks for the first office account."""
    from portal.auth.services import create_user as create
    from portal.members.models import Member

    member_id = None
    if member_key:
        member = db.session.scalar(select(Member).where(Member.key == member_key))
        if member is None:
            raise click.ClickException(f"没有成员单位 {member_key}（先运行 flask portal sync）")
        member_id = member.id
    try:
        user = create(
            username=username,
            display_name=display_name,
            role=role,
            password=password,
            member_id=member_id,
            unit_name=unit_name,
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"created {user.username} ({user.role_label})")


@portal_cli.command("sync")
@click.argument("name", required=False)
@with_appcontext
def sync(name: str | None) -> None:
    """Upsert what enabled plugins contribute (all, or plugin NAME). Safe to run again."""
    from portal.members.services import sync_plugins

    try:
        reports = sync_plugins(only=name)
    except KeyError as error:
        raise click.ClickException(f"没有安装插件 {name}") from error
    db.session.commit()
    for r in reports:
        click.echo(
            f"{r.plugin}: {r.created} created, {r.updated} updated, {r.retired} retired, "
            f"{r.unchanged} unchanged, {r.kept_local} kept as edited in the portal"
        )
        for problem in r.problems:
            click.echo(f"  problem: {problem}", err=True)


@portal_cli.group("plugins")
def plugins_cli() -> None:
    """List, enable and disable member plugins."""


@plugins_cli.command("list")
@with_appcontext
def plugins_list() -> None:
    """Every installed plugin: version, institution, state, contributions, recent errors."""
    from portal.members.services import plugin_overview

    for refused in plugins.refused_plugins():
        click.echo(f"{refused.name} {refused.version or '-'}  REFUSED (not loaded)")
        click.echo(f"  why: {refused.reason}")
    for row in plugin_overview():
        c = row.counts
        click.echo(
            f"{row.name} {row.version or '-'}  {row.institution}  "
            f"{'enabled' if row.enabled else 'DISABLED'}  "
            f"sites={c['sites']} teachers={c['teachers']} courses={c['courses']} "
            f"event_types={c['event_types']}"
        )
        click.echo(f"  hooks: {', '.join(row.hooks)}")
        if row.errors:
            click.echo(f"  last errors ({len(row.errors)}, newest first):")
            for fault in row.errors[:5]:
                when = fault.created_at.isoformat(timespec="seconds")
                click.echo(f"    {when} {fault.hook}: {fault.error[:300]}")


def _toggle(name: str, enabled: bool) -> None:
    try:
        plugins.set_enabled(name, enabled, by="cli")
    except KeyError as error:
        raise click.ClickException(f"没有安装插件 {name}") from error
    db.session.commit()
    click.echo(f"{name} {'enabled' if enabled else 'disabled'}")


@plugins_cli.command("enable")
@click.argument("name")
@with_appcontext
def plugins_enable(name: str) -> None:
    """Enable plugin NAME for this deployment."""
    _toggle(name, True)


@plugins_cli.command("disable")
@click.argument("name")
@with_appcontext
def plugins_disable(name: str) -> None:
    """Disable plugin NAME: its sites take no new bookings, its history stays."""
    _toggle(name, False)


@portal_cli.command("load-demo")
@with_appcontext
def load_demo() -> None:
    """Sync the plugins, a demo account for every role, the trainees' demo (idempotent)."""
    from portal.demo import DEMO_PASSWORD
    from portal.demo import load_demo as load

    accounts = load(season=True)
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for a in accounts:
        click.echo(f"  {a.username:<28} {a.role}{'  ' + a.member_key if a.member_key else ''}")


@portal_cli.command("process-waitlist")
@with_appcontext
def process_waitlist() -> None:
    """Expire waiting-list offers past their time and offer the places to the next in line."""
    from portal.scheduling.waitlist import expire_offers

    click.echo(f"{expire_offers()} expired offers processed")


@portal_cli.command("process-open-runs")
@with_appcontext
def process_open_runs_command() -> None:
    """Open runs past their booking deadline: confirm or cancel; expire seat offers; place electives.

    Safe on several servers at once (each run and elective is claimed with a conditional
    UPDATE); run it from a timer, e.g. every 10 minutes.
    """
    from portal.trainees.open_runs import process_open_runs

    done = process_open_runs()
    click.echo(
        f"{len(done.confirmed)} runs confirmed, {len(done.cancelled)} cancelled, "
        f"{done.offers_expired} seat offers expired, {done.electives_placed} trainees placed"
    )


@portal_cli.command("flag-withdrawals")
@with_appcontext
def flag_withdrawals_command() -> None:
    """Flag trainees whom 旷课 or leave call for withdrawal (退学) and tell their organizers.

    Absence accrues as sessions end unmarked; run it from a timer, e.g. every hour.
    """
    from portal.attendance.leave import flag_withdrawals

    click.echo(f"{flag_withdrawals()} trainees flagged for withdrawal")


@portal_cli.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, sending every --interval seconds.")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600))
@with_appcontext
def send_mail(loop: bool, interval: int) -> None:
    """Send the e-mails and text messages waiting in the outbox.

    E-mail: console backend unless MAIL_BACKEND = "smtp"; SMS: console unless SMS_BACKEND
    names a gateway class ("package.module:Class").
    """
    import time

    from portal.notifications.services import send_outbox
    from portal.notifications.sms import send_sms_outbox

    while True:
        sent, failed = send_outbox()
        click.echo(f"{sent} sent, {failed} failed")
        sms_sent, sms_failed = send_sms_outbox()
        click.echo(f"SMS: {sms_sent} sent, {sms_failed} failed")
        if not loop:
            return
        time.sleep(interval)


@portal_cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str | None) -> None:
    """Write a consistent copy of the database (default: instance/backups/portal-<time>.*)."""
    from pathlib import Path

    from flask import current_app

    from portal.backup import BackupError, backup, default_path

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    target = Path(path) if path else default_path(current_app.instance_path, url)
    try:
        backup(url, target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {target}")


@portal_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the database with the backup in PATH (stop the portal's workers first)."""
    from pathlib import Path

    from flask import current_app

    from portal.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces every row of the database. Go on?", abort=True)
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], Path(path))
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    from portal import pagecache

    pagecache.forget_all()
    click.echo(f"restored from {path}")


@portal_cli.command("clear-cache")
@with_appcontext
def clear_cache_command() -> None:
    """Forget every cached page (after restoring the database with pg_restore)."""
    from portal import pagecache

    pagecache.forget_all()
    click.echo("page cache cleared")


# Commands that live with their area.
portal_cli.add_command(meetings_digest)
portal_cli.add_command(directory_sweep)
portal_cli.add_command(demo_command)


@portal_cli.command("plan-season")
@click.option("--season", "season_id", required=True, type=int, help="The season's id.")
@click.option(
    "--time-limit", type=click.IntRange(1, 600), help="Seconds for the solver (season's default)."
)
@click.option("--workers", default=0, type=click.IntRange(0, 64), help="Solver threads (0: all).")
@click.option("--accept", is_flag=True, help="Book every placement through book() afterwards.")
@with_appcontext
def plan_season(season_id: int, time_limit: int | None, workers: int, accept: bool) -> None:
    """Run the season planner (CP-SAT); print placed count, objective, status and gap."""
    from portal.errors import ServiceError
    from portal.extensions import db
    from portal.planner.models import PlanSeason
    from portal.planner.services import accept_run, run_planner

    season = db.session.get(PlanSeason, season_id)
    if season is None:
        raise click.ClickException(f"no season {season_id}")
    try:
        run = run_planner(season, None, time_limit=time_limit, workers=workers)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"run {run.id}: placed {run.placed}/{run.requests} requests "
        f"({run.placed_trainees} trainees; proven at most {run.trainee_bound}), "
        f"objective {run.objective:.0f}, "
        f"bound {run.bound:.0f}, status {run.solver_status}, gap {run.gap:.2%}, "
        f"{run.seconds:.1f}s; first come, first served would place {run.fcfs_placed} "
        f"({run.fcfs_trainees} trainees)"
    )
    for item in run.items:
        if not item.placed:
            click.echo(f"  not placed: {item.request.training_class.name}: {item.reason}")
    if accept:
        from sqlalchemy import select

        from portal.auth.models import User

        office = db.session.scalar(
            select(User).where(User.role == "office", User.active.is_(True)).order_by(User.id)
        )
        if office is None:
            raise click.ClickException("no active office account to book as")
        counts = accept_run(run, office)
        click.echo(f"accepted: {counts['booked']} booked, {counts['conflict']} conflicts")


portal_cli.add_command(report_command)
