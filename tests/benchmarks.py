"""``make bench``: how much faster a batch is than one call after another, measured side by side; and
how many getOperations requests confirming 1,000 cancellations takes.

Against the fake Market with a fixed latency per answer, the ideal ratio is 4: the Market's parallel
limit per store, which ``cancel_returns`` keeps full. Confirming N cancellations costs at most ⌈N/100⌉
getOperations requests per poll round; the floor is one round once all are done, ⌈N/100⌉ requests.
"""

import asyncio
import itertools
import json
import math
import statistics
import time
from collections.abc import Callable

from yandex_market_returns import AsyncReturnsClient, OperationStatusType, ReturnsClient
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 1
CALLS = 100
LATENCY = 0.02
ROUNDS = 3
CONFIRMED = 1000
OPERATION_DELAY = 2.0


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    with FakeMarket(latency=LATENCY) as market:
        market.add_returns(CAMPAIGN, *range(1, 3 * CALLS * ROUNDS + 1))
        ids = iter(range(1, 3 * CALLS * ROUNDS + 1))

        def batch() -> list[int]:
            return [next(ids) for _ in range(CALLS)]

        one_by_one, sync_batch, async_batch = [], [], []
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:

            async def async_run(return_ids: list[int]) -> None:
                async with AsyncReturnsClient(api_key=market.api_key, base_url=market.base_url) as async_client:
                    await async_client.cancel_returns(CAMPAIGN, return_ids)

            for _ in range(ROUNDS):  # interleaved, so that drift on the machine hits all three alike
                one_by_one.append(_timed(lambda: [client.cancel_return(CAMPAIGN, rid) for rid in batch()]))
                sync_batch.append(_timed(lambda: client.cancel_returns(CAMPAIGN, batch())))
                async_batch.append(_timed(lambda: asyncio.run(async_run(batch()))))
        assert market.max_in_flight(CAMPAIGN) <= 4
    base = statistics.median(one_by_one)
    print(f"{CALLS} cancellations, {LATENCY * 1000:.0f} ms per answer, median of {ROUNDS} interleaved rounds:")
    for name, times in (
        ("cancel_return one by one", one_by_one),
        ("ReturnsClient.cancel_returns", sync_batch),
        ("AsyncReturnsClient.cancel_returns", async_batch),
    ):
        print(f"  {name:34} {statistics.median(times):6.2f} s   {base / statistics.median(times):4.1f}x")
    confirmations()


def confirmations() -> None:
    """One cancel_returns(business_id=...) of 1,000 returns; every getOperations request it made, counted."""
    with FakeMarket(latency=LATENCY, operation_delay=OPERATION_DELAY) as market:
        market.add_returns(CAMPAIGN, *range(1, CONFIRMED + 1))
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            started = time.perf_counter()
            outcomes = client.cancel_returns(CAMPAIGN, range(1, CONFIRMED + 1), business_id=market.DEFAULT_BUSINESS)
            took = time.perf_counter() - started
        exchanges = [e for e in market.exchanges if e.path.endswith("/operations")]
        polls = [json.loads(e.body)["operationIds"] for e in exchanges]
    done = sum(outcome.status == OperationStatusType.DONE for outcome in outcomes)
    floor = math.ceil(CONFIRMED / 100)
    # A round's requests go one after another; rounds are at least poll_interval (1 s) apart.
    rounds = 1 + sum(later.received_at - earlier.received_at > 0.5 for earlier, later in itertools.pairwise(exchanges))
    print(
        f"\nConfirming {CONFIRMED} cancellations ({OPERATION_DELAY:g} s per operation, {LATENCY * 1000:.0f} ms per "
        f"answer, poll_interval 1 s): {done} DONE in {took:.1f} s"
    )
    print(f"  getOperations requests          {len(polls):6}   in {rounds} poll rounds")
    print(f"  floor (one round, 100 ids each) {floor:6}   {len(polls) / floor:4.1f}x the floor")
    print(f"  largest request                 {max(map(len, polls)):6} ids")


if __name__ == "__main__":
    main()
