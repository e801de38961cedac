"""``InProcessSlots`` for asyncio, apart so that a sync client never imports asyncio."""

import asyncio

from ._in_process import Ledger, deadline_passed
from ._protocols import Key


class AsyncInProcessSlots:
    """``InProcessSlots`` for the tasks of one event loop. A waiter that is cancelled gives up its place; a
    request abandoned in flight is released with a grace period by its caller."""

    def __init__(self) -> None:
        self._loop = OneLoop()
        self._ledger = Ledger()
        self._waiters: dict[Key, set[asyncio.Future[None]]] = {}
        self._closed = False

    async def acquire(self, key: Key, deadline: float | None) -> bool:
        """Take a slot; ``False`` when ``deadline`` (monotonic) passes first, or the slots are closed."""
        loop = self._loop.running()
        retry = deadline is not None
        if not self._closed and self._ledger.take(key, retry):
            return True  # a slot free at once: nothing to wait for or to note
        self._ledger.enter(key, retry)
        try:
            while not self._ledger.take(key, retry):
                if deadline_passed(deadline) or self._closed:
                    return False
                wait = self._ledger.wait(key, deadline)
                waiter = loop.create_future()
                waiters = self._waiters.setdefault(key, set())
                waiters.add(waiter)
                try:
                    async with asyncio.timeout(wait):
                        await waiter
                except TimeoutError:
                    pass
                finally:
                    waiters.discard(waiter)
            return True
        finally:
            if self._ledger.leave(key, retry):
                self._wake(key)

    def release(self, key: Key, grace: float = 0.0) -> None:
        self._ledger.release(key, grace)
        self._wake(key)

    def close(self) -> None:
        """Every waiter gives up, now and from now on: the client is closed."""
        self._closed = True
        for key in self._waiters:
            self._wake(key)

    async def wait_closed(self) -> None:
        """Nothing to wait for: releases take effect at once."""

    def _wake(self, key: Key) -> None:
        for waiter in self._waiters.get(key, ()):
            if not waiter.done():
                waiter.set_result(None)


class OneLoop:
    """The event loop an AsyncReturnsClient's slots and connections belong to: another is refused plainly,
    rather than failing (or hanging) inside asyncio."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def running(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("an AsyncReturnsClient serves the event loop it was first used in: make one per loop")
        return loop
