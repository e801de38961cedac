"""Turns what came back from one request into an ``Operation`` or one of our errors."""

import json

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.models import ApiErrorDTO, ApiErrorResponse, ApiResponseStatusType
from yandex_market_returns_client.models import CancelReturnResponse as _Success
from yandex_market_returns_client.types import UNSET, Response, Unset

from . import errors
from .rate_limit import RateLimit
from .redaction import Redactor
from .results import Operation
from .validation import OPERATION_ID_LENGTH

Answer = Response[ApiErrorResponse | _Success]

_ERRORS_BY_STATUS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequestError,
    401: errors.UnauthorizedError,
    403: errors.ForbiddenError,
    420: errors.RateLimitError,
    429: errors.RateLimitError,
}
# A gateway's answer without the Market's body: the request may have been passed on and carried out.
_GATEWAY_STATUSES = (502, 503, 504)
# httpx errors raised before the request left: nothing reached the Market.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)


def unparsed(error: generated_errors.UnexpectedResponse) -> Answer:
    """The generated client gave up on the body; keep the answer so its status still decides."""
    return Response(status_code=error.status_code, content=error.content, headers=error.headers, parsed=None)


def interpret(
    answer: Answer, call: str, redactor: Redactor, cause: BaseException | None = None
) -> Operation | errors.ResponseError:
    result = _interpret(answer, call, redactor)
    if isinstance(result, errors.ResponseError) and cause is not None:
        result.__cause__ = redactor.exception(cause)
    return result


def _interpret(answer: Answer, call: str, redactor: Redactor) -> Operation | errors.ResponseError:
    if answer.status_code == 200:
        return _operation(answer, call, redactor)
    if 200 <= answer.status_code < 300:
        message = (
            f"{call}: status {answer.status_code} is not one the method answers; the cancellation may have started"
        )
        return errors.UnexpectedResponseError(
            redactor.text(message), response=redactor.response(answer), may_have_started=True
        )
    details = redactor.details(_error_details(answer))
    kind = _ERRORS_BY_STATUS.get(answer.status_code)
    if kind is None:
        kind = errors.ServerError if 500 <= answer.status_code < 600 else errors.UnexpectedStatusError
    summary = "; ".join(
        f"{detail.code}: {detail.message}" if isinstance(detail.message, str) else detail.code for detail in details
    )
    status = f"{answer.status_code} {_reason(answer.status_code)}".rstrip()
    message = f"{call}: {status}: {summary or 'no error details (' + _describe_body(answer) + ')'}"
    passed_on = answer.status_code in _GATEWAY_STATUSES and not details
    if passed_on:
        message += "; a gateway answered, the cancellation may have started"
    return kind(redactor.text(message), response=redactor.response(answer), errors=details, may_have_started=passed_on)


def transport_error(error: httpx.RequestError, call: str, redactor: Redactor) -> errors.TransportError:
    """Our error for a request that got no complete answer, saying whether it may have reached the Market."""
    kind = errors.TransportError  # a body that cannot be decoded, and the like: not worth a retry
    if isinstance(error, httpx.TimeoutException):
        kind = errors.TimeoutError
    elif isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
        kind = errors.ConnectionError
    sent = not isinstance(error, _NOT_SENT)
    where = "the request may have reached the Market" if sent else "the request was not sent"
    lost = kind(
        redactor.text(f"{call}: no complete answer ({where}): {type(error).__name__}: {error}"), may_have_started=sent
    )
    lost.__cause__ = redactor.exception(error)
    return lost


def _operation(answer: Answer, call: str, redactor: Redactor) -> Operation | errors.ResponseError:
    body = answer.parsed
    if not isinstance(body, _Success):
        problem = "a body that is not the promised JSON object"
    elif body.status != ApiResponseStatusType.OK:
        problem = f'"status": {body.status.value!r} in the body'
    elif isinstance(body.result, Unset):
        problem = "no result in the body"
    else:
        operation = body.result.operation
        low, high = OPERATION_ID_LENGTH
        if isinstance(operation.id, str) and low <= len(operation.id) <= high:
            return Operation(id=operation.id, type=operation.type_, rate_limit=RateLimit.from_headers(answer.headers))
        problem = f"an operation id that is not a string of {low} to {high} characters"
    message = f"{call}: 200 with {problem} ({_describe_body(answer)}); the cancellation may have started"
    return errors.UnexpectedResponseError(
        redactor.text(message), response=redactor.response(answer), may_have_started=True
    )


def _error_details(answer: Answer) -> list[ApiErrorDTO]:
    """The Market's code/message pairs, or none when the body has no well-formed ones (a proxy's page)."""
    body = answer.parsed
    if not isinstance(body, ApiErrorResponse):
        try:
            body = ApiErrorResponse.from_dict(json.loads(answer.content))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return []
    details = body.errors if isinstance(body.errors, list) else []
    well_formed = all(
        isinstance(detail.code, str) and (detail.message is UNSET or isinstance(detail.message, str))
        for detail in details
    )
    return details if well_formed else []


def _reason(status_code: int) -> str:
    return "Enhance Your Calm" if status_code == 420 else httpx.codes.get_reason_phrase(status_code)


def _describe_body(answer: Answer) -> str:
    content_type = answer.headers.get("Content-Type", "no content type")
    return f"{content_type}, {len(answer.content)} bytes"


__all__ = ["Answer", "interpret", "transport_error", "unparsed"]
