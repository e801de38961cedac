"""get_return and get_returns on both clients: the Market's own record of a return, read through the same
request path as a cancellation (checks, retries, typed errors, pacing), against the fake Market."""

import asyncio
import json
import re
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import CAMPAIGN, FAST, KEY, async_client
from yandex_market_returns import (
    AsyncReturnsClient,
    ReturnRecord,
    ReturnsClient,
    ReturnShipmentStatusType,
    errors,
)
from yandex_market_returns import _base as base
from yandex_market_returns.testing import MSK, Canned, FakeMarket

JSON = {"Content-Type": "application/json"}
TODAY = datetime.now(MSK).date()  # the Market's day


def _sync(market: FakeMarket, **options: Any) -> Any:
    return ReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options})


def _in_async(market: FakeMarket, method: str, *args: Any, **options: Any) -> Any:
    async def run() -> Any:
        async with async_client(market, **FAST) as client:
            return await getattr(client, method)(*args, **options)

    return asyncio.run(run())


def _in_both(market: FakeMarket, method: str, *args: Any, **options: Any) -> list[Any]:
    """The same call through ReturnsClient and AsyncReturnsClient."""
    with _sync(market) as client:
        sync = getattr(client, method)(*args, **options)
    return [sync, _in_async(market, method, *args, **options)]


@pytest.fixture
def store() -> Any:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, *range(1, 231))
        market.add_returns(CAMPAIGN, 500, 501, order_id=46150531)
        market.add_returns(CAMPAIGN, 600, shipment_status="CANCELLED")
        market.add_returns(CAMPAIGN, 700, shipment_status="PICKED")
        yield market


def test_get_return_reads_the_record(store: FakeMarket) -> None:
    for record in _in_both(store, "get_return", CAMPAIGN, 46150531, 501):
        assert isinstance(record, ReturnRecord)
        assert (record.id, record.order_id, record.shipment_status) == (501, 46150531, "CREATED")
        assert record.shipment_status is ReturnShipmentStatusType.CREATED
        assert (record.cancelled, record.cancellable) == (False, True)
        assert record.updated_at is not None
        assert record.updated_at.utcoffset() == timedelta(hours=3)
    (picked, _) = _in_both(store, "get_return", CAMPAIGN, 700, 700)
    assert (picked.cancelled, picked.cancellable) == (False, False)
    assert all(exchange.method == "GET" for exchange in store.exchanges)


def test_a_cancelled_return_reads_cancelled(store: FakeMarket) -> None:
    with _sync(store) as client:
        client.cancel_return(CAMPAIGN, 5)
        record = client.get_return(CAMPAIGN, 5, 5)
    assert record.shipment_status == ReturnShipmentStatusType.CANCELLED
    assert (record.cancelled, record.cancellable) == (True, False)


def test_a_return_not_of_that_order_is_not_found_and_not_retried(store: FakeMarket) -> None:
    with _sync(store) as client, pytest.raises(errors.NotFoundError) as in_sync:
        client.get_return(CAMPAIGN, 46150532, 501)
    with pytest.raises(errors.NotFoundError) as in_async:
        _in_async(store, "get_return", CAMPAIGN, 46150532, 501)
    for error in (in_sync.value, in_async.value):
        assert isinstance(error, errors.UnexpectedStatusError)
        assert (error.status_code, error.may_have_started, error.retryable) == (404, False, False)
        assert str(error) == (
            f"getReturn(campaign {CAMPAIGN}, order 46150532, return 501): 404 Not Found: "
            "NOT_FOUND: Return 501 of order 46150532 not found"
        )
    assert len(store.exchanges) == 2, "one request each: a 404 is not retried"


def test_get_returns_follows_every_page(store: FakeMarket) -> None:
    for records in _in_both(store, "get_returns", CAMPAIGN):
        assert [r.id for r in records] == [*range(1, 231), 500, 501, 600, 700]
    pages = [e.path for e in store.exchanges if e.method == "GET"]
    assert len(pages) == 6, "3 pages of 100, twice"
    assert all("limit=100" in path for path in pages)
    assert sum("pageToken=" in path for path in pages) == 4


