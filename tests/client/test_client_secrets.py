"""The key never shows: not in repr/str of any object, not in any log record at DEBUG, not in any error."""

import asyncio
import html
import json
import logging
import pickle
import traceback
from typing import Any

import pytest

from tests.helpers import CAMPAIGN
from yandex_market_returns import AsyncReturnsClient, ReturnsClient, errors
from yandex_market_returns._redaction import Redactor
from yandex_market_returns.testing import Canned, FakeMarket, Fault

SECRET = "ym-secret-4b1d7e0c9a"


def _views(thing: Any) -> list[str]:
    """Every way an object may be shown, down through an exception's chain."""
    views = [repr(thing), str(thing)]
    if isinstance(thing, BaseException):
        views.append(repr(thing.args))
        if thing.__cause__ is not None:
            views += _views(thing.__cause__)
    if isinstance(thing, errors.ResponseError):
        views.append(repr(thing.rate_limit))
    if isinstance(thing, errors.ApiError):
        views.append(repr(thing.errors))
    return views


def _everything_a_service_might_touch(market: FakeMarket) -> list[Any]:
    seen: list[Any] = [market]
    client = ReturnsClient(api_key=SECRET, base_url=market.base_url, backoff=0.01, max_retries=1)
    seen.append(client)
    with client:
        seen.append(client.cancel_return(CAMPAIGN, 1))
        market.inject(Fault.SERVER_ERROR, Fault.DROPPED_CONNECTION, Fault.TRUNCATED_BODY, Fault.HTML_BAD_GATEWAY)
        seen += client.cancel_returns(CAMPAIGN, [2, 3, 4, 5, 6], confirm_timeout=1, poll_interval=0.05)
        for faults in ([Fault.SERVER_ERROR] * 2, [Fault.DROPPED_CONNECTION] * 2, [Fault.TRUNCATED_BODY]):
            market.inject(*faults)  # one more than max_retries allows, where a fault is retried
            try:
                client.cancel_return(CAMPAIGN, 7)
            except errors.MarketError as error:
                seen.append(error)
        for return_id in (1, 10_001):  # already cancelled; unknown
            try:
                client.cancel_return(CAMPAIGN, return_id)
            except errors.MarketError as error:
                seen.append(error)
    with ReturnsClient(api_key=SECRET + "-wrong", base_url=market.base_url, max_retries=0) as stranger:
        try:
            stranger.cancel_return(CAMPAIGN, 8)
        except errors.ForbiddenError as error:
            seen.append(error)
    market.latency = 0.2
    with ReturnsClient(api_key=SECRET, base_url=market.base_url, timeout=0.05, max_retries=0) as slow:
        try:
            slow.cancel_return(CAMPAIGN, 9)
        except errors.TimeoutError as error:
            seen.append(error)
    market.latency = 0.0

    async def use_async() -> None:
        async with AsyncReturnsClient(api_key=SECRET, base_url=market.base_url, max_retries=0) as async_client:
            seen.append(async_client)
            seen.extend(
                await async_client.cancel_returns(CAMPAIGN, [11, 12, 10_002], confirm_timeout=1, poll_interval=0.05)
            )

    asyncio.run(use_async())
    seen.extend(market.exchanges)
    return seen


def test_the_key_shows_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, httpx's and httpcore's records all arrive
    with FakeMarket(api_key=SECRET) as market:
        market.add_returns(CAMPAIGN, *range(1, 20))
        seen = _everything_a_service_might_touch(market)
    assert len(seen) > 30
    kinds = {type(thing).__name__ for thing in seen}
    assert {"ServerError", "ConnectionError", "UnexpectedResponseError", "BadRequestError", "ForbiddenError"} <= kinds
    assert {"TimeoutError", "Outcome", "Operation", "Exchange", "ReturnsClient", "AsyncReturnsClient"} <= kinds
    for thing in seen:
        for view in _views(thing):
            assert SECRET not in view, f"the key shows in {type(thing).__name__}: {view[:300]}"
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore", "yandex_market_returns"} <= loggers, "the DEBUG logs were really captured"
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.name
    assert SECRET not in caplog.text


