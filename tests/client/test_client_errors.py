"""Every answer ends in an Operation or a MarketError of the right class, whatever comes back."""

import asyncio
import builtins
import gzip
import importlib
import json
import pickle
import socket
import typing
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, KEY, async_client
from yandex_market_returns import Operation, ReturnsClient, errors
from yandex_market_returns.testing import Canned, FakeMarket, Fault

JSON = {"Content-Type": "application/json"}
LIMITS = {
    "X-RateLimit-Resource-Limit": "5000",
    "X-RateLimit-Resource-Remaining": "4321",
    "X-RateLimit-Resource-Until": "Fri, 27 Nov 2026 14:00:00 GMT",
}


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


def _started(**operation: Any) -> bytes:
    return _body({"status": "OK", "result": {"operation": operation}})


def _market_error(code: str = "BAD_REQUEST", message: str = "Invalid returnId") -> bytes:
    return _body({"status": "ERROR", "errors": [{"code": code, "message": message}]})


STATUS_CLASSES = [
    (400, errors.BadRequestError),
    (401, errors.UnauthorizedError),
    (403, errors.ForbiddenError),
    (420, errors.RateLimitError),
    (429, errors.RateLimitError),
    (500, errors.ServerError),
    (502, errors.ServerError),
    (503, errors.ServerError),
    (504, errors.ServerError),
    (404, errors.NotFoundError),  # an UnexpectedStatusError too (below): getReturn documents it
    (405, errors.UnexpectedStatusError),
    (415, errors.UnexpectedStatusError),
    (418, errors.UnexpectedStatusError),
]


@pytest.mark.parametrize(("status", "kind"), STATUS_CLASSES)
def test_each_error_status_raises_its_class(market: FakeMarket, status: int, kind: type, make_client: Any) -> None:
    market.inject(Canned(status, _market_error("SOME_CODE", "what went wrong"), {**JSON, **LIMITS}))
    with pytest.raises(kind) as raised:
        make_client(max_retries=0).cancel_return(CAMPAIGN, 97211)
    error = raised.value
    assert type(error) is kind
    assert isinstance(error, errors.ApiError)
    assert isinstance(error, errors.UnexpectedStatusError) is (status in (404, 405, 415, 418))
    assert error.status_code == status
    assert [(e.code, e.message) for e in error.errors] == [("SOME_CODE", "what went wrong")]
    assert (error.rate_limit.limit, error.rate_limit.remaining) == (5000, 4321)
    assert error.rate_limit.until == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert error.response is not None
    assert error.response.content == _market_error("SOME_CODE", "what went wrong")
    assert f"cancelReturn(campaign {CAMPAIGN}, return 97211): {status}" in str(error)
    assert "SOME_CODE: what went wrong" in str(error)


def test_the_fake_markets_own_refusals_map_to_their_classes(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 20_000, shipment_status="RECEIVED")
    stranger = ReturnsClient(api_key="wrong-key", base_url=market.base_url)
    with stranger, pytest.raises(errors.ForbiddenError, match="FORBIDDEN: Access denied to campaign"):
        stranger.cancel_return(CAMPAIGN, 1)
    with ReturnsClient(api_key=KEY, base_url=market.base_url, max_retries=0) as client:
        with pytest.raises(errors.BadRequestError, match="Return 20000 can't be cancelled"):
            client.cancel_return(CAMPAIGN, 20_000)
        with pytest.raises(errors.BadRequestError, match="Return 10001 not found"):
            client.cancel_return(CAMPAIGN, 10_001)
        market.inject(Fault.SERVER_ERROR)
        with pytest.raises(errors.ServerError, match="INTERNAL_ERROR: Internal server error"):
            client.cancel_return(CAMPAIGN, 1)
        market.inject(Fault.HTML_BAD_GATEWAY)
        with pytest.raises(errors.ServerError, match=r"502 Bad Gateway: no error details \(text/html"):
            client.cancel_return(CAMPAIGN, 1)
        market.inject(Fault.DROPPED_CONNECTION)
        with pytest.raises(errors.ConnectionError, match="RemoteProtocolError") as dropped:
            client.cancel_return(CAMPAIGN, 1)
        assert isinstance(dropped.value, builtins.ConnectionError)
        market.inject(Fault.TRUNCATED_BODY)
        with pytest.raises(errors.UnexpectedResponseError, match="the cancellation may have started"):
            client.cancel_return(CAMPAIGN, 2)
        market.parallel_limit = 0
        with pytest.raises(errors.RateLimitError, match="Hit rate limit of 0 parallel requests"):
            client.cancel_return(CAMPAIGN, 3)
        market.parallel_limit, market.hourly_limit = 4, 0
        with pytest.raises(errors.RateLimitError, match="Hit rate limit of 0 requests per hour") as hourly:
            client.cancel_return(CAMPAIGN, 3)
        assert hourly.value.rate_limit.exhausted


