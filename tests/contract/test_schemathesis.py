"""Schemathesis, a third-party tool, checks the fake Market against openapi.yaml for all four operations.

Every check is on but one: ``positive_data_acceptance`` wants any schema-valid request accepted, and a
stateful Market rightly answers 400 to a valid request for a return it does not have, or one already
cancelled (``{"returnId": 97211}`` is valid by the spec; the return may simply not exist).
"""

import subprocess
import sys
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, KEY, RETURNS, ROOT
from yandex_market_returns.testing import FakeMarket

SCHEMATHESIS = Path(sys.executable).parent / "st"
EXCLUDED = "positive_data_acceptance"  # see the module's docstring
Answer = tuple[int, dict[str, str], bytes]


def _run(market: FakeMarket, workdir: Path, examples: int = 40) -> subprocess.CompletedProcess[str]:
    """The tool's CLI; it keeps its caches in ``workdir``, not in the repository."""
    command = [
        str(SCHEMATHESIS), "run", str(ROOT / "openapi.yaml"),
        "--url", market.base_url,
        "--header", f"Api-Key: {KEY}",
        "--checks", "all",
        "--exclude-checks", EXCLUDED,
        "--max-examples", str(examples),
        "--seed", "20261130",
        "--workers", "1",
        "--no-color",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=240, check=False, cwd=workdir)


@pytest.fixture
def roomy_market() -> Iterator[FakeMarket]:
    """Limits out of the way: the tool sends hundreds of requests, and a 420 is not what it is checking."""
    roomy = 10**6
    with FakeMarket(
        api_key=KEY,
        hourly_limit=roomy,
        operations_hourly_limit=roomy,
        return_hourly_limit=roomy,
        returns_hourly_limit=roomy,
    ) as market:
        market.add_returns(CAMPAIGN, *RETURNS)
        yield market


def test_the_fake_market_passes_every_check_on_every_operation(roomy_market: FakeMarket, tmp_path: Path) -> None:
    result = _run(roomy_market, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Selected: 4/4" in result.stdout
    assert "Tested: 4" in result.stdout
    answered = {
        (exchange.method, exchange.path.partition("?")[0].split("/")[-1], exchange.status)
        for exchange in roomy_market.exchanges
    }
    assert ("POST", "cancel", 200) in answered
    assert ("POST", "operations", 200) in answered
    assert ("GET", "returns", 200) in answered, "getReturns answered"
    assert any(method == "GET" and status == 404 for method, _, status in answered), "getReturn of unknown returns"
    assert {exchange.method for exchange in roomy_market.exchanges} > {"POST", "GET"}, "unsupported methods were tried"


def _breaking(market: FakeMarket, change: Callable[[str, Answer], Answer]) -> None:
    answer = market.answer

    def broken(method: str, path: str, headers: Message, body: bytes) -> Answer:
        return change(path, answer(method, path, headers, body))

    market.answer = broken  # type: ignore[method-assign]


def _operations_without_result(path: str, answer: Answer) -> Answer:
    status, headers, _ = answer
    if path.endswith("/operations") and status == 200:
        return status, headers, b'{"status": "OK", "result": {}}'
    return answer


def _501_for_other_methods(path: str, answer: Answer) -> Answer:
    return (501, {"Content-Type": "text/html"}, b"<h1>Unsupported method</h1>") if answer[0] == 405 else answer


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (_operations_without_result, "Response violates schema"),
        (_501_for_other_methods, "Wrong response to undeclared method"),
    ],
    ids=["getOperations without operations", "HTML 501 for TRACE"],
)
def test_it_catches_a_deliberately_broken_answer(
    roomy_market: FakeMarket, tmp_path: Path, change: Any, finding: str
) -> None:
    _breaking(roomy_market, change)
    result = _run(roomy_market, tmp_path, examples=5)  # a broken answer is found on the first few
    assert result.returncode != 0
    assert finding in result.stdout, result.stdout[-4000:]