def test_a_key_echoed_by_the_server_is_redacted_from_the_message() -> None:
    echo = f'{{"status":"ERROR","errors":[{{"code":"FORBIDDEN","message":"token {SECRET} is revoked"}}]}}'
    with FakeMarket(api_key=SECRET) as market, ReturnsClient(api_key=SECRET, base_url=market.base_url) as client:
        market.inject(Canned(403, echo.encode(), {"Content-Type": "application/json"}))
        with pytest.raises(errors.ForbiddenError) as raised:
            client.cancel_return(CAMPAIGN, 1)
    assert SECRET not in str(raised.value)
    assert "token <API-KEY> is revoked" in str(raised.value)


def test_the_check_above_can_fail() -> None:
    """A view that did hold the key would be caught."""
    leaky = errors.MarketError(f"Api-Key: {SECRET}")
    assert any(SECRET in view for view in _views(leaky))


ECHOES = [
    (
        "in the error message",
        Canned(
            403,
            f'{{"status":"ERROR","errors":[{{"code":"FORBIDDEN","message":"key {SECRET} revoked"}}]}}'.encode(),
            {"Content-Type": "application/json"},
        ),
    ),
    (
        "JSON-escaped",
        Canned(
            400,
            json.dumps(
                {"status": "ERROR", "errors": [{"code": "X", "message": SECRET.replace("-", "\\u002d")}]}
            ).encode(),
            {"Content-Type": "application/json"},
        ),
    ),
    ("in a header", Canned(500, b"{}", {"Content-Type": "application/json", "X-Echo": f"Api-Key {SECRET}"})),
    (
        "as JSON unicode escapes",
        Canned(
            400,
            (
                '{"status":"ERROR","errors":[{"code":"X","message":"'
                + "".join(f"\\u{ord(c):04x}" for c in SECRET)
                + '"}]}'
            ).encode(),
            {"Content-Type": "application/json"},
        ),
    ),
    (
        "percent-encoded in lower case",
        Canned(401, "".join(f"%{ord(c):02x}" for c in SECRET).encode(), {}),
    ),
    (
        "in a body cut short",
        Canned(
            400, f'{{"status":"ERROR","errors":[{{"code":"X","message":"{SECRET}"'.encode(), {"Content-Length": "999"}
        ),
    ),
    (
        "as HTML character references",
        Canned(502, "".join(f"&#{ord(c)};" for c in SECRET).encode(), {"Content-Type": "text/html"}),
    ),
    ("in an HTML page", Canned(502, f"<html>bad key {SECRET}</html>".encode(), {"Content-Type": "text/html"})),
    (
        "in a 200 that does not parse",
        Canned(200, f'{{"status":"OK","key":"{SECRET}"'.encode(), {"Content-Type": "application/json"}),
    ),
    (
        "in an unknown field",
        Canned(
            400,
            json.dumps({"status": "ERROR", "errors": [{"code": "X", "hint": SECRET}]}).encode(),
            {"Content-Type": "application/json"},
        ),
    ),
]


def _library_locals(shown: traceback.TracebackException | None) -> str:
    """The locals of every frame outside this test file, down the exception chain, as a tool would print."""
    text = ""
    while shown is not None:
        for frame in shown.stack:
            if not frame.filename.endswith("test_client_secrets.py"):
                text += repr(frame.locals)
        shown = shown.__cause__ or shown.__context__
    return text


def _encoded_forms() -> list[bytes]:
    return [
        "".join(f"\\u{ord(c):04x}" for c in SECRET).encode(),
        "".join(f"&#{ord(c)};" for c in SECRET).encode(),
        "".join(f"%{ord(c):02x}" for c in SECRET).encode(),
    ]


def _chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        chain += list(getattr(current, "attempts", ()))
        current = current.__cause__ or current.__context__
    return chain


