"""What a cancellation gives back, what getOperations tells of it, and the Market's own record of a return."""

from datetime import datetime

from attrs import frozen

from .errors import MarketError
from .generated import models
from .rate_limit import RateLimit


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
    """One return's result in a batch: exactly one of ``operation`` and ``error`` is set.

    When the batch confirms (``business_id`` given), ``status`` is the operation's last status by
    getOperations: ``DONE``, ``FAILED``, ``IN_PROGRESS`` when it had not ended at the confirmation timeout,
    ``None`` when the Market never reported it (or nothing was started).
    """

    return_id: int
    operation: Operation | None = None
    error: MarketError | None = None
    status: models.OperationStatusType | None = None

    @property
    def ok(self) -> bool:
        """The cancellation started (a 200); whether it succeeded is ``cancelled``."""
        return self.operation is not None

    @property
    def cancelled(self) -> bool:
        """The Market confirmed the cancellation: its operation is ``DONE``."""
        return self.status == models.OperationStatusType.DONE


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
