"""The web application factory: pages, the JSON API, health, static assets.

`create_app(settings)` builds the whole app from settings (and, for tests, a clock), so a
test gets exactly what `pressgate run` serves.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from approvals.clock import Clock, SystemClock
from approvals.db import make_engine
from approvals.files import shipped
from approvals.migrate import current_revision
from approvals.records.chain_verdicts import ChainVerdicts
from bot.settings import Settings
from bot.slack.replies import SlackContext
from bot.slack.socket_mode import SocketMode
from bot.web import api, errors, guidance, oidc, operations, problems, slack, templates_api
from bot.web.body_limit import BodyLimit
from bot.web.pages import analytics, audit_log, bulk, calendar, compose, duty, home, links, signin
from bot.web.pages import consultation as consultation_page
from bot.web.pages import map as map_page
from bot.web.pages import post as post_pages
from bot.web.request_ids import RequestIds
from bot.web.security import SecurityHeaders
from bot.web.sessions import add_sessions

STATIC_DIR = shipped("templates/static")


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    engine = make_engine(
        settings.database_url,
        busy_timeout=settings.sqlite_busy_timeout,
        audit_keys=settings.audit_keyring(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        socket_mode = None
        if settings.slack_app_token is not None:  # Slack's requests over our own connection
            context = SlackContext(engine=engine, settings=settings, clock=app.state.clock)
            socket_mode = SocketMode(context)
            socket_mode.start()
        app.state.socket_mode = socket_mode
        yield
        if socket_mode is not None:
            socket_mode.stop()
        engine.dispose()  # the app's connections end with it (tests make many apps)

    app = FastAPI(
        title="pressgate", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    app.state.chain_verdicts = ChainVerdicts()  # the audit page's walk, shared by its loads
    app.state.scheduler = None  # `pressgate run` sets its worker here when it runs one

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up; says nothing about its dependencies."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready to serve: the database answers and its schema is migrated. `publisher` says
        where approved posts go: "x", "sandbox" (asked for; nothing reaches X) or "none";
        `scheduler` whether this process publishes: "running", "elsewhere" (--web-only) or
        "stopped" (it should run here and does not: not ready)."""
        scheduler = operations.scheduler_state(app.state.scheduler)
        if scheduler == "stopped":
            return JSONResponse({"status": "unavailable", "reason": "scheduler stopped"}, 503)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            revision = current_revision(engine)
        except Exception as exc:  # any failure means "not ready"; the reason is for operators
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        if revision is None:
            return JSONResponse({"status": "unavailable", "reason": "database not migrated"}, 503)
        return JSONResponse(
            {
                "status": "ok",
                "schema": revision,
                "publisher": settings.publisher,
                "scheduler": scheduler,
            }
        )

    app.include_router(signin.router)
    app.include_router(oidc.router_for(settings))
    app.include_router(home.router)
    app.include_router(bulk.router)
    app.include_router(post_pages.router)  # /posts/{id} and /posts/{id}/review
    app.include_router(guidance.router)
    app.include_router(consultation_page.router)
    app.include_router(compose.router)
    app.include_router(templates_api.router)
    app.include_router(api.router)  # the JSON API, /api/v1/...
    app.include_router(calendar.router)
    app.include_router(analytics.router)
    app.include_router(audit_log.router)
    app.include_router(map_page.router)
    app.include_router(duty.router)
    app.include_router(links.router)  # /a/{token}, the signed review links
    app.include_router(slack.router)  # /slack/interactions and /slack/commands
    app.include_router(operations.router)  # /metrics
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    problems.install(app)
    errors.install(app)
    add_sessions(app, settings)
    # Every body is limited to PRESSGATE_MAX_REQUEST_BYTES, except the routes listed here with
    # a limit of their own (an image upload route goes here with images.MAX_FILE_BYTES and
    # room for its form fields).
    app.add_middleware(
        BodyLimit,
        default=settings.max_request_bytes,
        routes={
            "/guidance/check": guidance.MAX_BODY_BYTES,
            "/import": bulk.MAX_BODY_BYTES,
            "/posts/new": compose.MAX_BODY_BYTES,
            "/posts/*/edit": compose.MAX_BODY_BYTES,
            **api.BODY_LIMITS,
        },
    )
    app.add_middleware(SecurityHeaders)  # every answer carries the headers
    app.add_middleware(RequestIds)  # outermost: every log line of a request carries its id
    return app
