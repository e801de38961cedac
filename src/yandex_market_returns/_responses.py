"""Turns what came back from one request into its result (a started ``Operation``, operation statuses, a
return's record) or one of our errors."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from . import errors
from ._generated import errors as generated_errors
from ._generated import models
from ._generated import types as generated_types
from ._rate_limit import RateLimit
from ._redaction import Redactor
from ._results import Operation, OperationResult, ReturnRecord
from ._validation import OPERATION_ID_LENGTH

Answer = generated_types.Response[Any]
# A 200's body made into the call's result, or a description of what is wrong with it (see ``interpret``).
Result = TypeVar("Result")

_ERRORS_BY_STATUS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequestError,
    401: errors.UnauthorizedError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    420: errors.RateLimitError,
    429: errors.RateLimitError,
}
# A gateway's answer without the Market's body: the request may have been passed on and carried out.
_GATEWAY_STATUSES = (502, 503, 504)
# httpx errors raised before the request left: nothing reached the Market.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)


def unparsed(error: generated_errors.UnexpectedResponse) -> Answer:
    """The generated client gave up on the body; keep the answer so its status still decides."""
    return generated_types.Response(
        status_code=error.status_code, content=error.content, headers=error.headers, parsed=None
    )


def interpret(
    answer: Answer,
    call: str,
    redactor: Redactor,
    parse: Callable[[Answer, RateLimit], Result | str],
    effect: str | None,
    rate_limit: RateLimit,
) -> Result | errors.ResponseError:
    """``effect`` names what the request may start ("the cancellation"), ``None`` for a read: errors say
    whether it may have started only for a request that starts something. ``rate_limit`` is the answer's,
    read once by the caller."""
    maybe = "" if effect is None else f"; {effect} may have started"
    if 200 <= answer.status_code < 300:
        result = parse(answer, rate_limit) if answer.status_code == 200 else ", a status the method does not answer"
        if not isinstance(result, str):
            return result
        what = result if result.startswith(",") else f" with {result}"
        message = f"{call}: {answer.status_code}{what} ({_describe_body(answer)}){maybe}"
        unexpected = errors.UnexpectedResponseError(
            redactor.text(message), response=redactor.response(answer), may_have_started=effect is not None
        )
        unexpected.retryable = effect is None  # a garbled answer to a read: asking again is harmless
        return unexpected
    details = redactor.details(_error_details(answer))
    kind = _ERRORS_BY_STATUS.get(answer.status_code)
    if kind is None:
        kind = errors.ServerError if 500 <= answer.status_code < 600 else errors.UnexpectedStatusError
    summary = "; ".join(
        f"{detail.code}: {detail.message}" if isinstance(detail.message, str) else detail.code for detail in details
    )
    status = f"{answer.status_code} {_reason(answer.status_code)}".rstrip()
    message = f"{call}: {status}: {summary or 'no error details (' + _describe_body(answer) + ')'}"
    # A 5xx may come after the work was done: the Market's own 500 as much as a gateway's page.
    failed_after = 500 <= answer.status_code < 600 and effect is not None
    if failed_after:
        gateway = answer.status_code in _GATEWAY_STATUSES and not details
        message += f"; {'a gateway answered' if gateway else 'the Market failed, maybe after acting'}{maybe}"
    return kind(
        redactor.text(message), response=redactor.response(answer), errors=details, may_have_started=failed_after
    )


def transport_error(
    error: httpx.RequestError, call: str, redactor: Redactor, effect: str | None
) -> errors.TransportError:
    """Our error for a request that got no complete answer, saying whether it may have reached the Market
    (and so may have started ``effect``; a read starts nothing)."""
    kind = errors.TransportError  # a body that cannot be decoded, and the like: not worth a retry
    if isinstance(error, httpx.TimeoutException):
        kind = errors.TimeoutError
    elif isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
        kind = errors.ConnectionError
    sent = not isinstance(error, _NOT_SENT)
    if effect is None:  # a read: whether it arrived changes nothing, and asking again is harmless
        where = ""
    else:
        where = " (the request may have reached the Market)" if sent else " (the request was not sent)"
    lost = kind(
        redactor.text(f"{call}: no complete answer{where}: {type(error).__name__}: {error}"),
        may_have_started=sent and effect is not None,
    )
    if effect is None:
        lost.retryable = True
    lost.__cause__ = redactor.exception(error)
    return lost


def started_operation(answer: Answer, rate_limit: RateLimit) -> Operation | str:
    """cancelReturn's 200: the operation it started."""
    result = _result(answer, models.CancelReturnResponse)
    if isinstance(result, str):
        return result
    operation = result.operation
    if not _is_operation_id(operation.id):
        return _BAD_ID
    return Operation(id=operation.id, type=operation.type_, rate_limit=rate_limit)


