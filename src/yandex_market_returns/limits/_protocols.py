"""What a client asks its limits for, whichever keeps them: the interface ``InProcessLimits``, ``FileLimits``
and ``RedisLimits`` implement (re-exported by ``yandex_market_returns.limits``)."""

import threading
from typing import Protocol

from .._rate_limit import RateLimit

# Whose limits a request counts against. Slots: ("campaign", campaignId), for every method on the store's
# URLs, or ("business", businessId). Hourly limits, one per method: cancelReturn's and getOperations' by
# their slots' key, getReturn's and getReturns' by ("getReturn", campaignId) and ("getReturns", campaignId).
Key = tuple[str, int]


class SyncSlots(Protocol):
    """A store's slots for the threads of a ``ReturnsClient``."""

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool: ...
    def release(self, key: Key, grace: float = 0.0) -> None: ...
    def wake(self) -> None: ...


class AsyncSlots(Protocol):
    """A store's slots for the tasks of an ``AsyncReturnsClient``."""

    async def acquire(self, key: Key, deadline: float | None) -> bool: ...
    def release(self, key: Key, grace: float = 0.0) -> None: ...
    def close(self) -> None: ...
    async def wait_closed(self) -> None: ...


class Gate(Protocol):
    """Holds a store's requests once an answer says its hourly limit is spent (as ``InProcessLimits`` keeps it)."""

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None: ...
    def held(self, key: Key) -> tuple[float, RateLimit] | None: ...


class Limits(Protocol):
    """What a client asks for when it opens: its slots and the hourly gate, for threads or for tasks."""

    def for_threads(self) -> tuple[SyncSlots, Gate]: ...
    def for_tasks(self) -> tuple[AsyncSlots, Gate]: ...
