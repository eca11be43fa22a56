"""Shared fixtures: real Kafka and PostgreSQL from the environment, testcontainers, or skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[1]


def _docker_ok() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no usable engine
        return False


def _unavailable(what: str) -> None:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} unavailable and REQUIRE_SERVICES=1")
    pytest.skip(f"{what} unavailable")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real Kafka broker."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield bootstrap
        return
    if not _docker_ok():
        _unavailable("Kafka")
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """DSN of a real PostgreSQL server."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    if not _docker_ok():
        _unavailable("PostgreSQL")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:15-alpine", driver=None) as pg:
        yield pg.get_connection_url()


async def _new_database(database_url: str) -> AsyncIterator[str]:
    import asyncpg

    from libs.common.migrate import apply_migrations

    name = f"strikeflow_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = database_url.rpartition("/")
    url = f"{base}/{name}"
    apply_migrations(url)
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(scope="session")
async def migrated_database(database_url: str) -> AsyncIterator[str]:
    """A fresh database with every migration applied, shared by the session."""
    async for url in _new_database(database_url):
        yield url


@pytest_asyncio.fixture
async def fresh_database(database_url: str) -> AsyncIterator[str]:
    """A fresh database with every migration applied, for one test."""
    async for url in _new_database(database_url):
        yield url


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses, for topics and consumer groups."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real NIFTY market data folder; tests using it skip when it is absent."""
    path = Path(os.environ.get("STRIKEFLOW_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"market data not found at {path}")
    return path
