"""Settings shared by every service; each service subclasses it with its own env prefix."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Kafka, PostgreSQL, logging and HTTP settings every service needs."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers, comma separated",
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://strikeflow@127.0.0.1:15432/strikeflow"),
        validation_alias=AliasChoices("DATABASE_URL"),
        description="PostgreSQL DSN (asyncpg form)",
    )
    consumer_group_prefix: str = Field(
        default="strikeflow",
        validation_alias=AliasChoices("KAFKA_CONSUMER_GROUP_PREFIX"),
        description="Prefix of every consumer group name (one group per service)",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
    )
    kafka_static_membership: bool = Field(
        default=False,
        validation_alias=AliasChoices("KAFKA_STATIC_MEMBERSHIP"),
        description="Join consumer groups as a static member (one instance per group and host): "
        "a restarted service takes its partitions back at once instead of waiting out the "
        "session timeout, and a second copy on the same host is fenced off",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("LOG_LEVEL"), description="Log level"
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP server binds")
    http_port: int = Field(default=18000, description="Port of the HTTP server")
    heartbeat_interval_s: float = Field(
        default=2.0,
        validation_alias=AliasChoices("HEARTBEAT_INTERVAL_S"),
        description="Seconds between heartbeats on the heartbeat topic",
    )
