"""Cancel Yandex Market returns: typed errors, checked arguments, retries and pacing within the Market's limits.

A thin layer over the generated ``yandex_market_returns_client``; it never patches it.
"""

from typing import TYPE_CHECKING

from . import errors
from ._base import API_KEY_VARIABLE
from ._client import ReturnsClient
from ._generated import models
from ._journal import Journal, JournalEntry, SqliteJournal
from ._rate_limit import RateLimit
from ._results import Operation, OperationResult, Outcome, ReturnRecord, ReturnState, Source, Verdict
from ._validation import SPEC_VERSION

OperationStatusType = models.OperationStatusType
OperationType = models.OperationType
ReturnShipmentStatusType = models.ReturnShipmentStatusType

if TYPE_CHECKING:
    from ._async_client import AsyncReturnsClient

__version__ = SPEC_VERSION  # info.version of openapi.yaml


def __getattr__(name: str) -> object:
    # The async client (and asyncio with it) is imported by those who use it, not by every import.
    if name == "AsyncReturnsClient":
        from ._async_client import AsyncReturnsClient

        AsyncReturnsClient.__module__ = __name__
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

# Public classes name the module users import them from, in reprs, signatures and pickles (as httpx's do): a
# private module that moves breaks none of them.
for _public in __all__:
    if isinstance(globals().get(_public), type) and globals()[_public].__module__.startswith(f"{__name__}._"):
        globals()[_public].__module__ = __name__
del _public
