"""``make demo``: the whole job of ``yandex-market-returns cancel --business-id``, on the embedded fake Market.

A few hundred returns of one store, some whose cancellation the Market will fail, some it cannot cancel at all,
and a sprinkling of faults (5xx, a proxy's 502, dropped connections, an answer lost after the Market acted).
The command runs as an operator runs it: a first run is killed with SIGKILL partway, and the same command run
again resumes from its journal (on a terminal it shows its progress). At the end the Market's own books are
checked against what the command reported.
"""

import json
import os
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from yandex_market_returns.testing import FakeMarket, Fault

STORE = 21621656
BUSINESS = FakeMarket.DEFAULT_BUSINESS
RETURNS = range(100_001, 100_301)
FAILING = RETURNS[7::29]  # the Market's operation ends FAILED
CANCELLED_BEFORE = RETURNS[19::61]  # already cancelled: the Market refuses them (400)
OUT = Path("build/demo")
KILL_AFTER = 3.0  # seconds: mid-sending, with cancellations started and not yet confirmed


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    ids = OUT / "returns.txt"
    ids.write_text("".join(f"{return_id}\n" for return_id in RETURNS), encoding="utf-8")
    outcomes = OUT / "outcomes.jsonl"
    journal = OUT / "journal.sqlite3"
    faults = (
        Fault.SERVER_ERROR,
        Fault.SERVER_ERROR_AFTER_ACTING,
        Fault.HTML_BAD_GATEWAY,
        Fault.DROPPED_CONNECTION,
        Fault.ANSWER_LOST,
    )
    with FakeMarket(latency=0.05, operation_delay=1.5, fault_rate=0.03, faults=faults, seed=13) as market:
        market.add_returns(STORE, *RETURNS)
        market.add_returns(STORE, *FAILING, cancellation_fails=True)
        market.add_returns(STORE, *CANCELLED_BEFORE, shipment_status="CANCELLED")
        time.sleep(3)  # cancelled before the batch: a record's time has whole seconds, and a little skew is allowed
        shown = ["yandex-market-returns", "cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS)]
        shown += ["--from", str(ids), "--base-url", market.base_url, "--journal", str(journal)]
        shown += ["--confirm-timeout", "10", "-v"]
        print(f"The fake Market is at {market.base_url}: {len(RETURNS)} returns of store {STORE},")
        print(f"{len(FAILING)} whose cancellation will fail, {len(CANCELLED_BEFORE)} already cancelled, 3% faults.")
        env = {**os.environ, "YANDEX_MARKET_API_KEY": market.api_key}
        command = [sys.executable, "-m", "yandex_market_returns.cli", *shown[1:]]
        print(f"\nFirst run, killed with SIGKILL {KILL_AFTER} s in (a crash, a lost machine):")
        print(f"YANDEX_MARKET_API_KEY=<the fake Market's key> {shlex.join([*shown, '--fresh', '--yes'])}\n", flush=True)
        with subprocess.Popen([*command, "--fresh", "--yes"], env=env, stdout=subprocess.DEVNULL) as first:
            try:
                first.wait(KILL_AFTER)
            except subprocess.TimeoutExpired:
                first.kill()
            first.wait()
        print(f"\nkilled: the Market had received {len(market.exchanges)} requests; the journal kept what was sent")
        print("\nThe same command again, which resumes from the journal:")
        print(f"YANDEX_MARKET_API_KEY=<the fake Market's key> {shlex.join(shown)} > {outcomes}\n", flush=True)
        with outcomes.open("w", encoding="utf-8") as stdout:
            try:
                status = subprocess.run(command, env=env, stdout=stdout, check=False).returncode
            except KeyboardInterrupt:  # the command heard Ctrl-C too, and has said what it sent
                return 130
        print(f"\nexit status {status} (0: all cancelled, 1: some not, 130: stopped by Ctrl-C)")
        if status not in (0, 1):
            return status
        return _check(market, outcomes)


def _check(market: FakeMarket, outcomes: Path) -> int:
    """What the command said of each return, against what the Market did."""
    lines = {line["return_id"]: line for line in map(json.loads, outcomes.read_text(encoding="utf-8").splitlines())}
    states = {return_id: str(line["state"]) for return_id, line in lines.items()}
    print(f"{outcomes}: " + ", ".join(f"{n} {state}" for state, n in Counter(states.values()).most_common()))
    sources = Counter(str(line["source"]) for line in lines.values())
    print("  settled by: " + ", ".join(f"{n} {source}" for source, n in sources.most_common()))
    for state in ("failed", "already_cancelled"):
        example = next((lines[return_id] for return_id, said in states.items() if said == state), None)
        if example is not None:
            print(f"  e.g. {json.dumps(example)}")
    by_record = next((line for line in lines.values() if line["source"] == "record" and line["error"]), None)
    if by_record is not None:
        print(f"  e.g. {json.dumps(by_record)}")
    cancelled = {return_id for return_id in RETURNS if market.shipment_status(STORE, return_id) == "CANCELLED"}
    failed = {
        operation.return_id for operation in market.operations if market.operation_status(operation.id) == "FAILED"
    }
    wrong = sorted(
        return_id
        for return_id, state in states.items()
        if (state in ("cancelled", "already_cancelled")) != (return_id in cancelled)
        or (state == "already_cancelled") != (return_id in CANCELLED_BEFORE)
        or (state == "failed") != (return_id in failed - cancelled)
    )
    unknown = [return_id for return_id, state in states.items() if state == "unknown"]
    if wrong or unknown or len(lines) != len(RETURNS):
        print(f"the Market's books disagree with the command for returns {wrong}; unknown: {unknown}", file=sys.stderr)
        return 1
    print(
        "the Market's books agree with every line: each return reported cancelled or already cancelled is "
        "CANCELLED, each failed one is not; none is left unknown"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
