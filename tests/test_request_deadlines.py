"""The async client bounds each whole request with one timer for all of them, as exactly as one each."""

import asyncio
import time

import httpx
import pytest

from tests.bench_calls import _answer
from tests.conftest import CAMPAIGN, KEY, async_client
from yandex_market_returns import AsyncReturnsClient, errors
from yandex_market_returns.testing import FakeMarket, Fault


def test_a_slow_answer_times_out_at_its_deadline_while_the_others_complete() -> None:
    async def main(market: FakeMarket) -> list[object]:
        async with async_client(market, timeout=0.4, max_retries=0) as client:
            market.inject(Fault.SLOW_ANSWER)
            first = asyncio.ensure_future(client.cancel_return(CAMPAIGN, 1))
            await asyncio.sleep(0.05)
            later = [asyncio.ensure_future(client.cancel_return(CAMPAIGN, n)) for n in range(2, 6)]
            return await asyncio.gather(first, *later, return_exceptions=True)

    with FakeMarket(api_key=KEY, slow_answer_delay=2.0) as market:
        market.add_returns(CAMPAIGN, *range(1, 6))
        started = time.monotonic()
        results = asyncio.run(main(market))
        took = time.monotonic() - started
    assert isinstance(results[0], errors.TimeoutError)
    assert results[0].may_have_started
    assert all(not isinstance(result, BaseException) for result in results[1:])
    assert 0.4 <= took < 1.0


def test_requests_one_after_another_keep_a_single_timer() -> None:
    async def main() -> int:
        async with AsyncReturnsClient(api_key=KEY, transport=httpx.MockTransport(_answer)) as client:
            loop = asyncio.get_running_loop()
            for _ in range(500):
                await client.cancel_return(CAMPAIGN, 1)
            return len(loop._scheduled)  # type: ignore[attr-defined]

    assert asyncio.run(main()) <= 1, "a timer per request piles up in the loop's heap"


def test_a_cancellation_from_outside_is_not_taken_for_a_timeout() -> None:
    async def main(market: FakeMarket) -> None:
        async with async_client(market, timeout=5) as client:
            task = asyncio.ensure_future(client.cancel_return(CAMPAIGN, 1))
            await asyncio.sleep(0.1)
            task.cancel()
            await task

    with FakeMarket(api_key=KEY, latency=1.0) as market:
        market.add_returns(CAMPAIGN, 1)
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(main(market))
