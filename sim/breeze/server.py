"""Run the simulator in a background thread on a loopback port (tests, benchmarks, demos)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from types import TracebackType

import uvicorn

from sim.breeze.app import create_app
from sim.breeze.settings import SimSettings
from sim.breeze.state import SimState


class SimServer:
    """uvicorn on an already-bound ``127.0.0.1`` socket (no port race), stopped on exit."""

    def __init__(self, settings: SimSettings | None = None, port: int = 0) -> None:
        self.app = create_app(settings)
        self.state: SimState = self.app.state.sim
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, timeout_keep_alive=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"breeze-sim-{self.port}",
        )

    def start(self, timeout_s: float = 10.0) -> SimServer:
        """Start serving and poll ``/_sim/health`` until it answers."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_sim/health", timeout=1) as reply:  # noqa: S310 - loopback URL we built
                    if reply.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"Breeze simulator on {self.url} did not become ready")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
