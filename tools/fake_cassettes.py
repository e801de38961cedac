"""getReturn's and getReturns' cassettes, recorded from the fake Market through the generated client.

No store is ours to record the reads from live, so the cassettes under tests/cassettes/get_return/ and
get_returns/ come from the fake Market (its traffic is checked against openapi.yaml and the Market's rules
by the tests), with the same VCR set-up as `make record` (the key scrubbed), then pointed at the Market's
own address, so that replay sends exactly what a client sends to it. Run again to refresh them::

    PYTHONPATH=generated:src:. .venv/bin/python -m tools.fake_cassettes
"""

import datetime
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tools.market_vcr import RETURN_CASSETTES, RETURNS_CASSETTES, market_vcr
from yandex_market_returns.testing import MSK, FakeMarket
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return, get_return, get_returns
from yandex_market_returns_client.models import CancelReturnRequest, ReturnShipmentStatusType

SERVER = "https://api.partner.market.yandex.ru"
SOURCE = "fake Market: recorded from yandex_market_returns.testing.FakeMarket by tools/fake_cassettes.py"
CAMPAIGN, ORDER = 21621656, 46150531
Scenario = Callable[[FakeMarket, AuthenticatedClient], object]


def _store(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 97211, 97212, order_id=ORDER)
    market.add_returns(CAMPAIGN, 97213, shipment_status="PICKED", order_id=ORDER + 1)
    market.add_returns(CAMPAIGN, 97214, order_id=ORDER + 2)


def _cancelled(market: FakeMarket, client: AuthenticatedClient) -> object:
    return get_return.sync_detailed(CAMPAIGN, ORDER, 97212, client=client)


def _spent(method: Scenario) -> Scenario:
    """The method asked once more than its hourly limit allows (the fake Market's limit set to 1)."""

    def scenario(market: FakeMarket, client: AuthenticatedClient) -> object:
        method(market, client)
        return method(market, client)

    return scenario


def _first_page(market: FakeMarket, client: AuthenticatedClient) -> object:
    return get_returns.sync_detailed(CAMPAIGN, client=client, limit=2)


def _last_page(market: FakeMarket, client: AuthenticatedClient) -> object:
    first = get_returns.sync_detailed(CAMPAIGN, client=client, limit=2)
    assert first.parsed is not None
    token = first.parsed.to_dict()["result"]["paging"]["nextPageToken"]
    return get_returns.sync_detailed(CAMPAIGN, client=client, limit=2, page_token=token)


def _filtered(market: FakeMarket, client: AuthenticatedClient) -> object:
    today = datetime.datetime.now(MSK).date()
    statuses = [ReturnShipmentStatusType.CANCELLED, ReturnShipmentStatusType.PICKED]
    return get_returns.sync_detailed(CAMPAIGN, client=client, shipment_statuses=statuses, fromDate=today, toDate=today)


def _dates_reversed(market: FakeMarket, client: AuthenticatedClient) -> object:
    return get_returns.sync_detailed(
        CAMPAIGN, client=client, fromDate=datetime.date(2026, 11, 30), toDate=datetime.date(2026, 11, 1)
    )


# Each cassette: its folder and name, what it shows, the fake Market's options, and the requests (only the
# last one is recorded).
SCENARIOS: list[tuple[Path, str, str, dict[str, Any], Scenario]] = [
    (
        RETURN_CASSETTES,
        "200_created",
        "a return that can still be cancelled",
        {},
        lambda market, client: get_return.sync_detailed(CAMPAIGN, ORDER, 97211, client=client),
    ),
    (RETURN_CASSETTES, "200_cancelled", "a return after its cancellation was DONE", {}, _cancelled),
    (
        RETURN_CASSETTES,
        "404_not_found",
        "a return asked for under another order",
        {},
        lambda market, client: get_return.sync_detailed(CAMPAIGN, ORDER + 5, 97211, client=client),
    ),
    (
        RETURN_CASSETTES,
        "420_hourly_limit",
        "getReturn's own hourly limit spent",
        {"return_hourly_limit": 1},
        _spent(lambda market, client: get_return.sync_detailed(CAMPAIGN, ORDER, 97211, client=client)),
    ),
    (RETURNS_CASSETTES, "200_first_page", "a first page of 2 with the next page's token", {}, _first_page),
    (RETURNS_CASSETTES, "200_last_page", "the last page, by the first page's token", {}, _last_page),
    (RETURNS_CASSETTES, "200_filtered", "only CANCELLED and PICKED returns updated today", {}, _filtered),
    (RETURNS_CASSETTES, "400_dates_reversed", "fromDate after toDate", {}, _dates_reversed),
    (
        RETURNS_CASSETTES,
        "420_hourly_limit",
        "getReturns' own hourly limit spent",
        {"returns_hourly_limit": 1},
        _spent(_first_page),
    ),
]


def record(into: Path | None = None) -> list[Path]:
    """Record every scenario into its cassette, in tests/cassettes/ or a copy of its folders in ``into``; the
    paths written."""
    written = []
    for home, name, what, options, scenario in SCENARIOS:
        folder = home if into is None else into / home.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.yaml"
        path.unlink(missing_ok=True)
        with FakeMarket(**options) as market:
            _store(market)
            with AuthenticatedClient(base_url=market.base_url, token=market.api_key) as client:
                cancel_return.sync_detailed(CAMPAIGN, client=client, body=CancelReturnRequest(return_id=97212))
                recorder = market_vcr("all", folder, secrets=(market.api_key,))
                # Only the scenario's last request is kept: earlier ones set the fake Market's state up.
                with recorder.use_cassette(path.name) as cassette:
                    cassette.get_metadata("source", f"{SOURCE} ({what})")
                    scenario(market, client)
            _keep_last(path, market.base_url)
        written.append(path)
    return written


def _keep_last(path: Path, base_url: str) -> None:
    """The last interaction, addressed to the Market's own server instead of the fake's loopback port, without
    the fake's ``Server`` header."""
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    last = cassette["interactions"][-1]
    last["request"]["uri"] = last["request"]["uri"].replace(base_url, SERVER, 1)
    last["request"]["headers"]["host"] = [SERVER.removeprefix("https://")]
    last["response"]["headers"].pop("server", None)
    cassette["interactions"] = [last]
    path.write_text(yaml.safe_dump(cassette, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")


def main() -> int:
    for path in record():
        print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
