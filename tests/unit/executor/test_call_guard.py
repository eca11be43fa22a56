"""The Breeze call guard: minute and day budgets with headroom, and the broker error breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.executor.adapters.call_guard import BreakerState, CallGuard, GuardConfig


class Time:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.wall


def guard(t: Time, **kw: float) -> CallGuard:
    return CallGuard(GuardConfig(**kw), t.now, lambda: t.mono)  # type: ignore[arg-type]


def test_minute_budget_when_spent_refuses_until_the_window_moves() -> None:
    t = Time()
    g = guard(t, per_minute=3, per_day=100)
    assert [g.acquire() for _ in range(3)] == [None, None, None]
    refusal = g.acquire()
    assert refusal is not None
    assert "3 calls in the last minute" in refusal
    t.mono += 60
    assert g.acquire() is None
    assert g.used() == (1, 4)


def test_day_budget_when_spent_refuses_until_the_next_ist_day() -> None:
    t = Time()
    g = guard(t, per_minute=100, per_day=2)
    assert g.acquire() is None
    assert g.acquire() is None
    t.mono += 120
    refusal = g.acquire()
    assert refusal is not None
    assert "2 calls today" in refusal
    t.wall += timedelta(days=1)
    assert g.acquire() is None


def test_breaker_when_failures_in_a_row_opens_then_half_opens_for_one_trial() -> None:
    t = Time()
    g = guard(t, failures=3, cooldown_s=30)
    for n in range(3):
        assert g.acquire() is None
        changed = g.record(failed=True)
        assert changed == (BreakerState.OPEN if n == 2 else None)
    assert g.state is BreakerState.OPEN
    refusal = g.acquire()
    assert refusal is not None
    assert "breaker open" in refusal
    t.mono += 30
    assert g.state is BreakerState.HALF_OPEN
    assert g.acquire() is None  # the trial
    second = g.acquire()
    assert second is not None
    assert "trial call is in flight" in second
    assert g.record(failed=False) is BreakerState.CLOSED
    assert g.acquire() is None


def test_breaker_when_trial_fails_opens_again() -> None:
    t = Time()
    g = guard(t, failures=1, cooldown_s=10)
    g.acquire()
    assert g.record(failed=True) is BreakerState.OPEN
    t.mono += 10
    assert g.acquire() is None
    assert g.record(failed=True) is BreakerState.OPEN
    assert g.acquire() is not None


def test_breaker_when_a_call_succeeds_between_failures_stays_closed() -> None:
    t = Time()
    g = guard(t, failures=2)
    g.acquire()
    g.record(failed=True)
    g.acquire()
    g.record(failed=False)
    g.acquire()
    assert g.record(failed=True) is None
    assert g.state is BreakerState.CLOSED
