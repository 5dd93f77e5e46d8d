"""`pressgate analytics`: the dashboard's figures as CSV, a collector round now, the digest.

`export` writes exactly what the /analytics page's download gives (one `Dashboard`, one
CSV writer). `collect` runs the collector at once, outside the hourly claim: it is the "when
asked" of reading a post twice in a day.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import AsOpt, JsonOpt, app_of, console, err_console, print_json
from bot.private_files import private_writer

analytics_app = typer.Typer(
    help="Reach, governance and what X costs: export the figures, collect now, the digest.",
    no_args_is_help=True,
)
DayOpt = Annotated[str, typer.Option(help="A day as YYYY-MM-DD (UTC).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(analytics_app, name="analytics")


@analytics_app.command("export")
def export(
    ctx: typer.Context,
    actor: AsOpt,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")] = "",
    end: Annotated[str, typer.Option("--to", help="Last day, included.")] = "",
    account: Annotated[str, typer.Option("--account", "-a", help="Only this account.")] = "",
    campaign: Annotated[str, typer.Option("--campaign", help="Only this campaign.")] = "",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the dashboard's figures as CSV (section, group, metric, value); without
    --from/--to, the last 28 days."""
    from approvals.analytics.dashboard import dashboard_asked
    from approvals.analytics.export import to_csv

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        board = dashboard_asked(
            session,
            viewer=actor,
            today=app.clock.now().date(),
            start=start,
            end=end,
            account=account,
            campaign=campaign,
        )
    text = to_csv(board)
    if output is None:
        sys.stdout.write(text)
    else:
        with private_writer(output) as out:
            out.write(text)
    err_console.print(f"analytics {board.start} to {board.end} written", highlight=False)


@analytics_app.command("collect")
def collect(
    ctx: typer.Context,
    again: Annotated[
        bool, typer.Option("--again", help="Read every post, even those read today.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Read every connected account's own timeline now, for the posts due (or all)."""
    from bot.collector import Collector
    from bot.publishers import timeline_factory
    from bot.worker import worker_name

    app = app_of(ctx)
    collector = Collector(
        engine=app.engine,
        timelines=timeline_factory(app.settings, app.engine, app.clock),
        clock=app.clock,
        worker=worker_name(),
    )
    done = collector.run_once(asked=True, again=again)
    if json_out:
        print_json({"posts": done.posts, "skipped": done.skipped})
        return
    for handle, count in done.posts.items():
        console.print(f"{handle}: {count} posts read", highlight=False)
    for handle, why in done.skipped.items():
        console.print(f"{handle}: {why}", highlight=False, markup=False)


@analytics_app.command("digest")
def show_digest(ctx: typer.Context, actor: AsOpt, day: DayOpt = "") -> None:
    """Show the weekly digest `actor` would get (the week before the one of --day)."""
    from approvals.analytics.dashboard import dashboard_asked, last_weeks, parse_day
    from approvals.analytics.digest import digest

    app = app_of(ctx)
    today = parse_day("--day", day) if day else app.clock.now().date()
    start, end = last_weeks(today)
    with app.session(read_only=True) as session:
        board = dashboard_asked(session, viewer=actor, today=today, start=str(start), end=str(end))
    console.print(digest(board), highlight=False, markup=False, soft_wrap=True)
