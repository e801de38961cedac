"""Settling what the answers could not tell, by the return's own record: the same for both clients, no I/O.

A lost answer, a 5xx, an operation never seen to end, a 400 that may mean "cancelled before": the Market's
record of the return says where it ended, by getReturn when its order is known, else among the store's returns
by getReturns: those ``CANCELLED`` (every one once a batch, then those updated since it began) and those
``CREATED`` (once a batch). ``CANCELLED``: cancelled; ``CREATED``: not cancelled, so once any cancellation that
may be running has had ``confirm_timeout`` to end, it is sent again, once; anything else: not cancellable.
"""

import enum
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import attrs

from ._confirmations import Confirmations, PollSchedule
from ._results import Outcome, ReturnRecord, ReturnState, Source, Verdict
from .errors import BadRequestError, MarketError, OutcomeUnknownError

# A record updated this long before a request of ours went out was cancelled by someone else: the Market writes
# whole seconds, and its clock is not ours.
_SKEW = timedelta(seconds=2)


class _Kind(enum.Enum):
    REFUSED = "refused"  # a 400 that no request of ours may have caused: cancelled before, or not cancellable
    MAYBE = "maybe"  # a request of ours may have started it, and no operation id came back
    UNCONFIRMED = "unconfirmed"  # its operation started and was not seen to end


@attrs.define
class _Pending:
    outcome: Outcome
    kind: _Kind
    since: datetime  # UTC: the earliest a request of ours for it can have gone out
    deadline: float  # monotonic: a cancellation of ours would have ended by then


class Settlement:
    """A batch's returns that wait for their record. ``timeout`` is the batch's ``confirm_timeout``: how long
    after its request a cancellation of ours may still be running; ``began`` is when the batch began."""

    def __init__(self, timeout: float, poll_interval: float, began: datetime, order_ids: Mapping[int, int]) -> None:
        self._timeout = timeout
        self._order_ids = dict(order_ids)  # return id -> order id: getReturn asks for those; getReturns the rest
        self._first_wait = poll_interval
        self._schedule = PollSchedule(poll_interval)
        self._began = began
        self._pending: dict[int, _Pending] = {}
        self._resent: set[int] = set()
        self._next_look: float | None = None
        self._history: dict[int, ReturnRecord] | None = None  # every CANCELLED return, read once a batch
        self._reading_history = False
        self._created: set[int] | None = None  # the CREATED returns' ids, read once a batch

    def __bool__(self) -> bool:
        return bool(self._pending)

    def take(
        self,
        index: int,
        outcome: Outcome,
        since: datetime | None = None,
        learnt_late: bool = False,
        sent_at: datetime | None = None,
    ) -> bool:
        """Hold ``outcome`` for its record when it needs one; ``False`` when it is certain as it stands. ``since``:
        when an earlier run wrote it to the journal, just before its request went out, or (``learnt_late``) once
        that run had waited for it in vain; ``sent_at``: when this run's first request for it went out."""
        kind = _kind(outcome)
        if kind is None:
            return False
        if index in self._resent and kind is _Kind.REFUSED:
            kind = _Kind.MAYBE  # refused now, but the first request may have cancelled it
        now = time.monotonic()
        # This run's request has just ended; an earlier run's went out at ``since``, or ``timeout`` before it.
        waited = 0.0 if since is None else max((datetime.now(since.tzinfo) - since).total_seconds(), 0.0)
        deadline = now + max(self._timeout - waited, 0.0)
        sent = (
            sent_at or self._began if since is None else since - timedelta(seconds=self._timeout if learnt_late else 0)
        )
        self._pending[index] = _Pending(outcome, kind, sent - _SKEW, deadline)
        if self._next_look is None:
            self._next_look = now + self._first_wait
        return True

    def due_in(self) -> float | None:
        """Seconds until the next look at the records; ``None`` when nothing waits."""
        if not self._pending or self._next_look is None:
            return None
        return max(self._next_look - time.monotonic(), 0.0)

    def by_order(self) -> list[tuple[int, int]]:
        """(return id, order id) of each waiting return whose order is known: getReturn reads its record."""
        wanted = (pending.outcome.return_id for pending in self._pending.values())
        return [(return_id, self._order_ids[return_id]) for return_id in wanted if return_id in self._order_ids]

    def not_in_order(self, return_id: int) -> None:
        """getReturn knows no such return in the order given (404): it is looked up among the store's."""
        self._order_ids.pop(return_id, None)

    def scan_needed(self) -> bool:
        """Whether a return waits whose order is not known: then getReturns reads the store's returns."""
        return any(pending.outcome.return_id not in self._order_ids for pending in self._pending.values())

    def created_needed(self) -> bool:
        """Whether a look must read the store's CREATED returns: the first that reads the store's returns."""
        return self._created is None

    def from_date(self) -> date | None:
        """The first day whose updates the ``CANCELLED`` returns' pages must read: every one the first time (a
        refusal may be an old cancellation; kept for the batch: a cancelled return stays cancelled), then from
        the first request a waiting return may have been cancelled by, a day early whatever the time zone."""
        if self._history is None:
            self._reading_history = True
            return None
        return (min([self._began, *(p.since for p in self._pending.values())]) - timedelta(days=1)).date()

    def looked(
        self, records: Sequence[ReturnRecord], error: MarketError | None = None, created_read: bool = False
    ) -> tuple[list[tuple[int, Outcome]], list[tuple[int, Outcome]]]:
        """Take a look's records (getReturn's; getReturns' ``CREATED`` ones, every page of them when
        ``created_read``, then its ``CANCELLED`` ones) and the ``error`` it failed with, if it did (the records
        read before it still count): the outcomes it settles, and the returns to send again."""
        now = time.monotonic()
        found: dict[int, ReturnRecord] = {}
        for record in records:  # a return cancelled between the two reads is in both: CANCELLED wins
            if record.id not in found or record.cancelled:
                found[record.id] = record
        if self._reading_history and error is None:
            self._history = {record.id: record for record in records if record.cancelled}
        self._reading_history = False
        if created_read:
            self._created = {record.id for record in records if record.cancellable}
        settled: list[tuple[int, Outcome]] = []
        again: list[tuple[int, Outcome]] = []
        for index, pending in list(self._pending.items()):
            verdict = _verdict(pending, self._status(pending, found), error, now, index in self._resent)
            if verdict is _WAIT:
                continue
            del self._pending[index]
            if verdict is _SEND_AGAIN:
                self._resent.add(index)
                again.append((index, pending.outcome))
            else:
                settled.append(
                    (index, pending.outcome if verdict is None else attrs.evolve(pending.outcome, verdict=verdict))
                )
        self._next_look = now + self._schedule.next_wait(1, None)
        waiting = [pending.deadline for pending in self._pending.values() if pending.deadline > now]
        if waiting:
            self._next_look = min(self._next_look, min(waiting))
        return settled, again

    def unsettled(self) -> list[tuple[int, Outcome]]:
        """What waits, as it stands: for a stopped batch's report."""
        return [(index, pending.outcome) for index, pending in self._pending.items()]

    def _status(self, pending: _Pending, found: Mapping[int, ReturnRecord]) -> ReturnRecord | str | None:
        """Its record, when a look found it; else "CREATED" or "other" by the store's CREATED returns; ``None``
        when nothing tells yet."""
        return_id = pending.outcome.return_id
        record = found.get(return_id)
        if record is None and self._history is not None:
            record = self._history.get(return_id)
        if record is not None and (record.cancelled or return_id in self._order_ids):
            return record
        if return_id in self._order_ids or self._created is None:
            return None
        return "CREATED" if return_id in self._created else "other"


