"""Loading the official ``breeze-connect`` SDK safely and building clients (breeze.md 2, 5, 7.2).

Importing ``breeze_connect`` as published (1.0.69) has process-wide side effects, which
:func:`load_breeze_sdk` neutralises without patching the installed package:

- it downloads ``SecurityMaster.zip`` from ICICI **at import time** (an offline import fails):
  the import runs with ``urllib.request.urlopen`` answering an empty zip, so no network is used;
  the SDK's own ``urlopen`` is restored afterwards, so ``generate_session`` downloads the master
  from whatever ``SECURITY_MASTER_URL`` the client was pointed at;
- it creates ``./logs/apiLogs.log`` and ``./logs/websocketLogs.log`` (DEBUG, with response
  bodies) in the current directory: the import runs inside a dedicated private directory, and the
  SDK's two loggers are raised to WARNING so response bodies are not written;
- it puts its package directory on ``sys.path`` and does ``import config``: its own ``config.py``
  is loaded explicitly as ``sys.modules["config"]`` first (a different top-level ``config``
  module is refused), and the ``sys.path`` entry is removed afterwards;
- it makes calls without any timeout: its ``requests`` reference is replaced by a shim that adds
  a default ``(connect, read)`` timeout to every call.

The SDK reads its URLs from that single ``config`` module at call time, so the base URL is
process-wide: the last client built decides where ``generate_session`` goes (after login,
``client.api_handler.hostname`` can retarget one client's REST calls). Load the SDK from the
executor's composition root, before other threads start: the import briefly changes the
working directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import logging
import os
import sys
import tempfile
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REAL_API_URL = "https://api.icicidirect.com/breezeapi/api/v1/"
REAL_BREEZE_NEW_URL = "https://breezeapi.icicidirect.com/api/v2/"
REAL_SECURITY_MASTER_URL = "https://directlink.icicidirect.com/MotherAppMaster/SecurityMaster.zip"
REAL_LIVE_STREAM_URL = "https://livestream.icicidirect.com"
REAL_LIVE_FEEDS_URL = "https://livefeeds.icicidirect.com"
REAL_LIVE_OHLC_STREAM_URL = "https://breezeapi.icicidirect.com"
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 8.0)
SDK_LOGGERS = ("APILogger", "WebsocketLogger")

_lock = threading.Lock()
_sdk: ModuleType | None = None


@dataclass(frozen=True)
class BreezeUrls:
    """Where the SDK sends each kind of traffic (the attributes of its ``config`` module)."""

    api_url: str = REAL_API_URL
    breeze_new_url: str = REAL_BREEZE_NEW_URL
    security_master_url: str = REAL_SECURITY_MASTER_URL
    live_stream_url: str = REAL_LIVE_STREAM_URL
    live_feeds_url: str = REAL_LIVE_FEEDS_URL
    live_ohlc_stream_url: str = REAL_LIVE_OHLC_STREAM_URL

    @classmethod
    def for_base(cls, base_url: str) -> BreezeUrls:
        """Every URL under one server, laid out like the local simulator (``sim.breeze``)."""
        base = base_url.rstrip("/")
        return cls(
            api_url=f"{base}/breezeapi/api/v1/",
            breeze_new_url=f"{base}/api/v2/",
            security_master_url=f"{base}/SecurityMaster.zip",
            live_stream_url=f"{base}/livestream",
            live_feeds_url=f"{base}/livefeeds",
            live_ohlc_stream_url=f"{base}/ohlcstream",
        )


class _TimeoutRequests:
    """Stands in for the ``requests`` module inside the SDK: every call gets a timeout."""

    def __init__(self, requests_module: Any, timeout: tuple[float, float]) -> None:
        self._requests = requests_module
        self.timeout = timeout
        self.packages = requests_module.packages  # the SDK touches requests.packages

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        method: Callable[..., Any] = getattr(self._requests, name)
        return method(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """``requests.get`` with a default timeout."""
        return self._call("get", *args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        """``requests.post`` with a default timeout."""
        return self._call("post", *args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        """``requests.put`` with a default timeout."""
        return self._call("put", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """``requests.delete`` with a default timeout."""
        return self._call("delete", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._requests, name)


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    return buffer.getvalue()


def default_workdir() -> Path:
    """Private directory for the SDK's log files (they hold account data: keep them private)."""
    return Path(tempfile.gettempdir()) / f"strikeflow-breeze-sdk-{os.getuid()}"


