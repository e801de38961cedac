"""Settling what the answers could not tell, by the return's own record: the same for both clients, no I/O.

A lost answer, a 5xx, an operation never seen to end, a 400 that may mean "cancelled before": the Market's
record of the return says where it ended, by getReturn when its order is known, else among the store's returns
by getReturns (those ``CREATED``, and those ``CANCELLED``: every one once, then those updated since the batch
began). ``CANCELLED``: cancelled; ``CREATED``: not cancelled, so once any cancellation that may be running has
had ``confirm_timeout`` to end, it is sent again, once; anything else: not cancellable.
"""

import enum
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import attrs

from .errors import MarketError
from .operations import Confirmations, PollSchedule
from .results import Outcome, ReturnRecord, ReturnState, Source, Verdict

# A record updated this long before a request of ours went out was cancelled by someone else: clocks differ.
_SKEW = timedelta(seconds=60)


class _Kind(enum.Enum):
    REFUSED = "refused"  # a 400 that no request of ours may have caused: cancelled before, or not cancellable
    MAYBE = "maybe"  # a request of ours may have started it, and no operation id came back
    UNCONFIRMED = "unconfirmed"  # its operation started and was not seen to end


@attrs.define
class _Pending:
    outcome: Outcome
    kind: _Kind
    since: datetime  # UTC: the earliest the cancellation can have been recorded
    deadline: float  # monotonic: a cancellation of ours would have ended by then
    created: bool = False  # seen among the store's CREATED returns: it stays so until it is CANCELLED


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
        self._history: dict[int, ReturnRecord] | None = None  # every CANCELLED return, read once
        self._reading_history = False

    def __bool__(self) -> bool:
        return bool(self._pending)

    def take(self, index: int, outcome: Outcome, since: datetime | None = None) -> bool:
        """Hold ``outcome`` for its record when it needs one (``since``: when an earlier run's request went
        out); ``False`` when it is certain as it stands."""
        kind = _kind(outcome)
        if kind is None:
            return False
        if index in self._resent and kind is _Kind.REFUSED:
            kind = _Kind.MAYBE  # refused now, but the first request may have cancelled it
        now = time.monotonic()
        # This run's request has just ended; an earlier run's went out at ``since``.
        waited = 0.0 if since is None else max((datetime.now(since.tzinfo) - since).total_seconds(), 0.0)
        deadline = now + max(self._timeout - waited, 0.0)
        self._pending[index] = _Pending(outcome, kind, since or self._began, deadline)
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
        """Whether a look must read the store's CREATED returns: a return waits, order unknown, not seen there."""
        return any(
            not pending.created and pending.outcome.return_id not in self._order_ids
            for pending in self._pending.values()
        )

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
        """Take a look's records (getReturn's; getReturns' ``CANCELLED`` ones, and its ``CREATED`` ones when
        ``created_read``), or the ``error`` it failed with: the outcomes it settles, and the returns to send
        again."""
        now = time.monotonic()
        found: dict[int, ReturnRecord] = {}
        for record in records:  # a return cancelled between the two pages' reads is in both: CANCELLED wins
            if record.id not in found or record.cancelled:
                found[record.id] = record
        if self._reading_history and error is None:
            self._history = {record.id: record for record in records if record.cancelled}
        self._reading_history = False
        settled: list[tuple[int, Outcome]] = []
        again: list[tuple[int, Outcome]] = []
        for index, pending in list(self._pending.items()):
            return_id = pending.outcome.return_id
            known = found.get(return_id)
            if known is None and self._history is not None:
                known = self._history.get(return_id)
            pending.created = pending.created or (known is not None and known.cancellable)
            # Not found, when every CREATED and CANCELLED return was read: another status.
            among = created_read and not pending.created and return_id not in self._order_ids
            verdict = _verdict(pending, known, among, error, now, index in self._resent)
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


def next_round_in(confirmations: Confirmations | None, settlement: Settlement) -> float | None:
    """Seconds until a batch's next round of either kind; ``None`` when neither waits."""
    waits = [
        wait for wait in (confirmations.due_in() if confirmations else None, settlement.due_in()) if wait is not None
    ]
    return min(waits, default=None)


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
    pending: _Pending,
    record: ReturnRecord | None,
    among: bool,
    error: MarketError | None,
    now: float,
    resent: bool,
) -> Verdict | None:
    """The verdict on one return after a look (``among``: its absence from the store's ``CREATED`` and
    ``CANCELLED`` returns means another status); ``None`` to leave it as it stands, ``_WAIT`` for another
    look, ``_SEND_AGAIN`` to send it again."""
    if error is not None:  # the Market could not be asked
        if pending.kind is _Kind.UNCONFIRMED:
            return None  # its operation stands as getOperations left it
        if error.retryable and now < pending.deadline:
            return _WAIT
        return Verdict(ReturnState.UNKNOWN, Source.REQUEST, f"its record could not be read: {error}")
    if record is not None and record.cancelled:
        before = record.updated_at is not None and record.updated_at < pending.since - _SKEW
        already = pending.kind is _Kind.REFUSED or before
        state = ReturnState.ALREADY_CANCELLED if already else ReturnState.CANCELLED
        when = "" if record.updated_at is None else f" since {record.updated_at.isoformat()}"
        return Verdict(state, Source.RECORD, f"its record: shipmentStatus CANCELLED{when}")
    if pending.kind is _Kind.UNCONFIRMED:
        return None
    if record is not None and not record.cancellable:  # RECEIVED, PICKED, ...: no longer cancellable
        status = "none" if record.shipment_status is None else str(record.shipment_status.value)
        return Verdict(ReturnState.NOT_CANCELLABLE, Source.RECORD, f"its record: shipmentStatus {status}")
    if record is None and among:
        why = "its record is neither CANCELLED nor CREATED among the store's returns"
        return Verdict(ReturnState.NOT_CANCELLABLE, Source.RECORD, why)
    if now < pending.deadline:
        return _WAIT  # CREATED: a cancellation (ours, or another's the 400 spoke of) may still be running
    if not resent:
        return _SEND_AGAIN
    why = "its record: shipmentStatus CREATED when sent twice: not cancelled, and safe to send again"
    return Verdict(ReturnState.NOT_SENT, Source.RECORD, why)
