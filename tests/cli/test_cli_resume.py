"""The command killed with SIGKILL at any instant and run again: nothing it sent is lost, nothing is sent twice,
and every return ends reported once, in its true state (checked against the fake Market's books)."""

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from yandex_market_returns.testing import FakeMarket, Fault

KEY = "fake-market-key-resume-8c2f"
STORE = 21621656
BUSINESS = FakeMarket.DEFAULT_BUSINESS
RETURNS = range(1, 401)
CANCELLED_BEFORE = range(396, 401)
FAULTS = (
    Fault.SERVER_ERROR,
    Fault.SERVER_ERROR_AFTER_ACTING,
    Fault.HTML_BAD_GATEWAY,
    Fault.DROPPED_CONNECTION,
    Fault.ANSWER_LOST,
    Fault.TRUNCATED_BODY,
)
Answer = tuple[int, dict[str, str], bytes]


def _kind(path: str) -> str:
    if path.endswith("/returns/cancel"):
        return "cancel"
    return "operations" if path.endswith("/operations") else "returns"


class Killer:
    """Runs the command, one run after another, and kills a run with SIGKILL when the Market has answered its
    ``n``-th request of a kind (``delay`` seconds later: 0 lands before the answer is read, a little more
    between the answer and what the command does with it). Notes what a later run sends for a return whose
    cancellation an earlier run started."""

    def __init__(self, market: FakeMarket, folder: Path) -> None:
        self.market = market
        self.folder = folder
        self.run = 0
        self.started_in: dict[int, int] = {}  # return id -> the run whose request started its cancellation
        self.sent_again: list[tuple[int, int]] = []
        self._process: subprocess.Popen[str] | None = None
        self._trigger: tuple[str, int, float] | None = None
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        answer = market.answer

        def watched(method: str, path: str, headers: Message, body: bytes) -> Answer:
            kind = _kind(path)
            return_id = json.loads(body).get("returnId") if kind == "cancel" and body.startswith(b"{") else None
            if isinstance(return_id, int) and return_id in self.started_in and self.started_in[return_id] < self.run:
                self.sent_again.append((return_id, self.run))
            before = len(market.operations)
            result = answer(method, path, headers, body)
            if len(market.operations) > before and isinstance(return_id, int):
                self.started_in.setdefault(return_id, self.run)
            self._count(kind)
            return result

        market.answer = watched  # type: ignore[method-assign]

    def _count(self, kind: str) -> None:
        with self._lock:
            self._seen[kind] = self._seen.get(kind, 0) + 1
            trigger, process = self._trigger, self._process
            # At or past its count: a killed run's requests still in the Market are answered into the next run.
            if trigger is None or process is None or trigger[0] != kind or self._seen[kind] < trigger[1]:
                return
            self._trigger = None
        threading.Timer(trigger[2], os.kill, (process.pid, signal.SIGKILL)).start()

    def start(self, trigger: tuple[str, int, float] | None) -> tuple[int, str, str]:
        """One run of the command; killed as ``trigger`` says (``("start", 0, 0)``: as soon as it has said
        where its journal is, before anything is sent)."""
        self.run += 1
        command = [
            sys.executable, "-m", "yandex_market_returns.cli", "cancel", "--campaign-id", str(STORE),
            "--business-id", str(BUSINESS), "--base-url", self.market.base_url, "--from", "ids.txt", "--yes",
            "--confirm-timeout", "3",
        ]  # fmt: skip
        env = {**os.environ, "YANDEX_MARKET_API_KEY": KEY}
        env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
        with self._lock:
            self._seen = {}
            self._trigger = trigger
        process = subprocess.Popen(
            command, cwd=self.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        with self._lock:
            self._process = process
        if trigger is not None and trigger[0] == "start":
            assert process.stderr is not None
            first = process.stderr.readline()
            assert first.startswith("journal: "), first
            process.kill()
        stdout, stderr = process.communicate(timeout=120)
        with self._lock:
            self._process = None
        return process.returncode, stdout, stderr


# Spread over the runs: before the first send, mid-sending (the Market's answer not yet read, or read and not yet
# in the journal), while looking returns up, while confirming.
KILLS = [
    ("start", 0, 0.0),
    *(
        (("cancel", n, delay))
        for n, delay in zip(
            (1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 35, 20, 15, 10, 5), (0.0, 0.002, 0.0, 0.001) * 4, strict=True
        )
    ),
    ("start", 0, 0.0),
    ("cancel", 40, 0.0),
    ("returns", 1, 0.0),
    ("operations", 1, 0.0),
]


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(api_key=KEY, latency=0.005, operation_delay=1.0, fault_rate=0.05, faults=FAULTS, seed=22) as fake:
        fake.add_returns(STORE, *RETURNS[: -len(CANCELLED_BEFORE)])
        fake.add_returns(STORE, *CANCELLED_BEFORE, shipment_status="CANCELLED")
        yield fake


def test_killed_at_20_instants_and_run_again_every_return_ends_once_in_its_true_state(
    market: FakeMarket, tmp_path: Path
) -> None:
    (tmp_path / "ids.txt").write_text("".join(f"{return_id}\n" for return_id in RETURNS), encoding="utf-8")
    killer = Killer(market, tmp_path)
    runs = []
    for trigger in KILLS:
        returncode, stdout, stderr = killer.start(trigger)
        runs.append((trigger, returncode, stderr.splitlines()[-1:]))
        reported = [json.loads(line)["return_id"] for line in stdout.splitlines()]
        assert len(reported) == len(set(reported)), "a run reported a return twice"
    killed = sum(returncode == -signal.SIGKILL for _, returncode, _ in runs)
    assert killed >= 20, f"only {killed} runs were killed: the rest ended before their instant: {runs}"

    returncode, stdout, stderr = killer.start(None)
    lines = [json.loads(line) for line in stdout.splitlines()]
    by_id: dict[int, dict[str, Any]] = {line["return_id"]: line for line in lines}
    assert len(by_id) == len(lines) == len(RETURNS), "every return reported exactly once"
    states = {return_id: line["state"] for return_id, line in by_id.items()}
    books = {return_id: market.shipment_status(STORE, return_id) for return_id in RETURNS}
    assert {books[r] for r in RETURNS} == {"CANCELLED"}, "the Market cancelled every return"
    assert {r for r, state in states.items() if state == "already_cancelled"} == set(CANCELLED_BEFORE)
    assert {r for r, state in states.items() if state == "cancelled"} == set(RETURNS) - set(CANCELLED_BEFORE)
    assert returncode == 0, stderr
    assert killer.sent_again == [], "a return whose cancellation an earlier run started was sent again"
    assert all(len([o for o in market.operations if o.return_id == r]) <= 1 for r in RETURNS)


def _cancel(market: FakeMarket, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "yandex_market_returns.cli", "cancel", "--campaign-id", str(STORE),
        "--business-id", str(BUSINESS), "--base-url", market.base_url, "--confirm-timeout", "3", *args,
    ]  # fmt: skip
    env = {**os.environ, "YANDEX_MARKET_API_KEY": KEY}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)


