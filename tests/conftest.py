"""Fixtures for the hand-written client's tests: a fake Market on loopback and clients pointed at it."""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, FAST, KEY, RETURNS, ROOT, client_for
from yandex_market_returns import ReturnsClient
from yandex_market_returns.testing import FakeMarket


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
        made.append(client_for(market, **options))
        return made[-1]

    yield make
    for returns in made:
        returns.close()


@pytest.fixture(autouse=True)
def own_limits_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's slot files (FileLimits, under XDG_RUNTIME_DIR) in a folder of each test's own: tests that
    run at once, each with its fake Market, do not share a store's 4 slots."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
