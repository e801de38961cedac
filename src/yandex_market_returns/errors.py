"""Every error the client raises once its arguments are accepted derives from ``MarketError``.

Bad arguments raise ``TypeError`` or ``ValueError`` before any request is sent; nothing else escapes:
no ``KeyError`` or ``JSONDecodeError`` from parsing, no bare httpx exception.
"""

import builtins
from collections.abc import Sequence
from typing import Any

from yandex_market_returns_client.models import ApiErrorDTO
from yandex_market_returns_client.types import Response

from .rate_limit import RateLimit

__all__ = [
    "ApiError",
    "BadRequestError",
    "ConnectionError",
    "ForbiddenError",
    "MarketError",
    "RateLimitError",
    "ResponseError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "UnexpectedStatusError",
]


class MarketError(Exception):
    """Base class of the errors raised by a call to the Market."""


class ResponseError(MarketError):
    """The Market (or something in front of it) answered, and the answer is not a started operation."""

    def __init__(self, message: str, *, response: Response[Any]) -> None:
        super().__init__(message)
        self.response = response  # the answer as received: status, headers, body
        self.status_code = response.status_code
        self.rate_limit = RateLimit.from_headers(response.headers)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (task queues, process pools) rebuilds an exception from its args alone; ours need their keywords.
        return _rebuild, (type(self), self.args, self.__dict__)


class ApiError(ResponseError):
    """An error status. ``errors`` holds the Market's code/message pairs, empty when the body has none."""

    def __init__(self, message: str, *, response: Response[Any], errors: Sequence[ApiErrorDTO]) -> None:
        super().__init__(message, response=response)
        self.errors = list(errors)


class BadRequestError(ApiError):
    """400: the request is wrong, or the return cannot be cancelled (its shipment status is not CREATED)."""


class UnauthorizedError(ApiError):
    """401: no credentials, or ones the Market does not know."""


class ForbiddenError(ApiError):
    """403: the key lacks access to this store or to this method."""


class RateLimitError(ApiError):
    """420 (or a proxy's 429): over 4 parallel requests for the store, or over the hourly limit."""


class ServerError(ApiError):
    """5xx: the Market or a proxy in front of it failed."""


class UnexpectedStatusError(ApiError):
    """A status the method does not document (404, 405, 415, a redirect, ...)."""


class UnexpectedResponseError(ResponseError):
    """The body is not what the spec promises: not JSON, an HTML page, truncated, or the wrong shape.

    On a 2xx status the cancellation may have started even so: check with getOperations before retrying.
    """


class TransportError(MarketError):
    """No complete answer arrived. The request may or may not have reached the Market."""


class ConnectionError(TransportError, builtins.ConnectionError):
    """The connection failed or broke mid-answer; wraps httpx's exception (see ``__cause__``)."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """No answer within the timeout; wraps httpx's exception (see ``__cause__``)."""


def _rebuild(kind: type[ResponseError], args: tuple[Any, ...], state: dict[str, Any]) -> ResponseError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error