@pytest.mark.parametrize("echo", [answer for _, answer in ECHOES], ids=[name for name, _ in ECHOES])
def test_a_key_echoed_by_a_server_is_in_nothing_an_error_keeps(echo: Canned, caplog: pytest.LogCaptureFixture) -> None:
    with (
        FakeMarket(api_key=SECRET) as market,
        ReturnsClient(api_key=SECRET, base_url=market.base_url, max_retries=1, backoff=0.01) as client,
    ):
        market.add_returns(CAMPAIGN, 1)
        market.inject(Fault.ANSWER_LOST, echo)  # an unknown attempt first: the error is an OutcomeUnknownError
        with pytest.raises(errors.MarketError) as raised:
            client.cancel_return(CAMPAIGN, 1)
    error = raised.value
    for link in _chain(error):
        shown = [str(link), repr(link), repr(vars(link))]
        response = getattr(link, "response", None)
        if response is not None:
            shown += [repr(response.content), repr(dict(response.headers)), repr(response.parsed)]
        shown += [
            repr((detail.code, detail.message, detail.additional_properties)) for detail in getattr(link, "errors", [])
        ]
        for attribute in ("content", "headers", "request"):
            try:
                shown.append(repr(getattr(link, attribute, None)))
                if attribute == "request" and getattr(link, "request", None) is not None:
                    shown.append(repr(dict(link.request.headers)))  # type: ignore[attr-defined]
            except RuntimeError:  # httpx: an error made without a request
                pass
        assert not any(SECRET in view for view in shown), f"{type(link).__name__}: {shown}"
    assert SECRET.encode() not in pickle.dumps(error)
    assert not any(form in pickle.dumps(error) for form in _encoded_forms()), "an escaped spelling of the key"
    caplog.clear()
    try:
        raise error
    except errors.MarketError:
        logging.getLogger("service").exception("cancelling failed")
    assert "Traceback" in caplog.text
    assert SECRET not in caplog.text
    locals_shown = _library_locals(traceback.TracebackException.from_exception(error, capture_locals=True))
    assert locals_shown, "the library's frames were looked at"
    assert SECRET not in locals_shown, "Sentry-style tools print the locals of every frame in the chain"
    assert not any(form.decode() in locals_shown for form in _encoded_forms())


def test_the_echo_checks_above_can_fail() -> None:
    leaky = errors.ServerError("x", response=None, errors=[])
    leaky.__cause__ = RuntimeError(f"token {SECRET}")
    assert any(SECRET in str(link) for link in _chain(leaky))


@pytest.mark.parametrize(
    "base_url",
    [
        "https://svc:hunter2@api.example",
        "https://api.example/?token=abc",
        "http://api.example",
        "https://api.example/#x",
    ],
)
def test_unsafe_base_urls_are_refused_without_showing_a_password(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url") as raised:
        ReturnsClient(api_key=SECRET, base_url=base_url)
    assert "hunter2" not in str(raised.value)


def test_redirects_are_never_followed_with_the_key() -> None:
    with FakeMarket(api_key=SECRET) as market, FakeMarket(api_key=SECRET) as elsewhere:
        market.inject(Canned(307, b"", {"Location": elsewhere.base_url + "/v1/campaigns/1/returns/cancel"}))
        with (
            ReturnsClient(api_key=SECRET, base_url=market.base_url) as client,
            pytest.raises(errors.UnexpectedStatusError),
        ):
            client.cancel_return(CAMPAIGN, 1)
        assert elsewhere.exchanges == []


def test_httpcore_debug_logs_of_an_echoed_header_hide_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeMarket(api_key=SECRET) as market, ReturnsClient(api_key=SECRET, base_url=market.base_url) as client:
        market.inject(Canned(403, b"", {"X-Echo": f"your key is {SECRET}"}))
        with pytest.raises(errors.ForbiddenError):
            client.cancel_return(CAMPAIGN, 1)
    assert any(record.name.startswith("httpcore") and "X-Echo" in record.getMessage() for record in caplog.records)
    assert SECRET not in caplog.text


ODD_KEY = "ACMA:a\\b'c\"d/Zx9%&<>"


@pytest.mark.parametrize(
    "spelling",
    [
        ODD_KEY,
        json.dumps(ODD_KEY)[1:-1],
        json.dumps(ODD_KEY)[1:-1].replace("/", "\\/"),
        "".join(f"\\u{ord(c):04X}" for c in ODD_KEY),
        repr(ODD_KEY.encode())[2:-1],
        "".join(f"%{ord(c):02X}" for c in ODD_KEY),
        "".join(f"&#x{ord(c):x};" for c in ODD_KEY),
        html.escape(ODD_KEY),
        html.escape(ODD_KEY, quote=False),
    ],
    ids=[
        "raw",
        "JSON",
        "JSON with \\/",
        "JSON \\u",
        "bytes repr",
        "percent",
        "HTML hex",
        "html.escape",
        "html.escape quote=False",
    ],
)
def test_every_spelling_of_a_key_with_escapable_characters_is_found(spelling: str) -> None:
    redactor = Redactor(ODD_KEY)
    assert redactor.text(f"<<{spelling}>>") == "<<<API-KEY>>>"
    assert redactor.content(f"<<{spelling}>>".encode()) == b"<<<API-KEY>>>"
