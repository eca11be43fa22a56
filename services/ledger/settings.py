"""Ledger settings (env prefix ``LEDGER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    """The system of record."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    http_port: int = Field(default=18004, description="Port of the ledger HTTP server")
