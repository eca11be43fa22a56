"""A fake of the services' HTTP routes, served by uvicorn on a free port, for the CLI tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from typer.testing import CliRunner

TOKEN = "unit-test-operator-token-7f3a"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeServices:
    """Answers per ``(method, path)``; the last answer of a list repeats."""

    url: str = ""
    answers: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.answers[(method, path)] = list(answers)

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def reset(self) -> None:
        self.answers.clear()
        self.seen.clear()


def fake_app(fake: FakeServices) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything(request: Request, path: str) -> Response:
        raw = await request.body()
        fake.seen.append(
            Seen(
                method=request.method,
                path="/" + path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.json() if raw else None,
            )
        )
        queue = fake.answers.get((request.method, "/" + path))
        if not queue:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(body, str):
            return PlainTextResponse(body, status_code=status)
        return JSONResponse(body, status_code=status)

    return app


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeServices]:
    fake = FakeServices()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(fake_app(fake), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def fake(_server: FakeServices) -> FakeServices:
    _server.reset()
    return _server


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def env(fake: FakeServices) -> dict[str, str | None]:
    return {
        "STRIKEFLOW_MONITOR_URL": fake.url,
        "STRIKEFLOW_INGEST_URL": fake.url,
        "STRIKEFLOW_EXECUTOR_URL": fake.url,
        "STRIKEFLOW_OPERATOR_TOKEN": TOKEN,
        "OPERATOR_TOKEN": None,
        "STRIKEFLOW_OPERATOR": "desk-1",
        "COLUMNS": "160",
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
