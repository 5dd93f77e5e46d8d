"""`pressgate run` and `pressgate demo`: the web app and the publishing scheduler."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.admin import load_or_exit, migrate, write_example_config
from bot.cli.common import App, app_of, err_console, fail

HostOpt = Annotated[str | None, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int | None, typer.Option(help="Port to listen on.")]


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)


def _prepare(app: App, config: Path) -> None:
    """Migrate, and load the operator's config file as the first map; a file that differs
    from the map in force refuses to start (it is applied with `map apply --as`)."""
    from approvals.map_store import install_config

    loaded = load_or_exit(config)
    migrate(app)
    with app.session() as session:
        version = install_config(
            session, config=loaded, source=str(config), actor=None, now=app.clock.now()
        )
    if version is not None:
        err_console.print(f"permission map from {config} is now in force (version {version.id})")


def _serve(app: App, host: str | None, port: int | None, *, worker: bool) -> None:
    """The web app, with the scheduler running beside it in the same process if `worker`."""
    from bot.logs import configure_logging, secrets_of
    from bot.shutdown import stop_within
    from bot.worker import Worker

    settings = app.settings
    configure_logging(settings.log_level, settings.log_format, secrets=secrets_of(settings))
    host, port = host or settings.host, port or settings.port
    background = Worker(settings=settings, engine=app.engine, clock=app.clock) if worker else None
    if background:
        background.start()
    err_console.print(f"pressgate listening on http://{host}:{port}  (Ctrl-C stops)")
    try:
        import uvicorn  # here, not at the top: a worker-only process needs no web stack

        from bot.web.app import create_app

        web = create_app(settings)
        web.state.scheduler = background
        # uvicorn takes SIGTERM/SIGINT while it serves, then raises the signal again on the
        # handler it found: a no-op one lets the worker below stop within its grace period
        # instead of the process dying with it.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        uvicorn.run(
            web,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            # The client address must be the connection's: the trusted-proxy sign-in checks it,
            # and uvicorn would otherwise take it from X-Forwarded-For on local connections.
            proxy_headers=False,
            log_config=None,  # uvicorn's lines go through bot/logs.py like every other
        )
    finally:
        if background:
            stop_within(background, settings.shutdown_grace)


def _work(app: App) -> None:
    """The scheduler alone, until SIGTERM or Ctrl-C."""
    from bot.logs import configure_logging, secrets_of
    from bot.shutdown import stop_within
    from bot.worker import Worker

    settings = app.settings
    configure_logging(settings.log_level, settings.log_format, secrets=secrets_of(settings))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = Worker(settings=app.settings, engine=app.engine, clock=app.clock)
    worker.start()
    err_console.print("pressgate worker running  (Ctrl-C stops)")
    stop.wait()
    stop_within(worker, settings.shutdown_grace)


def run(
    ctx: typer.Context,
    host: HostOpt = None,
    port: PortOpt = None,
    worker_only: Annotated[
        bool, typer.Option("--worker-only", help="Only the scheduler; no web server.")
    ] = False,
    web_only: Annotated[
        bool, typer.Option("--web-only", help="Only the web server; no scheduler.")
    ] = False,
) -> None:
    """Serve pressgate: web app and publishing scheduler in one process, or either alone."""
    if worker_only and web_only:
        fail("--worker-only and --web-only exclude each other")
    app = app_of(ctx)
    app.settings.require_real_secret()
    if not web_only:
        app.settings.require_publisher()  # never a silent sandbox: posts would look published
    _prepare(app, app.settings.config)
    if worker_only:
        _work(app)
    else:
        _serve(app, host, port, worker=not web_only)


def demo(
    ctx: typer.Context,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files.")] = Path(
        "var/demo"
    ),
    host: HostOpt = None,
    port: PortOpt = None,
    seed_only: Annotated[bool, typer.Option(help="Prepare the demo data, do not serve.")] = False,
) -> None:
    """Try pressgate: SQLite, the example config and demo posts; nothing reaches X."""
    from bot import demo as demo_data

    root = app_of(ctx)
    config = data_dir / "pressgate.toml"
    if not config.exists():
        write_example_config(config)
    settings = root.settings.for_demo(
        config=config, database_url=f"sqlite:///{data_dir / 'pressgate.db'}"
    )
    app = App.of(settings, root.clock)
    app.create_database()
    _prepare(app, config)
    with app.session() as session:
        made = demo_data.seed(session, now=app.clock.now())
    if made:
        err_console.print(f"demo data: {made} posts created in {data_dir}")
    if not seed_only:
        err_console.print("sandbox publisher: nothing is sent to X in the demo")
        _serve(app, host, port, worker=True)
