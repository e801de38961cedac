"""The fake Market's record of each return: getReturn reads one return of an order, getReturns lists a store's
returns filtered and in pages; a cancellation moves a return to CANCELLED; each method spends its own hourly
limit, while the store's 4 requests in flight are counted across all of its methods. Its traffic validates."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import CAMPAIGN, KEY, RATE_LIMIT_HEADERS, error_of, post, validate
from yandex_market_returns.testing import MSK, FakeMarket

RETURNS = f"/v2/campaigns/{CAMPAIGN}/returns"


def _get(market: FakeMarket, path: str, **params: Any) -> httpx.Response:
    return httpx.get(market.base_url + path, params=params, headers={"Api-Key": KEY})


def _record(market: FakeMarket, order_id: int, return_id: int, campaign: int = CAMPAIGN) -> httpx.Response:
    return _get(market, f"/v2/campaigns/{campaign}/orders/{order_id}/returns/{return_id}")


def _all(market: FakeMarket, **params: Any) -> list[dict[str, Any]]:
    """Every page of getReturns, following the tokens."""
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        answer = _get(market, RETURNS, **params, **({} if token is None else {"pageToken": token}))
        assert answer.status_code == 200, answer.text
        result = answer.json()["result"]
        found += result["returns"]
        token = result["paging"].get("nextPageToken")
        if token is None:
            return found
    raise AssertionError("the pages never end")


@pytest.fixture
def few() -> Any:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 1, 2, 3)
        market.add_returns(CAMPAIGN, 4, 5, order_id=700)
        market.add_returns(CAMPAIGN, 6, shipment_status="CANCELLED")
        market.add_returns(CAMPAIGN, 7, shipment_status="PICKED")
        market.add_returns(999, 8)
        yield market


def test_get_return_reads_one_return_of_its_order(few: FakeMarket) -> None:
    answer = _record(few, 700, 4)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "OK"
    record = body["result"]
    assert (record["id"], record["orderId"], record["shipmentStatus"], record["returnType"]) == (
        4,
        700,
        "CREATED",
        "RETURN",
    )
    assert datetime.fromisoformat(record["updateDate"]).utcoffset() == timedelta(hours=3)
    assert record == few.return_record(CAMPAIGN, 4)
    assert _record(few, 1, 1).json()["result"]["orderId"] == 1, "by default a return is of the order numbered like it"
    assert _record(few, 6, 6).json()["result"]["shipmentStatus"] == "CANCELLED", "added as cancelled"
    assert _record(few, 7, 7).json()["result"]["shipmentStatus"] == "PICKED"


@pytest.mark.parametrize(
    ("order_id", "return_id", "campaign", "message"),
    [
        (701, 4, CAMPAIGN, "Return 4 of order 701 not found"),  # another order's
        (1, 1_000, CAMPAIGN, "Return 1000 of order 1 not found"),  # no such return
        (8, 8, CAMPAIGN, "Return 8 of order 8 not found"),  # another store's
        (1, 1, 999, "Return 1 of order 1 not found"),
    ],
)
def test_get_return_answers_404_for_a_return_not_of_that_order_or_store(
    few: FakeMarket, order_id: int, return_id: int, campaign: int, message: str
) -> None:
    assert error_of(_record(few, order_id, return_id, campaign)) == (404, "NOT_FOUND", message)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v2/campaigns/0/orders/1/returns/1", "Invalid campaignId: 0"),
        ("/v2/campaigns/x/returns", "Invalid campaignId: x"),
        (f"/v2/campaigns/{CAMPAIGN}/orders/abc/returns/1", "Invalid orderId: abc"),
        (f"/v2/campaigns/{CAMPAIGN}/orders/1/returns/{2**63}", f"Invalid returnId: {2**63}"),
    ],
)
def test_bad_ids_in_the_path_are_refused(few: FakeMarket, path: str, message: str) -> None:
    assert error_of(_get(few, path)) == (400, "BAD_REQUEST", message)


def test_other_http_methods_are_answered_405_with_allow_get(few: FakeMarket) -> None:
    for path in (RETURNS, f"/v2/campaigns/{CAMPAIGN}/orders/1/returns/1"):
        answer = post(few, path=path)
        assert error_of(answer)[:2] == (405, "METHOD_NOT_ALLOWED")
        assert answer.headers["Allow"] == "GET"


def test_a_done_cancellation_makes_the_return_cancelled_and_updates_it() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.2) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, cancellation_fails=True)
        before = _record(market, 1, 1).json()["result"]
        time.sleep(1.0)  # the dates have whole seconds
        for return_id in (1, 3):
            assert post(market, {"returnId": return_id}).status_code == 200
        assert _record(market, 1, 1).json()["result"]["shipmentStatus"] == "CREATED", "while the operation runs"
        time.sleep(0.25)
        after = _record(market, 1, 1).json()["result"]
        assert after["shipmentStatus"] == "CANCELLED"
        assert after["refundStatus"] == "CANCELLED"
        assert datetime.fromisoformat(after["updateDate"]) > datetime.fromisoformat(before["updateDate"])
        assert after["creationDate"] == before["creationDate"]
        failed = _record(market, 3, 3).json()["result"]
        assert (failed["shipmentStatus"], failed["updateDate"]) == ("CREATED", before["updateDate"])
        assert _record(market, 2, 2).json()["result"] == {
            **before,
            "id": 2,
            "orderId": 2,
            "items": [{"shopSku": "SKU-2", "count": 1}],
        }


def test_get_returns_lists_the_store_by_id_and_filters(few: FakeMarket) -> None:
    assert [r["id"] for r in _all(few)] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["id"] for r in _all(few, shipmentStatuses=["CANCELLED", "PICKED"])] == [6, 7]
    assert [r["id"] for r in _all(few, shipmentStatuses="CANCELLED,PICKED")] == [6, 7], "comma-separated too"
    assert [r["id"] for r in _all(few, orderIds=[700, 3])] == [3, 4, 5]
    assert [r["id"] for r in _all(few, statuses="CANCELLED")] == [6]
    assert [r["id"] for r in _all(few, type="RETURN", limit=3)] == [1, 2, 3, 4, 5, 6, 7]
    assert _all(few, type="UNREDEEMED") == []
    today = datetime.now(MSK).date()
    assert len(_all(few, fromDate=today.isoformat(), toDate=today.isoformat())) == 7
    assert _all(few, fromDate=(today + timedelta(days=1)).isoformat()) == []
    assert _all(few, toDate=(today - timedelta(days=1)).isoformat()) == []
    assert _all(few, from_date=(today + timedelta(days=1)).isoformat()) == [], "the deprecated names work too"


def test_get_returns_pages_by_limit_and_token(few: FakeMarket) -> None:
    first = _get(few, RETURNS, limit=3).json()["result"]
    assert [r["id"] for r in first["returns"]] == [1, 2, 3]
    token = first["paging"]["nextPageToken"]
    second = _get(few, RETURNS, limit=3, pageToken=token).json()["result"]
    assert [r["id"] for r in second["returns"]] == [4, 5, 6]
    last = _get(few, RETURNS, limit=3, pageToken=second["paging"]["nextPageToken"]).json()["result"]
    assert ([r["id"] for r in last["returns"]], last["paging"]) == ([7], {})
    assert [r["id"] for r in _get(few, RETURNS).json()["result"]["returns"]] == [1, 2, 3, 4, 5, 6, 7], "50 a page"
    with FakeMarket(api_key=KEY) as big:
        big.add_returns(CAMPAIGN, *range(1, 251))
        assert [r["id"] for r in _all(big, limit=100)] == list(range(1, 251))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "Invalid limit: 0 (1 to 100)"),
        ({"limit": 101}, "Invalid limit: 101 (1 to 100)"),
        ({"limit": "ten"}, "Invalid limit: ten (1 to 100)"),
        ({"pageToken": "not-a-token"}, "Invalid pageToken: not-a-token"),
        ({"shipmentStatuses": "CREATED,GONE"}, "Invalid shipmentStatuses: CREATED,GONE"),
        ({"shipmentStatuses": ["CREATED", "CREATED"]}, "Invalid shipmentStatuses: CREATED,CREATED"),
        ({"statuses": "DONE"}, "Invalid statuses: DONE"),
        ({"type": "EXCHANGE"}, "Invalid type: EXCHANGE"),
        ({"fromDate": "2026-13-01"}, "Invalid fromDate: 2026-13-01 (YYYY-MM-DD)"),
        ({"toDate": "30.11.2026"}, "Invalid toDate: 30.11.2026 (YYYY-MM-DD)"),
        ({"fromDate": "2026-11-30", "toDate": "2026-11-01"}, "Invalid dates: fromDate is after toDate"),
        ({"orderIds": list(range(1, 52))}, "Invalid orderIds: up to 50 unique order ids"),
        ({"orderIds": "1,1"}, "Invalid orderIds: up to 50 unique order ids"),
        ({"orderIds": "one"}, "Invalid orderIds: up to 50 unique order ids"),
    ],
)
def test_get_returns_refuses_a_bad_query(few: FakeMarket, params: dict[str, Any], message: str) -> None:
    assert error_of(_get(few, RETURNS, **params)) == (400, "BAD_REQUEST", message)


def test_each_method_has_its_own_hourly_limit() -> None:
    with FakeMarket(api_key=KEY, hourly_limit=50, return_hourly_limit=2, returns_hourly_limit=3) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        reads = [_record(market, 1, 1) for _ in range(3)]
        assert [r.status_code for r in reads] == [200, 200, 420]
        assert error_of(reads[2])[2] == f"Hit rate limit of 2 requests per hour for campaignId {CAMPAIGN}"
        assert [r.headers["X-RateLimit-Resource-Remaining"] for r in reads] == ["1", "0", "0"]
        assert {r.headers["X-RateLimit-Resource-Limit"] for r in reads} == {"2"}
        lists = [_get(market, RETURNS) for _ in range(4)]
        assert [r.status_code for r in lists] == [200, 200, 200, 420], "getReturns is not held by getReturn"
        assert lists[0].headers["X-RateLimit-Resource-Limit"] == "3"
        cancelled = post(market, {"returnId": 1})
        assert cancelled.status_code == 200, "cancelReturn is held by neither"
        assert cancelled.headers["X-RateLimit-Resource-Remaining"] == "49"
        assert [r.headers[name] for r in (reads[0], lists[0]) for name in RATE_LIMIT_HEADERS]


def test_the_stores_4_requests_in_flight_count_every_campaign_method(few: FakeMarket) -> None:
    few.latency = 0.5
    requests = [
        ("POST", f"/v1/campaigns/{CAMPAIGN}/returns/cancel", {"returnId": 1}),
        ("POST", f"/v1/campaigns/{CAMPAIGN}/returns/cancel", {"returnId": 2}),
        ("GET", f"/v2/campaigns/{CAMPAIGN}/orders/3/returns/3", None),
        ("GET", f"/v2/campaigns/{CAMPAIGN}/orders/700/returns/4", None),
        ("GET", RETURNS, None),
        ("GET", RETURNS, None),
    ]
    with httpx.Client(base_url=few.base_url, headers={"Api-Key": KEY}) as http, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda r: http.request(r[0], r[1], json=r[2]), requests))
    refused = [a for a in answers if a.status_code == 420]
    assert len(refused) == 2, [a.status_code for a in answers]
    assert {error_of(a)[2] for a in refused} == {f"Hit rate limit of 4 parallel requests for campaignId {CAMPAIGN}"}
    assert few.max_in_flight(CAMPAIGN) == 6
    assert few.max_in_flight(999) == 0, "another store's are its own"


def test_its_getreturn_and_getreturns_traffic_validates_against_openapi_yaml(few: FakeMarket) -> None:
    few.return_hourly_limit = 3
    _all(few, limit=2, shipmentStatuses=["CREATED", "CANCELLED"], fromDate="2026-01-01")
    for order_id, return_id in ((700, 4), (1, 1), (2, 1), (1, 1)):
        _record(few, order_id, return_id)
    _get(few, RETURNS, limit=500)
    httpx.get(few.base_url + RETURNS)  # no key
    httpx.get(few.base_url + RETURNS, headers={"Api-Key": "wrong"})
    exchanges = few.exchanges
    assert {exchange.status for exchange in exchanges} == {200, 400, 401, 403, 404, 420}
    for exchange in exchanges:
        validate(exchange, request=exchange.status != 400)
