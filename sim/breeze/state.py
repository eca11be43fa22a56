"""Everything the simulator keeps in memory, in one object shared by the routes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sim.breeze.auth import CallLimits, Sessions
from sim.breeze.book import Book
from sim.breeze.faults import Faults
from sim.breeze.market import Universe
from sim.breeze.settings import SimClock, SimSettings


@dataclass
class SimState:
    """Settings, clock, market, book, sessions, call limits, faults and a call log."""

    settings: SimSettings
    clock: SimClock
    universe: Universe
    book: Book
    sessions: Sessions
    limits: CallLimits
    faults: Faults
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    master_zip: bytes = b""

    @classmethod
    def create(cls, settings: SimSettings) -> SimState:
        """Fresh state with the configured API_Session values issued."""
        clock = SimClock()
        universe = Universe(settings, clock.now_ist().date())
        sessions = Sessions(settings, clock)
        for api_session in settings.api_sessions:
            sessions.issue(api_session)
        return cls(
            settings=settings,
            clock=clock,
            universe=universe,
            book=Book(settings, clock, universe),
            sessions=sessions,
            limits=CallLimits(settings, clock),
            faults=Faults(),
            master_zip=universe.security_master_zip(),
        )

    def reset_market(self) -> None:
        """New book and default quotes; faults and call counts cleared; sessions kept."""
        self.universe = Universe(self.settings, self.clock.now_ist().date())
        self.book = Book(self.settings, self.clock, self.universe)
        self.faults.clear()
        self.limits.reset()
        self.calls.clear()