def _states(stdout: str) -> dict[int, tuple[str, str]]:
    return {line["return_id"]: (line["state"], line["source"]) for line in map(json.loads, stdout.splitlines())}


def test_a_rerun_of_a_finished_file_exits_0_with_every_return_cancelled_with_or_without_its_journal(
    tmp_path: Path,
) -> None:
    with FakeMarket(api_key=KEY, latency=0.005, operation_delay=0.1) as market:
        market.add_returns(STORE, 1, 2, 3)
        market.add_returns(STORE, 4, shipment_status="CANCELLED")
        first = _cancel(market, tmp_path, "1", "2", "3", "4")
        assert first.returncode == 0, first.stderr
        assert first.stderr.startswith(f"journal: {tmp_path / 'yandex-market-returns-journal.sqlite3'} (")
        assert _states(first.stdout) == {
            1: ("cancelled", "operation"),
            2: ("cancelled", "operation"),
            3: ("cancelled", "operation"),
            4: ("already_cancelled", "record"),
        }
        sent = len(market.exchanges)
        again = _cancel(market, tmp_path, "1", "2", "3", "4")
        assert again.returncode == 0, again.stderr
        assert len(market.exchanges) == sent, "the journal knew every end: nothing asked"
        assert {state for state, _ in _states(again.stdout).values()} <= {"cancelled", "already_cancelled"}
        assert {source for _, source in _states(again.stdout).values()} == {"journal"}
        assert "4 returns: 3 cancelled, 1 already cancelled; 4 as the journal had them" in again.stderr
        fresh = _cancel(market, tmp_path, "--fresh", "1", "2", "3", "4")
        assert fresh.returncode == 0, fresh.stderr
        assert "--fresh: what it knows of this store is forgotten as the run starts" in fresh.stderr
        assert _states(fresh.stdout) == dict.fromkeys((1, 2, 3, 4), ("already_cancelled", "record"))
        elsewhere = _cancel(market, tmp_path, "--journal", str(tmp_path / "other" / "j.sqlite3"), "1")
        assert elsewhere.returncode == 0, elsewhere.stderr
        assert _states(elsewhere.stdout) == {1: ("already_cancelled", "record")}
    assert len(market.operations) == 3, "none cancelled twice"


def test_a_second_command_on_a_journal_in_use_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    with FakeMarket(api_key=KEY, latency=0.3) as market:
        market.add_returns(STORE, *range(1, 41))
        (tmp_path / "ids.txt").write_text("".join(f"{n}\n" for n in range(1, 41)), encoding="utf-8")
        env = {**os.environ, "YANDEX_MARKET_API_KEY": KEY}
        env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
        command = [
            sys.executable, "-m", "yandex_market_returns.cli", "cancel", "--campaign-id", str(STORE),
            "--base-url", market.base_url, "--from", "ids.txt", "--yes",
        ]  # fmt: skip
        with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as first:
            while not market.exchanges:
                assert first.poll() is None
            second = _cancel(market, tmp_path, "--from", "ids.txt", "--yes")
            first.kill()
            first.communicate()
    assert second.returncode == 2, second.stderr
    assert "is in use by another run (process " in second.stderr
    assert "nothing was sent" in second.stderr
    assert second.stdout == ""


