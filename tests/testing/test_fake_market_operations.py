"""The fake Market's operations: a cancellation runs, then ends DONE or FAILED; getOperations reports them per
business, within the business's limits; any method the spec does not declare is answered 405."""

import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from tests.helpers import CAMPAIGN, CANCEL_PATH, KEY, RATE_LIMIT_HEADERS, error_of, post, validate
from yandex_market_returns.testing import FakeMarket

BUSINESS = FakeMarket.DEFAULT_BUSINESS
OPERATIONS = f"/v1/businesses/{BUSINESS}/operations"


def _statuses(market: FakeMarket, *ids: str, business: int = BUSINESS) -> dict[str, str]:
    response = post(
        market,
        {"operationType": "RETURN_CANCELLATION", "operationIds": list(ids)},
        path=f"/v1/businesses/{business}/operations",
    )
    assert response.status_code == 200, response.text
    return {operation["id"]: operation["status"] for operation in response.json()["result"]["operations"]}


def _cancel(market: FakeMarket, return_id: int, campaign: int = CAMPAIGN) -> str:
    response = post(market, {"returnId": return_id}, path=f"/v1/campaigns/{campaign}/returns/cancel")
    assert response.status_code == 200, response.text
    return str(response.json()["result"]["operation"]["id"])


def test_a_cancellation_is_in_progress_for_operation_delay_then_done() -> None:
    # Long enough for three requests on a loaded machine to fit inside it.
    with FakeMarket(api_key=KEY, operation_delay=1.5) as market:
        market.add_returns(CAMPAIGN, 1)
        operation = _cancel(market, 1)
        assert _statuses(market, operation) == {operation: "IN_PROGRESS"}
        assert market.shipment_status(CAMPAIGN, 1) == "CREATED", "not cancelled before the operation ends"
        again = post(market, {"returnId": 1})
        assert error_of(again) == (400, "BAD_REQUEST", "Return 1 can't be cancelled: a cancellation is in progress")
        time.sleep(1.55)
        assert _statuses(market, operation) == {operation: "DONE"}
        assert market.shipment_status(CAMPAIGN, 1) == "CANCELLED"
        assert market.operation_status(operation) == "DONE"


def test_a_return_set_up_to_fail_keeps_its_status() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.1) as market:
        market.add_returns(CAMPAIGN, 1, cancellation_fails=True)
        operation = _cancel(market, 1)
        time.sleep(0.15)
        assert _statuses(market, operation) == {operation: "FAILED"}
        assert market.shipment_status(CAMPAIGN, 1) == "CREATED"
        assert market.operation_status("never-started") is None


def test_without_a_delay_the_cancellation_is_done_at_once(market: FakeMarket) -> None:
    operation = _cancel(market, 1)
    assert market.shipment_status(CAMPAIGN, 1) == "CANCELLED"
    assert _statuses(market, operation) == {operation: "DONE"}


def test_operations_are_reported_to_their_business_only() -> None:
    other_store, other_business = 555, 777
    with FakeMarket(api_key=KEY, businesses={other_store: other_business}) as market:
        market.add_returns(CAMPAIGN, 1)
        market.add_returns(other_store, 1)
        mine, theirs = _cancel(market, 1), _cancel(market, 1, campaign=other_store)
        assert [op.business_id for op in market.operations] == [BUSINESS, other_business]
        assert _statuses(market, mine, theirs, "unknown-id") == {mine: "DONE"}
        assert _statuses(market, mine, theirs, business=other_business) == {theirs: "DONE"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"operationType": "RETURN_CANCELLATION", "operationIds": []}, "operationIds: must be a list of 1 to 100 ids"),
        (
            {"operationType": "RETURN_CANCELLATION", "operationIds": [str(n) for n in range(101)]},
            "operationIds: must be a list of 1 to 100 ids",
        ),
        ({"operationType": "RETURN_CANCELLATION", "operationIds": ["a", "a"]}, "operationIds: ids must be unique"),
        (
            {"operationType": "RETURN_CANCELLATION", "operationIds": [""]},
            "operationIds: every id must be a string of 1 to 1000 characters",
        ),
        (
            {"operationType": "RETURN_CANCELLATION", "operationIds": [1]},
            "operationIds: every id must be a string of 1 to 1000 characters",
        ),
        ({"operationType": "REFUND", "operationIds": ["a"]}, "Invalid operationType: REFUND"),
        ({"operationIds": ["a"]}, "Invalid operationType: None"),
        (b"[]", "The body must be a JSON object"),
    ],
)
def test_get_operations_checks_the_body(market: FakeMarket, body: Any, message: str) -> None:
    assert error_of(post(market, body, path=OPERATIONS)) == (400, "BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v1/businesses/0/operations", 400, "Invalid businessId: 0"),
        ("/v1/businesses/abc/operations", 400, "Invalid businessId: abc"),
        ("/v1/businesses/1/operation", 404, "Method /v1/businesses/1/operation not found"),
    ],
)
def test_get_operations_checks_the_path(market: FakeMarket, path: str, status: int, message: str) -> None:
    body = {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}
    assert error_of(post(market, body, path=path))[::2] == (status, message)


