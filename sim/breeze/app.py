"""ASGI wiring of the simulator: state, Breeze routes, control API and fault middleware."""

from __future__ import annotations

from fastapi import FastAPI

from sim.breeze import control, login, routes
from sim.breeze.faults import FaultMiddleware, silence_dropped_responses
from sim.breeze.settings import SimSettings
from sim.breeze.state import SimState


def create_app(settings: SimSettings | None = None) -> FastAPI:
    """A fresh simulator application with its own in-memory state (``app.state.sim``)."""
    state = SimState.create(settings or SimSettings())
    app = FastAPI(title="Breeze simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = state
    app.include_router(routes.router)
    app.include_router(control.router)
    app.include_router(login.router)
    app.add_middleware(
        FaultMiddleware,
        faults=state.faults,
        gateway_status=state.settings.gateway_error_http_status,
    )
    silence_dropped_responses()
    return app
