"""Settling by the return's record what the answers could not tell: the looks at the store's returns."""

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from tests.helpers import CAMPAIGN, FAST, KEY
from yandex_market_returns import AsyncReturnsClient, Outcome, ReturnsClient
from yandex_market_returns._results import ReturnState, Source
from yandex_market_returns.testing import Canned, FakeMarket, Fault

_ERROR = {"Content-Type": "application/json"}


class _Reads(httpx.BaseTransport):
    """The fake Market, with its getReturns reads noted by the statuses each asked for; ``hook`` is told of
    each read as it was answered, and may answer it otherwise."""

    def __init__(self, hook: Callable[[int, str], httpx.Response | None]) -> None:
        self._inner = httpx.HTTPTransport()
        self._hook = hook
        self.reads: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.method != "GET" or not request.url.path.endswith("/returns"):
            return response
        self.reads.append(request.url.params["shipmentStatuses"])
        instead = self._hook(len(self.reads) - 1, self.reads[-1])
        if instead is None:
            return response
        response.close()
        return instead

    def close(self) -> None:
        self._inner.close()


def _settled(market: FakeMarket, return_id: int, transport: httpx.BaseTransport | None = None) -> Outcome:
    """A return whose request answered 500 (it may have acted), settled by its record."""
    market.inject(Fault.SERVER_ERROR)
    with ReturnsClient(api_key=KEY, base_url=market.base_url, max_retries=0, transport=transport) as client:
        (outcome,) = client.cancel_returns(CAMPAIGN, [return_id], confirm_timeout=1, poll_interval=0.05)
    return outcome


def test_a_return_cancelled_between_a_look_s_two_reads_is_cancelled() -> None:
    """The store's CREATED returns are read before its CANCELLED ones: a return cancelled in between is in
    both, never in neither (which took it for one the Market cannot cancel: a run of ``make demo`` saw it)."""
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 30_000, 30_001)

        def cancel_after_the_first(read: int, statuses: str) -> None:
            if read == 0:
                market.add_returns(CAMPAIGN, 30_000, shipment_status="CANCELLED")

        transport = _Reads(cancel_after_the_first)
        outcome = _settled(market, 30_000, transport)
    assert (outcome.state, outcome.source) == (ReturnState.CANCELLED, Source.RECORD), outcome
    assert transport.reads == ["CREATED", "CANCELLED"]


def test_the_created_returns_read_before_a_failed_read_are_not_read_again() -> None:
    """A look whose CANCELLED read failed keeps its CREATED pages: a store's thousands of CREATED returns are
    hundreds of getReturns requests of 5,000 an hour, not to be spent again at every look."""
    failed = httpx.Response(500, json={"status": "ERROR", "errors": [{"code": "INTERNAL_ERROR", "message": "x"}]})
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 30_000, *range(30_100, 30_350))  # 3 pages of CREATED returns
        transport = _Reads(lambda read, statuses: failed if read in (3, 4) else None)
        outcome = _settled(market, 30_000, transport)
    assert transport.reads[:5] == ["CREATED"] * 3 + ["CANCELLED"] * 2, transport.reads
    assert "CREATED" not in transport.reads[3:], "the CREATED pages read once"
    assert outcome.state is ReturnState.IN_PROGRESS, outcome  # still CREATED after confirm_timeout: sent again


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_404_to_the_store_s_returns_leaves_the_return_unknown(asynchronous: bool) -> None:
    """Not an IndexError out of the batch: a read of the store's returns that failed, like a 403."""
    body = json.dumps({"status": "ERROR", "errors": [{"code": "NOT_FOUND", "message": "no such store"}]})
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 30_000)
        market.inject(Fault.SERVER_ERROR, *[Canned(404, body.encode(), _ERROR)] * 40)
        options = {"api_key": KEY, "base_url": market.base_url, **FAST, "max_retries": 0}
        if asynchronous:

            async def batch() -> list[Outcome]:
                async with AsyncReturnsClient(**options) as client:
                    return await client.cancel_returns(CAMPAIGN, [30_000], confirm_timeout=0.3, poll_interval=0.05)

            (outcome,) = asyncio.run(batch())
        else:
            with ReturnsClient(**options) as client:
                (outcome,) = client.cancel_returns(CAMPAIGN, [30_000], confirm_timeout=0.3, poll_interval=0.05)
    assert (outcome.state, outcome.source) == (ReturnState.UNKNOWN, Source.REQUEST), outcome
    assert outcome.verdict is not None
    assert "its record could not be read" in str(outcome.verdict.detail), outcome.verdict
    assert "404" in str(outcome.verdict.detail)
