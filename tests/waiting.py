"""Waiting on conditions (never fixed sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    timeout_s: float,
    what: str,
    poll_s: float = 0.05,
) -> T:
    """Call ``probe`` until ``accept`` holds for its result; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while True:
        last = await probe()
        if accept(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout_s}s; last value {last!r}")
        await asyncio.sleep(poll_s)
