"""Fixtures for the hand-written client's tests: a fake Market on loopback and clients pointed at it."""

import subprocess
import sys
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 21621656
KEY = "fake-market-key-7f3a9c1e"
# Every return id below 10,000 exists in the fake Market and can be cancelled.
RETURNS = range(1, 10_000)
# Short waits, so that retry tests take milliseconds, not seconds.
FAST: dict[str, Any] = {"backoff": 0.01, "retry_budget": 5.0}
# A batch's settling within a second: how long a lost answer's return is looked up before it is sent again.
SETTLE: dict[str, Any] = {"confirm_timeout": 1.0, "poll_interval": 0.05}
ROOT = Path(__file__).parent.parent


def clean_venv(folder: Path) -> Path:
    """A venv without pip, filled by this environment's pip (``pip_install``): no ensurepip per test."""
    venv.create(folder, with_pip=False)
    return folder / "bin" / "python"


def pip_install(python: Path, *args: str | Path) -> list[str | Path]:
    """The command that installs into the venv of ``python`` with this environment's pip."""
    return [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check", *args]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make build` puts in dist/ (the wheel, the sdist, the spec), built once for every test that needs it."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        ["make", "-s", "-C", ROOT, "build", f"DIST={out}"], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(api_key=KEY) as fake:
        fake.add_returns(CAMPAIGN, *RETURNS)
        yield fake


@pytest.fixture
def client(market: FakeMarket) -> Iterator[ReturnsClient]:
    with ReturnsClient(api_key=KEY, base_url=market.base_url, **FAST) as returns:
        yield returns


@pytest.fixture
def make_client(market: FakeMarket) -> Iterator[Callable[..., ReturnsClient]]:
    """Clients with options of the test's choosing, closed afterwards."""
    made: list[ReturnsClient] = []

    def make(**options: Any) -> ReturnsClient:
        made.append(ReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options}))
        return made[-1]

    yield make
    for returns in made:
        returns.close()


def async_client(market: FakeMarket, **options: Any) -> AsyncReturnsClient:
    return AsyncReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options})


class CountingTransport(httpx.MockTransport):
    """Counts the requests that reach the transport; answers each with a started operation."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = {"status": "OK", "result": {"operation": {"id": "op-1", "type": "RETURN_CANCELLATION"}}}
        return httpx.Response(200, json=body)


@pytest.fixture(autouse=True)
def own_limits_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's slot files (FileLimits, under XDG_RUNTIME_DIR) in a folder of each test's own: tests that
    run at once, each with its fake Market, do not share a store's 4 slots."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
