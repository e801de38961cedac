"""What the hourly gate shared through Redis knows, for threads (``RedisGate``) and tasks (``AsyncRedisGate``).

What an answer teaches is written to Redis only when there is something to tell: the hour is spent, or a
hold known here may end. Every process learns the gate with each slot it is given (the same script, the
same message), so that asking costs no request to Redis of its own. The gates of methods that share the
store's slots with cancelReturn but not its hourly limit (getReturn, getReturns) are kept per process.
"""

import logging
import threading
import time
from typing import Any

from .._rate_limit import RateLimit
from ._in_process import SLOT_KINDS, HourlyGate
from ._protocols import Key
from ._redis_core import Failure, Store
from ._redis_scripts import Hold, observed

logger = logging.getLogger("yandex_market_returns")


class SharedGate:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._here = HourlyGate()  # what this process's own answers said: it holds while Redis is away
        self._shared: dict[Key, tuple[float, RateLimit]] = {}  # monotonic end, as the last slot was told
        self._lock = threading.Lock()

    def granted(self, key: Key, hold: Hold | None) -> None:
        """What Redis said of the gate when it gave a slot of ``key``."""
        with self._lock:
            if hold is None:
                self._shared.pop(key, None)
            else:
                self._shared[key] = (time.monotonic() + hold[0], hold[1])

    def held(self, key: Key) -> tuple[float, RateLimit] | None:
        here = self._here.held(key)
        with self._lock:
            shared = self._shared.get(key)
        if shared is None or shared[0] <= time.monotonic():
            return here
        left = (shared[0] - time.monotonic(), shared[1])
        return left if here is None or left[0] > here[0] else here

    def lesson(self, key: Key, rate_limit: RateLimit, sent_at: float) -> tuple[list[str], list[Any]] | None:
        """The keys and arguments of ``OBSERVE``, when Redis is to be told anything. A gate that is not its slots'
        (getReturn's, getReturns') comes with no slot, so no process would read it: it stays in this one."""
        known = self.held(key) is not None
        self._here.observe(key, rate_limit, sent_at)
        if key[0] not in SLOT_KINDS or (not rate_limit.exhausted and not (known and rate_limit.remaining)):
            return None
        arguments = observed(rate_limit, sent_at)
        return None if arguments is None else ([self._store.key(key, "hold")], arguments)

    def not_shared(self, key: Key, error: Failure) -> None:
        logger.warning("%s: the hourly limit of %s is not shared: %s", self._store.where, key, error)
