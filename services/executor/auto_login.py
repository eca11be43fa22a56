"""Optional automated daily Breeze login: password and authenticator TOTP in headless Chromium.

ICICI's stated policy is a manual daily login (breeze.md 1.3, 1.5): this job is off unless
``EXECUTOR_AUTO_LOGIN=true``, works only for accounts whose second factor is an authenticator-app
TOTP, stops at a CAPTCHA or a changed page, and never replaces the operator's paste route.

:func:`browser_login` opens ``<login_url>?api_key=<quote_plus(key)>``, fills ``#txtuid`` and
``#txtPass``, ticks ``#chkssTnc``, clicks ``#btnSubmit``, types the current TOTP code into the six
boxes of ``#pnlOTP``, clicks ``#Button1`` and reads ``apisession`` from the URL of the redirect
(nothing waits for the redirect target, which need not load). :func:`auto_login_loop` runs it on
NSE trading days from the configured IST time whenever the session is invalid, a few tries a day
with backoff.

The user id is the only credential that may appear in logs; the password, the TOTP secret, the
codes and the session value never do, and no error message carries them.
"""

from __future__ import annotations

import asyncio
import time as wall
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qs, quote_plus, urlsplit

import pyotp
from pydantic import SecretStr

from libs.common.clock import IST, Clock
from libs.common.logging import get_logger
from libs.common.messages import AlertKind, AlertSeverity
from libs.market.calendar import CalendarRangeError, has_trading_session
from services.executor.live_session import LiveSession
from services.executor.service import ExecutorService
from services.executor.session import valid_session_value
from services.executor.settings import ExecutorSettings, totp_secret_ok

log = get_logger(__name__)
OTP_MARGIN_S = 3.0
OTP_BOXES = 6
ERROR_SELECTOR = "#lblError, [role=alert], .alert-danger"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
STUB_PAGE = "<!doctype html><title>logged in</title>"


class AutoLoginError(Exception):
    """The automated login failed; the message never contains a secret."""


class LoginRefused(AutoLoginError):
    """The login page refused the api key, the credentials or the OTP (its message attached)."""

    def __init__(self, stage: Literal["api_key", "credentials", "otp"], message: str) -> None:
        super().__init__(f"login refused at the {stage} step: {message}")
        self.stage = stage
        self.page_message = message


class LoginPageChanged(AutoLoginError):
    """An element the login needs did not appear within the timeout."""

    def __init__(self, selector: str, timeout_s: float) -> None:
        super().__init__(
            f"the login page has no {selector} after {timeout_s:g} s: "
            "its layout may have changed (log in by hand and paste the session value)"
        )
        self.selector = selector


class LoginTimeout(AutoLoginError):
    """The page did not load, or no redirect with ``apisession`` came, in time."""


@dataclass(frozen=True)
class LoginConfig:
    """Everything the browser login needs; validated on creation without revealing values."""

    login_url: str
    api_key: SecretStr
    user_id: str
    password: SecretStr
    totp_secret: SecretStr
    chromium_path: str = "/usr/bin/chromium"
    timeout_s: float = 20.0
    otp_margin_s: float = OTP_MARGIN_S

    def __post_init__(self) -> None:
        if not self.login_url.startswith(("https://", "http://")):
            raise ValueError("login_url must be an http(s) URL")
        for name in ("api_key", "user_id", "password", "totp_secret"):
            value = getattr(self, name)
            text = value if isinstance(value, str) else value.get_secret_value()
            if not text.strip():
                raise ValueError(f"automated login needs {name}")
        if not totp_secret_ok(self.totp_secret.get_secret_value()):
            raise ValueError("totp_secret is not a base32 TOTP secret")
        if self.timeout_s <= 0 or not 0 <= self.otp_margin_s < 15:
            raise ValueError("timeout_s must be positive and otp_margin_s within 0 to 15 s")

    @classmethod
    def from_settings(cls, settings: ExecutorSettings) -> LoginConfig:
        """The executor's login settings."""
        return cls(
            login_url=settings.breeze_login_url,
            api_key=settings.breeze_api_key,
            user_id=settings.breeze_user_id.strip(),
            password=settings.breeze_password,
            totp_secret=settings.breeze_totp_secret,
            chromium_path=settings.chromium_path,
        )

    @property
    def start_url(self) -> str:
        """The login page with the url-encoded api key (keys contain ``+ = ! ^ #``)."""
        joiner = "&" if "?" in self.login_url else "?"
        return f"{self.login_url}{joiner}api_key={quote_plus(self.api_key.get_secret_value())}"

    def totp(self) -> pyotp.TOTP:
        """The account's authenticator."""
        secret = self.totp_secret.get_secret_value().replace(" ", "").upper().rstrip("=")
        return pyotp.TOTP(secret)

    def redact(self, text: str) -> str:
        """``text`` without any secret in it (pages should never echo one; be sure anyway)."""
        for secret in (self.password, self.totp_secret, self.api_key):
            value = secret.get_secret_value()
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text[:300]


