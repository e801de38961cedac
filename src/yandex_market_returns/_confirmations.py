"""Confirming cancellations with getOperations: which ids go in which request, how often to ask, and what a
batch still waits to hear of."""

import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import attrs

from . import errors
from ._constants import MAX_POLL_INTERVAL
from ._generated import models
from ._rate_limit import RateLimit
from ._results import OperationResult, Outcome
from ._validation import OPERATION_IDS_PER_REQUEST

logger = logging.getLogger("yandex_market_returns")


def requests_for(operation_ids: Sequence[str]) -> list[list[str]]:
    """Unique ids, in the order first given, at most 100 to a request."""
    unique = list(dict.fromkeys(operation_ids))
    return [
        unique[start : start + OPERATION_IDS_PER_REQUEST] for start in range(0, len(unique), OPERATION_IDS_PER_REQUEST)
    ]


def in_order(
    operation_ids: Sequence[str], known: dict[str, OperationResult], operation_type: models.OperationType
) -> list[OperationResult]:
    """One result per id given; an id the Market did not report has the status ``None``."""
    return [known.get(id_) or OperationResult(id=id_, type=operation_type, status=None) for id_ in operation_ids]


def contradiction(asked: Sequence[str], results: Sequence[OperationResult]) -> str | None:
    """What makes an answer unbelievable: an operation listed twice with different statuses or types, or one
    that was not asked about; ``None`` for an answer that can be taken at its word."""
    wanted = set(asked)
    seen: dict[str, OperationResult] = {}
    for result in results:
        if result.id not in wanted:
            return f"operation {result.id!r}, which was not asked about"
        earlier = seen.setdefault(result.id, result)
        if earlier != result:
            return f"operation {result.id!r} twice: {_said(earlier)} and {_said(result)}"
    return None


def _said(result: OperationResult) -> str:
    status = "no status" if result.status is None else str(result.status.value)
    return f"{status} ({result.type.value})"


def reported(operation_ids: Sequence[str], polled: "Round") -> list[OperationResult]:
    """``get_operations``' result; when a request failed, its error is raised carrying, as ``answered``, the
    results of the ids whose requests were answered before it (in the order given): nothing learnt is lost."""
    if polled.error is not None:
        answered = set(polled.answered_ids)
        results = in_order([id_ for id_ in operation_ids if id_ in answered], polled.known, polled.operation_type)
        object.__setattr__(polled.error, "answered", results)  # as a stopped batch's report is put on its error
        raise polled.error
    return in_order(operation_ids, polled.known, polled.operation_type)


