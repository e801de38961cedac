"""One timer for all of an async client's requests in flight, instead of one each.

``asyncio.timeout`` arms a timer for every request and cancels it when the answer is in; cancelled timers
stay in the event loop's heap until the loop gets round to them, and every request pays to push into it.
Requests of one client all get the same timeout, so their deadlines come in order: one timer, aimed at the
earliest deadline still running, bounds them all as exactly. It stops of itself once none is running:
closing the client leaves the requests still in flight bounded.
"""

import asyncio
import math


class RequestDeadlines:
    """Cancels a task whose request outlives its deadline (on the loop's clock)."""

    def __init__(self) -> None:
        self._running: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def enter(self, task: asyncio.Task[object], seconds: float) -> int:
        """The task's request starts; how many cancellations the task already had (see ``left``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self._running[task] = deadline
        if deadline < self._timer_at:
            self._arm(loop, deadline)
        return task.cancelling()

    def left(self, task: asyncio.Task[object], cancelling: int, cancelled: bool) -> bool:
        """The task's request is over; ``True`` when it was this deadline, and nothing else, that cancelled
        it (``cancelled``: it ended in ``CancelledError``): the caller reports a timeout then."""
        del self._running[task]
        if task not in self._expired:
            return False
        self._expired.discard(task)
        # As asyncio.timeout does: take our cancellation back; a timeout only if no one else's is pending.
        return task.uncancel() <= cancelling and cancelled

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = loop.call_at(when, self._expire, loop), when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer, self._timer_at = None, math.inf
        now = loop.time()
        waiting = math.inf
        for task, deadline in self._running.items():
            if task in self._expired:
                continue
            if deadline <= now:
                self._expired.add(task)
                task.cancel()
            else:
                waiting = min(waiting, deadline)
        if waiting < math.inf:
            self._arm(loop, waiting)
