"""FastAPI pieces every service shares: ``/metrics`` and ``/healthz``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from libs.common.metrics import render


def add_common_routes(
    app: FastAPI,
    registry: CollectorRegistry,
    ready: Callable[[], bool],
    details: Callable[[], dict[str, str]] | None = None,
) -> None:
    """Expose Prometheus metrics and a liveness/readiness probe."""

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render(registry)
        return Response(content=body, media_type=content_type)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        ok = ready()
        body: dict[str, object] = {"ready": ok}
        if details is not None:
            body.update(details())
        return JSONResponse(status_code=200 if ok else 503, content=body)


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run an app under uvicorn in the foreground."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
