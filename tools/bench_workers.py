"""Many workers on one store (``make bench``): processes of threads, and one of async tasks, cancelling one
batch through one fake Market, with each process's own limits and with ``RedisLimits``, side by side."""

import json
import os
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

# argv: mode (threads|tasks), Redis URL or "" for the process's own limits, Market URL, key, return ids.
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
if mode == "threads":
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


def run(url: str) -> dict[str, Any]:
    """One batch of ``RETURNS`` shared by the workers: what the Market saw and how long it took."""
    returns = list(range(1, RETURNS + 1))
    shares = [returns[i :: THREAD_PROCESSES + 1] for i in range(THREAD_PROCESSES + 1)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))}
    with FakeMarket(latency=LATENCY) as market:
        market.add_returns(STORE, *returns)
        market_args = [market.base_url, market.api_key]
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, "threads" if i < THREAD_PROCESSES else "tasks", url, *market_args]
                + [str(return_id) for return_id in share],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for i, share in enumerate(shares)
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
    own = run("")
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            shared = run(server.url)
            stats = redis.Redis.from_url(server.url).info("commandstats")
        finally:
            server.stop()
    scripts = sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("eval", "evalsha"))
    per_request = scripts / shared["requests"]
    what = f"{THREAD_PROCESSES} processes x {THREADS} threads + 1 of tasks, {RETURNS} x {LATENCY * 1000:.0f} ms"
    return [
        (f"{what}, own limits: 420 answers", f"{own['420s']} ({own['failed']} failed)", "(reported)", True),
        (f"{what}, RedisLimits: max in flight", str(shared["max in flight"]), "<= 4", shared["max in flight"] <= 4),
        (
            "  RedisLimits: 420 answers, failed",
            f"{shared['420s']}, {shared['failed']}",
            "0, 0",
            not shared["420s"] and not shared["failed"],
        ),
        (
            "  RedisLimits: share of ideal N*L/4",
            f"{shared['ideal share']:.2f}",
            ">= 0.90",
            shared["ideal share"] >= 0.9,
        ),
        ("  RedisLimits: Redis scripts a request", f"{per_request:.1f}", "(reported)", True),
    ]