def operation_statuses(answer: Answer, rate_limit: RateLimit) -> tuple[list[OperationResult], RateLimit] | str:
    """getOperations' 200: the statuses of the operations the Market knows, and the business's rate limit."""
    result = _result(answer, models.GetOperationsResponse)
    if isinstance(result, str):
        return result
    operations = result.operations
    if not all(_is_operation_id(operation.id) for operation in operations):
        return _BAD_ID
    results = [
        OperationResult(id=operation.id, type=operation.type_, status=operation.status) for operation in operations
    ]
    return results, rate_limit


def return_record(answer: Answer, rate_limit: RateLimit) -> ReturnRecord | str:
    """getReturn's 200: the return's record."""
    result = _result(answer, models.GetReturnResponse)
    return result if isinstance(result, str) else _record(result)


Page = tuple[list[ReturnRecord], str | None]


def returns_page(answer: Answer, rate_limit: RateLimit) -> Page | str:
    """getReturns' 200: a page of records, and the token of the next page (``None`` on the last)."""
    result = _result(answer, models.GetReturnsResponse)
    if isinstance(result, str):
        return result
    records = []
    for found in result.returns:
        record = _record(found)
        if isinstance(record, str):
            return record
        records.append(record)
    paging = result.paging
    token = None if isinstance(paging, generated_types.Unset) else paging.next_page_token
    if isinstance(token, generated_types.Unset) or token == "":
        return records, None
    if not isinstance(token, str):
        return "a nextPageToken that is not a string"
    return records, token


def _record(found: models.ReturnDTO) -> ReturnRecord | str:
    """The generated model takes the ids as they come: an id that is not an integer is a garbled body."""
    if not all(_is_int64(value) for value in (found.id, found.order_id)):
        return "a return whose id or orderId is not a 64-bit integer"
    updated = None if isinstance(found.update_date, generated_types.Unset) else found.update_date
    if updated is not None and updated.utcoffset() is None:
        return "an updateDate without its offset from UTC"
    status = None if isinstance(found.shipment_status, generated_types.Unset) else found.shipment_status
    return ReturnRecord(id=found.id, order_id=found.order_id, shipment_status=status, updated_at=updated)


def _is_int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


_LOW, _HIGH = OPERATION_ID_LENGTH
_BAD_ID = f"an operation id that is not a string of {_LOW} to {_HIGH} characters"
_NOT_AN_OBJECT = "a body that is not the promised JSON object"


def _is_operation_id(value: object) -> bool:
    return isinstance(value, str) and _LOW <= len(value) <= _HIGH


def _result(
    answer: Answer,
    kind: type[
        models.CancelReturnResponse
        | models.GetOperationsResponse
        | models.GetReturnResponse
        | models.GetReturnsResponse
    ],
) -> Any:
    """The ``result`` in a 200's ``ApiResponse`` wrapper of the kind the method promises, or (a ``str``) what is
    wrong with the body."""
    body = answer.parsed
    if not isinstance(body, kind):
        return _NOT_AN_OBJECT
    if body.status != models.ApiResponseStatusType.OK:
        return f'"status": {body.status.value!r} in the body'
    if isinstance(body.result, generated_types.Unset):
        return "no result in the body"
    return body.result


def _error_details(answer: Answer) -> list[models.ApiErrorDTO]:
    """The Market's code/message pairs, or none when the body has no well-formed ones (a proxy's page)."""
    body = answer.parsed
    if not isinstance(body, models.ApiErrorResponse):
        try:
            body = models.ApiErrorResponse.from_dict(json.loads(answer.content))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return []
    details = body.errors if isinstance(body.errors, list) else []
    well_formed = all(
        isinstance(detail.code, str) and (detail.message is generated_types.UNSET or isinstance(detail.message, str))
        for detail in details
    )
    return details if well_formed else []


def _reason(status_code: int) -> str:
    return "Enhance Your Calm" if status_code == 420 else httpx.codes.get_reason_phrase(status_code)


def _describe_body(answer: Answer) -> str:
    content_type = answer.headers.get("Content-Type", "no content type")
    return f"{content_type}, {len(answer.content)} bytes"


__all__ = [
    "Answer",
    "Page",
    "interpret",
    "operation_statuses",
    "return_record",
    "returns_page",
    "started_operation",
    "transport_error",
    "unparsed",
]
