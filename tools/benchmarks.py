"""``make bench``: every performance goal of the client, measured in one run, printed as one table.

- Per call: the client against raw httpx and the generated client, side by side (``tools/bench_calls.py``).
- Import: ``import yandex_market_returns`` against ``import httpx``, whole processes in pairs.
- Batches: 200 cancellations against the fake Market at 50 ms an answer, against the ideal N x L / 4 (the
  Market's parallel limit per store, kept full), and the fake Market's own cost per answer beside it.
- Confirmations: getOperations requests to confirm 1,000 cancellations, against ⌈N/100⌉ a poll round.
- Memory for a 10,000-return batch, and the time of ``make generate``.
"""

import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tools import bench_calls, bench_workers
from yandex_market_returns import AsyncReturnsClient, OperationStatusType, ReturnsClient
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 1
BATCH = 200
LATENCY = 0.05
CONFIRMED = 1000
OPERATION_DELAY = 2.0
LARGE_BATCH = 10_000
ROOT = Path(__file__).parent.parent

Row = tuple[str, str, str, bool]  # what, measured, goal, met


def per_call() -> list[Row]:
    rows = []
    for kind, ratios in (("sync", bench_calls.sync_calls()), ("async", bench_calls.async_calls())):
        for name, goal in (("generated", 1.10), ("ours", 1.25)):
            median, low, high = ratios.ratio(name, "raw")
            what = f"{kind} {'generated client' if name == 'generated' else 'ReturnsClient'}".replace(
                "async ReturnsClient", "AsyncReturnsClient"
            )
            measured = (
                f"{median:.2f}x raw ({low:.2f}-{high:.2f}; {ratios.micros(name):.0f} vs {ratios.micros('raw'):.0f} us)"
            )
            rows.append((f"{what} per call", measured, f"<= {goal:.2f}x", median <= goal))
    return rows


def imports() -> list[Row]:
    ours, generated, base_ms = bench_calls.imports()
    extra = bench_calls.first_call_extra_ms()
    return [
        ("import yandex_market_returns", f"{ours:.2f}x import httpx ({base_ms:.0f} ms)", "<= 1.50x", ours <= 1.5),
        ("import yandex_market_returns_client", f"{generated:.2f}x import httpx", "(reported)", True),
        ("first call's extra over the others", f"{extra:.2f} ms", "<= 1 ms", extra <= 1.0),
    ]


def batches() -> list[Row]:
    ideal = BATCH * LATENCY / 4
    with FakeMarket(latency=LATENCY) as market:
        market.add_returns(CAMPAIGN, *range(1, 2 * BATCH + 1))
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            client.cancel_return(CAMPAIGN, 2 * BATCH)  # a warm pool, as a service's
            started = time.perf_counter()
            client.cancel_returns(CAMPAIGN, range(1, BATCH + 1))
            sync_took = time.perf_counter() - started

        async def run() -> float:
            async with AsyncReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
                await client.cancel_return(CAMPAIGN, 2 * BATCH - 1)
                started = time.perf_counter()
                await client.cancel_returns(CAMPAIGN, range(BATCH + 1, 2 * BATCH - 1))
                return time.perf_counter() - started

        async_took = asyncio.run(run()) * BATCH / (BATCH - 2)
        refused = sum(exchange.status == 420 for exchange in market.exchanges)
    raw_sync, raw_async = _raw_ceilings()
    own = _fake_market_cost_ms()
    label = f"{BATCH} x {LATENCY * 1000:.0f} ms"
    return [
        _batch_row(f"ReturnsClient.cancel_returns, {label}", ideal / sync_took),
        _batch_row(f"AsyncReturnsClient.cancel_returns, {label}", ideal / async_took),
        ("raw httpx, 4 threads, same Market", f"{ideal / raw_sync:.2f} of ideal", "(ceiling)", True),
        ("raw httpx.AsyncClient, 4 tasks, same Market", f"{ideal / raw_async:.2f} of ideal", "(ceiling)", True),
        ("420 answers during both batches", str(refused), "0", refused == 0),
        ("fake Market's own time per answer", f"{own:.2f} ms ({own / (LATENCY * 1000):.1%} of L)", "(reported)", True),
    ]


def _batch_row(what: str, share: float) -> Row:
    return what, f"{share:.2f} of ideal", ">= 0.95", share >= 0.95


