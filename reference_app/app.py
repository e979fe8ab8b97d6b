"""The application factory: `uvicorn --factory reference_app.app:create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reference_app import __version__
from reference_app.api import auth, formulas, health, uploads
from reference_app.api.edge_responses import EDGE_RESPONSES
from reference_app.api.errors import install_error_handlers
from reference_app.core import metrics_http
from reference_app.core.activity import ActiveUsers, active_users
from reference_app.core.cache import FormulaCache, RedisLink
from reference_app.core.config import Settings, get_settings
from reference_app.core.database import Database, database_of
from reference_app.core.identity import LoginAttempts, SecondFactor
from reference_app.core.metrics import instrument_pool
from reference_app.core.security_config import security_config
from reference_app.core.security_middleware import setup_security_middleware
from reference_app.mutants import apply_mutant_from_env


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        async with metrics_http.worker_metrics():
            yield
    finally:
        await active_users(app).link.aclose()
        await database_of(app).dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fully wired app; without `settings` they are read from the environment.

    The mutant named by REFERENCE_APP_MUTANT, if any, is applied last.
    """
    settings = settings if settings is not None else get_settings()
    logging.getLogger("reference_app").setLevel(settings.log_level)

    app = FastAPI(
        title="Formulas API (reference app)",
        version=__version__,
        lifespan=_lifespan,
        responses=EDGE_RESPONSES,
    )
    database = Database(settings)
    app.state.settings = settings
    app.state.database = database
    instrument_pool(database.engine)
    # one Redis connection for the formula cache and the active users
    redis = RedisLink(settings.redis_url)
    app.state.formula_cache = FormulaCache(redis)
    app.state.active_users = ActiveUsers(redis)
    profile = settings.profile
    app.state.login_attempts = LoginAttempts(profile.login_max_attempts, profile.lockout_seconds)
    app.state.second_factor = SecondFactor.of(profile)
    health.set_health_service(app, health.build_health_service(settings, database))

    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(formulas.router)
    app.include_router(auth.router)
    app.include_router(uploads.router)
    security = security_config(settings.environment, settings.redis_url)
    # as the spec shows it; every other knob comes from SECURITY_* (security_config.py)
    setup_security_middleware(
        app,
        config={
            "allowed_hosts": security.allowed_hosts,
            "rate_limit_calls": security.rate_limit_calls,
            "rate_limit_period": security.rate_limit_period,
            "ip_whitelist": security.ip_whitelist,
            "ip_blacklist": security.ip_blacklist,
        },
    )
    # outermost: it counts what the security layers refuse too
    metrics_http.install(app)

    apply_mutant_from_env(app, settings)
    return app
