"""The automated Breeze login in real headless Chromium against the simulator's login pages.

Chromium is the Debian package (/usr/bin/chromium), driven by Playwright without any browser
download; the session value it returns is checked with the real breeze-connect SDK. Skipped when
Chromium is absent, unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pyotp
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from libs.common.clock import SystemClock
from services.executor.adapters.breeze_sdk import create_breeze_client, load_breeze_sdk
from services.executor.app import breeze_broker
from services.executor.auto_login import (
    AutoLoginError,
    LoginConfig,
    LoginPageChanged,
    LoginRefused,
    browser_login,
    executor_auto_login,
)
from services.executor.live_session import LiveSession
from services.executor.session import SessionStore
from services.executor.settings import ExecutorSettings
from sim.breeze.server import SimServer
from sim.breeze.settings import SimSettings
from tests.waiting import eventually

pytestmark = pytest.mark.integration

APP_KEY = "SIM+KEY=1!^#z"  # the characters real keys carry, so the url-encoding is exercised
SECRET = "sim-secret-key"
PASSWORD = "correct horse 9!"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
USER = "SIMUSER1"


def chromium_path() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("chromium unavailable and REQUIRE_SERVICES=1")
        pytest.skip("chromium unavailable")
    return path


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    load_breeze_sdk(tmp_path_factory.mktemp("breeze-sdk"))
    settings = SimSettings(
        app_key=APP_KEY,
        secret_key=SECRET,
        login_user_id=USER,
        login_password=PASSWORD,
        login_totp_secret=TOTP_SECRET,
    )
    with SimServer(settings) as server:
        yield server


@pytest.fixture
def control(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sim.url}/_sim", timeout=5) as client:
        client.post("/reset").raise_for_status()
        client.post("/login/page", json={"missing": []}).raise_for_status()
        yield client
        client.post("/login/page", json={"missing": []}).raise_for_status()


@pytest.fixture
def config(sim: SimServer, control: httpx.Client) -> LoginConfig:
    del control
    return LoginConfig(
        login_url=f"{sim.url}/apiuser/login",
        api_key=SecretStr(APP_KEY),
        user_id=USER.lower(),
        password=SecretStr(PASSWORD),
        totp_secret=SecretStr(TOTP_SECRET),
        chromium_path=chromium_path(),
        timeout_s=10,
    )


def logins(control: httpx.Client) -> int:
    return int(control.get("/login/stats").json()["logins"])


def rename(control: httpx.Client, element_id: str) -> None:
    """Render the login pages without ``element_id`` (as if ICICI renamed it)."""
    control.post("/login/page", json={"missing": [element_id]}).raise_for_status()


def no_secret_in(text: str) -> None:
    for secret in (PASSWORD, TOTP_SECRET, pyotp.TOTP(TOTP_SECRET).now()):
        assert secret not in text


async def test_browser_login_returns_a_session_the_real_sdk_accepts(
    sim: SimServer, config: LoginConfig, control: httpx.Client
) -> None:
    before = logins(control)

    value = await browser_login(config)

    assert value.isdigit()
    assert len(value) == 8
    assert value in sim.state.sessions.by_api_session
    assert logins(control) == before + 1
    client: Any = create_breeze_client(APP_KEY, sim.url)
    client.generate_session(api_secret=SECRET, session_token=value)
    assert client.user_id == USER
    details = client.get_customer_details(api_session=value)
    assert details["Status"] == 200
    assert details["Success"]["idirect_userid"] == USER


async def test_wrong_password_is_refused_with_the_page_message(
    config: LoginConfig, control: httpx.Client
) -> None:
    before = logins(control)
    wrong = replace(config, password=SecretStr("not the password"))

    with pytest.raises(LoginRefused) as caught:
        await browser_login(wrong)

    assert caught.value.stage == "credentials"
    assert caught.value.page_message == "Invalid User ID or Password."
    assert "not the password" not in str(caught.value)
    no_secret_in(str(caught.value))
    assert logins(control) == before


async def test_wrong_totp_secret_is_refused_at_the_otp(
    config: LoginConfig, control: httpx.Client
) -> None:
    before = logins(control)
    other_secret = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"
    wrong = replace(config, totp_secret=SecretStr(other_secret))

    with pytest.raises(LoginRefused) as caught:
        await browser_login(wrong)

    assert caught.value.stage == "otp"
    assert caught.value.page_message == "Invalid OTP. Please try again."
    assert other_secret not in str(caught.value)
    no_secret_in(str(caught.value))
    assert logins(control) == before


async def test_unknown_api_key_is_refused_on_the_first_page(config: LoginConfig) -> None:
    with pytest.raises(LoginRefused) as caught:
        await browser_login(replace(config, api_key=SecretStr("NOT-OUR-KEY")))

    assert caught.value.stage == "api_key"
    assert "Invalid API Key" in caught.value.page_message


@pytest.mark.parametrize(
    ("renamed", "selector"),
    [("txtuid", "#txtuid"), ("chkssTnc", "#chkssTnc"), ("Button1", "#Button1")],
)
async def test_a_missing_element_is_reported_by_its_selector(
    config: LoginConfig, control: httpx.Client, renamed: str, selector: str
) -> None:
    rename(control, renamed)
    before = logins(control)

    with pytest.raises(LoginPageChanged) as caught:
        await browser_login(replace(config, timeout_s=1.5))

    assert caught.value.selector == selector
    assert selector in str(caught.value)
    assert logins(control) == before


def executor_settings(
    sim: SimServer, config: LoginConfig, cache: Path, **extra: Any
) -> ExecutorSettings:
    return ExecutorSettings.model_validate(
        {
            "mode": "live",
            "live_confirmed": True,
            "breeze_api_key": APP_KEY,
            "breeze_api_secret": SECRET,
            "breeze_base_url": sim.url,
            "session_cache_path": str(cache),
            "auto_login": True,
            "auto_login_at": "00:00",
            "breeze_login_url": config.login_url,
            "breeze_user_id": USER,
            "breeze_password": PASSWORD,
            "breeze_totp_secret": TOTP_SECRET,
            "chromium_path": config.chromium_path,
            **extra,
        }
    )


class ServiceStandIn:
    """The parts of the executor service the daily job touches (no Kafka or PostgreSQL here)."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker
        self.expires_at: Any = None
        self.reconciled = 0
        self.alerts: list[str] = []

    async def reconcile(self) -> None:
        assert self.broker.session_problem is None  # only ever after the broker took the value
        self.reconciled += 1

    async def raise_alert(self, *args: Any, **kwargs: Any) -> None:
        self.alerts.append(str(args[2]))


