"""What a cancellation gives back, and what getOperations tells of it."""

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
