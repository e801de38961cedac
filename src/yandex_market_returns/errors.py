"""Every error the client raises once its arguments are accepted derives from ``MarketError``.

Bad arguments raise ``TypeError`` or ``ValueError`` before any request is sent; nothing else escapes:
no ``KeyError`` or ``JSONDecodeError`` from parsing, no bare httpx exception.

Three attributes let a service act on any of them without reading the message:

- ``may_have_started``: the Market may have carried out the cancellation although no 200 came back
  (an answer was lost, or a gateway answered for it). ``False`` means this call certainly started none.
- ``retryable``: trying again later can succeed.
- ``retry_after``: seconds until trying again is useful (the end of the hourly period, or the next
  backoff), ``None`` when nothing tells.
"""

import builtins
from collections.abc import Sequence
from typing import Any

from ._generated import models
from ._generated import types as generated_types
from ._rate_limit import RateLimit

__all__ = [
    "AbandonedRequestError",
    "ApiError",
    "BadRequestError",
    "ClientClosedError",
    "ConnectionError",
    "ForbiddenError",
    "JournalBusyError",
    "JournalError",
    "LimitsUnavailableError",
    "MarketError",
    "NotFoundError",
    "OutcomeUnknownError",
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

    may_have_started: bool = False
    retryable: bool = False
    retry_after: float | None = None

    def __init__(self, message: str, *, may_have_started: bool | None = None) -> None:
        super().__init__(message)
        if may_have_started is not None:
            self.may_have_started = may_have_started

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (task queues, process pools) rebuilds an exception from its args alone; ours need their keywords.
        return _rebuild, (type(self), self.args, self.__dict__)


class ResponseError(MarketError):
    """The Market (or something in front of it) answered, and the answer is not a started operation.

    ``response`` is the answer as received (status, headers, body) with the key removed wherever a server
    echoed it; it is ``None`` only for a ``RateLimitError`` raised without sending (see there).
    """

    def __init__(
        self,
        message: str,
        *,
        response: generated_types.Response[Any] | None,
        rate_limit: RateLimit | None = None,
        may_have_started: bool | None = None,
    ) -> None:
        super().__init__(message, may_have_started=may_have_started)
        self.response = response
        self.status_code = 420 if response is None else response.status_code
        self.rate_limit = rate_limit if rate_limit is not None else RateLimit.from_headers(_headers(response))


class ApiError(ResponseError):
    """An error status. ``errors`` holds the Market's code/message pairs, empty when the body has none."""

    def __init__(
        self,
        message: str,
        *,
        response: generated_types.Response[Any] | None,
        errors: Sequence[models.ApiErrorDTO],
        rate_limit: RateLimit | None = None,
        may_have_started: bool | None = None,
    ) -> None:
        super().__init__(message, response=response, rate_limit=rate_limit, may_have_started=may_have_started)
        self.errors = list(errors)


class BadRequestError(ApiError):
    """400: the request is wrong, or the return cannot be cancelled (its shipment status is not CREATED).

    Raised only when no attempt of the call may have started the cancellation: then it is certain that
    this call started none (otherwise the call raises ``OutcomeUnknownError``).
    """


class UnauthorizedError(ApiError):
    """401: no credentials, or ones the Market does not know."""


class ForbiddenError(ApiError):
    """403: the key lacks access to this store or to this method."""


class RateLimitError(ApiError):
    """420 (or a proxy's 429): over 4 parallel requests for the store, or over the hourly limit.

    Also raised *without sending* when an earlier answer said the store's hourly limit is spent and the
    period ends after the call's retry budget: then ``response`` is ``None``, ``status_code`` is the 420
    the Market would answer, and ``retry_after`` is the time to the period's end.
    """

    retryable = True


class ServerError(ApiError):
    """5xx: the Market or a proxy in front of it failed.

    For cancelReturn ``may_have_started`` is ``True``: the Market may fail after carrying out the
    cancellation (its own 500), and a gateway's 502/503/504 may have passed the request on.
    """

    retryable = True


class UnexpectedStatusError(ApiError):
    """A status the method does not document (404, 405, 415, a redirect, ...)."""


class NotFoundError(UnexpectedStatusError):
    """404: the Market has no such resource. getReturn documents it: the store has no such return in that
    order. (An ``UnexpectedStatusError`` too, as a 404 of the other methods always was.)"""


class UnexpectedResponseError(ResponseError):
    """The body is not what the spec promises: not JSON, an HTML page, truncated, or the wrong shape.

    On a 2xx status the cancellation may have started even so (``may_have_started``): find out before
    trying again.
    """


class TransportError(MarketError):
    """No complete answer arrived. ``may_have_started`` tells whether the request may have reached the Market."""


class ConnectionError(TransportError, builtins.ConnectionError):
    """The connection failed, or broke before the answer was complete; wraps httpx's exception (``__cause__``).

    A refused connection never reached the Market; a connection that broke after the request was
    written may have (``may_have_started``).
    """

    retryable = True


class TimeoutError(TransportError, builtins.TimeoutError):
    """No answer within the timeout; wraps httpx's exception (see ``__cause__``).

    A connect or pool timeout never reached the Market; a read or write timeout may have
    (``may_have_started``), and the Market may still be working on it.
    """

    retryable = True


class AbandonedRequestError(TransportError):
    """The call was stopped (its task cancelled) while its request was in flight: the Market may have
    carried it out. Only ever seen in the outcomes of a stopped batch."""

    may_have_started = True
    retryable = True


class LimitsUnavailableError(MarketError):
    """The shared limits (``RedisLimits``) could not be reached, so the request was not sent: certain.

    Retried like a connection that could not be made, within the call's budget. ``RedisLimits`` with
    ``on_unavailable="local"`` keeps this process's own limits meanwhile instead.
    """

    retryable = True


class OutcomeUnknownError(MarketError):
    """An earlier attempt of the call may have started the cancellation, and the call ended in an error.

    Typically the answer to an attempt was lost (a timeout, a dropped connection), the retry was answered
    400 because the return is no longer ``CREATED``, and nobody can tell from here whether this call's
    lost attempt is what cancelled it. ``attempts`` holds every attempt's error, oldest first; the last
    one is also ``__cause__``. Look the return up (or its operation, with getOperations) before acting.
    """

    may_have_started = True

    def __init__(self, message: str, *, attempts: Sequence[MarketError]) -> None:
        super().__init__(message)
        self.attempts = tuple(attempts)
        self.retryable = self.attempts[-1].retryable
        self.retry_after = self.attempts[-1].retry_after


class ClientClosedError(RuntimeError):
    """The client was closed: it sends nothing more. Not a ``MarketError``: the Market was not asked."""


class JournalError(Exception):
    """The batch's journal could not be read or written: the batch does not go on without it, since what it
    learns would be lost with the process. Not a ``MarketError``: the Market was not asked."""


class JournalBusyError(JournalError):
    """Another run holds the journal: two runs interleaved in one journal would each take the other's entries
    for its own. Wait for it to end, or give this run a journal of its own."""


def _headers(response: generated_types.Response[Any] | None) -> Any:
    return {} if response is None else response.headers


def _rebuild(kind: type[MarketError], args: tuple[Any, ...], state: dict[str, Any]) -> MarketError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error
