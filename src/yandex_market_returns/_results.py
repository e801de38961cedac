"""What a cancellation gives back, what getOperations tells of it, the Market's own record of a return, and
where each return ended."""

import enum
from datetime import datetime

from attrs import frozen

from ._generated import models
from ._rate_limit import RateLimit
from .errors import BadRequestError, MarketError


class ReturnState(enum.StrEnum):
    """Where a return ended, in one word: a closed set (see "Where a return ends" in docs/guide.md)."""

    #: The Market cancelled it: its operation is ``DONE``, or its record shows it ``CANCELLED`` after a
    #: request of ours may have started the cancellation.
    CANCELLED = "cancelled"
    #: It was cancelled before: the Market refused (400) and its record shows it ``CANCELLED``.
    ALREADY_CANCELLED = "already_cancelled"
    #: The cancellation operation ended ``FAILED``: the return keeps its shipment status.
    FAILED = "failed"
    #: The Market refused to cancel it (400): its shipment status is not ``CREATED``, or it is unknown.
    NOT_CANCELLABLE = "not_cancellable"
    #: The cancellation started and had not been seen to end (``IN_PROGRESS`` at the timeout, or not
    #: confirmed: no ``business_id``); a rerun with the journal confirms it.
    IN_PROGRESS = "in_progress"
    #: No cancellation started: the batch stopped before sending it, or the Market refused the request
    #: without acting on it (401, 403, a spent limit, ...). Sending it again is safe.
    NOT_SENT = "not_sent"
    #: A request may have started the cancellation and the Market could not be asked how it ended.
    UNKNOWN = "unknown"


#: The states a rerun reports from the journal without asking the Market again.
FINAL_STATES = frozenset(
    {ReturnState.CANCELLED, ReturnState.ALREADY_CANCELLED, ReturnState.FAILED, ReturnState.NOT_CANCELLABLE}
)


class Source(enum.StrEnum):
    """Where the verdict on a return came from."""

    #: getOperations: the status of the operation the cancellation started.
    OPERATION = "operation"
    #: The return's own record (getReturn, getReturns): its ``shipmentStatus``.
    RECORD = "record"
    #: cancelReturn's own answer, or no request at all.
    REQUEST = "request"
    #: An earlier run, by the journal it kept.
    JOURNAL = "journal"


@frozen
class Verdict:
    """A return's state as settled by what the answers alone cannot tell: its record, or the journal."""

    state: ReturnState
    source: Source
    detail: str | None = None  # what settled it, for a reader: "shipmentStatus RECEIVED"


@frozen
class Operation:
    """A started cancellation. A 200 only means this operation began; getOperations tells how it ended.

    ``type`` is an ``OperationType`` and compares equal to its string; a type this client does not
    know yet keeps the raw string as its value.
    """

    id: str
    type: models.OperationType
    rate_limit: RateLimit


@frozen
class OperationResult:
    """How far an operation got, by getOperations.

    ``status`` is an ``OperationStatusType`` (open, like ``OperationType``: a status this client does not
    know yet keeps the raw string): ``DONE`` (for a cancellation: the return is cancelled), ``FAILED`` (it
    is not), ``IN_PROGRESS``; ``None`` when the Market did not report the operation at all.
    """

    id: str
    type: models.OperationType
    status: models.OperationStatusType | None

    @property
    def final(self) -> bool:
        """Whether the status can change no more: ``DONE`` or ``FAILED``."""
        return self.status in (models.OperationStatusType.DONE, models.OperationStatusType.FAILED)


@frozen
class Outcome:
    """One return's result in a batch: at most one of ``operation`` and ``error`` is set (a return reported
    from the journal may have neither: its ``verdict`` says what an earlier run learnt). ``state`` says where
    it ended, in one word.

    When the batch confirms (``business_id`` given), ``status`` is the operation's last status by
    getOperations: ``DONE``, ``FAILED``, ``IN_PROGRESS`` when it had not ended at the confirmation timeout,
    ``None`` when the Market never reported it (or nothing was started).
    """

    return_id: int
    operation: Operation | None = None
    error: MarketError | None = None
    status: models.OperationStatusType | None = None
    verdict: Verdict | None = None  # set when the return's record or the journal settled it

    @property
    def state(self) -> ReturnState:
        """Where the return ended (see ``ReturnState``)."""
        return self._judged()[0]

    @property
    def source(self) -> Source:
        """Where ``state`` came from (see ``Source``)."""
        return self._judged()[1]

    def _judged(self) -> tuple[ReturnState, Source]:
        if self.verdict is not None:
            return self.verdict.state, self.verdict.source
        if self.operation is not None:
            if self.status == models.OperationStatusType.DONE:
                return ReturnState.CANCELLED, Source.OPERATION
            if self.status == models.OperationStatusType.FAILED:
                return ReturnState.FAILED, Source.OPERATION
            return ReturnState.IN_PROGRESS, Source.REQUEST if self.status is None else Source.OPERATION
        if self.error is None:
            return ReturnState.NOT_SENT, Source.REQUEST
        if self.error.may_have_started:
            return ReturnState.UNKNOWN, Source.REQUEST
        if isinstance(self.error, BadRequestError):
            return ReturnState.NOT_CANCELLABLE, Source.REQUEST
        return ReturnState.NOT_SENT, Source.REQUEST

    @property
    def ok(self) -> bool:
        """The cancellation started (a 200); whether it succeeded is ``cancelled``."""
        return self.operation is not None

    @property
    def cancelled(self) -> bool:
        """The return is cancelled: by this cancellation (its operation ``DONE``, or its record), or before."""
        return self.state in (ReturnState.CANCELLED, ReturnState.ALREADY_CANCELLED)


@frozen
class ReturnRecord:
    """The Market's own record of a return, by getReturn or getReturns.

    ``shipment_status`` is a ``ReturnShipmentStatusType`` (open, like ``OperationType``: a status this client
    does not know yet keeps the raw string), ``None`` when the Market leaves it out (a fast refund where the
    buyer keeps the item). For a cancellation: ``CANCELLED`` means the return is cancelled, ``CREATED`` that
    it is not (and can still be), anything else that it is not and no longer can be. ``updated_at`` is when
    the Market last changed it (a change of status included), timezone-aware; ``None`` when not given.
    """

    id: int
    order_id: int
    shipment_status: models.ReturnShipmentStatusType | None
    updated_at: datetime | None

    @property
    def cancelled(self) -> bool:
        """The return is cancelled: its shipment status is ``CANCELLED``."""
        return self.shipment_status == models.ReturnShipmentStatusType.CANCELLED

    @property
    def cancellable(self) -> bool:
        """The return can still be cancelled: its shipment status is ``CREATED``."""
        return self.shipment_status == models.ReturnShipmentStatusType.CREATED
