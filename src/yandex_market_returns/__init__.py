"""Cancel Yandex Market returns: typed errors, checked arguments, retries and pacing within the Market's limits.

A thin layer over the generated ``yandex_market_returns_client``; it never patches it.
"""

from typing import TYPE_CHECKING

from . import errors
from .base import API_KEY_VARIABLE
from .client import ReturnsClient
from .generated import models
from .journal import Journal, JournalEntry, SqliteJournal
from .rate_limit import RateLimit
from .results import Operation, OperationResult, Outcome, ReturnRecord, ReturnState, Source, Verdict
from .validation import SPEC_VERSION

OperationStatusType = models.OperationStatusType
OperationType = models.OperationType
ReturnShipmentStatusType = models.ReturnShipmentStatusType

if TYPE_CHECKING:
    from .async_client import AsyncReturnsClient

__version__ = SPEC_VERSION  # info.version of openapi.yaml


def __getattr__(name: str) -> object:
    # The async client (and asyncio with it) is imported by those who use it, not by every import.
    if name == "AsyncReturnsClient":
        from .async_client import AsyncReturnsClient

        return AsyncReturnsClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "API_KEY_VARIABLE",
    "AsyncReturnsClient",
    "Journal",
    "JournalEntry",
    "Operation",
    "OperationResult",
    "OperationStatusType",
    "OperationType",
    "Outcome",
    "RateLimit",
    "ReturnRecord",
    "ReturnShipmentStatusType",
    "ReturnState",
    "ReturnsClient",
    "Source",
    "SqliteJournal",
    "Verdict",
    "__version__",
    "errors",
]
