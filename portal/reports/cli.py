"""`flask portal report`: the yearly report (or a quarter's) from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.reports import exports, services
from portal.reports.figures import Report, remembered
from portal.reports.period import Scope, quarter_period, year_period


@click.command("report")
@click.option("--year", type=int, required=True, help="The year, e.g. 2026.")
@click.option("--quarter", type=click.IntRange(1, 4), help="Only this quarter (1–4).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "xlsx", "pdf", "docx"]),
    default="text",
    show_default=True,
)
@click.option("--member", "member_key", help="One member's key; the consortium without it.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="File to write.")
@with_appcontext
def report_command(year, quarter, fmt, member_key, output) -> None:
    """Write the work report's figures for a year: as text (to stdout), .xlsx, PDF or .docx."""
    try:
        period = quarter_period(year, quarter) if quarter else year_period(year)
    except ValidationFailed as error:
        raise click.ClickException(error.message) from error
    member = None
    if member_key:
        member = db.session.scalar(select(Member).where(Member.key == member_key))
        if member is None:
            raise click.ClickException(f"没有成员单位 {member_key}")
    if fmt != "text" and not output:
        raise click.ClickException("--output FILE is needed for xlsx, pdf and docx")
    with remembered():
        data = _render(services.build_report(period, Scope(member)), fmt)
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(data.decode(), nl=False)
    sys.stdout.flush()


def _render(report: Report, fmt: str) -> bytes:
    if fmt == "text":
        return services.report_text(report).encode()
    if fmt == "xlsx":
        return exports.report_xlsx(report)
    if fmt == "docx":
        return exports.report_docx(report)
    try:
        return exports.report_pdf(report)
    except exports.FontUnavailable as error:
        raise click.ClickException(f"没有可用的中文字体：{error}") from error
