"""Cancel Yandex Market returns: typed errors, checked arguments, retries and pacing within the Market's limits.

A thin layer over the generated ``yandex_market_returns_client``; it never patches it.
"""

from yandex_market_returns_client.models import OperationStatusType, OperationType

from . import errors
from .async_client import AsyncReturnsClient
from .base import API_KEY_VARIABLE
from .client import ReturnsClient
from .rate_limit import RateLimit
from .results import Operation, OperationResult, Outcome
from .validation import SPEC_VERSION

__version__ = SPEC_VERSION  # info.version of openapi.yaml

__all__ = [
    "API_KEY_VARIABLE",
    "AsyncReturnsClient",
    "Operation",
    "OperationResult",
    "OperationStatusType",
    "OperationType",
    "Outcome",
    "RateLimit",
    "ReturnsClient",
    "__version__",
    "errors",
]
