"""The one registry of Kafka topic names, keys and settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A Kafka topic: its name, partitions, and whether it is compacted."""

    name: str
    partitions: int = 3
    compacted: bool = False
    retention_ms: int | None = None

    @property
    def dlq(self) -> str:
        """Return the name of this topic's dead-letter topic."""
        return f"{self.name}.dlq"


SIGNALS = Topic("strikeflow.signals.v1")
CONTROL = Topic("strikeflow.control.v1", partitions=1, compacted=True)
RISK_DECISIONS = Topic("strikeflow.risk.decisions.v1")
ORDER_COMMANDS = Topic("strikeflow.orders.commands.v1")
ORDER_EVENTS = Topic("strikeflow.orders.events.v1")
FILLS = Topic("strikeflow.fills.v1")
MARKS = Topic("strikeflow.marks.v1")
MARKET_BARS = Topic("strikeflow.market.bars.v1", partitions=1)
BROKER_STATUS = Topic("strikeflow.broker.status.v1", partitions=1, compacted=True)
POSITIONS = Topic("strikeflow.positions.v1", partitions=1, compacted=True)
PNL = Topic("strikeflow.pnl.v1", partitions=1, compacted=True)
HEARTBEATS = Topic("strikeflow.heartbeats.v1", partitions=1, compacted=True)
# Operator alerts from any service, in order: one partition, keyed by the raising component.
ALERTS = Topic("strikeflow.alerts.v1", partitions=1)

ALL_TOPICS: tuple[Topic, ...] = (
    SIGNALS,
    CONTROL,
    RISK_DECISIONS,
    ORDER_COMMANDS,
    ORDER_EVENTS,
    FILLS,
    MARKS,
    MARKET_BARS,
    BROKER_STATUS,
    POSITIONS,
    PNL,
    HEARTBEATS,
    ALERTS,
)


def topic_by_name(name: str) -> Topic:
    """Return the registered topic with this name."""
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(f"unknown topic {name!r}")