@contextmanager
def _offline_import(workdir: Path) -> Iterator[None]:
    """Run the SDK import in ``workdir`` with the master download answered locally."""
    real_urlopen = urllib.request.urlopen
    payload = _empty_zip()

    def no_download(*args: Any, **kwargs: Any) -> io.BytesIO:
        del args, kwargs
        return io.BytesIO(payload)

    previous = Path.cwd()
    urllib.request.urlopen = no_download
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(previous)
        urllib.request.urlopen = real_urlopen


def _sdk_config(package_dir: Path) -> ModuleType:
    """The SDK's own ``config.py`` as the top-level ``config`` module it imports."""
    config_path = package_dir / "config.py"
    existing = sys.modules.get("config")
    if existing is not None:
        if Path(getattr(existing, "__file__", "") or "").resolve() != config_path.resolve():
            raise RuntimeError(
                "a top-level module named 'config' is already imported; breeze_connect would "
                "use it instead of its own (breeze.md 5.5)"
            )
        return existing
    spec = importlib.util.spec_from_file_location("config", config_path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {config_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["config"] = module
    return module


def load_breeze_sdk(
    workdir: Path | None = None, timeout: tuple[float, float] | None = None
) -> ModuleType:
    """Import ``breeze_connect.breeze_connect`` once, offline, with a timeout on every call.

    ``timeout`` (connect, read) applies to every later SDK call in the process; None keeps the
    current one (DEFAULT_TIMEOUT at first load). ``workdir`` only matters for the first load.
    """
    global _sdk
    with _lock:
        if _sdk is None:
            spec = importlib.util.find_spec("breeze_connect")
            if spec is None or not spec.submodule_search_locations:
                raise RuntimeError("breeze-connect is not installed")
            package_dir = Path(next(iter(spec.submodule_search_locations)))
            _sdk_config(package_dir)
            target = workdir or default_workdir()
            target.mkdir(mode=0o700, parents=True, exist_ok=True)
            path_before = list(sys.path)
            with _offline_import(target):
                module = importlib.import_module("breeze_connect.breeze_connect")
            sys.path[:] = [p for p in sys.path if p in path_before or p != str(package_dir)]
            module.urlopen = urllib.request.urlopen  # type: ignore[attr-defined]
            for name in SDK_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            module.requests = _TimeoutRequests(module.requests, DEFAULT_TIMEOUT)  # type: ignore[attr-defined]
            _sdk = module
        if timeout is not None:
            _sdk.requests.timeout = timeout
        return _sdk


def point_sdk_at(urls: BreezeUrls) -> None:
    """Set the SDK's URLs (process-wide: they live in its ``config`` module)."""
    config = load_breeze_sdk().config
    config.API_URL = urls.api_url
    config.BREEZE_NEW_URL = urls.breeze_new_url
    config.SECURITY_MASTER_URL = urls.security_master_url
    config.LIVE_STREAM_URL = urls.live_stream_url
    config.LIVE_FEEDS_URL = urls.live_feeds_url
    config.LIVE_OHLC_STREAM_URL = urls.live_ohlc_stream_url


def create_breeze_client(
    api_key: str,
    base_url: str | None = None,
    *,
    workdir: Path | None = None,
    timeout: tuple[float, float] | None = None,
) -> Any:
    """A ``BreezeConnect`` for ``api_key``, pointed at ``base_url`` (a simulator) or at ICICI.

    ``timeout`` is process-wide (see :func:`load_breeze_sdk`). The client is not logged in:
    call ``generate_session(api_secret, session_token=...)``.
    Until then its methods return ``None`` (breeze.md 5.7).
    """
    sdk = load_breeze_sdk(workdir, timeout)
    point_sdk_at(BreezeUrls.for_base(base_url) if base_url else BreezeUrls())
    return sdk.BreezeConnect(api_key=api_key)
