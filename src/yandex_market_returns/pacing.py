"""Client-side pacing, so that the Market's limits are kept here rather than discovered by a 420."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime

from .rate_limit import RateLimit

# The Market's limit of simultaneous requests per store (campaignId); it is not part of openapi.yaml.
PARALLEL_REQUESTS = 4


class HourlyGate:
    """Holds a store's requests once an answer says none remain this period, until the period ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resume_at: dict[int, float] = {}

    def observe(self, campaign_id: int, rate_limit: RateLimit) -> None:
        with self._lock:
            if rate_limit.exhausted and rate_limit.until is not None:
                wait = (rate_limit.until - datetime.now(UTC)).total_seconds()
                if wait > 0:
                    resume_at = time.monotonic() + wait
                    self._resume_at[campaign_id] = max(self._resume_at.get(campaign_id, resume_at), resume_at)
            elif rate_limit.remaining:
                self._resume_at.pop(campaign_id, None)

    def wait(self, campaign_id: int) -> float:
        """Seconds until the store's period ends, 0 when it is not held."""
        with self._lock:
            return max(self._resume_at.get(campaign_id, 0.0) - time.monotonic(), 0.0)


class ThreadSlots:
    """At most ``PARALLEL_REQUESTS`` requests in flight per store, across all threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[int, threading.BoundedSemaphore] = {}

    @contextmanager
    def hold(self, campaign_id: int) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(campaign_id, threading.BoundedSemaphore(PARALLEL_REQUESTS))
        with slot:
            yield


class TaskSlots:
    """At most ``PARALLEL_REQUESTS`` requests in flight per store, across all tasks of an event loop."""

    def __init__(self) -> None:
        self._slots: dict[int, asyncio.BoundedSemaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @asynccontextmanager
    async def hold(self, campaign_id: int) -> AsyncIterator[None]:
        # Its slots and its connection pool belong to one loop; say so plainly rather than fail inside asyncio.
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("an AsyncReturnsClient serves the event loop it was first used in: make one per loop")
        slot = self._slots.setdefault(campaign_id, asyncio.BoundedSemaphore(PARALLEL_REQUESTS))
        async with slot:
            yield
