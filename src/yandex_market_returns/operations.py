"""Confirming cancellations with getOperations: which ids go in which request, how often to ask, and what a
batch still waits to hear of."""

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import attrs

from yandex_market_returns_client.models import OperationStatusType, OperationType

from . import errors
from .rate_limit import RateLimit
from .results import OperationResult, Outcome
from .validation import OPERATION_IDS_PER_REQUEST

logger = logging.getLogger("yandex_market_returns")

# The poll interval doubles after each round up to this: an operation takes minutes, not hours.
MAX_POLL_INTERVAL = 60.0


def requests_for(operation_ids: Sequence[str]) -> list[list[str]]:
    """Unique ids, in the order first given, at most 100 to a request."""
    unique = list(dict.fromkeys(operation_ids))
    return [
        unique[start : start + OPERATION_IDS_PER_REQUEST] for start in range(0, len(unique), OPERATION_IDS_PER_REQUEST)
    ]


def in_order(
    operation_ids: Sequence[str], known: dict[str, OperationResult], operation_type: OperationType
) -> list[OperationResult]:
    """One result per id given; an id the Market did not report has the status ``None``."""
    return [known.get(id_) or OperationResult(id=id_, type=operation_type, status=None) for id_ in operation_ids]


def worth_polling_again(error: errors.MarketError) -> bool:
    """A poll that failed only for now (5xx, a timeout, a limit) is tried again next round; one the Market
    refuses (400, 401, 403) never succeeds and is raised."""
    if error.retryable:
        logger.warning("getOperations failed, asking again next round: %s", error)
    return error.retryable


class PollSchedule:
    """Waits between poll rounds: ``first``, doubling to ``MAX_POLL_INTERVAL``. When the business's remaining
    requests would not last its hourly period even at that slowest interval (other clients spend them too),
    they are spread evenly over what is left of it."""

    def __init__(self, first: float) -> None:
        self._interval = first
        self._ceiling = max(first, MAX_POLL_INTERVAL)

    def next_wait(self, requests_per_round: int, rate_limit: RateLimit | None) -> float:
        wait = self._interval
        self._interval = min(self._interval * 2, self._ceiling)
        if rate_limit is None or rate_limit.remaining is None:
            return wait
        period_left = rate_limit.resets_in(datetime.now(UTC))
        if period_left is None or period_left <= 0:
            return wait
        if rate_limit.remaining < requests_per_round:
            return max(wait, period_left)  # the next round fits only in the next period
        if rate_limit.remaining >= requests_per_round * period_left / self._ceiling:
            return wait  # enough left to poll at the slowest interval until the period ends
        return max(wait, period_left * requests_per_round / rate_limit.remaining)  # spread what is left


@attrs.define
class _Waiting:
    index: int
    outcome: Outcome
    deadline: float  # monotonic


class Confirmations:
    """A batch's started cancellations that wait for a final status: every round asks for all of them at
    once, 100 to a request. One that has not ended ``timeout`` seconds after it started is final as it is
    (``IN_PROGRESS``, or ``None`` when the Market never reported it)."""

    def __init__(self, timeout: float, poll_interval: float) -> None:
        self._timeout = timeout
        self._schedule = PollSchedule(poll_interval)
        self._first_wait = poll_interval
        self._waiting: dict[str, _Waiting] = {}
        self._next_poll: float | None = None
        self.rounds = 0

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, index: int, operation_id: str, outcome: Outcome) -> None:
        now = time.monotonic()
        self._waiting[operation_id] = _Waiting(index, outcome, now + self._timeout)
        if self._next_poll is None:
            self._next_poll = now + self._first_wait

    def due_in(self) -> float | None:
        """Seconds until the next round or timeout; ``None`` when nothing waits."""
        if not self._waiting or self._next_poll is None:
            return None
        soonest = min(self._next_poll, *(waiting.deadline for waiting in self._waiting.values()))
        return max(soonest - time.monotonic(), 0.0)

    def to_poll(self) -> list[str]:
        """The ids to ask for now: all that wait, when a round is due; none otherwise."""
        if self._next_poll is None or time.monotonic() < self._next_poll:
            return []
        return list(self._waiting)

    def polled(self, known: Iterable[OperationResult], rate_limit: RateLimit | None, held: float) -> None:
        """Note a round's answers (none when it failed) and schedule the next round, not before the
        business's spent hourly limit resets (``held`` seconds from now)."""
        self.rounds += 1
        for result in known:
            waiting = self._waiting.get(result.id)
            if waiting is not None:
                waiting.outcome = attrs.evolve(waiting.outcome, status=result.status)
        requests = len(requests_for(list(self._waiting)))
        self._next_poll = time.monotonic() + max(self._schedule.next_wait(max(requests, 1), rate_limit), held)

    def finished(self) -> list[tuple[int, Outcome]]:
        """Take out the outcomes that are final: ``DONE`` or ``FAILED``, or timed out."""
        now = time.monotonic()
        final = {OperationStatusType.DONE, OperationStatusType.FAILED}
        done = [
            id_ for id_, waiting in self._waiting.items() if waiting.outcome.status in final or waiting.deadline <= now
        ]
        return [(waiting.index, waiting.outcome) for waiting in map(self._waiting.pop, done)]

    def known(self) -> list[tuple[int, Outcome]]:
        """What is known of every outcome still waiting, for a stopped batch's report."""
        return [(waiting.index, waiting.outcome) for waiting in self._waiting.values()]
