"""Composition of the notifier: the consumer, the channels, the sender loops and the summary."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from libs.common.clock import Clock
from libs.common.kafka import make_consumer
from libs.common.logging import get_logger
from libs.common.runtime import TaskSupervisor
from libs.common.topics import ALERTS, BROKER_STATUS, CONTROL, PNL, Topic
from libs.notify.events import LossRules
from services.monitor.notifications.adapters.channels import (
    Channel,
    TelegramChannel,
    WebhookChannel,
)
from services.monitor.notifications.adapters.store import NotificationStore
from services.monitor.notifications.delivery import (
    Deliverer,
    DeliveryMetrics,
    RateLimit,
    RetryPolicy,
)
from services.monitor.notifications.intake import Intake, consume
from services.monitor.notifications.summary import SummaryScheduler
from services.monitor.settings import MonitorSettings

log = get_logger(__name__)
SOURCE_TOPICS: tuple[Topic, ...] = (CONTROL, BROKER_STATUS, PNL, ALERTS)
SUMMARY_CHECK_S = 30.0


@dataclass(frozen=True)
class TelegramConfig:
    """Where and how fast Telegram messages go."""

    api_url: str
    bot_token: str = field(repr=False)
    chat_id: str = field(repr=False)
    rate: RateLimit


@dataclass(frozen=True)
class WebhookConfig:
    """Where and how fast webhook posts go, and the signing secret (empty: unsigned)."""

    url: str = field(repr=False)
    secret: str = field(repr=False)
    rate: RateLimit


@dataclass(frozen=True)
class NotifierConfig:
    """Everything the notifier needs, decided once from the settings."""

    bootstrap: str
    group_id: str
    telegram: TelegramConfig | None
    webhook: WebhookConfig | None
    rules: LossRules
    retry: RetryPolicy
    summary_after: time
    max_event_age_s: float
    poll_s: float
    http_timeout_s: float

    @classmethod
    def from_settings(cls, s: MonitorSettings) -> NotifierConfig:
        """Read the ``MONITOR_NOTIFY_*`` settings; a channel is on only when configured."""
        token, chat = s.notify_telegram_bot_token, s.notify_telegram_chat_id
        telegram = None
        if token.get_secret_value() and chat.get_secret_value():
            telegram = TelegramConfig(
                api_url=s.notify_telegram_api_url,
                bot_token=token.get_secret_value(),
                chat_id=chat.get_secret_value(),
                rate=RateLimit(s.notify_telegram_rate, s.notify_telegram_rate_period_s),
            )
        webhook = None
        if s.notify_webhook_url.get_secret_value():
            webhook = WebhookConfig(
                url=s.notify_webhook_url.get_secret_value(),
                secret=s.notify_webhook_secret.get_secret_value(),
                rate=RateLimit(s.notify_webhook_rate, s.notify_webhook_rate_period_s),
            )
        return cls(
            bootstrap=s.kafka_bootstrap_servers,
            group_id=f"{s.consumer_group_prefix}-monitor-notify",
            telegram=telegram,
            webhook=webhook,
            rules=LossRules(
                trade_loss=s.notify_trade_loss,
                daily_loss_limit=s.notify_daily_loss_limit,
                daily_loss_fraction=s.notify_daily_loss_fraction,
            ),
            retry=RetryPolicy(
                s.notify_max_attempts, s.notify_retry_initial_s, s.notify_retry_max_s
            ),
            summary_after=s.notify_summary_time,
            max_event_age_s=s.notify_max_event_age_s,
            poll_s=s.notify_poll_s,
            http_timeout_s=s.notify_http_timeout_s,
        )


class Notifier:
    """Runs the notifier's tasks; ``stop`` ends them and closes its clients."""

    def __init__(
        self,
        config: NotifierConfig,
        pool: asyncpg.Pool,
        clock: Clock,
        registry: CollectorRegistry,
    ) -> None:
        self._config = config
        self._pool = pool
        self._clock = clock
        self._metrics = DeliveryMetrics(registry)
        self._store = NotificationStore(pool)
        self._tasks: list[asyncio.Task[Any]] = []
        self._consumer: AIOKafkaConsumer[bytes, bytes] | None = None
        self._client: httpx.AsyncClient | None = None
        self.deliverers: tuple[Deliverer, ...] = ()

    async def start(self, tasks: TaskSupervisor) -> None:
        """Start consuming and delivering; does nothing when no channel is configured."""
        cfg = self._config
        if cfg.telegram is None and cfg.webhook is None:
            log.info("notifications_off", reason="no channel configured")
            return
        # httpx logs every request URL at INFO, and the Telegram URL holds the bot token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._client = httpx.AsyncClient(timeout=cfg.http_timeout_s, follow_redirects=False)
        self.deliverers = tuple(
            Deliverer(channel, self._store, rate, cfg.retry, self._clock, self._metrics)
            for channel, rate in self._channels(self._client)
        )
        names = [d.channel for d in self.deliverers]
        intake = Intake(
            self._pool,
            self._store,
            cfg.rules,
            names,
            self._clock,
            cfg.max_event_age_s,
            self._wake_all,
        )
        self._consumer = make_consumer(
            cfg.bootstrap, cfg.group_id, [t.name for t in SOURCE_TOPICS], "monitor-notify"
        )
        await self._consumer.start()
        summary = SummaryScheduler(
            self._pool, self._store, names, cfg.summary_after, self._clock, self._wake_all
        )
        self._tasks.append(tasks.spawn(consume(self._consumer, intake.handle), "notify-intake"))
        self._tasks.append(tasks.spawn(summary.run(SUMMARY_CHECK_S), "notify-summary"))
        for deliverer in self.deliverers:
            task = deliverer.run(cfg.poll_s)
            self._tasks.append(tasks.spawn(task, f"notify-{deliverer.channel}"))
        log.info("notifications_on", channels=names, group=cfg.group_id)

    def _channels(self, client: httpx.AsyncClient) -> list[tuple[Channel, RateLimit]]:
        cfg = self._config
        out: list[tuple[Channel, RateLimit]] = []
        if cfg.telegram is not None:
            t = cfg.telegram
            out.append((TelegramChannel(client, t.api_url, t.bot_token, t.chat_id), t.rate))
        if cfg.webhook is not None:
            w = cfg.webhook
            out.append((WebhookChannel(client, w.url, w.secret), w.rate))
        return out

    def _wake_all(self) -> None:
        for deliverer in self.deliverers:
            deliverer.wake()

    async def stop(self) -> None:
        """Cancel the tasks, leave the consumer group, close the HTTP client."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
