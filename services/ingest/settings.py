"""Ingest settings (env prefix ``INGEST_``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings

# TradingView's published webhook source addresses.
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")


class IngestSettings(ServiceSettings):
    """The HTTP edge for TradingView alerts and operator commands."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", env_file=".env", extra="ignore")

    http_port: int = Field(default=18001, description="Port of the ingest HTTP server")
    webhook_secret: SecretStr = Field(
        validation_alias=AliasChoices("INGEST_WEBHOOK_SECRET", "WEBHOOK_SECRET"),
        description="Shared secret TradingView alerts carry in their JSON body",
    )
    operator_token: SecretStr = Field(
        validation_alias=AliasChoices("INGEST_OPERATOR_TOKEN", "OPERATOR_TOKEN"),
        description="Bearer token for the operator routes (kill switch, square-off, ...)",
    )
    allowed_source_ips: str = Field(
        default="",
        description="Comma-separated client IPs allowed to post alerts; empty allows all; "
        "'tradingview' expands to TradingView's four published addresses",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Take the client IP from X-Forwarded-For (only behind your own proxy)",
    )
    max_body_bytes: int = Field(default=8192, ge=256, description="Largest accepted alert body")
    publish_timeout_s: float = Field(
        default=2.0, gt=0, description="Longest wait for Kafka to acknowledge an alert"
    )

    @field_validator("webhook_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 12:
            raise ValueError("the webhook secret must be at least 12 characters")
        return value

    @field_validator("operator_token")
    @classmethod
    def _strong_token(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the operator token must be at least 16 characters")
        return value

    def allowlist(self) -> frozenset[str]:
        """Return the set of allowed source IPs (empty: all allowed)."""
        out: set[str] = set()
        for item in self.allowed_source_ips.split(","):
            item = item.strip()
            if not item:
                continue
            if item.lower() == "tradingview":
                out.update(TRADINGVIEW_IPS)
            else:
                out.add(item)
        return frozenset(out)