def test_get_returns_filters_by_shipment_status_and_update_date(store: FakeMarket) -> None:
    with _sync(store) as client:
        client.cancel_return(CAMPAIGN, 7)
        wanted = [ReturnShipmentStatusType.CANCELLED, "PICKED"]
        assert [r.id for r in client.get_returns(CAMPAIGN, shipment_statuses=wanted)] == [7, 600, 700]
        assert [r.id for r in client.get_returns(CAMPAIGN, shipment_statuses=iter(["CANCELLED"]))] == [7, 600]
        assert len(client.get_returns(CAMPAIGN, from_date=TODAY, to_date=TODAY)) == 234
        assert client.get_returns(CAMPAIGN, from_date=TODAY + timedelta(days=1)) == []
        assert client.get_returns(CAMPAIGN, to_date=TODAY - timedelta(days=1)) == []
    _, statuses, _, dates, *_ = store.exchanges
    assert "shipmentStatuses=CANCELLED&shipmentStatuses=PICKED" in statuses.path
    assert f"fromDate={TODAY}&toDate={TODAY}" in dates.path


def test_an_unknown_shipment_status_is_kept(store: FakeMarket) -> None:
    record = {"id": 1, "orderId": 2, "items": [], "returnType": "RETURN", "shipmentStatus": "RETURNED_TO_SENDER"}
    store.inject(Canned(200, json.dumps({"status": "OK", "result": record}).encode(), JSON))
    with _sync(store) as client:
        found = client.get_return(CAMPAIGN, 2, 1)
    assert found.shipment_status == "RETURNED_TO_SENDER"
    assert found.shipment_status not in list(ReturnShipmentStatusType)
    assert (found.cancelled, found.cancellable, found.updated_at) == (False, False, None)


def test_a_record_without_a_shipment_status_has_none(store: FakeMarket) -> None:
    record = {"id": 1, "orderId": 2, "items": [], "returnType": "RETURN", "fastReturn": True}
    store.inject(Canned(200, json.dumps({"status": "OK", "result": record}).encode(), JSON))
    with _sync(store) as client:
        assert client.get_return(CAMPAIGN, 2, 1).shipment_status is None


GOOD = {"id": 1, "orderId": 2, "items": [], "returnType": "RETURN"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>502</html>", "a body that is not the promised JSON object"),
        (b'{"status": "OK"}', "no result in the body"),
        (json.dumps({"status": "ERROR", "result": GOOD}).encode(), "\"status\": 'ERROR' in the body"),
        (json.dumps({"status": "OK", "result": {**GOOD, "id": "1"}}).encode(), "id or orderId is not"),
        (json.dumps({"status": "OK", "result": {**GOOD, "orderId": True}}).encode(), "id or orderId is not"),
        (json.dumps({"status": "OK", "result": {**GOOD, "orderId": 2**64}}).encode(), "id or orderId is not"),
        (json.dumps({"status": "OK", "result": {"id": 1}}).encode(), "not the promised JSON object"),
        (json.dumps({"status": "OK", "result": {**GOOD, "updateDate": "soon"}}).encode(), "not the promised"),
        (
            json.dumps({"status": "OK", "result": {**GOOD, "updateDate": "2026-11-26T10:21:37"}}).encode(),
            "an updateDate without its offset from UTC",
        ),
        (json.dumps({"status": "OK", "result": {**GOOD, "shipmentStatus": 5}}).encode(), "not the promised"),
    ],
)
def test_a_garbled_record_is_an_unexpected_response(store: FakeMarket, body: bytes, problem: str) -> None:
    store.inject(Canned(200, body, JSON))
    with _sync(store, max_retries=0) as client, pytest.raises(errors.UnexpectedResponseError) as raised:
        client.get_return(CAMPAIGN, 2, 1)
    error = raised.value
    assert problem in str(error)
    assert (error.status_code, error.may_have_started, error.retryable) == (200, False, True), "a read starts nothing"
    assert not str(error).endswith("may have started")


