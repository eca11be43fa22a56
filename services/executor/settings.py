"""Executor settings (env prefix ``EXECUTOR_``)."""

from __future__ import annotations

import base64
import binascii
from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings

PLACEHOLDER_WORDS = ("your_", "change", "placeholder", "example", "xxx")
LOGIN_PLACEHOLDERS = ("your_", "your-", "change_me", "changeme", "placeholder", "<", "xxx")


class ExecutorSettings(ServiceSettings):
    """The broker session and the paper broker's fill model."""

    # Errors never quote the input: it holds the Breeze secrets, password and TOTP secret.
    model_config = SettingsConfigDict(
        env_prefix="EXECUTOR_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    http_port: int = Field(default=18003, description="Port of the executor HTTP server")
    mode: Literal["paper", "live"] = Field(
        default="paper", description="paper: the paper broker; live: ICICI Breeze"
    )
    live_confirmed: bool = Field(
        default=False, description="Must be true, with real Breeze secrets, to start in live mode"
    )
    breeze_api_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "EXECUTOR_BREEZE_API_KEY", "BREEZE_API_KEY", "breeze_api_key"
        ),
        description="Breeze API key (live mode)",
    )
    breeze_api_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "EXECUTOR_BREEZE_API_SECRET", "BREEZE_API_SECRET", "breeze_api_secret"
        ),
        description="Breeze API secret (live mode)",
    )
    breeze_session_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "EXECUTOR_BREEZE_SESSION_TOKEN", "BREEZE_API_SESSION", "breeze_session_token"
        ),
        description="Today's API session value from the Breeze login (live mode)",
    )
    operator_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "EXECUTOR_OPERATOR_TOKEN", "OPERATOR_TOKEN", "operator_token"
        ),
        description="Bearer token for the executor's operator routes (session paste)",
    )
    session_cache_path: str = Field(
        default=".state/breeze-session.json",
        description="Where today's Breeze session value is cached (owner-only file)",
    )
    session_probe_interval_s: float = Field(
        default=30.0, gt=0, description="Seconds between Breeze session probes (live mode)"
    )
    session_warn_before_min: int = Field(
        default=30, ge=0, description="Warn this many minutes before the session expires"
    )
    order_timeout_s: float = Field(
        default=30.0, gt=0, description="An order still open at the broker after this is cancelled"
    )
    api_calls_per_minute: int = Field(
        default=90, ge=1, le=100, description="Breeze calls allowed per minute (limit 100)"
    )
    api_calls_per_day: int = Field(
        default=4500, ge=1, le=5000, description="Breeze calls allowed per IST day (limit 5,000)"
    )
    broker_error_failures: int = Field(
        default=5, ge=1, description="Failed Breeze calls in a row that open the error breaker"
    )
    broker_error_cooldown_s: float = Field(
        default=30.0, gt=0, description="Seconds the broker error breaker stays open"
    )
    breeze_base_url: str = Field(
        default="", description="Breeze gateway base URL; empty: ICICI's (a simulator in tests)"
    )
    paper_iv: float = Field(
        default=0.14, gt=0, lt=3, description="Volatility of the paper broker's model quotes"
    )
    paper_spread_pct: Decimal = Field(
        default=Decimal("1.0"), ge=0, description="Bid-ask spread of model quotes, % of mid"
    )
    paper_slippage_pct: Decimal = Field(
        default=Decimal("0.5"), ge=0, description="Slippage beyond the touch, % of price"
    )
    paper_quotes: Literal["model", "breeze"] = Field(
        default="model",
        description="Where paper fills are priced: the labelled model, or live Breeze quotes "
        "(needs the Breeze key, secret and session; falls back to the model without a quote)",
    )
    paper_latency_ms: int = Field(
        default=0, ge=0, le=10_000, description="Simulated broker round trip of paper orders"
    )
    brokerage_per_order: Decimal = Field(
        default=Decimal(20), ge=0, description="Brokerage per order, rupees"
    )
    bars_replay_csv: str = Field(
        default="",
        description="Paper demos: an hourly NIFTY bar CSV to replay onto market.bars; empty: off",
    )
    bars_replay_from: date | None = Field(default=None, description="First date to replay")

    @model_validator(mode="after")
    def _live_needs_everything(self) -> ExecutorSettings:
        if self.mode != "live" and self.paper_quotes != "breeze":
            return self
        if self.mode == "live" and not self.live_confirmed:
            raise ValueError("live mode needs EXECUTOR_LIVE_CONFIRMED=true")
        what = "live mode" if self.mode == "live" else "paper quotes from Breeze"
        needed = ["breeze_api_key", "breeze_api_secret"]
        if not self.auto_login:
            needed.append("breeze_session_token")
        for name in needed:
            value = getattr(self, name).get_secret_value().strip()
            if not value or any(w in value.lower() for w in PLACEHOLDER_WORDS):
                raise ValueError(f"{what} needs a real {name} (it is empty or a placeholder)")
        return self

    @field_validator("bars_replay_from", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    bars_replay_interval_s: float = Field(
        default=5.0, ge=0, description="Seconds between replayed bars"
    )
    bars_source: Literal["auto", "replay", "breeze", "off"] = Field(
        default="auto",
        description="Where market.bars comes from: breeze (hourly NIFTY bars built from Breeze "
        "index candles; needs a Breeze session), replay (EXECUTOR_BARS_REPLAY_CSV), off; auto: "
        "breeze when a Breeze session is configured (live, or paper with Breeze quotes), else "
        "the replay CSV if one is set",
    )
    bars_breeze_interval: Literal["1minute", "5minute", "30minute"] = Field(
        default="1minute", description="Breeze candle interval aggregated into hourly bars"
    )
    bars_breeze_candle_stamp: Literal["start", "end"] = Field(
        default="start",
        description="Whether Breeze labels a historical candle by its start or its end time",
    )
    bars_breeze_delay_s: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="Seconds after an hourly close before its candles are fetched; each retry "
        "doubles the gap",
    )
    bars_breeze_retries: int = Field(
        default=4,
        ge=0,
        le=6,
        description="Retries after a close while a bar is missing (the last one publishes a bar "
        "without its final candle, with a warning)",
    )
    outbox_relay_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between sweeps of unpublished outbox rows"
    )
    auto_login: bool = Field(
        default=False,
        description="Log in to Breeze every trading day with the password and TOTP in headless "
        "Chromium (at the operator's own risk: ICICI's policy is a manual login); pasting a "
        "session value stays the fallback",
    )
    auto_login_at: time = Field(
        default=time(8, 45), description="IST time of the daily automated Breeze login"
    )
    auto_login_max_tries: int = Field(
        default=3, ge=1, le=5, description="Automated login attempts per IST day at most"
    )
    breeze_login_url: str = Field(
        default="https://api.icicidirect.com/apiuser/login",
        description="Breeze login page (the api_key is appended; a simulator in tests)",
    )
    breeze_user_id: str = Field(default="", description="ICICI Direct user id (automated login)")
    breeze_password: SecretStr = Field(
        default=SecretStr(""), description="ICICI Direct password (automated login)"
    )
    breeze_totp_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Base32 secret of the account's authenticator-app TOTP (automated login)",
    )
    chromium_path: str = Field(
        default="/usr/bin/chromium", description="Chromium binary for the automated login"
    )

    @model_validator(mode="after")
    def _auto_login_needs_credentials(self) -> ExecutorSettings:
        if not self.auto_login:
            return self
        if not self.breeze_login_url.startswith(("https://", "http://")):
            raise ValueError("breeze_login_url must be an http(s) URL")
        for name in ("breeze_api_key", "breeze_user_id", "breeze_password", "breeze_totp_secret"):
            raw = getattr(self, name)
            value = (raw if isinstance(raw, str) else raw.get_secret_value()).strip()
            # A password may well contain "change" or "example": only obvious templates count.
            if not value or value.lower().startswith(LOGIN_PLACEHOLDERS):
                raise ValueError(
                    f"automated login needs a real {name} (it is empty or a placeholder)"
                )
        if not totp_secret_ok(self.breeze_totp_secret.get_secret_value()):
            raise ValueError("breeze_totp_secret is not a base32 TOTP secret")
        return self


def totp_secret_ok(secret: str) -> bool:
    """Whether ``secret`` is usable base32 (spaces and case ignored, padding optional)."""
    cleaned = secret.replace(" ", "").upper().rstrip("=")
    if len(cleaned) < 16:
        return False
    try:
        base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        return False
    return True