def test_an_order_column_lets_uncertain_returns_be_read_by_get_return(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "order_id;return_id;reason\n7001;1;damaged\n7002;2;wrong size\n\n7004;4;\n", encoding="utf-8"
    )
    with FakeMarket(api_key=KEY, latency=0.005) as market:
        market.add_returns(STORE, 1, order_id=7001)
        market.add_returns(STORE, 2, order_id=7002, shipment_status="RECEIVED")
        market.add_returns(STORE, 4, order_id=7004, shipment_status="CANCELLED")
        done = _cancel(market, tmp_path, "--from", "r.csv", "--column", "return_id", "--order-column", "order_id")
    assert _states(done.stdout) == {
        1: ("cancelled", "operation"),
        2: ("not_cancellable", "record"),
        4: ("already_cancelled", "record"),
    }
    reads = sorted(e.path for e in market.exchanges if e.path.startswith("/v2/"))
    assert reads == [f"/v2/campaigns/{STORE}/orders/{o}/returns/{r}" for o, r in ((7002, 2), (7004, 4))]


@pytest.mark.parametrize(
    ("csv", "args", "said"),
    [
        ("1\n2\n", ["--order-column", "order_id"], "r.csv: --order-column was given, but the file has no header"),
        ("return_id,order\n1,7\n", ["--order-column", "order_id"], "no column named 'order_id' (--order-column)"),
        ("return_id,order_id\n1,x7\n", ["--order-column", "order_id"], "r.csv line 2: not an order id: 'x7'"),
    ],
)
def test_a_bad_order_column_is_a_usage_error(tmp_path: Path, csv: str, args: list[str], said: str) -> None:
    (tmp_path / "r.csv").write_text(csv, encoding="utf-8")
    with FakeMarket(api_key=KEY) as market:
        done = _cancel(market, tmp_path, "--from", "r.csv", *args)
        assert market.exchanges == []
    assert done.returncode == 2
    assert said in done.stderr


@pytest.mark.parametrize("journal", ["", ".", "ids.txt/j"])
def test_a_journal_path_that_cannot_be_one_is_refused_and_nothing_sent(tmp_path: Path, journal: str) -> None:
    (tmp_path / "ids.txt").write_text("1\n", encoding="utf-8")
    with FakeMarket(api_key=KEY) as market:
        done = _cancel(market, tmp_path, "--journal", journal, "1")
        assert market.exchanges == []
    assert done.returncode == 2, done.stderr
    assert "nothing was sent" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("option", ["--confirm-timeout", "--timeout", "--max-retries"])
def test_the_key_given_as_a_number_is_never_shown(tmp_path: Path, option: str) -> None:
    with FakeMarket(api_key=KEY) as market:
        done = _cancel(market, tmp_path, option, KEY, "1")
    assert done.returncode == 2
    assert KEY not in done.stdout + done.stderr
    assert f"argument {option}: invalid " in done.stderr


def test_a_dry_run_says_what_the_journal_spares_and_writes_nothing(tmp_path: Path) -> None:
    with FakeMarket(api_key=KEY, latency=0.005) as market:
        market.add_returns(STORE, 1, 2, 3)
        assert _cancel(market, tmp_path, "1").returncode == 0
        journal = tmp_path / "yandex-market-returns-journal.sqlite3"
        before = journal.stat().st_mtime_ns
        dry = _cancel(market, tmp_path, "--dry-run", "1", "2")
        fresh = _cancel(market, tmp_path, "--dry-run", "--fresh", "1", "2")
        none = _cancel(market, tmp_path, "--dry-run", "--journal", "absent.sqlite3", "1")
    assert dry.returncode == 0, dry.stderr
    lines = [json.loads(line) for line in dry.stdout.splitlines()]
    assert lines == [
        {"campaign_id": STORE, "return_id": 1, "would_send": False, "state": "cancelled"},
        {"campaign_id": STORE, "return_id": 2, "would_send": True},
    ]
    assert "dry run: 1 of 2 returns of store 21621656 would be sent (1 the journal knows of" in dry.stderr
    assert all(json.loads(line)["would_send"] for line in fresh.stdout.splitlines())
    assert journal.stat().st_mtime_ns == before, "--fresh in a dry run forgets nothing"
    assert json.loads(none.stdout)["would_send"] is True
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_dry_run_refuses_a_journal_the_run_would_and_leaves_files_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    with FakeMarket(api_key=KEY) as market:
        refused = _cancel(market, tmp_path, "--dry-run", "--journal", "a-directory", "1")
        empty = _cancel(market, tmp_path, "--dry-run", "--journal", "empty.sqlite3", "1")
    assert refused.returncode == 2
    assert "--journal: a-directory is not a file" in refused.stderr
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["would_send"] is True
    assert (tmp_path / "empty.sqlite3").read_bytes() == b""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-directory", "empty.sqlite3"]