def test_a_garbled_record_is_retried_like_any_read(store: FakeMarket) -> None:
    store.inject(Canned(200, b"{", JSON))
    with _sync(store) as client:
        assert client.get_return(CAMPAIGN, 46150531, 500).id == 500


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({"returns": [{**GOOD, "id": None}]}, "id or orderId is not"),
        ({"returns": [GOOD], "paging": {"nextPageToken": 5}}, "a nextPageToken that is not a string"),
        ({"paging": {}}, "not the promised JSON object"),
    ],
)
def test_a_garbled_page_is_an_unexpected_response(store: FakeMarket, result: Any, problem: str) -> None:
    store.inject(Canned(200, json.dumps({"status": "OK", "result": result}).encode(), JSON))
    with _sync(store, max_retries=0) as client, pytest.raises(errors.UnexpectedResponseError, match=problem):
        client.get_returns(CAMPAIGN)


def _endless(token: Callable[[int], str]) -> httpx.MockTransport:
    """A Market whose every page names another: ``token(n)`` for the n-th."""
    answered = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        answered += 1
        result = {"returns": [{**GOOD, "id": answered}], "paging": {"nextPageToken": token(answered)}}
        return httpx.Response(200, json={"status": "OK", "result": result})

    return httpx.MockTransport(answer)


def test_a_token_given_twice_ends_the_pages_with_an_error() -> None:
    client = ReturnsClient(api_key=KEY, max_retries=0, transport=_endless(lambda n: "again"))
    with client, pytest.raises(errors.UnexpectedResponseError, match="a nextPageToken given before") as raised:
        client.get_returns(CAMPAIGN)
    assert str(raised.value).startswith(f"getReturns(campaign {CAMPAIGN}, page 2): 200 with")


def test_pages_that_never_end_stop_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MAX_PAGES", 5)

    async def run() -> None:
        transport = _endless(lambda n: f"page-{n}")  # a MockTransport serves async clients too
        async with AsyncReturnsClient(api_key=KEY, max_retries=0, transport=transport) as client:
            await client.get_returns(CAMPAIGN)

    with pytest.raises(errors.UnexpectedResponseError, match="a nextPageToken after 5 pages"):
        asyncio.run(run())


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        ((True, 1, 1), TypeError, "campaign_id must be an int, not bool: True"),
        ((0, 1, 1), ValueError, "campaign_id must be between 1 and"),
        ((CAMPAIGN, "1", 1), TypeError, "order_id must be an int, not str: '1'"),
        ((CAMPAIGN, 2**63, 1), ValueError, f"order_id must be between {-(2**63)} and {2**63 - 1}, got {2**63}"),
        ((CAMPAIGN, 1, 1.0), TypeError, "return_id must be an int, not float: 1.0"),
        ((CAMPAIGN, 1, -(2**63) - 1), ValueError, "return_id must be between"),
    ],
)
def test_get_return_checks_its_arguments_before_any_request(
    store: FakeMarket, arguments: tuple[Any, ...], kind: type[Exception], message: str
) -> None:
    with _sync(store) as client, pytest.raises(kind, match=_literal(message)):
        client.get_return(*arguments)
    with pytest.raises(kind, match=_literal(message)):
        _in_async(store, "get_return", *arguments)
    assert store.exchanges == []


