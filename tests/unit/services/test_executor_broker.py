"""Order lifecycle transitions (services/executor/broker.py)."""

from __future__ import annotations

import itertools

import pytest

from services.executor.broker import ALLOWED_TRANSITIONS, OrderStatus, check_transition

S = OrderStatus

# Written out independently of the table so that a change to either is noticed.
EXPECTED_ALLOWED = {
    (S.PENDING_SUBMIT, S.ACCEPTED),
    (S.PENDING_SUBMIT, S.FILLED),
    (S.PENDING_SUBMIT, S.REJECTED),
    (S.PENDING_SUBMIT, S.UNKNOWN),
    (S.UNKNOWN, S.ACCEPTED),
    (S.UNKNOWN, S.FILLED),
    (S.UNKNOWN, S.REJECTED),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.REJECTED),
}
ALL_PAIRS = list(itertools.product(OrderStatus, repeat=2))


def test_allowed_transitions_when_read_matches_the_lifecycle() -> None:
    from_table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}

    assert from_table == EXPECTED_ALLOWED
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus)


@pytest.mark.parametrize(
    ("current", "new"),
    [pair for pair in ALL_PAIRS if pair in EXPECTED_ALLOWED],
    ids=[f"{a}->{b}" for a, b in ALL_PAIRS if (a, b) in EXPECTED_ALLOWED],
)
def test_check_transition_when_pair_allowed_passes(current: OrderStatus, new: OrderStatus) -> None:
    assert check_transition(current, new) is None


@pytest.mark.parametrize(
    ("current", "new"),
    [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED],
    ids=[f"{a}->{b}" for a, b in ALL_PAIRS if (a, b) not in EXPECTED_ALLOWED],
)
def test_check_transition_when_pair_not_allowed_raises(
    current: OrderStatus, new: OrderStatus
) -> None:
    with pytest.raises(ValueError, match=f"^illegal order transition {current} -> {new}$"):
        check_transition(current, new)


@pytest.mark.parametrize("terminal", [S.FILLED, S.REJECTED])
def test_check_transition_when_order_terminal_allows_nothing(terminal: OrderStatus) -> None:
    for new in OrderStatus:
        with pytest.raises(ValueError, match="illegal order transition"):
            check_transition(terminal, new)
