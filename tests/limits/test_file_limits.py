"""FileLimits: the Market's 4 requests in flight per store, shared by the processes of one host through lock
files, proven with real processes (killed ones too) against the fake Market."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT
from yandex_market_returns import ReturnsClient
from yandex_market_returns.limits import FileLimits
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 21621656
KEY = "fake-market-key-file-limits"
# A worker process: cancels its returns with 8 threads ("threads") or one async batch ("tasks") on FileLimits
# in the folder given, once told to go; prints how many of them started.
WORKER = """
import asyncio, sys
from concurrent.futures import ThreadPoolExecutor
from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.limits import FileLimits
mode, folder, base_url, key, campaign, *ids = sys.argv[1:]
campaign, ids, limits = int(campaign), [int(i) for i in ids], FileLimits(folder)
print("ready", flush=True)
sys.stdin.readline()
if mode == "tasks":
    async def main():
        async with AsyncReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.01) as client:
            return await client.cancel_returns(campaign, ids)
    print(sum(outcome.ok for outcome in asyncio.run(main())), flush=True)
else:
    with ReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.01) as client:
        with ThreadPoolExecutor(8) as pool:
            print(sum(1 for _ in pool.map(lambda i: client.cancel_return(campaign, i), ids)), flush=True)
"""


def _workers(folder: Path, market: FakeMarket, shares: list[tuple[str, range]]) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(folder), market.base_url, KEY, str(CAMPAIGN)]
            + [str(i) for i in ids],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for mode, ids in shares
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return workers


def test_processes_of_threads_and_of_tasks_keep_four_in_flight_and_get_no_420(tmp_path: Path) -> None:
    with FakeMarket(api_key=KEY, latency=0.03) as market:
        market.add_returns(CAMPAIGN, *range(1, 241))
        shares = [("threads", range(1, 81)), ("threads", range(81, 161)), ("tasks", range(161, 241))]
        workers = _workers(tmp_path, market, shares)
        started = [int(worker.communicate(timeout=120)[0]) for worker in workers]
        assert started == [80, 80, 80]
        assert market.max_in_flight(CAMPAIGN) == 4
        assert not [exchange for exchange in market.exchanges if exchange.status == 420]


def test_a_killed_process_holds_no_slot(tmp_path: Path) -> None:
    """SIGKILL while 4 requests are in flight: the kernel lets go of its slot files, and another process gets
    all 4 at once (the Market's own slots aside: its requests were answered meanwhile)."""
    with FakeMarket(api_key=KEY, latency=1.0) as market:
        market.add_returns(CAMPAIGN, *range(1, 45))
        (doomed,) = _workers(tmp_path, market, [("threads", range(1, 41))])
        deadline = time.monotonic() + 10
        while market.max_in_flight(CAMPAIGN) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=10)  # its pipes closed
        time.sleep(1.1)  # its requests in flight end at the Market
        market.latency = 0.0
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=FileLimits(tmp_path)) as client:
            started = time.monotonic()
            assert all(outcome.ok for outcome in client.cancel_returns(CAMPAIGN, range(41, 45)))
            assert time.monotonic() - started < 1.0


def test_a_slot_released_with_a_grace_period_keeps_its_file(tmp_path: Path) -> None:
    """A request that timed out may still be worked on by the Market: the other processes wait for it too."""
    first, second = FileLimits(tmp_path), FileLimits(tmp_path)
    slots, _ = first.for_threads()
    others, _ = second.for_threads()
    stop = threading.Event()
    key = ("campaign", CAMPAIGN)
    for _ in range(4):
        assert slots.acquire(key, stop, None)
    slots.release(key, grace=0.5)
    assert not others.acquire(key, stop, time.monotonic() + 0.2), "taken while its grace period runs"
    assert others.acquire(key, stop, time.monotonic() + 1.0), "free once it ends"


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_a_folder_that_cannot_hold_the_slots_is_refused_naming_it(tmp_path: Path, where: str) -> None:
    (tmp_path / "taken").write_text("not a folder")
    folder = tmp_path / "taken" if where == "a file" else tmp_path / "taken" / "limits"
    with pytest.raises(ValueError, match=f"the limits' folder {folder}"):
        FileLimits(folder)


def test_two_runs_of_the_command_at_once_keep_four_in_flight(tmp_path: Path) -> None:
    """The issue's figure: two `cancel` runs on one store put 8 in flight (125-262 answers 420); now 4."""
    env = {**os.environ, "YANDEX_MARKET_API_KEY": KEY, "XDG_RUNTIME_DIR": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
    with FakeMarket(api_key=KEY, latency=0.03) as market:
        market.add_returns(CAMPAIGN, *range(1, 201))
        runs = []
        for n, ids in enumerate((range(1, 101), range(101, 201))):
            folder = tmp_path / f"run-{n}"
            folder.mkdir()
            command = [sys.executable, "-m", "yandex_market_returns.cli", "cancel", "--campaign-id", str(CAMPAIGN)]
            command += ["--yes", "--base-url", market.base_url, *[str(i) for i in ids]]
            runs.append(
                subprocess.Popen(
                    command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
            )
        for run in runs:
            _, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            assert f"limits: shared with this command's other runs on this host, by lock files in {tmp_path}" in err
        assert market.max_in_flight(CAMPAIGN) == 4
        assert not [exchange for exchange in market.exchanges if exchange.status == 420]


def test_a_child_forked_while_slots_are_held_does_not_keep_them(tmp_path: Path) -> None:
    """An idle worker forked while its parent held the store's 4 slot files (gunicorn --preload): once the
    parent lets go, another process of the host gets a slot, and so does the child."""
    import warnings

    store = ("campaign", CAMPAIGN)
    slots, _ = FileLimits(tmp_path).for_threads()
    for _ in range(4):
        assert slots.acquire(store, threading.Event(), None)
    reader, writer = os.pipe()
    with warnings.catch_warnings():  # 3.12 warns of a fork with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # idle until the parent let go, then takes a slot of its own
        os.read(reader, 1)
        os._exit(0 if slots.acquire(store, threading.Event(), time.monotonic() + 2) else 1)
    for _ in range(4):
        slots.release(store)
    other = subprocess.run(
        [sys.executable, "-c", TAKE_ONE, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    os.write(writer, b"go")
    assert os.waitpid(child, 0)[1] == 0, "the child got no slot"
    assert other.stdout.strip() == "taken", other.stderr


# Another process of the host: one slot of the store, within a second.
TAKE_ONE = f"""
import sys, threading, time
from yandex_market_returns.limits import FileLimits
slots, _ = FileLimits(sys.argv[1]).for_threads()
print("taken" if slots.acquire(("campaign", {CAMPAIGN}), threading.Event(), time.monotonic() + 1) else "none")
"""
