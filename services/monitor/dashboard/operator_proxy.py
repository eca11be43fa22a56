"""Forwarding of the dashboard's operator commands to ingest's control plane.

Monitor holds no operator token: the browser sends the one the operator typed, monitor passes
it through to ingest unchanged and answers with ingest's status and body. The token is never
logged nor stored here. Only the commands the dashboard offers are forwarded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from libs.common.logging import get_logger

log = get_logger(__name__)

MAX_BODY_BYTES = 4096
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ALLOWED = re.compile(
    r"^(safety/kill-switch|safety/emergency-stop|strategy/pending/" + _UUID + r"/(approve|reject))$"
)


@dataclass(frozen=True)
class ProxyAnswer:
    """What the dashboard answers the browser."""

    status: int
    body: dict[str, Any]


def is_allowed(command: str) -> bool:
    """Whether the dashboard forwards this command path."""
    return ALLOWED.fullmatch(command) is not None


def check_body(raw: bytes) -> ProxyAnswer | None:
    """A 4xx answer for a body that is not a small JSON object, else None."""
    if len(raw) > MAX_BODY_BYTES:
        return ProxyAnswer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
    try:
        parsed = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ProxyAnswer(400, {"error": "body is not JSON"})
    if not isinstance(parsed, dict):
        return ProxyAnswer(400, {"error": "body must be a JSON object"})
    return None


class OperatorProxy:
    """Posts one operator command to ingest with the caller's own credentials."""

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base_url = base_url

    async def forward(
        self, command: str, body: bytes, authorization: str | None, operator: str | None
    ) -> ProxyAnswer:
        """Forward ``POST /api/v2/<command>``; ingest's answer comes back as it is."""
        if not is_allowed(command):
            return ProxyAnswer(404, {"error": f"the dashboard does not forward {command!r}"})
        refused = check_body(body)
        if refused is not None:
            return refused
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        if operator:
            headers["X-Operator"] = operator
        url = f"{self._base_url}/api/v2/{command}"
        try:
            response = await self._client.post(url, content=body or b"{}", headers=headers)
        except httpx.TimeoutException:
            log.warning("operator_forward_timeout", command=command)
            return ProxyAnswer(504, {"error": "ingest did not answer in time; not confirmed"})
        except httpx.HTTPError as exc:
            log.warning("operator_forward_failed", command=command, error=type(exc).__name__)
            return ProxyAnswer(502, {"error": "ingest is unreachable; command not sent"})
        log.info("operator_forwarded", command=command, status=response.status_code)
        return ProxyAnswer(response.status_code, _json_body(response))


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"error": response.text[:500]}
    return parsed if isinstance(parsed, dict) else {"result": parsed}
