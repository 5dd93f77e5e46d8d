"""The web application factory. Pages, the JSON API and Slack endpoints are added by later work."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from approvals.db import make_engine
from approvals.migrate import current_revision
from bot.settings import Settings
from bot.web import check, guidance


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="pressgate", version="0.1.0", docs_url=None, redoc_url=None)
    engine = make_engine(settings.database_url, audit_keys=settings.audit_keyring())
    app.state.settings = settings
    app.state.engine = engine

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up; says nothing about its dependencies."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready to serve: the database answers and its schema is migrated."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            revision = current_revision(engine)
        except Exception as exc:  # any failure means "not ready"; the reason is for operators
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        if revision is None:
            return JSONResponse({"status": "unavailable", "reason": "database not migrated"}, 503)
        return JSONResponse({"status": "ok", "schema": revision})

    app.include_router(guidance.router)
    app.include_router(check.router)
    return app