def test_a_slow_answer_raises_our_timeout_error(market: FakeMarket) -> None:
    market.latency = 0.5
    client = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=0.05, max_retries=0)
    with client, pytest.raises(errors.TimeoutError, match="ReadTimeout") as raised:
        client.cancel_return(CAMPAIGN, 1)
    assert isinstance(raised.value, builtins.TimeoutError)
    assert raised.value.__cause__ is not None


def test_nobody_listening_raises_our_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ReturnsClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with client, pytest.raises(errors.ConnectionError, match="ConnectError"):
        client.cancel_return(CAMPAIGN, 1)


URE = errors.UnexpectedResponseError
GARBAGE_LIMITS = {
    "X-RateLimit-Resource-Remaining": "-1",
    "X-RateLimit-Resource-Limit": "²",
    "X-RateLimit-Resource-Until": "Feb 30",
}
UNKNOWN_FIELDS = {
    "status": "OK",
    "x": 1,
    "result": {"y": [], "operation": {"id": "op-2", "type": "RETURN_CANCELLATION", "z": {}}},
}
NESTED = b"[" * 100_000 + b"]" * 100_000
HTML = b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"
GOOD = _started(id="op-1", type="RETURN_CANCELLATION")

# (name, answer, what it must end in)
CORPUS: list[tuple[str, Canned, type]] = [
    ("200 empty", Canned(200, b"", JSON), URE),
    ("200 not JSON", Canned(200, b"operation started", JSON), URE),
    ("200 HTML from a proxy", Canned(200, HTML, {"Content-Type": "text/html"}), URE),
    ("200 truncated", Canned(200, GOOD[:25], JSON), URE),
    ("200 array", Canned(200, b"[]", JSON), URE),
    ("200 null", Canned(200, b"null", JSON), URE),
    ("200 string", Canned(200, b'"OK"', JSON), URE),
    ("200 no result", Canned(200, _body({"status": "OK"}), JSON), URE),
    ("200 result null", Canned(200, _body({"status": "OK", "result": None}), JSON), URE),
    ("200 status ERROR", Canned(200, _market_error(), JSON), URE),
    ("200 unknown status", Canned(200, _body({"status": "MAYBE", "result": {}}), JSON), URE),
    ("200 no operation", Canned(200, _body({"status": "OK", "result": {}}), JSON), URE),
    ("200 no type", Canned(200, _started(id="op-1"), JSON), URE),
    ("200 no id", Canned(200, _started(type="RETURN_CANCELLATION"), JSON), URE),
    (
        "200 id a number",
        Canned(200, _started(id=123, type="RETURN_CANCELLATION"), JSON),
        errors.UnexpectedResponseError,
    ),
    ("200 id empty", Canned(200, _started(id="", type="RETURN_CANCELLATION"), JSON), URE),
    ("200 id too long", Canned(200, _started(id="x" * 1001, type="X"), JSON), URE),
    ("200 type a number", Canned(200, _started(id="op-1", type=42), JSON), URE),
    ("200 nested too deep", Canned(200, NESTED, JSON), URE),
    ("200 not UTF-8", Canned(200, b'{"status": "\xff\xfe"}', JSON), URE),
    (
        "200 a 5,000-digit number",
        Canned(200, b'{"status": "OK", "n": ' + b"9" * 5000 + b"}", JSON),
        errors.UnexpectedResponseError,
    ),
    ("200 megabyte of junk", Canned(200, b"\x00" * 1_000_000, JSON), URE),
    ("204 no content", Canned(204), URE),
    ("201 created", Canned(201, GOOD, JSON), URE),
    ("200 bad gzip", Canned(200, b"not gzip at all", {**JSON, "Content-Encoding": "gzip"}), errors.TransportError),
    (
        "200 body shorter than promised",
        Canned(200, GOOD[:10], {**JSON, "Content-Length": "500"}),
        errors.ConnectionError,
    ),
    ("400 HTML", Canned(400, HTML, {"Content-Type": "text/html"}), errors.BadRequestError),
    ("400 no errors", Canned(400, _body({"status": "ERROR"}), JSON), errors.BadRequestError),
    ("400 errors null", Canned(400, _body({"status": "ERROR", "errors": None}), JSON), errors.BadRequestError),
    ("400 errors a string", Canned(400, _body({"status": "ERROR", "errors": "bad"}), JSON), errors.BadRequestError),
    (
        "400 error without code",
        Canned(400, _body({"errors": [{"message": "m"}]}), JSON),
        errors.BadRequestError,
    ),
    (
        "400 code a number",
        Canned(400, _body({"status": "ERROR", "errors": [{"code": 7}]}), JSON),
        errors.BadRequestError,
    ),
    ("401 empty", Canned(401), errors.UnauthorizedError),
    ("420 no body, no headers", Canned(420), errors.RateLimitError),
    (
        "420 garbage limit headers",
        Canned(420, b"", {"X-RateLimit-Resource-Remaining": "lots"}),
        errors.RateLimitError,
    ),
    ("500 truncated", Canned(500, _market_error()[:20], JSON), errors.ServerError),
    ("503 plain text", Canned(503, b"upstream overloaded", {"Content-Type": "text/plain"}), errors.ServerError),
    ("404 Market-style", Canned(404, _market_error("NOT_FOUND", "no such method"), JSON), errors.NotFoundError),
    ("302 redirect", Canned(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}), errors.UnexpectedStatusError),
    ("999 unknown status", Canned(999, b"?"), errors.UnexpectedStatusError),
    ("200 unknown operation type", Canned(200, _started(id="op-9", type="RETURN_CANCELLATION_V2"), JSON), Operation),
    (
        "200 unknown fields everywhere",
        Canned(
            200,
            _body(
                {
                    "status": "OK",
                    "x": 1,
                    "result": {"y": [], "operation": {"id": "op-2", "type": "RETURN_CANCELLATION", "z": {}}},
                }
            ),
            JSON,
        ),
        Operation,
    ),
    ("200 gzip", Canned(200, gzip.compress(GOOD), {**JSON, "Content-Encoding": "gzip"}), Operation),
    (
        "200 garbage limit headers",
        Canned(
            200,
            GOOD,
            {
                **JSON,
                "X-RateLimit-Resource-Remaining": "-1",
                "X-RateLimit-Resource-Limit": "²",
                "X-RateLimit-Resource-Until": "Feb 30",
            },
        ),
        Operation,
    ),
    (
        "200 Until without a zone",
        Canned(200, GOOD, {**JSON, "X-RateLimit-Resource-Until": "Thu, 10 Jul 2018 00:42:42"}),
        Operation,
    ),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({name for name, _, _ in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(("answer", "outcome"), [(a, o) for _, a, o in CORPUS], ids=[n for n, _, _ in CORPUS])
def test_a_hostile_answer_ends_in_a_documented_value_or_a_market_error(
    market: FakeMarket, make_client: Any, answer: Canned, outcome: type
) -> None:
    market.inject(answer)
    try:
        result: object = make_client(max_retries=0).cancel_return(CAMPAIGN, 97211)
    except errors.MarketError as error:
        result = error
    assert type(result) is outcome, result
    if isinstance(result, Operation):
        assert result.id.startswith("op-")
        assert result.rate_limit.until is None or result.rate_limit.until.tzinfo is not None
        assert result.rate_limit.remaining is None or result.rate_limit.remaining >= 0
    if isinstance(result, errors.ApiError):
        assert result.errors == [] or all(isinstance(e.code, str) for e in result.errors)
        assert len(str(result)) < 1000


@pytest.mark.parametrize(("answer", "outcome"), [(a, o) for _, a, o in CORPUS[::3]], ids=[n for n, _, _ in CORPUS[::3]])
def test_the_async_client_ends_the_same_way(market: FakeMarket, answer: Canned, outcome: type) -> None:
    async def call() -> object:
        async with async_client(market, max_retries=0) as client:
            try:
                return await client.cancel_return(CAMPAIGN, 97211)
            except errors.MarketError as error:
                return error

    market.inject(answer)
    assert type(asyncio.run(call())) is outcome


def test_an_unknown_operation_type_keeps_its_raw_string(market: FakeMarket, make_client: Any) -> None:
    market.inject(Canned(200, _started(id="op-9", type="RETURN_CANCELLATION_V2"), JSON))
    operation = make_client().cancel_return(CAMPAIGN, 1)
    assert operation.type == "RETURN_CANCELLATION_V2"
    assert operation.type.value == "RETURN_CANCELLATION_V2"


def test_an_unparsable_error_body_keeps_its_cause_and_its_headers(market: FakeMarket, make_client: Any) -> None:
    market.inject(Canned(420, b"<html>slow down</html>", {"Content-Type": "text/html", **LIMITS}))
    with pytest.raises(errors.RateLimitError) as raised:
        make_client(max_retries=0).cancel_return(CAMPAIGN, 1)
    assert raised.value.errors == []
    assert raised.value.rate_limit.remaining == 4321
    assert raised.value.__cause__ is not None, "the generated client's parse error is kept as the cause"


def test_errors_survive_pickling(market: FakeMarket, make_client: Any) -> None:
    """Services hand errors to task queues and process pools, which pickle them."""
    market.inject(Canned(420, _market_error("HIT_RATE_LIMIT", "slow down"), {**JSON, **LIMITS}))
    with pytest.raises(errors.RateLimitError) as raised:
        make_client(max_retries=0).cancel_return(CAMPAIGN, 1)
    pickled = pickle.dumps(raised.value)
    assert b"yandex_market_returns._" not in pickled, "a pickle names public modules only: private ones may move"
    copy = pickle.loads(pickled)
    assert type(copy) is errors.RateLimitError
    assert str(copy) == str(raised.value)
    assert copy.response is not None
    assert raised.value.response is not None
    assert (copy.status_code, copy.rate_limit, copy.response.content) == (
        420,
        raised.value.rate_limit,
        raised.value.response.content,
    )
    assert [(e.code, e.message) for e in copy.errors] == [("HIT_RATE_LIMIT", "slow down")]
    assert (copy.retryable, copy.may_have_started) == (True, False)
    assert copy.retry_after is not None
    assert copy.retry_after > 0
    assert copy.retry_after == raised.value.retry_after
    lost = pickle.loads(pickle.dumps(errors.TimeoutError("no answer", may_have_started=True)))
    assert isinstance(lost, errors.TimeoutError)
    assert str(lost) == "no answer"
    assert (lost.may_have_started, lost.retryable) == (True, True)


PUBLIC_MODULES = ["yandex_market_returns", "yandex_market_returns.limits", "yandex_market_returns.testing"]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_classes_name_the_module_they_are_imported_from(module: str) -> None:
    """In reprs, signatures and pickles: never the private module that holds them."""
    public = importlib.import_module(module)
    names = [*public.__all__, "AsyncReturnsClient", "FileLimits", "RedisLimits"]
    classes = [value for value in (getattr(public, name, None) for name in names) if isinstance(value, type)]
    assert classes
    private = [f"{cls.__name__}: {cls.__module__}" for cls in classes if cls.__module__.startswith(f"{module}.")]
    assert private == []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_the_type_hints_of_public_classes_resolve(module: str) -> None:
    """What sphinx-autodoc-typehints or typeguard read: no name only a type checker can see."""
    public = importlib.import_module(module)
    names = [*public.__all__, "AsyncReturnsClient", "FileLimits", "RedisLimits"]
    classes = [value for value in (getattr(public, name, None) for name in names) if isinstance(value, type)]
    for cls in classes:
        for name, member in vars(cls).items():
            if callable(member) and not name.startswith("_"):
                typing.get_type_hints(member)
