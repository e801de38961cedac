"""Many workers on one store (``make bench``): processes of threads, and one of async tasks, cancelling one
batch through one fake Market, with each process's own limits and with ``RedisLimits``, side by side; and the
ceiling of the machine and the fake Market: one process of 4 threads posting with raw httpx, never more than
4 in flight and never waiting for anyone."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from tools.redis_server import RedisServer
from yandex_market_returns.testing import FakeMarket

ROOT = Path(__file__).parent.parent
STORE = 21621656
RETURNS = 400
LATENCY = 0.05
THREAD_PROCESSES = 4
THREADS = 8
# Rounds of the ceiling and of RedisLimits, interleaved: the goal is judged on their medians.
ROUNDS = 5

# argv: mode (threads|tasks|raw), Redis URL or "" for the process's own limits, Market URL, key, return ids.
# A worker opens its client before it says it is ready: the batch is timed, not the start of a process.
# It reports its outcomes and when it had the last (the monotonic clock is the machine's, not the process's).
WORKER = """
import asyncio, json, sys, time
from concurrent.futures import ThreadPoolExecutor
from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.limits import RedisLimits
mode, url, base_url, key, *ids = sys.argv[1:]
ids = [int(i) for i in ids]
limits = RedisLimits.from_url(url, prefix="bench:") if url else None
def outcome(return_id, error):
    return [return_id, None if error is None else type(error).__name__]
def report(outcomes):
    print(json.dumps({"outcomes": outcomes, "finished": time.monotonic()}), flush=True)
if mode == "raw":
    import httpx
    from tools.bench_calls import post_each
    with httpx.Client(base_url=base_url, headers={"Api-Key": key}) as http, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: None, range(4)))
        print("ready", flush=True)
        sys.stdin.readline()
        post_each(http, "/v1/campaigns/STORE/returns/cancel", ids, pool, 4)
        report([[return_id, None] for return_id in ids])
elif mode == "threads":
    with ReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.05) as client:
        def cancel(return_id):
            try:
                client.cancel_return(STORE, return_id)
                return outcome(return_id, None)
            except Exception as error:
                return outcome(return_id, error)
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda _: None, range(THREADS)))  # the threads are started before the batch
            print("ready", flush=True)
            sys.stdin.readline()
            report(list(pool.map(cancel, ids)))
else:
    async def main():
        async with AsyncReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.05) as client:
            print("ready", flush=True)
            sys.stdin.readline()
            outcomes = await client.cancel_returns(STORE, ids)
            report([outcome(o.return_id, o.error) for o in outcomes])
        if limits is not None:
            await limits.aclose()
    asyncio.run(main())
""".replace("STORE", str(STORE)).replace("THREADS", str(THREADS))


def run(url: str, raw: bool = False) -> dict[str, Any]:
    """One batch of ``RETURNS`` shared by the workers (or all of it in one raw worker): what the Market saw
    and how long it took."""
    returns = list(range(1, RETURNS + 1))
    modes = ["raw"] if raw else ["threads"] * THREAD_PROCESSES + ["tasks"]
    shares = [returns[i :: len(modes)] for i in range(len(modes))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))}
    with FakeMarket(latency=LATENCY) as market:
        market.add_returns(STORE, *returns)
        market_args = [market.base_url, market.api_key]
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, mode, url, *market_args] + [str(return_id) for return_id in share],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for mode, share in zip(modes, shares, strict=True)
        ]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        started = time.monotonic()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = [json.loads(worker.communicate(timeout=300)[0]) for worker in workers]
        outcomes = [o for report in reports for o in report["outcomes"]]
        took = max(report["finished"] for report in reports) - started
        statuses = [exchange.status for exchange in market.exchanges]
        return {
            "ideal share": RETURNS * LATENCY / 4 / took,
            "max in flight": market.max_in_flight(STORE),
            "420s": statuses.count(420),
            "failed": sum(1 for _, error in outcomes if error is not None),
            "one outcome each": sorted(return_id for return_id, _ in outcomes) == returns,
            "requests": len(statuses),
        }


Row = tuple[str, str, str, bool]  # as in tools/benchmarks.py


def rows() -> list[Row]:
    """The goal is judged on medians of ``ROUNDS`` rounds of the ceiling and of ``RedisLimits``, interleaved
    so that drift on the machine hits both alike: one round's spread (about 0.015 here) is as wide as the
    margin."""
    own = run("")
    ceilings: list[float] = []
    shared: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            for _ in range(ROUNDS):
                ceilings.append(run("", raw=True)["ideal share"])
                shared.append(run(server.url))
            stats = redis.Redis.from_url(server.url).info("commandstats")
        finally:
            server.stop()
    calls = {name.removeprefix("cmdstat_"): stat["calls"] for name, stat in stats.items()}
    scripts = calls.get("eval", 0) + calls.get("evalsha", 0)
    # Inside scripts too: each is counted as its own command as well as its script's.
    commands = sum(count for name, count in calls.items() if name not in ("info", "hello", "ping"))
    requests = sum(one["requests"] for one in shared)
    share, ceiling = statistics.median(one["ideal share"] for one in shared), statistics.median(ceilings)
    low, high = min(one["ideal share"] for one in shared), max(one["ideal share"] for one in shared)
    most = max(one["max in flight"] for one in shared)
    answers_420, failed = sum(one["420s"] for one in shared), sum(one["failed"] for one in shared)
    what = f"{THREAD_PROCESSES} processes x {THREADS} threads + 1 of tasks, {RETURNS} x {LATENCY * 1000:.0f} ms"
    return [
        (f"{what}, own limits: 420 answers", f"{own['420s']} ({own['failed']} failed)", "(reported)", True),
        (f"{what}, RedisLimits: max in flight", str(most), "<= 4", most <= 4),
        ("  RedisLimits: 420 answers, failed", f"{answers_420}, {failed}", "0, 0", not answers_420 and not failed),
        (
            f"  RedisLimits: share of ideal N*L/4, median of {ROUNDS}",
            f"{share:.2f} ({low:.2f}-{high:.2f}; {share / ceiling:.2f} of the ceiling)",
            ">= 0.90, or >= 0.97 of the ceiling",
            share >= 0.9 or share >= 0.97 * ceiling,
        ),
        (
            f"  ceiling: 1 process, 4 threads of raw httpx, median of {ROUNDS}",
            f"{ceiling:.2f} of ideal ({min(ceilings):.2f}-{max(ceilings):.2f})",
            "(reported)",
            True,
        ),
        (
            "  RedisLimits: Redis calls a request",
            f"{scripts / requests:.1f} scripts, {commands / requests:.1f} commands in all",
            "(reported)",
            True,
        ),
    ]
