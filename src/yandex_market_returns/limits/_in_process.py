"""Client-side pacing, so that the Market's limits are kept here rather than discovered by a 420."""

import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from attrs import frozen

from .._constants import LONGEST_HOLD, PARALLEL_REQUESTS
from .._rate_limit import RateLimit
from ._protocols import AsyncSlots, Key

# The kinds of key whose hourly gate is counted by the slots' own key: RedisLimits tells it with each slot.
SLOT_KINDS = ("campaign", "business")


@frozen
class _Hold:
    resume_at: float  # monotonic
    rate_limit: RateLimit  # the answer that said the period is spent
    learned_at: float  # monotonic


class HourlyGate:
    """Holds a store's requests once an answer says none remain this period, until the period ends.

    The wait is measured by the Market's clock (``Until - Date`` of the same answer), and a period said to
    end more than ``LONGEST_HOLD`` away is not held by. A hold is lifted only by an answer from a later
    period, or to a request sent after the hold was learned: an answer to an older request, handled late,
    does not lift it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[Key, _Hold] = {}
        _AFRESH_IN_CHILD.add(self)

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None:
        """Note an answer to a request sent at ``sent_at`` (monotonic clock)."""
        now = time.monotonic()
        with self._lock:
            hold = self._holds.get(key)
            if rate_limit.exhausted:
                wait = rate_limit.resets_in(datetime.now(UTC)) or 0.0
                if 0 < wait <= LONGEST_HOLD and (hold is None or now + wait > hold.resume_at):
                    self._holds[key] = _Hold(now + wait, rate_limit, now)
            elif rate_limit.remaining and hold is not None:
                held_until = hold.rate_limit.until
                later_period = rate_limit.until is not None and held_until is not None and rate_limit.until > held_until
                if later_period or sent_at > hold.learned_at:
                    del self._holds[key]

    def held(self, key: Key) -> tuple[float, RateLimit] | None:
        """Seconds until the store's period ends and the answer that said so; ``None`` when not held."""
        with self._lock:
            hold = self._holds.get(key)
            if hold is None:
                return None
            wait = hold.resume_at - time.monotonic()
            if wait <= 0:
                del self._holds[key]
                return None
            return wait, hold.rate_limit


class Ledger:
    """Who holds a store's slots, for both kinds of slots below; they lock and wait, this only counts.

    A slot released with a grace period stays taken until it ends: the Market may still be working on a
    request the client stopped waiting for. A retry (a waiter with a deadline: its call's budget runs) goes
    before first attempts, so that the fresh requests of a batch do not starve it.
    """

    def __init__(self) -> None:
        self._busy: Counter[Key] = Counter()
        self._retrying: Counter[Key] = Counter()
        self._grace: dict[Key, list[float]] = {}  # monotonic ends of the grace periods

    def enter(self, key: Key, retry: bool) -> None:
        self._retrying[key] += retry

    def leave(self, key: Key, retry: bool) -> bool:
        """A waiter leaves; ``True`` when it was the last retry, so first attempts held back may go."""
        self._retrying[key] -= retry
        return retry and not self._retrying[key]

    def take(self, key: Key, retry: bool) -> bool:
        graces = self._graces(key, time.monotonic())
        if self._busy[key] + len(graces) < PARALLEL_REQUESTS and (retry or not self._retrying[key]):
            self._busy[key] += 1
            return True
        return False

    def wait(self, key: Key, deadline: float | None) -> float | None:
        """Seconds until something changes without a release (a grace period ends, the deadline passes);
        ``None`` when only a release can."""
        now = time.monotonic()
        ends = [*self._graces(key, now), *([] if deadline is None else [deadline])]
        return max(min(ends) - now, 0.0) if ends else None

    def release(self, key: Key, grace: float) -> None:
        self._busy[key] -= 1
        if grace > 0:
            self._grace.setdefault(key, []).append(time.monotonic() + grace)

    def _graces(self, key: Key, now: float) -> Sequence[float]:
        graces = self._grace.get(key)
        if not graces:
            return ()
        running = self._grace[key] = [end for end in graces if end > now]
        return running


class InProcessSlots:
    """At most ``PARALLEL_REQUESTS`` requests in flight per store, across all threads (see ``Ledger``).

    Waiters give up when told to stop or at their deadline.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._freed: dict[Key, threading.Condition] = {}
        self._waiting: Counter[Key] = Counter()  # threads in freed.wait: a release with none wakes nobody
        self._ledger = Ledger()
        _AFRESH_IN_CHILD.add(self)

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool:
        """Take a slot; ``False`` when ``stop`` is set or ``deadline`` (monotonic) passes first."""
        retry = deadline is not None
        with self._lock:
            if not stop.is_set() and self._ledger.take(key, retry):
                return True  # a slot free at once: nothing to wait for or to note
            freed = self._freed.get(key)
            if freed is None:
                freed = self._freed[key] = threading.Condition(self._lock)
            self._ledger.enter(key, retry)
            try:
                while not stop.is_set():
                    if self._ledger.take(key, retry):
                        return True
                    if deadline_passed(deadline):
                        return False
                    self._waiting[key] += 1
                    try:
                        freed.wait(self._ledger.wait(key, deadline))
                    finally:
                        self._waiting[key] -= 1
                return False
            finally:
                if self._ledger.leave(key, retry):
                    freed.notify_all()

    def release(self, key: Key, grace: float = 0.0) -> None:
        with self._lock:
            self._ledger.release(key, grace)
            if self._waiting[key]:  # waiters look again: at a free slot, or at when the new grace period ends
                self._freed[key].notify_all()

    def wake(self) -> None:
        """Let every waiter look at its stop signal again."""
        with self._lock:
            for freed in self._freed.values():
                freed.notify_all()


def deadline_passed(deadline: float | None) -> bool:
    """Whether a waiter's ``deadline`` (monotonic; ``None``: none) has come."""
    return deadline is not None and deadline <= time.monotonic()


# A child forked while threads held these (a slot, a lock) has none of those threads: it starts them afresh,
# its slots free and its hours to learn again. One handler for all, none kept alive by it.
_AFRESH_IN_CHILD: "weakref.WeakSet[InProcessSlots | HourlyGate]" = weakref.WeakSet()


def _start_afresh() -> None:
    for kept in list(_AFRESH_IN_CHILD):
        kept.__init__()  # type: ignore[misc]


os.register_at_fork(after_in_child=_start_afresh)


class InProcessLimits:
    """The limits kept in this process. Clients given the same object share them: sync clients one set of
    slots, async clients one set per client (its event loop's), and all of them one hourly gate."""

    def __init__(self) -> None:
        self._gate = HourlyGate()
        self._thread_slots = InProcessSlots()

    def for_threads(self) -> tuple[InProcessSlots, HourlyGate]:
        return self._thread_slots, self._gate

    def for_tasks(self) -> tuple[AsyncSlots, HourlyGate]:
        from ._async_in_process import AsyncInProcessSlots  # asyncio only for async clients

        return AsyncInProcessSlots(), self._gate
