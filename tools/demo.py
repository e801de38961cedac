"""``make demo``: the whole job of ``yandex-market-returns cancel --business-id``, on the embedded fake Market.

A few hundred returns of one store, some whose cancellation the Market will fail, some it cannot cancel at all,
and a sprinkling of faults (5xx, a proxy's 502, dropped connections, an answer lost after the Market acted).
The command runs as an operator runs it; on a terminal it asks for confirmation and shows its progress. At the
end the Market's own books are checked against what the command reported.
"""

import json
import os
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

from yandex_market_returns.testing import FakeMarket, Fault

STORE = 21621656
BUSINESS = FakeMarket.DEFAULT_BUSINESS
RETURNS = range(100_001, 100_301)
FAILING = RETURNS[7::29]  # the Market's operation ends FAILED
CANCELLED_BEFORE = RETURNS[19::61]  # already cancelled: the Market refuses them (400)
OUT = Path("build/demo")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    ids = OUT / "returns.txt"
    ids.write_text("".join(f"{return_id}\n" for return_id in RETURNS), encoding="utf-8")
    outcomes = OUT / "outcomes.jsonl"
    faults = (Fault.SERVER_ERROR, Fault.HTML_BAD_GATEWAY, Fault.DROPPED_CONNECTION, Fault.ANSWER_LOST)
    with FakeMarket(latency=0.05, operation_delay=1.5, fault_rate=0.03, faults=faults, seed=13) as market:
        market.add_returns(STORE, *RETURNS)
        market.add_returns(STORE, *FAILING, cancellation_fails=True)
        market.add_returns(STORE, *CANCELLED_BEFORE, shipment_status="CANCELLED")
        shown = ["yandex-market-returns", "cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS)]
        shown += ["--from", str(ids), "--base-url", market.base_url, "-v"]
        print(f"The fake Market is at {market.base_url}: {len(RETURNS)} returns of store {STORE},")
        print(f"{len(FAILING)} whose cancellation will fail, {len(CANCELLED_BEFORE)} already cancelled, 3% faults.")
        print(f"YANDEX_MARKET_API_KEY=<the fake Market's key> {shlex.join(shown)} > {outcomes}\n", flush=True)
        env = {**os.environ, "YANDEX_MARKET_API_KEY": market.api_key}
        with outcomes.open("w", encoding="utf-8") as stdout:
            command = [sys.executable, "-m", "yandex_market_returns.cli", *shown[1:]]
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
    kinds = {return_id: _kind(line) for return_id, line in lines.items()}
    print(f"{outcomes}: " + ", ".join(f"{n} {kind}" for kind, n in Counter(kinds.values()).most_common()))
    for kind in ("FAILED", "not started", "may have started"):
        example = next((lines[return_id] for return_id, said in kinds.items() if said == kind), None)
        if example is not None:
            print(f"  e.g. {json.dumps(example)}")
    cancelled = {
        operation.return_id for operation in market.operations if market.operation_status(operation.id) == "DONE"
    }
    wrong = sorted(
        return_id
        for return_id, kind in kinds.items()
        if kind != "may have started" and (kind == "DONE") != (return_id in cancelled)
    )
    if wrong or len(lines) != len(RETURNS):
        print(f"the Market's books disagree with the command for returns {wrong}", file=sys.stderr)
        return 1
    unknown = [return_id for return_id, kind in kinds.items() if kind == "may have started"]
    print("the Market's books agree: every return reported DONE was cancelled; none reported FAILED or not started was")
    if unknown:
        print(
            f"of the {len(unknown)} whose outcome the command could not know (the answer was lost), the Market in "
            f"fact cancelled {len(cancelled.intersection(unknown))}: why they are reported as unknown, not as failed"
        )
    return 0


def _kind(line: dict[str, object]) -> str:
    if line["error"] is None:
        return str(line["status"])
    return "may have started" if line["may_have_started"] else "not started"


if __name__ == "__main__":
    sys.exit(main())
