"""The async client bounds each whole request with one timer for all of them, as exactly as one each."""

import asyncio
import threading
import time

import httpx
import pytest

from tests.helpers import CAMPAIGN, KEY, async_client, dripping_server
from tools.bench_calls import canned_answer
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
        async with AsyncReturnsClient(api_key=KEY, transport=httpx.MockTransport(canned_answer)) as client:
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


def test_a_request_in_flight_when_the_client_closes_still_ends_at_its_deadline() -> None:
    stop = threading.Event()
    listener, server = dripping_server(stop)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    async def main() -> BaseException | object:
        client = AsyncReturnsClient(api_key=KEY, base_url=base_url, timeout=0.5, max_retries=0)
        call = asyncio.ensure_future(client.cancel_return(CAMPAIGN, 1))
        await asyncio.sleep(0.1)
        await client.aclose()
        return (await asyncio.gather(call, return_exceptions=True))[0]

    try:
        started = time.monotonic()
        result = asyncio.run(main())
        took = time.monotonic() - started
    finally:
        stop.set()
        server.join()
        listener.close()
    # Ended by its deadline, or by the pool's close breaking the connection: either way, in time and saying
    # that the cancellation may have started.
    assert isinstance(result, errors.TimeoutError | errors.ConnectionError), result
    assert result.may_have_started
    assert took < 1.5
