"""``make bench``: how much faster a batch is than one call after another, measured side by side.

Against the fake Market with a fixed latency per answer, the ideal ratio is 4: the Market's parallel
limit per store, which ``cancel_returns`` keeps full.
"""

import asyncio
import statistics
import time
from collections.abc import Callable

from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 1
CALLS = 100
LATENCY = 0.02
ROUNDS = 3


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


if __name__ == "__main__":
    main()