def next_round_in(confirmations: Confirmations | None, settlement: Settlement) -> float | None:
    """Seconds until a batch's next round of either kind; ``None`` when neither waits."""
    waits = (confirmations.due_in() if confirmations else None, settlement.due_in())
    return min((wait for wait in waits if wait is not None), default=None)


_WAIT = Verdict(ReturnState.UNKNOWN, Source.REQUEST, "wait")
_SEND_AGAIN = Verdict(ReturnState.NOT_SENT, Source.RECORD, "send again")


def _kind(outcome: Outcome) -> _Kind | None:
    state = outcome.state
    if state is ReturnState.UNKNOWN:
        return _Kind.MAYBE
    if state is ReturnState.NOT_CANCELLABLE and outcome.source is Source.REQUEST:
        return _Kind.REFUSED
    if state is ReturnState.IN_PROGRESS and outcome.operation is not None:
        return _Kind.UNCONFIRMED
    return None


def _verdict(
    pending: _Pending, status: ReturnRecord | str | None, error: MarketError | None, now: float, resent: bool
) -> Verdict | None:
    """The verdict on one return after a look; ``None`` to leave it as it stands, ``_WAIT`` for another look,
    ``_SEND_AGAIN`` to send it again."""
    if isinstance(status, ReturnRecord) and status.cancelled:
        before = status.updated_at is not None and status.updated_at < pending.since
        already = pending.kind is _Kind.REFUSED or before
        state = ReturnState.ALREADY_CANCELLED if already else ReturnState.CANCELLED
        when = "" if status.updated_at is None else f" since {status.updated_at.isoformat()}"
        return Verdict(state, Source.RECORD, f"its record: shipmentStatus CANCELLED{when}")
    if pending.kind is _Kind.UNCONFIRMED and (error is not None or status is not None):
        return None  # its operation stands as getOperations left it
    if error is not None or status is None:  # the Market could not be asked, or nothing tells yet
        if now < pending.deadline and (error is None or error.retryable):
            return _WAIT
        why = "nothing told" if error is None else f"its record could not be read: {error}"
        return Verdict(ReturnState.UNKNOWN, Source.REQUEST, why)
    created = status == "CREATED" or (isinstance(status, ReturnRecord) and status.cancellable)
    if not created:  # RECEIVED, PICKED, ...: no longer cancellable
        shown = status.shipment_status if isinstance(status, ReturnRecord) else None
        what = f"shipmentStatus {'none' if shown is None else shown.value}" if isinstance(status, ReturnRecord) else ""
        why = f"its record: {what}" if what else "its record is neither CANCELLED nor CREATED among the store's"
        return Verdict(ReturnState.NOT_CANCELLABLE, Source.RECORD, why)
    if now < pending.deadline:
        return _WAIT  # CREATED: a cancellation (ours, or another's the 400 spoke of) may still be running
    if not resent:
        return _SEND_AGAIN
    refused = _refused(pending.outcome.error)
    why = (
        "refused when sent again while its record stays CREATED: a cancellation may be running longer than "
        "confirm_timeout"
        if refused
        else "its record stays CREATED after a second request whose answer was lost"
    )
    return Verdict(ReturnState.UNKNOWN, Source.RECORD, why)


def _refused(error: MarketError | None) -> bool:
    if isinstance(error, OutcomeUnknownError):
        error = error.attempts[-1]
    return isinstance(error, BadRequestError)
