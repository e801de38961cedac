"""Per-call overhead and import time, each measured side by side with raw httpx in one run (``make bench``).

Every call is answered by an ``httpx.MockTransport`` with one 200 and the three rate-limit headers, so
what is timed is the client's own work, not a network's.
"""

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

SERVER = "https://api.partner.market.yandex.ru"
PATH = "/v1/campaigns/21621656/returns/cancel"
CALLS = 2000
ROUNDS = 7
IMPORT_PAIRS = 25
BODY = json.dumps(
    {
        "status": "OK",
        "result": {"operation": {"id": "6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13", "type": "RETURN_CANCELLATION"}},
    }
).encode()
HEADERS = {
    "Content-Type": "application/json;charset=UTF-8",
    "Date": "Fri, 27 Nov 2026 13:21:07 GMT",
    "X-RateLimit-Resource-Limit": "5000",
    "X-RateLimit-Resource-Remaining": "4873",
    "X-RateLimit-Resource-Until": "Fri, 27 Nov 2026 14:00:00 GMT",
}
KEY = "bench-key-not-a-secret"


def canned_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=HEADERS, content=BODY)


class Ratios:
    """Per-call times of one contender against the baseline, round by round."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds / CALLS * 1e6)

    def micros(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratio(self, name: str, base: str) -> tuple[float, float, float]:
        """Median, min and max of the per-round ratios: each round's contenders ran side by side."""
        ratios = [mine / theirs for mine, theirs in zip(self.times[name], self.times[base], strict=True)]
        return statistics.median(ratios), min(ratios), max(ratios)


def sync_calls() -> Ratios:
    raw = httpx.Client(base_url=SERVER, transport=httpx.MockTransport(canned_answer), headers={"Api-Key": KEY})
    generated = AuthenticatedClient(
        base_url=SERVER, token=KEY, httpx_args={"transport": httpx.MockTransport(canned_answer)}
    )
    ours = ReturnsClient(api_key=KEY, transport=httpx.MockTransport(canned_answer))
    runs: dict[str, Callable[[], object]] = {
        "raw": lambda: raw.post(PATH, json={"returnId": 97211}).json(),
        "generated": lambda: cancel_return.sync_detailed(21621656, client=generated, body=CancelReturnRequest(97211)),
        "ours": lambda: ours.cancel_return(21621656, 97211),
    }
    ratios = Ratios()
    with raw, generated, ours:
        for run in runs.values():  # warm: pools, caches, lazy imports
            run()
        for _ in range(ROUNDS):  # interleaved, so that drift on the machine hits all alike
            for name, run in runs.items():
                started = time.perf_counter()
                for _ in range(CALLS):
                    run()
                ratios.add(name, time.perf_counter() - started)
    return ratios


def async_calls() -> Ratios:
    async def main() -> Ratios:
        transport = httpx.MockTransport(canned_answer)
        raw = httpx.AsyncClient(base_url=SERVER, transport=transport, headers={"Api-Key": KEY})
        generated = AuthenticatedClient(base_url=SERVER, token=KEY, httpx_args={"transport": transport})
        ours = AsyncReturnsClient(api_key=KEY, transport=httpx.MockTransport(canned_answer))

        async def raw_call() -> object:
            return (await raw.post(PATH, json={"returnId": 97211})).json()

        runs: dict[str, Callable[[], Awaitable[object]]] = {
            "raw": raw_call,
            "generated": lambda: cancel_return.asyncio_detailed(
                21621656, client=generated, body=CancelReturnRequest(97211)
            ),
            "ours": lambda: ours.cancel_return(21621656, 97211),
        }
        ratios = Ratios()
        async with raw, generated, ours:
            for run in runs.values():
                await run()
            for _ in range(ROUNDS):
                for name, run in runs.items():
                    started = time.perf_counter()
                    for _ in range(CALLS):
                        await run()
                    ratios.add(name, time.perf_counter() - started)
        return ratios

    return asyncio.run(main())


# httpx imports its command line (click, rich) when they are installed, as the dev tools install them; a
# service installs the three runtime dependencies only. Both sides are timed as there.
WITHOUT_DEV_TOOLS = "import sys; sys.modules.update(click=None, rich=None, pygments=None); "


def imports() -> tuple[float, float, float]:
    """Whole processes, ``import httpx`` against ``import yandex_market_returns``, in pairs; the ratio of the
    medians, and the generated package's alone."""
    times: dict[str, list[float]] = {"httpx": [], "yandex_market_returns": [], "yandex_market_returns_client": []}
    for _ in range(IMPORT_PAIRS):
        for module, spent in times.items():
            spent.append(_process_seconds(f"{WITHOUT_DEV_TOOLS}import {module}"))
    base = statistics.median(times["httpx"])
    return (
        statistics.median(times["yandex_market_returns"]) / base,
        statistics.median(times["yandex_market_returns_client"]) / base,
        base * 1000,
    )


# httpx's own first request compiles regular expressions and more: it is made first, so that what is timed
# is what this client leaves to its first call.
FIRST_CALL = """
import time, httpx
from yandex_market_returns import ReturnsClient
from tools.bench_calls import canned_answer
httpx.Client(transport=httpx.MockTransport(canned_answer)).post("http://127.0.0.1/", json={})
client = ReturnsClient(api_key="k", transport=httpx.MockTransport(canned_answer))
times = []
for _ in range(51):
    started = time.perf_counter()
    client.cancel_return(21621656, 97211)
    times.append(time.perf_counter() - started)
later = sorted(times[1:])[25]
print((times[0] - later) * 1000)
"""


def first_call_extra_ms() -> float:
    """How much slower the client's first call in a fresh process is than its others (what it leaves to the
    first call: lazy imports, caches), httpx's own first request made before."""
    runs = [float(run_python(FIRST_CALL)) for _ in range(5)]
    return statistics.median(runs)


def _process_seconds(code: str) -> float:
    started = time.perf_counter()
    run_python(code)
    return time.perf_counter() - started


def run_python(code: str) -> str:
    root = Path(__file__).parent.parent
    environment = {"PYTHONPATH": f"{root / 'generated'}:{root / 'src'}:{root}", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, cwd=root
    )
    return done.stdout


def post_each(http: httpx.Client, path: str, return_ids: Iterable[int], pool: ThreadPoolExecutor, at_once: int) -> None:
    """Raw httpx, ``at_once`` requests in flight on the pool's threads (started beforehand): the ceiling any
    client reaches against the same server."""
    pending, lock = iter(return_ids), threading.Lock()

    def post() -> None:
        while True:
            with lock:
                return_id = next(pending, None)
            if return_id is None:
                return
            http.post(path, json={"returnId": return_id})

    list(pool.map(lambda _: post(), range(at_once)))
