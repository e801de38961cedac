"""What is retried, how long the client waits, and where it stops."""

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from tests.helpers import CAMPAIGN, KEY, async_client
from yandex_market_returns import errors
from yandex_market_returns.testing import Canned, FakeMarket, Fault

PATH = f"/v1/campaigns/{CAMPAIGN}/returns/cancel"


def _statuses(market: FakeMarket) -> list[int]:
    return [exchange.status for exchange in market.exchanges]


@pytest.mark.parametrize(
    ("fault", "first"),
    [(Fault.SERVER_ERROR, 500), (Fault.HTML_BAD_GATEWAY, 502), (Fault.DROPPED_CONNECTION, 200)],
)
def test_a_failure_then_success_succeeds(market: FakeMarket, make_client: Any, fault: Fault, first: int) -> None:
    market.inject(fault)
    operation = make_client().cancel_return(CAMPAIGN, 1)
    assert operation.type == "RETURN_CANCELLATION"
    assert _statuses(market) == [first, 200]
    assert [started.return_id for started in market.operations] == [1]


def test_a_parallel_limit_420_is_retried_after_a_backoff(market: FakeMarket, make_client: Any) -> None:
    body = b'{"status":"ERROR","errors":[{"code":"HIT_RATE_LIMIT","message":"Hit rate limit of 4 parallel"}]}'
    market.inject(Canned(420, body, {"Content-Type": "application/json", "X-RateLimit-Resource-Remaining": "4000"}))
    make_client().cancel_return(CAMPAIGN, 1)
    assert _statuses(market) == [420, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_client_side_error_is_not_retried(market: FakeMarket, make_client: Any, status: int) -> None:
    market.inject(Canned(status, b'{"status":"ERROR","errors":[{"code":"NO"}]}', {"Content-Type": "application/json"}))
    with pytest.raises(errors.ApiError) as raised:
        make_client().cancel_return(CAMPAIGN, 1)
    assert raised.value.status_code == status
    assert _statuses(market) == [status]


def test_an_unexpected_body_on_a_200_is_not_retried(market: FakeMarket, make_client: Any) -> None:
    market.inject(Fault.TRUNCATED_BODY)
    with pytest.raises(errors.UnexpectedResponseError):
        make_client().cancel_return(CAMPAIGN, 1)
    assert len(market.exchanges) == 1, "the cancellation may have started: a retry could only get a 400"


def test_max_retries_bounds_the_tries(market: FakeMarket, make_client: Any) -> None:
    market.inject(*[Fault.SERVER_ERROR] * 10)
    with pytest.raises(errors.ServerError):
        make_client(max_retries=2).cancel_return(CAMPAIGN, 1)
    assert _statuses(market) == [500, 500, 500]


def test_max_retries_0_disables_retries(market: FakeMarket, make_client: Any) -> None:
    market.inject(Fault.SERVER_ERROR)
    with pytest.raises(errors.ServerError):
        make_client(max_retries=0).cancel_return(CAMPAIGN, 1)
    assert _statuses(market) == [500]


def test_the_budget_stops_retries_whose_wait_would_pass_it(market: FakeMarket, make_client: Any) -> None:
    market.inject(*[Fault.SERVER_ERROR] * 10)
    started = time.monotonic()
    with pytest.raises(errors.ServerError):
        make_client(max_retries=10, backoff=1.0, retry_budget=0.2).cancel_return(CAMPAIGN, 1)
    assert _statuses(market) == [500], "the first backoff (0.5 to 1 s) does not fit in 0.2 s"
    assert time.monotonic() - started < 0.5


def test_an_hourly_limit_that_resets_after_the_budget_raises_at_once(market: FakeMarket, make_client: Any) -> None:
    market.hourly_limit = 0  # spent: every request gets 420 until the period ends, an hour from now
    started = time.monotonic()
    with pytest.raises(errors.RateLimitError) as raised:
        make_client(retry_budget=10.0).cancel_return(CAMPAIGN, 1)
    assert time.monotonic() - started < 1.0
    assert _statuses(market) == [420]
    assert raised.value.rate_limit.exhausted
    assert raised.value.rate_limit.until is not None


def test_a_420_with_until_2_s_ahead_waits_about_that_long(make_client: Any) -> None:
    with FakeMarket(api_key=KEY, hourly_limit=1, limit_period=2.0) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        # Another client of the store spends the period's one request.
        httpx.post(market.base_url + PATH, headers={"Api-Key": KEY}, json={"returnId": 1}).raise_for_status()
        with make_client(base_url=market.base_url) as client:
            started = time.time()
            operation = client.cancel_return(CAMPAIGN, 2)
            waited = time.time() - started
        limited, success = market.exchanges[1:]
    until = httpx.Headers(limited.response_headers)["X-RateLimit-Resource-Until"]
    expected = parsedate_to_datetime(until).timestamp() - started
    assert (limited.status, success.status) == (420, 200), "one 420, then no hammering: the retry succeeds"
    assert 1.0 <= expected <= 3.0
    # The wait is Until - Date by the Market's clock, and Date has a resolution of one second (it is
    # truncated): the client may wait up to a second longer than Until says, never less.
    assert expected - 0.05 <= waited <= expected + 1.5
    assert operation.rate_limit.remaining == 0


def test_an_exhausted_limit_on_a_200_holds_the_next_call(make_client: Any) -> None:
    with FakeMarket(api_key=KEY, hourly_limit=1, limit_period=2.0) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        with make_client(base_url=market.base_url) as client:
            first = client.cancel_return(CAMPAIGN, 1)
            assert first.rate_limit.exhausted
            assert first.rate_limit.until is not None
            client.cancel_return(CAMPAIGN, 2)
            resumed = time.time()
        assert _statuses(market) == [200, 200], "the client waited for the new period instead of drawing a 420"
    assert resumed >= first.rate_limit.until.timestamp()


def test_each_retry_is_logged_with_its_reason_and_delay(
    market: FakeMarket, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    market.inject(Fault.SERVER_ERROR, Fault.SERVER_ERROR, Fault.DROPPED_CONNECTION)
    with caplog.at_level(logging.INFO, logger="yandex_market_returns"):
        make_client(backoff=0.02).cancel_return(CAMPAIGN, 1)
    retries = [record for record in caplog.records if record.name == "yandex_market_returns"]
    assert [record.args[1] for record in retries] == [1, 2, 3]  # type: ignore[index]
    assert [record.args[4] for record in retries] == ["ServerError", "ServerError", "ConnectionError"]  # type: ignore[index]
    delays = [record.args[3] for record in retries]  # type: ignore[index]
    for number, delay in enumerate(delays):
        ceiling = 0.02 * 2**number
        assert ceiling / 2 <= delay <= ceiling, "exponential backoff with jitter in its upper half"
    assert "retry 1 of 3 in" in retries[0].getMessage()
    assert "500 Internal Server Error: INTERNAL_ERROR" in retries[0].getMessage()


def test_the_async_client_retries_the_same_way(market: FakeMarket) -> None:
    async def call() -> str:
        async with async_client(market) as client:
            return (await client.cancel_return(CAMPAIGN, 1)).id

    market.inject(Fault.SERVER_ERROR, Fault.DROPPED_CONNECTION)
    assert asyncio.run(call()) == market.operations[0].id
    assert _statuses(market) == [500, 200, 200]


def test_the_async_client_stops_at_max_retries(market: FakeMarket) -> None:
    async def call() -> None:
        async with async_client(market, max_retries=1) as client:
            await client.cancel_return(CAMPAIGN, 1)

    market.inject(*[Fault.HTML_BAD_GATEWAY] * 5)
    with pytest.raises(errors.ServerError):
        asyncio.run(call())
    assert _statuses(market) == [502, 502]
