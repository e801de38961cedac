"""What a cancellation gives back."""

from attrs import frozen

from yandex_market_returns_client.models import OperationType

from .errors import MarketError
from .rate_limit import RateLimit


@frozen
class Operation:
    """A started cancellation. A 200 only means this operation began; getOperations tells how it ended.

    ``type`` is an ``OperationType`` and compares equal to its string; a type this client does not
    know yet keeps the raw string as its value.
    """

    id: str
    type: OperationType
    rate_limit: RateLimit


@frozen
class Outcome:
    """One return's result in a batch: exactly one of ``operation`` and ``error`` is set."""

    return_id: int
    operation: Operation | None = None
    error: MarketError | None = None

    @property
    def ok(self) -> bool:
        return self.operation is not None