@pytest.mark.parametrize(
    ("options", "kind", "message"),
    [
        ({"campaign_id": "21621656"}, TypeError, "campaign_id must be an int, not str: '21621656'"),
        ({"shipment_statuses": "CREATED"}, TypeError, "shipment_statuses must be an iterable of"),
        ({"shipment_statuses": [1]}, TypeError, "shipment_statuses[0] must be a ReturnShipmentStatusType, not 1"),
        ({"shipment_statuses": ["CREATED", "GONE"]}, ValueError, "shipment_statuses[1] must be one of CREATED, "),
        ({"shipment_statuses": ["CREATED", "CREATED"]}, ValueError, "shipment_statuses[1] repeats 'CREATED'"),
        ({"shipment_statuses": []}, ValueError, "shipment_statuses is empty: pass None"),
        ({"from_date": "2026-11-01"}, TypeError, "from_date must be a datetime.date or None, not str: '2026-11-01'"),
        ({"to_date": datetime(2026, 11, 1)}, TypeError, "to_date must be a datetime.date or None, not datetime"),
        (
            {"from_date": date(2026, 11, 30), "to_date": date(2026, 11, 1)},
            ValueError,
            "from_date must not be after to_date, got 2026-11-30 and 2026-11-01",
        ),
    ],
)
def test_get_returns_checks_its_arguments_before_any_request(
    store: FakeMarket, options: dict[str, Any], kind: type[Exception], message: str
) -> None:
    arguments = {"campaign_id": CAMPAIGN, **options}
    with _sync(store) as client, pytest.raises(kind, match=_literal(message)):
        client.get_returns(**arguments)
    with pytest.raises(kind, match=_literal(message)):
        _in_async(store, "get_returns", **arguments)
    assert store.exchanges == []


def _literal(message: str) -> str:
    return re.escape(message)


def test_a_spent_getreturns_hour_does_not_hold_cancel_return() -> None:
    with FakeMarket(api_key=KEY, returns_hourly_limit=1, return_hourly_limit=1) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        with _sync(market) as client:
            client.get_returns(CAMPAIGN)  # Remaining: 0 — the client learns the hour is spent
            client.get_return(CAMPAIGN, 1, 1)
            sent = len(market.exchanges)
            with pytest.raises(errors.RateLimitError) as held:
                client.get_returns(CAMPAIGN)
            assert held.value.response is None, "refused without sending"
            with pytest.raises(errors.RateLimitError):
                client.get_return(CAMPAIGN, 2, 2)
            assert len(market.exchanges) == sent
            assert client.cancel_return(CAMPAIGN, 1).type == "RETURN_CANCELLATION"
            assert market.shipment_status(CAMPAIGN, 1) == "CANCELLED"


def test_a_spent_cancel_return_hour_does_not_hold_the_reads() -> None:
    with FakeMarket(api_key=KEY, hourly_limit=1) as market:
        market.add_returns(CAMPAIGN, 1, 2)

        async def run() -> None:
            async with async_client(market, **FAST) as client:
                await client.cancel_return(CAMPAIGN, 1)
                with pytest.raises(errors.RateLimitError) as held:
                    await client.cancel_return(CAMPAIGN, 2)
                assert held.value.response is None
                assert (await client.get_return(CAMPAIGN, 1, 1)).cancelled
                assert len(await client.get_returns(CAMPAIGN)) == 2

        asyncio.run(run())


def test_reads_and_cancellations_share_the_stores_four_slots() -> None:
    with FakeMarket(api_key=KEY, latency=0.05) as market:
        market.add_returns(CAMPAIGN, *range(1, 41))
        with _sync(market) as client:
            readers = [
                threading.Thread(target=lambda n=n: [client.get_return(CAMPAIGN, n, n) for _ in range(3)])
                for n in range(1, 5)
            ]
            for reader in readers:
                reader.start()
            outcomes = client.cancel_returns(CAMPAIGN, range(1, 41))
            listed = client.get_returns(CAMPAIGN)
            for reader in readers:
                reader.join()
        assert all(outcome.ok for outcome in outcomes)
        assert len(listed) == 40
        assert market.max_in_flight(CAMPAIGN) == 4
        assert not [e for e in market.exchanges if e.status == 420]


def test_async_reads_and_cancellations_share_the_stores_four_slots() -> None:
    with FakeMarket(api_key=KEY, latency=0.05) as market:
        market.add_returns(CAMPAIGN, *range(1, 21))

        async def run() -> None:
            async with async_client(market, **FAST) as client:
                reads = [client.get_return(CAMPAIGN, n, n) for n in range(1, 21)]
                await asyncio.gather(
                    client.cancel_returns(CAMPAIGN, range(1, 21)), *reads, client.get_returns(CAMPAIGN)
                )

        asyncio.run(run())
        assert market.max_in_flight(CAMPAIGN) == 4
        assert not [e for e in market.exchanges if e.status == 420]