def otp_wait_s(now: float, interval: int = 30, margin_s: float = OTP_MARGIN_S) -> float:
    """Seconds to wait before reading a code so that it stays valid at least ``margin_s`` more.

    Zero when the current step has ``margin_s`` or more left, else the rest of the step.
    """
    left = interval - (now % interval)
    return left if left < margin_s else 0.0


async def current_code(
    totp: pyotp.TOTP,
    margin_s: float = OTP_MARGIN_S,
    now: Callable[[], float] = wall.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> str:
    """The TOTP code of the current step, waiting for the next step if this one is about to end."""
    wait = otp_wait_s(now(), totp.interval, margin_s)
    if wait > 0:
        await sleep(wait + 0.05)
    return str(totp.at(now()))


def session_from_url(url: str) -> str | None:
    """The ``apisession`` query value of a URL, if it has one."""
    values = parse_qs(urlsplit(url).query).get("apisession")
    return values[0] if values else None


async def browser_login(
    config: LoginConfig,
    *,
    now: Callable[[], float] = wall.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> str:
    """Log in through the browser pages and return today's API session value.

    Raises :class:`LoginRefused`, :class:`LoginPageChanged` or :class:`LoginTimeout`.
    """
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    timeout_ms = config.timeout_s * 1000
    loop = asyncio.get_running_loop()
    found: asyncio.Future[str] = loop.create_future()

    def watch(url: str) -> None:
        value = session_from_url(url)
        if value is not None and not found.done():
            found.set_result(value)

    async with async_playwright() as pw:
        try:
            browser = await pw.chromium.launch(
                executable_path=config.chromium_path,
                headless=True,
                args=CHROMIUM_ARGS,
                timeout=timeout_ms,
            )
        except PlaywrightError as exc:
            raise AutoLoginError(
                f"Chromium did not start from {config.chromium_path}: {type(exc).__name__}"
            ) from None
        try:
            context = await browser.new_context()
            page = await context.new_page()
            page.set_default_timeout(timeout_ms)
            # Playwright routes only the first URL of an HTTP redirect chain, so the redirect
            # target is seen as a request event (Chromium's attempt to open it is not waited
            # for); a script-driven navigation is routed and answered with a stub page.
            page.on("request", lambda request: watch(request.url))

            async def stub(route: Any) -> None:
                watch(route.request.url)
                await route.fulfill(status=200, content_type="text/html", body=STUB_PAGE)

            await context.route(lambda url: session_from_url(url) is not None, stub)
            return await _drive(page, config, found, now, sleep)
        except PlaywrightError as exc:
            # Only the first line (the call log below it can quote page content), redacted.
            kind = LoginTimeout if isinstance(exc, PlaywrightTimeout) else AutoLoginError
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise kind(f"the browser login failed: {config.redact(first_line)}") from None
        finally:
            await browser.close()


async def _drive(
    page: Any,
    config: LoginConfig,
    found: asyncio.Future[str],
    now: Callable[[], float],
    sleep: Callable[[float], Awaitable[Any]],
) -> str:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    timeout_ms = config.timeout_s * 1000
    try:
        await page.goto(config.start_url, wait_until="domcontentloaded", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise LoginTimeout(f"the login page did not load in {config.timeout_s:g} s") from None
    await _expect(page, config, "#txtuid", "api_key")
    await page.locator("#txtuid").first.fill(config.user_id)
    password = await _element(page, config, "#txtPass")
    await password.fill(config.password.get_secret_value())
    await (await _element(page, config, "#chkssTnc")).check()
    await (await _element(page, config, "#btnSubmit")).click()
    await _expect(page, config, "#pnlOTP", "credentials")
    boxes = page.locator("#pnlOTP input:not([type=hidden])")
    if await boxes.count() != OTP_BOXES:
        raise LoginPageChanged(f"{OTP_BOXES} OTP boxes under #pnlOTP", config.timeout_s)
    submit = await _element(page, config, "#Button1")
    code = await current_code(config.totp(), config.otp_margin_s, now, sleep)
    for index, digit in enumerate(code):
        await boxes.nth(index).fill(digit)
    await submit.click()
    error = page.locator(ERROR_SELECTOR).first
    refused = asyncio.ensure_future(error.wait_for(state="visible", timeout=timeout_ms))
    try:
        await asyncio.wait(
            {found, refused}, timeout=config.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        refused.cancel()
    if found.done():
        try:
            return valid_session_value(found.result())
        except ValueError:
            raise AutoLoginError("the redirect's apisession is not a session value") from None
    if refused.done() and not refused.cancelled() and refused.exception() is None:
        raise LoginRefused("otp", config.redact(await error.inner_text()))
    raise LoginTimeout(f"no redirect with apisession within {config.timeout_s:g} s of the OTP")


async def _element(page: Any, config: LoginConfig, selector: str) -> Any:
    """The first element matching ``selector``; :class:`LoginPageChanged` if none comes in time."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    locator = page.locator(selector).first
    try:
        await locator.wait_for(state="attached", timeout=config.timeout_s * 1000)
    except PlaywrightTimeout:
        raise LoginPageChanged(selector, config.timeout_s) from None
    return locator


async def _expect(
    page: Any, config: LoginConfig, selector: str, stage: Literal["api_key", "credentials"]
) -> None:
    """Wait for ``selector`` or the page's error message, whichever shows first."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    wanted = page.locator(selector)
    error = page.locator(ERROR_SELECTOR)
    try:
        await wanted.or_(error).first.wait_for(state="visible", timeout=config.timeout_s * 1000)
    except PlaywrightTimeout:
        raise LoginPageChanged(selector, config.timeout_s) from None
    if await wanted.count() == 0:
        raise LoginRefused(stage, config.redact(await error.first.inner_text()))


# -- the daily job ---------------------------------------------------------------------------


def is_login_day(day: date) -> bool:
    """NSE trading days; outside the calendar's years, Monday to Friday (with a warning)."""
    try:
        return has_trading_session(day)
    except CalendarRangeError:
        log.warning("auto_login_calendar_unknown", day=day.isoformat())
        return day.weekday() < 5


@dataclass
class LoginDay:
    """Tries of one IST day."""

    day: date
    tries: int = 0
    gave_up: bool = False
    next_try: datetime | None = None


async def auto_login_loop(
    login: Callable[[], Awaitable[str]],
    deliver: Callable[[str], Awaitable[object]],
    session_ok: Callable[[], bool],
    clock: Clock,
    at: time,
    *,
    max_tries: int = 3,
    backoff_s: float = 120.0,
    check_every_s: float = 30.0,
    alert: Callable[[str], Awaitable[object]] | None = None,
    is_trading_day: Callable[[date], bool] = is_login_day,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Keep a Breeze session on trading days: log in from ``at`` (IST) whenever it is invalid.

    ``login`` returns a session value (:func:`browser_login`); ``deliver`` hands it over (the
    executor logs in with it and reconciles) and raises if it is refused. A failed try is retried
    after ``backoff_s``, doubled each time; at most ``max_tries`` logins a day, successful or not,
    and at least ``backoff_s`` after a successful one. A refused api key, user id or password is
    not retried (ICICI locks accounts after wrong passwords). After giving up, ``alert`` is told
    and an operator pastes the value by hand.
    """
    state: LoginDay | None = None
    while True:
        now = clock.now()
        local = now.astimezone(IST)
        if state is None or state.day != local.date():
            state = LoginDay(local.date())
        due = (
            not state.gave_up
            and local.time() >= at
            and (state.next_try is None or now >= state.next_try)
            and not session_ok()
            and is_trading_day(local.date())
        )
        if due and state.tries >= max_tries:
            await _give_up(state, f"all {max_tries} logins of today are used", alert)
        elif due:
            state.tries += 1
            problem, final = await _try_once(login, deliver, state.tries)
            if problem is None:
                # Even a login that worked leaves a gap before the next one: a session that
                # keeps failing right after its login must not become a login every check.
                state.next_try = clock.now() + timedelta(seconds=backoff_s)
            elif final or state.tries >= max_tries:
                await _give_up(state, problem, alert)
            else:
                wait = backoff_s * 2 ** (state.tries - 1)
                state.next_try = clock.now() + timedelta(seconds=wait)
        await sleep(check_every_s)


async def _give_up(
    state: LoginDay, problem: str, alert: Callable[[str], Awaitable[object]] | None
) -> None:
    """No more automated logins today; tell the operator to paste."""
    state.gave_up = True
    log.critical("auto_login_gave_up", tries=state.tries, error=problem)
    if alert is not None:
        await alert(
            f"The automated Breeze login stopped for today after {state.tries} tries "
            f"({problem}): paste the session value by hand."
        )


async def _try_once(
    login: Callable[[], Awaitable[str]], deliver: Callable[[str], Awaitable[object]], tries: int
) -> tuple[str | None, bool]:
    """One login and hand-over: (None, False) on success, else (what went wrong, final).

    A refused user id or password is final for the day; the text never holds a secret.
    """
    log.warning("auto_login_started", attempt=tries)
    try:
        value = await login()
        await deliver(value)
    except LoginRefused as exc:
        log.error("auto_login_refused", attempt=tries, stage=exc.stage, error=str(exc)[:300])
        return str(exc)[:300], exc.stage in ("api_key", "credentials")
    except AutoLoginError as exc:
        log.error("auto_login_failed", attempt=tries, error=str(exc)[:300])
        return str(exc)[:300], False
    except Exception as exc:  # noqa: BLE001 - the broker's refusal or any browser failure
        # Only the type: a refusal's text could quote the value it refused.
        log.error("auto_login_failed", attempt=tries, error=type(exc).__name__)
        return f"the session was not accepted ({type(exc).__name__})", False
    log.warning("auto_login_succeeded", attempt=tries)
    return None, False


def executor_auto_login(
    settings: ExecutorSettings,
    session: LiveSession,
    service: ExecutorService,
    clock: Clock,
    **options: Any,
) -> Coroutine[Any, Any, None]:
    """The daily job as the executor runs it (``res.tasks.spawn(...)`` in ``build``).

    A value is handed over exactly like a paste: the broker logs in with it, it is cached, and the
    executor reconciles before entries resume. Giving up raises a critical alert once a day.
    ``options`` go to :func:`auto_login_loop` (tests).
    """
    config = LoginConfig.from_settings(settings)

    async def deliver(value: str) -> None:
        await session.paste(value)
        service.expires_at = session.expires_at
        await service.reconcile()

    async def alert(text: str) -> None:
        today = clock.now().astimezone(IST).date().isoformat()
        await service.raise_alert(
            AlertKind.SESSION_EXPIRED, AlertSeverity.CRITICAL, text, once_per=f"auto-login:{today}"
        )

    log.warning(
        "auto_login_enabled",
        at=settings.auto_login_at.isoformat(),
        login_url=settings.breeze_login_url,
        user_id=config.user_id,
        max_tries=settings.auto_login_max_tries,
    )
    return auto_login_loop(
        partial(browser_login, config),
        deliver,
        lambda: service.broker.session_problem is None,
        clock,
        settings.auto_login_at,
        **{"max_tries": settings.auto_login_max_tries, "alert": alert, **options},
    )