async def test_the_executor_job_logs_in_caches_and_reconciles_through_the_broker(
    sim: SimServer, config: LoginConfig, control: httpx.Client, tmp_path: Path
) -> None:
    cache = tmp_path / "state" / "session.json"
    settings = executor_settings(sim, config, cache)
    clock = SystemClock()
    broker = breeze_broker(settings, clock)
    session = LiveSession(
        broker, settings.breeze_api_secret, SessionStore(cache), clock, timedelta(minutes=30)
    )
    assert not await session.start("")  # no value configured: the executor starts without one
    assert broker.session_problem is not None
    service = ServiceStandIn(broker)
    before = logins(control)

    job = asyncio.create_task(
        executor_auto_login(
            settings,
            session,
            cast(Any, service),
            clock,
            is_trading_day=lambda day: True,
            check_every_s=0.05,
        )
    )
    try:

        async def reconciled() -> int:
            assert not job.done(), job
            return service.reconciled

        await eventually(reconciled, lambda n: n == 1, 60, "automated login and reconciliation")
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)

    assert broker.session_problem is None
    assert logins(control) == before + 1
    assert session.record is not None
    value = session.record.value.get_secret_value()
    assert value in sim.state.sessions.by_api_session
    assert service.expires_at is not None
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert service.alerts == []


async def test_a_refused_password_stops_the_job_for_the_day_with_one_alert_and_no_secret_logged(
    sim: SimServer, config: LoginConfig, control: httpx.Client, tmp_path: Path
) -> None:
    wrong = "wrong-Passw0rd!"
    settings = executor_settings(sim, config, tmp_path / "session.json", breeze_password=wrong)
    clock = SystemClock()
    broker = breeze_broker(settings, clock)
    session = LiveSession(
        broker, settings.breeze_api_secret, SessionStore(tmp_path / "s.json"), clock, timedelta(0)
    )
    assert not await session.start("")
    service = ServiceStandIn(broker)

    with capture_logs() as logs:
        job = asyncio.create_task(
            executor_auto_login(
                settings,
                session,
                cast(Any, service),
                clock,
                is_trading_day=lambda day: True,
                check_every_s=0.05,
            )
        )
        try:

            async def alerts() -> list[str]:
                assert not job.done(), job
                return service.alerts

            await eventually(alerts, lambda a: len(a) == 1, 60, "the give-up alert")
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)

    assert "Invalid User ID or Password." in service.alerts[0]
    assert broker.session_problem is not None
    assert service.reconciled == 0
    events = [entry["event"] for entry in logs]
    assert events.count("auto_login_started") == 1
    assert "auto_login_gave_up" in events
    everything = repr(logs) + repr(service.alerts)
    for secret in (wrong, PASSWORD, TOTP_SECRET, SECRET):
        assert secret not in everything


async def test_a_missing_chromium_is_a_clear_error(config: LoginConfig) -> None:
    with pytest.raises(AutoLoginError, match="Chromium did not start from /nonexistent/chromium"):
        await browser_login(replace(config, chromium_path="/nonexistent/chromium"))