def test_get_operations_checks_the_key(market: FakeMarket) -> None:
    body = {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}
    assert error_of(post(market, body, path=OPERATIONS, headers={}))[:2] == (401, "UNAUTHORIZED")
    wrong = post(market, body, path=OPERATIONS, headers={"Api-Key": "wrong"})
    assert error_of(wrong) == (403, "FORBIDDEN", f"Access denied to business {BUSINESS}")


def test_get_operations_has_its_own_hourly_limit_per_business() -> None:
    body = {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}
    with FakeMarket(api_key=KEY, operations_hourly_limit=2) as market:
        answers = [post(market, body, path=OPERATIONS) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 420]
        assert [a.headers["X-RateLimit-Resource-Remaining"] for a in answers] == ["1", "0", "0"]
        assert {a.headers["X-RateLimit-Resource-Limit"] for a in answers} == {"2"}
        assert error_of(answers[2])[2] == f"Hit rate limit of 2 requests per hour for businessId {BUSINESS}"
        assert post(market, body, path="/v1/businesses/1/operations").status_code == 200, "another business"
        market.add_returns(CAMPAIGN, 1)
        cancelled = post(market, {"returnId": 1})
        assert cancelled.status_code == 200, "cancelReturn's limit is its own"
        assert cancelled.headers["X-RateLimit-Resource-Limit"] == "5000"


def test_get_operations_answers_420_past_4_requests_in_flight_per_business() -> None:
    body = {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}
    with FakeMarket(api_key=KEY, latency=0.3) as market:
        barrier = threading.Barrier(6)
        statuses: list[int] = []

        def ask() -> None:
            barrier.wait()
            statuses.append(post(market, body, path=OPERATIONS).status_code)

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * 4 + [420] * 2
        assert market.max_operations_in_flight(BUSINESS) == 6
        assert market.max_in_flight(BUSINESS) == 0, "a business's requests are not a store's"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", [CANCEL_PATH, OPERATIONS])
def test_any_undeclared_method_is_answered_405_as_the_market_does(market: FakeMarket, method: str, path: str) -> None:
    response = httpx.request(method, market.base_url + path, headers={"Api-Key": KEY})
    assert error_of(response) == (405, "METHOD_NOT_ALLOWED", f"Method {method} not allowed")
    assert response.headers["Allow"] == "POST"
    assert response.headers["Content-Type"] == "application/json"
    for name in RATE_LIMIT_HEADERS:
        assert name in response.headers


def test_head_gets_405_without_a_body_and_the_connection_stays_usable(market: FakeMarket) -> None:
    with httpx.Client(base_url=market.base_url) as http:
        head = http.head(CANCEL_PATH)
        assert (head.status_code, head.content) == (405, b"")
        assert error_of(http.post(CANCEL_PATH, json={"returnId": 1}))[:2] == (401, "UNAUTHORIZED")


def test_an_unknown_method_name_is_answered_405_too(market: FakeMarket) -> None:
    host, port = market.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            f"BREW {CANCEL_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405")
    assert json.loads(body)["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


def test_its_get_operations_traffic_validates_against_openapi_yaml() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.2, operations_hourly_limit=4) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, cancellation_fails=True)
        ids = [_cancel(market, n) for n in (1, 2, 3)]
        _statuses(market, *ids)
        time.sleep(0.25)
        _statuses(market, *ids, "unknown")
        post(market, {"operationType": "RETURN_CANCELLATION", "operationIds": []}, path=OPERATIONS)
        post(market, {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}, path=OPERATIONS, headers={})
        post(market, {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}, path=OPERATIONS)
        post(market, {"operationType": "RETURN_CANCELLATION", "operationIds": ["a"]}, path=OPERATIONS)
        exchanges = [e for e in market.exchanges if e.path == OPERATIONS]
        assert [e.status for e in exchanges] == [200, 200, 400, 401, 200, 420]
        assert {s for e in exchanges if e.status == 200 for s in _statuses_in(e.response_body)} == {
            "IN_PROGRESS",
            "DONE",
            "FAILED",
        }
        for exchange in exchanges:
            # A 400's request itself breaks the spec (no ids): only its answer is checked.
            validate(exchange, request=exchange.status != 400)


def _statuses_in(body: bytes) -> list[str]:
    return [operation["status"] for operation in json.loads(body)["result"]["operations"]]


def test_a_slowly_sent_request_counts_in_flight_for_its_whole_latency() -> None:
    """8 requests whose bodies arrive 0.3 s after their headers all overlap for the 0.2 s latency: 4 get 420."""
    with FakeMarket(api_key=KEY, latency=0.2) as market:
        market.add_returns(CAMPAIGN, *range(1, 9))
        host, port = market.base_url.removeprefix("http://").split(":")
        statuses: list[bytes] = []

        def send(return_id: int) -> None:
            body = json.dumps({"returnId": return_id}).encode()
            head = (
                f"POST {CANCEL_PATH} HTTP/1.1\r\nHost: x\r\nApi-Key: {KEY}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            with socket.create_connection((host, int(port))) as connection:
                connection.sendall(head.encode())
                time.sleep(0.3)
                connection.sendall(body)
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            statuses.append(answer.split(b" ")[1])

        threads = [threading.Thread(target=send, args=(n,)) for n in range(1, 9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [b"200"] * 4 + [b"420"] * 4
        assert market.max_in_flight(CAMPAIGN) == 8