@attrs.define
class Round:
    """What one round of getOperations requests learnt: the statuses, the last rate limit, and the error of
    a request that failed (the others' answers are kept all the same). ``learn`` hears of each request's
    statuses as they come, so that a round cut short keeps what it learnt."""

    operation_type: models.OperationType
    deadline: float | None = None  # monotonic; a wait's, or its confirmations'
    learn: Callable[[list[OperationResult]], None] | None = None
    known: dict[str, OperationResult] = attrs.Factory(dict)
    answered_ids: list[str] = attrs.Factory(list)  # the ids of the requests that were answered
    rate_limit: RateLimit | None = None
    error: errors.MarketError | None = None

    def answered(self, asked: Sequence[str], statuses: tuple[list[OperationResult], RateLimit]) -> None:
        """Take one request's answer: only the ids asked for, of the type asked for (an operation of another
        type says nothing of the one asked about). An answer that contradicts itself is believed in nothing:
        an id listed with two statuses, or one not asked about, leaves the statuses of all it was asked
        unknown (``None``) rather than a guess reported as certain."""
        results, self.rate_limit = statuses
        self.answered_ids.extend(asked)
        wanted = set(asked)
        problem = contradiction(asked, results)
        if problem is not None:
            logger.warning("getOperations answered %s: its statuses are taken as unknown", problem)
            results = [OperationResult(id=id_, type=self.operation_type, status=None) for id_ in asked]
        results = [result for result in results if result.id in wanted and result.type == self.operation_type]
        self.known.update((result.id, result) for result in results)
        if self.learn is not None:
            self.learn(results)

    def seconds_left(self) -> float | None:
        """How long a request of the round may be retried: until the deadline, or as the policy says."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def keeps_going(self, error: errors.MarketError) -> bool:
        """Note a request's error; whether the round's other requests still go. With a deadline (a wait's)
        they do after a failure only for now; without one (``get_operations``) the first failure ends it."""
        self.error = error
        return self.deadline is not None and error.retryable

    def worth_polling_again(self) -> bool:
        """A round that failed only for now (5xx, a timeout, a garbled answer, a limit) is tried again next
        round; one the Market refuses (400, 401, 403) never succeeds."""
        if self.error is not None and self.error.retryable:
            logger.warning("getOperations failed, asking again next round: %s", self.error)
        return self.error is None or self.error.retryable


class PollSchedule:
    """Waits between poll rounds: ``first``, doubling to ``MAX_POLL_INTERVAL``. When the business's remaining
    requests would not last its hourly period even at that slowest interval (other clients spend them too),
    they are spread evenly over what is left of it."""

    def __init__(self, first: float) -> None:
        self._interval = first
        self._ceiling = max(first, MAX_POLL_INTERVAL)

    @property
    def interval(self) -> float:
        """The next wait by the schedule alone, before the budget stretches it."""
        return self._interval

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


class Wait:
    """``wait_for_operations``' state, the same for both clients: what is known, what is still to ask for,
    and when to ask next."""

    def __init__(self, operation_ids: Sequence[str], timeout: float, poll_interval: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.known: dict[str, OperationResult] = {}
        self.pending = list(dict.fromkeys(operation_ids))
        self._schedule = PollSchedule(poll_interval)

    def after(self, polled: Round, held: float) -> float | None:
        """Note a round; seconds until the next one (the last goes at the deadline, and not before the
        business's spent hourly limit resets, ``held`` seconds from now), or ``None`` when the wait is over."""
        self.known.update(polled.known)
        self.pending = [id_ for id_ in self.pending if not (id_ in self.known and self.known[id_].final)]
        left = self.deadline - time.monotonic()
        if not self.pending or left <= 0:
            return None
        wait = max(self._schedule.next_wait(len(requests_for(self.pending)), polled.rate_limit), held)
        return min(wait, left)


@attrs.define
class _Waiting:
    operation_id: str
    outcome: Outcome
    deadline: float  # monotonic


class Confirmations:
    """A batch's started cancellations that wait for a final status: every round asks for all of them at
    once, 100 to a request. One that has not ended ``timeout`` seconds after it started is final as it is
    after the first round that begins past that (``IN_PROGRESS``, or ``None`` when no answer reported it):
    deadlines add no rounds of their own. When the business's hourly budget, not the schedule, puts the
    next round off, a deadline is kept all the same: the outcome is final at it, as last known."""

    def __init__(self, timeout: float, poll_interval: float) -> None:
        self._timeout = timeout
        self._schedule = PollSchedule(poll_interval)
        self._first_wait = poll_interval
        # By the return's index in the batch, oldest first: their deadlines come in the same order.
        self._waiting: dict[int, _Waiting] = {}
        self._by_operation: dict[str, list[int]] = {}
        self._ready: dict[int, None] = {}  # final by status, to be taken out
        # Taken out, kept for a stop report: a Ctrl-C may land between taking and noting them.
        self._taken: dict[int, Outcome] = {}
        self._next_poll: float | None = None
        self._round_started = -math.inf  # a deadline before it has had its last round
        self._budget_bound = False  # the next round waits for the budget, past what the schedule asks

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, index: int, operation_id: str, outcome: Outcome) -> None:
        now = time.monotonic()
        self._waiting[index] = _Waiting(operation_id, outcome, now + self._timeout)
        self._by_operation.setdefault(operation_id, []).append(index)
        if self._next_poll is None:
            self._next_poll = now + self._first_wait

    def due_in(self) -> float | None:
        """Seconds until the next round; ``None`` when nothing waits."""
        if not self._waiting or self._next_poll is None:
            return None
        due = self._next_poll
        if self._budget_bound:
            due = min(due, next(iter(self._waiting.values())).deadline)
        return max(due - time.monotonic(), 0.0)

    def to_poll(self) -> list[str]:
        """The operation ids to ask for now: all that wait, when a round is due; none otherwise."""
        now = time.monotonic()
        if not self._waiting or self._next_poll is None or now < self._next_poll:
            return []
        self._round_started = now
        return [id_ for id_, indexes in self._by_operation.items() if any(i not in self._ready for i in indexes)]

    def last_deadline(self) -> float:
        """The last deadline of those waiting (monotonic): no round's retries need go on longer."""
        return max((waiting.deadline for waiting in self._waiting.values()), default=time.monotonic())

    def learn(self, results: list[OperationResult]) -> None:
        """Note statuses as a round's requests answer."""
        for result in results:
            for index in self._by_operation.get(result.id, ()):
                waiting = self._waiting[index]
                waiting.outcome = attrs.evolve(waiting.outcome, status=result.status)
                if result.final:
                    self._ready[index] = None

    def polled(self, rate_limit: RateLimit | None, held: float) -> None:
        """Schedule the next round after this one, sized by what will still wait, not before the business's
        spent hourly limit resets (``held`` seconds from now)."""
        left = [id_ for id_, indexes in self._by_operation.items() if any(i not in self._ready for i in indexes)]
        requests = max(len(requests_for(left)), 1)
        plain = self._schedule.interval
        wait = max(self._schedule.next_wait(requests, rate_limit), held)
        self._next_poll = time.monotonic() + wait
        self._budget_bound = wait > plain

    def finished(self) -> list[tuple[int, Outcome]]:
        """Take out the outcomes that are final: ``DONE`` or ``FAILED``, or past their deadline and given
        their last round (or none will come before the budget allows it)."""
        indexes = dict(self._ready)
        now = time.monotonic()
        for index, waiting in self._waiting.items():
            if waiting.deadline > self._round_started and not (self._budget_bound and waiting.deadline <= now):
                break  # oldest first: the rest are later still
            indexes[index] = None
        self._ready = {}
        return [(index, self._take(index)) for index in indexes]

    def known(self) -> list[tuple[int, Outcome]]:
        """What is known of every outcome, taken out or still waiting, for a stopped batch's report."""
        return [*self._taken.items(), *((index, waiting.outcome) for index, waiting in self._waiting.items())]

    def _take(self, index: int) -> Outcome:
        waiting = self._waiting[index]
        self._taken[index] = waiting.outcome
        del self._waiting[index]
        indexes = self._by_operation[waiting.operation_id]
        indexes.remove(index)
        if not indexes:
            del self._by_operation[waiting.operation_id]
        return waiting.outcome
