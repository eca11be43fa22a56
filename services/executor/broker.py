"""The broker port: what the executor needs from any broker, paper or live."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol

from libs.common.messages import Instrument, SubmitOrder


class OrderStatus(StrEnum):
    """Lifecycle of an order inside the executor."""

    PENDING_SUBMIT = "PENDING_SUBMIT"
    ACCEPTED = "ACCEPTED"
    FILLED = "FILLED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_SUBMIT: frozenset(
        {OrderStatus.ACCEPTED, OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.UNKNOWN}
    ),
    OrderStatus.UNKNOWN: frozenset(
        {OrderStatus.ACCEPTED, OrderStatus.FILLED, OrderStatus.REJECTED}
    ),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.FILLED, OrderStatus.REJECTED}),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
}


def check_transition(current: OrderStatus, new: OrderStatus) -> None:
    """Raise if an order may not move from ``current`` to ``new``."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise ValueError(f"illegal order transition {current} -> {new}")


class BrokerUnavailableError(RuntimeError):
    """The broker could not be asked (session, gateway, network): nothing is known either way."""


class AmbiguousOrderError(RuntimeError):
    """Several broker orders match one intent: an operator must decide which one is ours."""

    def __init__(self, client_order_id: str, order_ids: list[str]) -> None:
        super().__init__(
            f"{len(order_ids)} broker orders match intent {client_order_id}: "
            f"{', '.join(order_ids)}; an operator must adopt one"
        )
        self.client_order_id = client_order_id
        self.order_ids = order_ids


@dataclass(frozen=True)
class Execution:
    """One fill reported by the broker."""

    execution_id: str
    quantity: int
    price: Decimal
    charges: Decimal
    price_source: Literal["quote", "model"]


@dataclass(frozen=True)
class BrokerResult:
    """What the broker said about a submitted order."""

    status: OrderStatus
    broker_order_id: str | None
    executions: tuple[Execution, ...] = ()
    reason: str | None = None


class Broker(Protocol):
    """A broker session: paper or live, chosen once in the composition root.

    A broker may set ``resend_when_absent = True`` only if an order it cannot find provably never
    reached it (the paper broker); a live broker never does, so its orders are never re-sent.
    """

    async def submit(self, order: SubmitOrder) -> BrokerResult:
        """Place an order; a transport failure must yield UNKNOWN, never REJECTED."""
        ...

    async def lookup(
        self, order: SubmitOrder, exclude: Collection[str] = ()
    ) -> BrokerResult | None:
        """Find an order the broker may have received; None if it has no such order.

        ``exclude`` holds broker order ids other intents already own. Several candidates raise
        :class:`AmbiguousOrderError`."""
        ...

    async def mark(self, instrument: Instrument, underlying: Decimal) -> Mark:
        """The current price of a contract, and where it came from."""
        ...

    async def status(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """The broker's current view of an order it holds; None if it cannot be read now."""
        ...

    async def cancel(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """Cancel an open order and return the broker's view of it afterwards."""
        ...

    async def modify(
        self, order: SubmitOrder, broker_order_id: str, price: Decimal
    ) -> BrokerResult | None:
        """Move an open order's limit price and return the broker's view of it afterwards."""
        ...

    async def positions(self) -> dict[str, int] | None:
        """Net open quantity per contract key at the broker; None if the executor's own book
        is the broker's book (paper)."""
        ...

    async def probe(self) -> Literal["valid", "invalid", "unknown"]:
        """Whether the broker session is good now."""
        ...

    @property
    def session_problem(self) -> str | None:
        """Why the broker session is not usable, or None."""
        ...


@dataclass(frozen=True)
class Mark:
    """A contract's current price."""

    price: Decimal
    source: Literal["quote", "model"]
