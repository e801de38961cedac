"""At most 4 requests in flight per store, however many callers; batches keep exactly 4 and lose nothing."""

import asyncio
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, KEY, SETTLE, async_client
from yandex_market_returns import Operation, Outcome, ReturnsClient, errors
from yandex_market_returns.testing import FakeMarket

OTHER_CAMPAIGN = 777


def _parallel_420s(market: FakeMarket) -> int:
    return sum(b"parallel requests" in exchange.response_body for exchange in market.exchanges)


def test_50_threads_never_exceed_4_in_flight(market: FakeMarket, make_client: Any) -> None:
    market.latency = 0.03
    client = make_client(max_retries=0)
    start = threading.Barrier(50)

    def caller(return_id: int) -> Operation:
        start.wait()
        operation: Operation = client.cancel_return(CAMPAIGN, return_id)
        return operation

    with ThreadPoolExecutor(max_workers=50) as pool:
        operations = list(pool.map(caller, range(1, 51)))
    assert len({operation.id for operation in operations}) == 50
    assert _parallel_420s(market) == 0
    assert market.max_in_flight(CAMPAIGN) == 4, "the cap is reached, and never passed"


def test_50_tasks_never_exceed_4_in_flight(market: FakeMarket) -> None:
    market.latency = 0.03

    async def main() -> list[Operation]:
        async with async_client(market, max_retries=0) as client:
            return await asyncio.gather(*(client.cancel_return(CAMPAIGN, rid) for rid in range(1, 51)))

    assert len({operation.id for operation in asyncio.run(main())}) == 50
    assert _parallel_420s(market) == 0
    assert market.max_in_flight(CAMPAIGN) == 4


def test_the_cap_is_per_store(market: FakeMarket, make_client: Any) -> None:
    market.latency = 0.05
    market.add_returns(OTHER_CAMPAIGN, *range(1, 9))
    client = make_client(max_retries=0)
    with ThreadPoolExecutor(max_workers=16) as pool:
        jobs = [
            pool.submit(client.cancel_return, campaign, rid)
            for campaign in (CAMPAIGN, OTHER_CAMPAIGN)
            for rid in range(1, 9)
        ]
        assert all(job.result() for job in jobs)
    assert (market.max_in_flight(CAMPAIGN), market.max_in_flight(OTHER_CAMPAIGN)) == (4, 4)


def test_the_fake_market_does_answer_420_past_the_limit(market: FakeMarket) -> None:
    """The checks above would prove nothing if the fake Market never enforced its limit."""
    market.latency = 0.1
    first, second = (ReturnsClient(api_key=KEY, base_url=market.base_url, max_retries=0) for _ in range(2))
    with first, second, ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: _attempt((first, second)[n % 2], n + 1), range(8)))
    assert market.max_in_flight(CAMPAIGN) > 4
    assert sum(isinstance(result, errors.RateLimitError) for result in results) >= 1
    assert _parallel_420s(market) >= 1


def _attempt(client: ReturnsClient, return_id: int) -> Operation | errors.MarketError:
    try:
        return client.cancel_return(CAMPAIGN, return_id)
    except errors.MarketError as error:
        return error


def test_a_batch_keeps_exactly_4_in_flight(market: FakeMarket, client: ReturnsClient) -> None:
    market.latency = 0.03
    outcomes = client.cancel_returns(CAMPAIGN, range(1, 41))
    assert all(outcome.ok for outcome in outcomes)
    assert market.max_in_flight(CAMPAIGN) == 4


