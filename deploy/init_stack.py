"""One-shot stack initialisation: wait for Kafka and PostgreSQL, create topics, migrate.

    python -m deploy.init_stack

Reads ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` like the services do; exits non-zero if
either does not answer in time. Safe to run again: topics and migrations are only added.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

import asyncpg

from libs.common.kafka import ensure_topics, wait_for_kafka
from libs.common.migrate import apply_migrations
from libs.common.settings import ServiceSettings

TIMEOUT_S = float(os.environ.get("INIT_TIMEOUT_S", "120"))


async def wait_for_postgres(dsn: str, timeout_s: float) -> None:
    """Wait until PostgreSQL accepts a connection to ``dsn``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=3)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL did not answer within {timeout_s}s") from exc
            await asyncio.sleep(0.5)
        else:
            await conn.close()
            return


async def prepare(bootstrap: str, dsn: str, timeout_s: float = TIMEOUT_S) -> list[str]:
    """Wait for both, create missing topics; return the topics created."""
    await wait_for_kafka(bootstrap, timeout_s=timeout_s)
    created = await ensure_topics(bootstrap)
    await wait_for_postgres(dsn, timeout_s)
    return created


def main() -> None:
    """Initialise the stack the environment points at."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    log = logging.getLogger("init_stack")
    settings = ServiceSettings.model_validate({})
    dsn = settings.database_url.get_secret_value()
    try:
        created = asyncio.run(prepare(settings.kafka_bootstrap_servers, dsn))
    except TimeoutError as exc:
        log.error("%s", exc)
        sys.exit(1)
    log.info("topics created: %s", ", ".join(created) or "none (all present)")
    applied = apply_migrations(dsn)
    log.info("migrations applied: %s", ", ".join(applied) or "none (up to date)")


if __name__ == "__main__":
    main()
