"""The ``yandex-market-returns`` command, run as an operator runs it, against the fake Market."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from yandex_market_returns.testing import FakeMarket

KEY = "fake-market-key-cli"
STORE = 21621656


def _run(*args: str, stdin: str = "", key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "YANDEX_MARKET_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
    if key is not None:
        env["YANDEX_MARKET_API_KEY"] = key
    command = [sys.executable, "-m", "yandex_market_returns.cli", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_cancel_reports_one_line_per_return_and_exits_0() -> None:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(STORE, 1, 2, 3)
        done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "2", "3")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(line["return_id"] for line in lines) == [1, 2, 3]
    assert all(line["ok"] and line["operation_id"] for line in lines)
    assert "3 of 3 returns started" in done.stderr
    assert KEY not in done.stdout + done.stderr


def test_bad_ids_are_all_reported_and_nothing_is_sent() -> None:
    with FakeMarket(api_key=KEY) as market:
        done = _run(
            "cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", "-", stdin="7\nx\n7\n"
        )
        sent = market.exchanges
    assert done.returncode == 2
    assert "stdin line 2: not a return id: 'x'" in done.stderr
    assert "stdin line 3: return id 7 is given twice" in done.stderr
    assert sent == []


def test_a_return_that_cannot_be_cancelled_exits_1() -> None:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(STORE, 1)
        done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "404")
    assert done.returncode == 1
    lines = {line["return_id"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert lines[404]["error"].startswith("BadRequestError")
    assert lines[404]["may_have_started"] is False


def test_without_a_key_it_says_how_to_give_one() -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "1", key=None)
    assert done.returncode == 2
    assert "set YANDEX_MARKET_API_KEY, or give --api-key-file" in done.stderr
