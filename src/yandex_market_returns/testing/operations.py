"""The fake Market's operations: a started cancellation is in progress for a while, then done or failed."""

import heapq
import itertools

from .exchanges import StartedOperation

IN_PROGRESS, DONE, FAILED = "IN_PROGRESS", "DONE", "FAILED"


class OperationBook:
    """Every operation started, and when each ends. Not locked: the FakeMarket calls it under its lock."""

    def __init__(self) -> None:
        self.started: list[StartedOperation] = []
        self._status: dict[str, str] = {}
        self._by_id: dict[str, StartedOperation] = {}
        self._ending: list[tuple[float, int, str, str]] = []  # (ends at, tie-break, id, final status)
        self._order = itertools.count()

    def start(self, operation: StartedOperation, ends_at: float, fails: bool) -> None:
        self.started.append(operation)
        self._by_id[operation.id] = operation
        self._status[operation.id] = IN_PROGRESS
        heapq.heappush(self._ending, (ends_at, next(self._order), operation.id, FAILED if fails else DONE))

    def settle(self, now: float) -> list[tuple[StartedOperation, str, float]]:
        """End the operations whose time has come; each one ended, with its final status and when it ended."""
        ended = []
        while self._ending and self._ending[0][0] <= now:
            ends_at, _, operation_id, status = heapq.heappop(self._ending)
            self._status[operation_id] = status
            ended.append((self._by_id[operation_id], status, ends_at))
        return ended

    def status(self, operation_id: str) -> str | None:
        return self._status.get(operation_id)

    def find(self, operation_id: str) -> StartedOperation | None:
        return self._by_id.get(operation_id)
