"""Client-side pacing, so that the Market's limits are kept here rather than discovered by a 420."""

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from attrs import frozen

from .rate_limit import RateLimit

# The Market's limit of simultaneous requests per store (campaignId); it is not part of openapi.yaml.
PARALLEL_REQUESTS = 4


@frozen
class _Hold:
    resume_at: float  # monotonic
    rate_limit: RateLimit  # the answer that said the period is spent
    learned_at: float  # monotonic


class HourlyGate:
    """Holds a store's requests once an answer says none remain this period, until the period ends.

    The wait is measured by the Market's clock (``Until - Date`` of the same answer). A hold is lifted only
    by an answer from a later period, or to a request sent after the hold was learned: an answer to an
    older request, handled late, does not lift it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[int, _Hold] = {}

    def observe(self, campaign_id: int, rate_limit: RateLimit, sent_at: float) -> None:
        """Note an answer to a request sent at ``sent_at`` (monotonic clock)."""
        now = time.monotonic()
        with self._lock:
            hold = self._holds.get(campaign_id)
            if rate_limit.exhausted:
                wait = rate_limit.resets_in(datetime.now(UTC))
                if wait is not None and wait > 0 and (hold is None or now + wait > hold.resume_at):
                    self._holds[campaign_id] = _Hold(now + wait, rate_limit, now)
            elif rate_limit.remaining and hold is not None:
                held_until = hold.rate_limit.until
                later_period = rate_limit.until is not None and held_until is not None and rate_limit.until > held_until
                if later_period or sent_at > hold.learned_at:
                    del self._holds[campaign_id]

    def held(self, campaign_id: int) -> tuple[float, RateLimit] | None:
        """Seconds until the store's period ends and the answer that said so; ``None`` when not held."""
        with self._lock:
            hold = self._holds.get(campaign_id)
            if hold is None:
                return None
            wait = hold.resume_at - time.monotonic()
            if wait <= 0:
                del self._holds[campaign_id]
                return None
            return wait, hold.rate_limit


class ThreadSlots:
    """At most ``PARALLEL_REQUESTS`` requests in flight per store, across all threads.

    A slot released with a grace period stays taken until it ends: the Market may still be working on a
    request the client stopped waiting for. Waiters give up when told to stop or at their deadline.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._freed: dict[int, threading.Condition] = {}
        self._busy: Counter[int] = Counter()
        self._grace: dict[int, list[float]] = {}  # monotonic ends of the grace periods

    def acquire(self, campaign_id: int, stop: threading.Event, deadline: float | None) -> bool:
        """Take a slot; ``False`` when ``stop`` is set or ``deadline`` (monotonic) passes first."""
        with self._lock:
            freed = self._freed.setdefault(campaign_id, threading.Condition(self._lock))
            while not stop.is_set():
                now = time.monotonic()
                graces = self._grace[campaign_id] = [end for end in self._grace.get(campaign_id, ()) if end > now]
                if self._busy[campaign_id] + len(graces) < PARALLEL_REQUESTS:
                    self._busy[campaign_id] += 1
                    return True
                wake = min([*graces, *([] if deadline is None else [deadline])], default=None)
                if wake is not None and wake <= now:
                    return False  # the deadline has passed
                freed.wait(None if wake is None else wake - now)
            return False

    def release(self, campaign_id: int, grace: float = 0.0) -> None:
        with self._lock:
            self._busy[campaign_id] -= 1
            if grace > 0:
                self._grace.setdefault(campaign_id, []).append(time.monotonic() + grace)
            else:
                self._freed[campaign_id].notify_all()

    def wake(self) -> None:
        """Let every waiter look at its stop signal again."""
        with self._lock:
            for freed in self._freed.values():
                freed.notify_all()


class TaskSlots:
    """At most ``PARALLEL_REQUESTS`` requests in flight per store, across all tasks of an event loop."""

    def __init__(self) -> None:
        self._slots: dict[int, asyncio.BoundedSemaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self, campaign_id: int, deadline: float | None) -> bool:
        """Take a slot; ``False`` when ``deadline`` (monotonic) passes first."""
        # Its slots and its connection pool belong to one loop; say so plainly rather than fail inside asyncio.
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("an AsyncReturnsClient serves the event loop it was first used in: make one per loop")
        slot = self._slots.setdefault(campaign_id, asyncio.BoundedSemaphore(PARALLEL_REQUESTS))
        if deadline is None:
            await slot.acquire()
            return True
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                await slot.acquire()
        except TimeoutError:
            return False
        return True

    def release(self, campaign_id: int, grace: float = 0.0) -> None:
        slot = self._slots[campaign_id]
        if grace > 0 and self._loop is not None and not self._loop.is_closed():
            self._loop.call_later(grace, slot.release)
        else:
            slot.release()