def _check_one_outcome_each(ids: list[int], outcomes: list[Outcome], seen: list[Outcome], market: FakeMarket) -> None:
    assert [outcome.return_id for outcome in outcomes] == ids, "one outcome per id, in input order"
    assert sorted(seen, key=lambda outcome: ids.index(outcome.return_id)) == outcomes, "reported once each"
    for outcome in outcomes:
        assert (outcome.operation is None) != (outcome.error is None)
    started = {operation.return_id: operation.id for operation in market.operations}
    assert len(started) == len(market.operations), "no return was cancelled twice"
    for outcome in outcomes:
        if outcome.operation is not None:
            assert started[outcome.return_id] == outcome.operation.id
        elif outcome.error is not None and not outcome.error.may_have_started:
            assert outcome.return_id not in started, f"cancelled, but reported as not started: {outcome.error}"
    kinds = {type(outcome.error) for outcome in outcomes if outcome.error is not None}
    expected = {errors.ServerError, errors.ConnectionError, errors.UnexpectedResponseError, errors.OutcomeUnknownError}
    assert kinds <= expected
    assert sum(outcome.ok for outcome in outcomes) > len(ids) // 2, "most faults are retried away"
    assert sum(exchange.fault is not None for exchange in market.exchanges) > 20, "faults were injected"


def _faulty_market(seed: int) -> FakeMarket:
    market = FakeMarket(api_key=KEY, fault_rate=0.3, seed=seed, latency=0.002)
    market.add_returns(CAMPAIGN, *range(1, 10_000))
    return market


@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_of_200_with_random_faults_has_one_outcome_per_id(seed: int) -> None:
    ids = random.Random(seed).sample(range(1, 10_000), 200)  # noqa: S311 - test data
    seen: list[Outcome] = []
    with (
        _faulty_market(seed) as market,
        ReturnsClient(api_key=KEY, base_url=market.base_url, max_retries=2, backoff=0.005) as client,
    ):
        outcomes = client.cancel_returns(CAMPAIGN, ids, on_outcome=seen.append, **SETTLE)
        _check_one_outcome_each(ids, outcomes, seen, market)


def test_an_async_batch_of_200_with_random_faults_has_one_outcome_per_id() -> None:
    ids = random.Random(3).sample(range(1, 10_000), 200)  # noqa: S311 - test data
    seen: list[Outcome] = []

    async def main(market: FakeMarket) -> list[Outcome]:
        async with async_client(market, max_retries=2, backoff=0.005) as client:
            return await client.cancel_returns(CAMPAIGN, ids, on_outcome=seen.append, **SETTLE)

    with _faulty_market(3) as market:
        _check_one_outcome_each(ids, asyncio.run(main(market)), seen, market)
        assert market.max_in_flight(CAMPAIGN) <= 4


def test_an_empty_batch_sends_nothing(market: FakeMarket, client: ReturnsClient) -> None:
    assert client.cancel_returns(CAMPAIGN, []) == []
    assert market.exchanges == []


class StopBatchError(Exception):
    pass


def test_a_failing_callback_stops_the_batch(market: FakeMarket, client: ReturnsClient) -> None:
    market.latency = 0.02

    def stop(outcome: Outcome) -> None:
        raise StopBatchError(outcome.return_id)

    with pytest.raises(StopBatchError):
        client.cancel_returns(CAMPAIGN, range(1, 101), on_outcome=stop)
    assert len(market.operations) < 20, "the returns not yet started are left alone"


def test_a_failing_callback_stops_the_async_batch(market: FakeMarket) -> None:
    market.latency = 0.02

    def stop(outcome: Outcome) -> None:
        raise StopBatchError(outcome.return_id)

    async def main() -> None:
        async with async_client(market) as client:
            await client.cancel_returns(CAMPAIGN, range(1, 101), on_outcome=stop)

    with pytest.raises(StopBatchError):
        asyncio.run(main())
    assert len(market.operations) < 20


def test_an_async_client_refuses_a_second_event_loop_plainly(market: FakeMarket) -> None:
    client = async_client(market)

    async def first_loop() -> None:
        async with client:
            await client.cancel_return(CAMPAIGN, 1)

    asyncio.run(first_loop())
    with pytest.raises(RuntimeError, match="make one per loop"):
        asyncio.run(client.cancel_return(CAMPAIGN, 2))
    assert len(market.exchanges) == 1
