"""HTTP access to the services for the operator commands.

Where each service listens comes from the environment (``STRIKEFLOW_MONITOR_URL``,
``STRIKEFLOW_INGEST_URL``, ``STRIKEFLOW_EXECUTOR_URL``; the defaults are the local stack's). The
operator token is taken from ``--token``, else ``STRIKEFLOW_OPERATOR_TOKEN``, else
``OPERATOR_TOKEN``; it is sent only in the ``Authorization`` header and removed from any text
shown to the operator.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

Service = Literal["monitor", "ingest", "executor"]

DEFAULT_URLS: dict[Service, str] = {
    "monitor": "http://127.0.0.1:18000",
    "ingest": "http://127.0.0.1:18001",
    "executor": "http://127.0.0.1:18003",
}
URL_VARIABLES: dict[Service, str] = {
    "monitor": "STRIKEFLOW_MONITOR_URL",
    "ingest": "STRIKEFLOW_INGEST_URL",
    "executor": "STRIKEFLOW_EXECUTOR_URL",
}
TOKEN_VARIABLES = ("STRIKEFLOW_OPERATOR_TOKEN", "OPERATOR_TOKEN")


class OpsError(Exception):
    """A command that could not be done; ``exit_code`` is the process's exit status."""

    exit_code = 1


class ServiceRefused(OpsError):
    """The service answered with a 4xx or 5xx."""

    def __init__(self, service: Service, status: int, message: str) -> None:
        super().__init__(f"{service} answered {status}: {message}")
        self.service = service
        self.status = status
        self.message = message


class ServiceUnreachable(OpsError):
    """No answer from the service (refused connection, timeout, bad URL)."""

    exit_code = 3


class MissingToken(OpsError):
    """An operator command without a token."""

    exit_code = 2


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the services the commands talk to."""

    monitor: str
    ingest: str
    executor: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Endpoints:
        source = os.environ if env is None else env

        def url(service: Service) -> str:
            return (source.get(URL_VARIABLES[service]) or DEFAULT_URLS[service]).rstrip("/")

        return cls(monitor=url("monitor"), ingest=url("ingest"), executor=url("executor"))

    def of(self, service: Service) -> str:
        return str(getattr(self, service))


def resolve_token(given: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``--token``, else the first token variable set, else None."""
    if given:
        return given
    source = os.environ if env is None else env
    for name in TOKEN_VARIABLES:
        if source.get(name):
            return source[name]
    return None


def operator_name(env: Mapping[str, str] | None = None) -> str:
    """The name written to the audit trail (``X-Operator``): STRIKEFLOW_OPERATOR or the user."""
    source = os.environ if env is None else env
    name = source.get("STRIKEFLOW_OPERATOR")
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = "operator"
    return name[:64]


def error_text(response: httpx.Response) -> str:
    """The service's own message: ``error`` or ``detail`` of a JSON body, else the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return str(body["error"])
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            return "; ".join(_validation_item(item) for item in detail)
    return response.text.strip()[:500]


def _validation_item(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))


class Client:
    """GETs to any service, operator POSTs with the bearer token."""

    def __init__(
        self,
        endpoints: Endpoints,
        token: str | None = None,
        operator: str = "operator",
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        self._token = token
        self._operator = operator
        self._http = httpx.Client(timeout=timeout_s, transport=transport)
        self._secrets = [token] if token else []

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def scrub(self, secret: str) -> None:
        """Never show ``secret`` in an error text (the token is scrubbed already)."""
        if secret:
            self._secrets.append(secret)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def request(
        self,
        method: str,
        service: Service,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        operator: bool = False,
        accept: tuple[int, ...] = (),
    ) -> Any:
        """The JSON answer; raise `ServiceRefused` on any status >= 400 not in ``accept``."""
        headers = {"Accept": "application/json"}
        if operator:
            if not self._token:
                raise MissingToken(
                    "no operator token: set STRIKEFLOW_OPERATOR_TOKEN (or OPERATOR_TOKEN) "
                    "or pass --token"
                )
            headers["Authorization"] = f"Bearer {self._token}"
            headers["X-Operator"] = self._operator
        url = f"{self.endpoints.of(service)}{path}"
        try:
            response = self._http.request(method, url, params=params, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(
                self._scrub(f"{service} at {self.endpoints.of(service)} did not answer: {exc}")
            ) from None
        if response.status_code >= 400 and response.status_code not in accept:
            raise ServiceRefused(service, response.status_code, self._scrub(error_text(response)))
        try:
            return response.json()
        except ValueError:
            raise ServiceRefused(service, response.status_code, "the answer is not JSON") from None

    def get(
        self,
        service: Service,
        path: str,
        params: Mapping[str, str | int] | None = None,
        accept: tuple[int, ...] = (),
    ) -> Any:
        return self.request("GET", service, path, params=params, accept=accept)

    def post(self, service: Service, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", service, path, body=body, operator=True)


def connect(token: str | None = None) -> Client:
    """A client for the services named by the environment."""
    return Client(Endpoints.from_env(), resolve_token(token), operator_name())
