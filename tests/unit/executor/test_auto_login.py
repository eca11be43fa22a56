"""The automated Breeze login's pure parts: TOTP timing, configuration and the daily schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pyotp
import pytest
from pydantic import SecretStr, ValidationError

from libs.common.clock import IST, FixedClock
from services.executor.auto_login import (
    LoginConfig,
    LoginPageChanged,
    LoginRefused,
    LoginTimeout,
    auto_login_loop,
    current_code,
    is_login_day,
    otp_wait_s,
    session_from_url,
)
from services.executor.settings import ExecutorSettings

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "s3cret-Exchange!"
STEP_START = 1_700_000_010.0  # a multiple of 30 s


def config(**changes: Any) -> LoginConfig:
    fields: dict[str, Any] = {
        "login_url": "https://api.icicidirect.com/apiuser/login",
        "api_key": SecretStr("ab+c=d!e^f#g"),
        "user_id": "TRADER1",
        "password": SecretStr(PASSWORD),
        "totp_secret": SecretStr(SECRET),
    }
    fields.update(changes)
    return LoginConfig(**fields)


# ------------------------------------------------------------------------------------ TOTP timing
@pytest.mark.parametrize(
    ("now", "wait"),
    [(0.0, 0.0), (60.0, 0.0), (15.2, 0.0), (26.9, 0.0), (27.0, 0.0), (27.5, 2.5), (29.9, 0.1)],
)
def test_a_code_is_used_only_with_three_seconds_or_more_left(now: float, wait: float) -> None:
    assert otp_wait_s(now) == pytest.approx(wait)


class FakeTime:
    def __init__(self, at: float) -> None:
        self.at = at
        self.slept: list[float] = []

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


async def test_current_code_is_the_current_steps_when_there_is_time() -> None:
    totp = pyotp.TOTP(SECRET)
    fake = FakeTime(STEP_START + 10)  # 20 s left in the step

    code = await current_code(totp, now=fake.now, sleep=fake.sleep)

    assert code == totp.at(STEP_START)
    assert fake.slept == []


async def test_current_code_waits_for_the_next_step_near_the_end_of_one() -> None:
    totp = pyotp.TOTP(SECRET)
    step_end = STEP_START + 30
    fake = FakeTime(step_end - 1.5)

    code = await current_code(totp, now=fake.now, sleep=fake.sleep)

    assert fake.slept == [pytest.approx(1.55)]
    assert code == totp.at(step_end)
    assert totp.verify(code, for_time=step_end + 29)


# ------------------------------------------------------------------------------- configuration
def test_the_api_key_is_url_encoded_into_the_login_url() -> None:
    assert config().start_url == (
        "https://api.icicidirect.com/apiuser/login?api_key=ab%2Bc%3Dd%21e%5Ef%23g"
    )


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"login_url": "ftp://example"}, "login_url"),
        ({"user_id": " "}, "user_id"),
        ({"password": SecretStr("")}, "password"),
        ({"api_key": SecretStr("")}, "api_key"),
        ({"totp_secret": SecretStr("not base32 at all!")}, "totp_secret"),
        ({"totp_secret": SecretStr("JBSWY3DP")}, "totp_secret"),
        ({"timeout_s": 0}, "timeout_s"),
    ],
)
def test_a_bad_login_configuration_names_the_field_not_its_value(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        config(**changes)
    assert "not base32 at all" not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_a_totp_secret_with_spaces_and_lower_case_is_accepted() -> None:
    spaced = " ".join(SECRET.lower()[i : i + 4] for i in range(0, len(SECRET), 4))
    assert config(totp_secret=SecretStr(spaced)).totp().now() == pyotp.TOTP(SECRET).now()


def test_redact_removes_every_secret_and_repr_hides_them() -> None:
    cfg = config()
    assert cfg.redact(f"typed {PASSWORD} and {SECRET}") == "typed *** and ***"
    assert PASSWORD not in repr(cfg)
    assert SECRET not in repr(cfg)


def test_the_session_value_is_read_from_the_redirect_url() -> None:
    assert session_from_url("https://127.0.0.1/?apisession=12345678") == "12345678"
    assert session_from_url("https://127.0.0.1/?a=1&apisession=87654321") == "87654321"
    assert session_from_url("https://api.icicidirect.com/apiuser/login?api_key=x") is None


def test_errors_never_quote_secrets() -> None:
    assert PASSWORD not in str(LoginRefused("credentials", "Invalid User ID or Password."))
    assert "#Button1" in str(LoginPageChanged("#Button1", 20))


AUTO = {
    "auto_login": True,
    "breeze_api_key": "ab+c=d!e^f#g",
    "breeze_user_id": "TRADER1",
    "breeze_password": PASSWORD,
    "breeze_totp_secret": SECRET,
}


def test_settings_enable_the_automated_login_with_real_credentials() -> None:
    settings = ExecutorSettings(**AUTO)  # type: ignore[arg-type]
    assert settings.auto_login_at == time(8, 45)
    assert settings.chromium_path == "/usr/bin/chromium"
    assert settings.breeze_login_url == "https://api.icicidirect.com/apiuser/login"
    assert LoginConfig.from_settings(settings).user_id == "TRADER1"


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"breeze_password": ""}, "breeze_password"),
        ({"breeze_api_key": ""}, "breeze_api_key"),
        ({"breeze_user_id": "your_user_id"}, "breeze_user_id"),
        ({"breeze_totp_secret": "changeme"}, "breeze_totp_secret"),
        ({"breeze_totp_secret": "0189-not-base32-0189"}, "base32"),
        ({"breeze_login_url": "api.icicidirect.com/apiuser/login"}, "breeze_login_url"),
    ],
)
def test_settings_refuse_incomplete_automated_login_without_quoting_values(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint) as caught:
        ExecutorSettings(**{**AUTO, **changes})
    assert PASSWORD not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "0189-not-base32" not in str(caught.value)


def test_live_mode_with_automated_login_needs_no_pasted_session_value() -> None:
    live = {"mode": "live", "live_confirmed": True, "breeze_api_secret": "s1"}
    with pytest.raises(ValidationError, match="breeze_session_token"):
        ExecutorSettings(**live, breeze_api_key="k1")  # type: ignore[arg-type]
    assert ExecutorSettings(**live, **AUTO).breeze_session_token.get_secret_value() == ""  # type: ignore[arg-type]


def test_login_days_follow_the_nse_calendar() -> None:
    assert is_login_day(date(2026, 11, 23))  # a Monday
    assert not is_login_day(date(2026, 11, 21))  # a Saturday
    assert not is_login_day(date(2026, 1, 26))  # Republic Day


# ------------------------------------------------------------------------------- daily schedule
class Stop(Exception):
    pass


class Day:
    """A fake day: the clock moves only when the loop sleeps."""

    def __init__(self, start: datetime, until: datetime, outcomes: list[Any]) -> None:
        self.clock = FixedClock(start)
        self.until = until
        self.outcomes = outcomes
        self.valid = False
        self.calls: list[datetime] = []
        self.delivered: list[str] = []
        self.alerts: list[str] = []
        self.invalid_at: datetime | None = None

    def now_ist(self) -> datetime:
        return self.clock.now().astimezone(IST)

    async def login(self) -> str:
        self.calls.append(self.now_ist())
        outcome = self.outcomes.pop(0) if self.outcomes else "87654321"
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    async def deliver(self, value: str) -> None:
        if value == "00000000":
            raise RuntimeError("Could not authenticate credentials. 00000000")
        self.delivered.append(value)
        self.valid = True

    async def deliver_but_stay_invalid(self, value: str) -> None:
        self.delivered.append(value)

    def session_ok(self) -> bool:
        if self.invalid_at is not None and self.clock.now() >= self.invalid_at:
            self.valid, self.invalid_at = False, None
        return self.valid

    async def alert(self, text: str) -> None:
        self.alerts.append(text)

    async def sleep(self, seconds: float) -> None:
        self.clock.set(self.clock.now() + timedelta(seconds=seconds))
        if self.clock.now() >= self.until:
            raise Stop

    async def run(self, trading: Callable[[date], bool] = lambda d: True, **kw: Any) -> None:
        with pytest.raises(Stop):
            await auto_login_loop(
                self.login,
                self.deliver,
                self.session_ok,
                self.clock,
                time(8, 45),
                alert=self.alert,
                is_trading_day=trading,
                sleep=self.sleep,
                check_every_s=30,
                backoff_s=120,
                **kw,
            )


def ist(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=IST)


async def test_logs_in_once_at_the_configured_time_and_hands_the_value_over() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [])
    await day.run()
    assert day.calls == [ist(24, 8, 45)]
    assert day.delivered == ["87654321"]
    assert day.alerts == []


async def test_nothing_happens_while_a_pasted_session_is_valid() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [])
    day.valid = True
    await day.run()
    assert day.calls == []


async def test_an_invalid_session_during_the_day_triggers_a_new_login() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [])
    day.invalid_at = ist(24, 12, 0, 10)
    await day.run()
    assert day.calls == [ist(24, 8, 45), ist(24, 12, 0, 30)]


async def test_failures_back_off_then_succeed() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [LoginTimeout("slow"), LoginPageChanged("#x", 1)])
    await day.run()
    assert day.calls == [ist(24, 8, 45), ist(24, 8, 47), ist(24, 8, 51)]
    assert day.delivered == ["87654321"]
    assert day.alerts == []


async def test_gives_up_after_the_daily_tries_and_tries_again_the_next_trading_day() -> None:
    day = Day(ist(24, 8, 0), ist(25, 9, 0), [LoginTimeout("slow")] * 3)
    await day.run(max_tries=3)
    assert day.calls == [ist(24, 8, 45), ist(24, 8, 47), ist(24, 8, 51), ist(25, 8, 45)]
    assert len(day.alerts) == 1
    assert "paste the session value" in day.alerts[0]
    assert day.delivered == ["87654321"]


async def test_a_refused_password_is_never_retried_the_same_day() -> None:
    refused = LoginRefused("credentials", "Invalid User ID or Password.")
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [refused])
    await day.run(max_tries=3)
    assert day.calls == [ist(24, 8, 45)]
    assert len(day.alerts) == 1
    assert "Invalid User ID or Password." in day.alerts[0]


async def test_a_value_the_broker_refuses_counts_as_a_failure_without_being_quoted() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), ["00000000", "00000000"])
    await day.run(max_tries=2)
    assert len(day.calls) == 2
    assert day.delivered == []
    assert len(day.alerts) == 1
    assert "00000000" not in day.alerts[0]


async def test_a_session_that_keeps_failing_after_its_login_is_not_a_login_loop() -> None:
    day = Day(ist(24, 8, 0), ist(24, 15, 30), [])
    day.deliver = day.deliver_but_stay_invalid  # type: ignore[method-assign]
    await day.run(max_tries=3)
    assert day.calls == [ist(24, 8, 45), ist(24, 8, 47), ist(24, 8, 49)]
    assert len(day.alerts) == 1
    assert "all 3 logins of today are used" in day.alerts[0]


async def test_no_login_on_a_holiday_or_weekend() -> None:
    day = Day(ist(21, 8, 0), ist(21, 15, 30), [])
    await day.run(trading=is_login_day)
    assert day.calls == []