def _raw_ceilings() -> tuple[float, float]:
    """The same batch sent with raw httpx, 4 at a time: what the fake Market and the loopback allow any client."""
    with FakeMarket(latency=LATENCY) as market:
        market.add_returns(CAMPAIGN, *range(1, 2 * BATCH + 1))
        path = f"/v1/campaigns/{CAMPAIGN}/returns/cancel"
        headers = {"Api-Key": market.api_key}
        with httpx.Client(base_url=market.base_url, headers=headers) as http:
            http.post(path, json={"returnId": 2 * BATCH})
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: None, range(4)))  # the threads are started before the batch
                started = time.perf_counter()
                bench_calls.post_each(http, path, range(1, BATCH + 1), pool, 4)
                sync_took = time.perf_counter() - started

        async def run() -> float:
            async with httpx.AsyncClient(base_url=market.base_url, headers=headers) as http:
                await http.post(path, json={"returnId": 2 * BATCH - 1})
                pending = iter(range(BATCH + 1, 2 * BATCH - 1))

                async def work() -> None:
                    for return_id in pending:
                        await http.post(path, json={"returnId": return_id})

                started = time.perf_counter()
                await asyncio.gather(*(work() for _ in range(4)))
                return time.perf_counter() - started

        return sync_took, asyncio.run(run()) * BATCH / (BATCH - 2)


def _fake_market_cost_ms() -> float:
    """One raw httpx request after another to a fake Market with no latency: its own cost per answer."""
    with FakeMarket() as market, httpx.Client(base_url=market.base_url) as http:
        market.add_returns(CAMPAIGN, *range(1, 501))
        headers = {"Api-Key": market.api_key}
        started = time.perf_counter()
        for return_id in range(1, 501):
            http.post(f"/v1/campaigns/{CAMPAIGN}/returns/cancel", json={"returnId": return_id}, headers=headers)
        return (time.perf_counter() - started) / 500 * 1000


def confirmations() -> list[Row]:
    """One cancel_returns(business_id=...) of 1,000 returns; every getOperations request it made, counted."""
    with FakeMarket(latency=0.02, operation_delay=OPERATION_DELAY) as market:
        market.add_returns(CAMPAIGN, *range(1, CONFIRMED + 1))
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            outcomes = client.cancel_returns(CAMPAIGN, range(1, CONFIRMED + 1), business_id=market.DEFAULT_BUSINESS)
        exchanges = [e for e in market.exchanges if e.path.endswith("/operations")]
    done = sum(outcome.status == OperationStatusType.DONE for outcome in outcomes)
    # A round's requests go one after another; rounds are at least poll_interval (1 s) apart.
    rounds: list[list[int]] = [[]]
    for earlier, later in zip([None, *exchanges], exchanges, strict=False):
        if earlier is not None and later.received_at - earlier.received_at > 0.5:
            rounds.append([])
        rounds[-1].append(len(json.loads(later.body)["operationIds"]))
    bound = math.ceil(CONFIRMED / 100)
    worst = max(len(requests) for requests in rounds)
    measured = f"{len(exchanges)} requests in {len(rounds)} rounds, at most {worst} a round ({done} DONE)"
    return [(f"getOperations to confirm {CONFIRMED} cancellations", measured, f"<= {bound} a round", worst <= bound)]


LARGE = f"""
import resource
from yandex_market_returns import ReturnsClient
from yandex_market_returns.testing import FakeMarket
with FakeMarket() as market:
    market.add_returns(1, *range(1, {LARGE_BATCH} + 1))
    with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
        client.cancel_return(1, {LARGE_BATCH})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        client.cancel_returns(1, range(1, {LARGE_BATCH}))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def footprint() -> list[Row]:
    growth_mib = int(bench_calls.run_python(LARGE)) / 1024  # ru_maxrss is in KiB on Linux
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run(
            ["make", "-s", "generate", f"GENERATED={folder}/yandex_market_returns_client"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        generate = time.perf_counter() - started
    return [
        (f"peak RSS growth, {LARGE_BATCH:,}-return batch", f"{growth_mib:.1f} MiB", "< 50 MiB", growth_mib < 50),
        ("make generate", f"{generate:.2f} s", "< 3 s", generate < 3),
    ]


def main() -> int:
    rows = [*per_call(), *imports(), *batches(), *confirmations(), *bench_workers.rows(), *footprint()]
    width = max(len(row[0]) for row in rows)
    measured_width = max(len(row[1]) for row in rows)
    print(f"make bench ({bench_calls.CALLS} calls a round, medians of {bench_calls.ROUNDS} interleaved rounds):")
    print(f"  {'what':{width}}  {'measured':{measured_width}}  {'goal':12}  met")
    for what, measured, goal, met in rows:
        print(f"  {what:{width}}  {measured:{measured_width}}  {goal:12}  {'yes' if met else 'NO'}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
