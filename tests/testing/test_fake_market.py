"""The fake Market serves cancelReturn as openapi.yaml and the Market's rules say, and its traffic validates."""

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import httpx
import pytest
from openapi_core.exceptions import OpenAPIError

from tests.helpers import CAMPAIGN, CANCEL_PATH, KEY, RATE_LIMIT_HEADERS, error_of, post, validate
from yandex_market_returns import ReturnsClient, errors
from yandex_market_returns.testing import FakeMarket, Fault


def test_it_starts_and_stops_in_one_line_on_a_free_loopback_port() -> None:
    with FakeMarket() as first, FakeMarket() as second:
        assert first.base_url.startswith("http://127.0.0.1:")
        assert first.base_url != second.base_url
        assert first.api_key != second.api_key, "a random key unless one is given"
        url = first.base_url
    with pytest.raises(RuntimeError, match="not running"):
        _ = first.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + CANCEL_PATH)
    market = FakeMarket(api_key=KEY).start()
    assert post(market).status_code == 400  # running: return 1 is unknown to it
    market.stop()


def test_it_checks_the_key(market: FakeMarket) -> None:
    assert error_of(post(market, headers={})) == (401, "UNAUTHORIZED", "Missing Api-Key header or OAuth token")
    assert error_of(post(market, headers={"Api-Key": "nope"})) == (
        403,
        "FORBIDDEN",
        f"Access denied to campaign {CAMPAIGN}",
    )


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v1/campaigns/abc/returns/cancel", 400, "Invalid campaignId: abc"),
        ("/v1/campaigns/0/returns/cancel", 400, "Invalid campaignId: 0"),
        (f"/v1/campaigns/{2**63}/returns/cancel", 400, f"Invalid campaignId: {2**63}"),
        ("/v1/campaigns/1/returns/cancel/", 404, "Method /v1/campaigns/1/returns/cancel/ not found"),
        ("/v2/campaigns/1/returns/cancel", 404, "Method /v2/campaigns/1/returns/cancel not found"),
    ],
)
def test_it_checks_the_path(market: FakeMarket, path: str, status: int, message: str) -> None:
    assert error_of(post(market, path=path))[::2] == (status, message)


def test_it_answers_405_to_another_method(market: FakeMarket) -> None:
    assert error_of(post(market, method="GET"))[:2] == (405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", {}, {"returnId": "1"}, {"returnId": True}, {"returnId": 1.5}, {"returnId": 2**63}, {"id": 1}],
)
def test_it_checks_the_body(market: FakeMarket, body: Any) -> None:
    assert error_of(post(market, body)) == (400, "BAD_REQUEST", "Invalid returnId")
    assert market.operations == []


def test_it_wants_json(market: FakeMarket) -> None:
    response = post(market, headers={"Api-Key": KEY, "Content-Type": "text/plain"})
    assert error_of(response) == (400, "BAD_REQUEST", "Invalid returnId")


def test_only_created_returns_are_cancelled(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 20_000, shipment_status="RECEIVED")
    assert post(market, {"returnId": 5}).status_code == 200
    assert market.shipment_status(CAMPAIGN, 5) == "CANCELLED"
    assert (
        error_of(post(market, {"returnId": 5}))[2]
        == "Return 5 can't be cancelled: its shipmentStatus is CANCELLED, not CREATED"
    )
    assert error_of(post(market, {"returnId": 20_000}))[2].endswith("its shipmentStatus is RECEIVED, not CREATED")
    assert error_of(post(market, {"returnId": 10_001})) == (400, "BAD_REQUEST", "Return 10001 not found")
    assert [(op.campaign_id, op.return_id) for op in market.operations] == [(CAMPAIGN, 5)]


def test_a_started_operation_is_answered_as_the_spec_says(market: FakeMarket) -> None:
    response = post(market, {"returnId": 7})
    assert response.json() == {
        "status": "OK",
        "result": {"operation": {"id": market.operations[0].id, "type": "RETURN_CANCELLATION"}},
    }


def test_every_own_answer_carries_the_rate_limit_headers(market: FakeMarket) -> None:
    market.hourly_limit = 3
    answers = [post(market, {"returnId": n}) for n in (1, 2, 3, 4)]
    answers += [post(market, headers={}), post(market, path="/elsewhere"), post(market, method="GET")]
    for answer in answers:
        assert all(name in answer.headers for name in RATE_LIMIT_HEADERS), answer
    assert [answer.headers["X-RateLimit-Resource-Remaining"] for answer in answers[:4]] == ["2", "1", "0", "0"]
    assert error_of(answers[3]) == (
        420,
        "HIT_RATE_LIMIT",
        f"Hit rate limit of 3 requests per hour for campaignId {CAMPAIGN}",
    )
    assert answers[0].headers["X-RateLimit-Resource-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Resource-Until"].endswith(" GMT")


def test_it_answers_420_past_4_requests_in_flight(market: FakeMarket) -> None:
    market.latency = 0.5
    with httpx.Client(base_url=market.base_url, headers={"Api-Key": KEY}) as http, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda n: http.post(CANCEL_PATH, json={"returnId": n}), range(1, 7)))
    limited = [error_of(answer) for answer in answers if answer.status_code == 420]
    assert len(limited) == 2
    assert set(limited) == {(420, "HIT_RATE_LIMIT", f"Hit rate limit of 4 parallel requests for campaignId {CAMPAIGN}")}
    assert sum(answer.status_code == 200 for answer in answers) == 4


def test_injected_faults_come_in_order_and_then_stop(market: FakeMarket) -> None:
    market.inject(Fault.SERVER_ERROR, Fault.HTML_BAD_GATEWAY)
    first, second, third = (post(market, {"returnId": n}) for n in (1, 2, 3))
    assert error_of(first) == (500, "INTERNAL_ERROR", "Internal server error")
    assert (second.status_code, second.headers["Content-Type"]) == (502, "text/html")
    assert not any(name in second.headers for name in RATE_LIMIT_HEADERS), "a proxy's page has none"
    assert third.status_code == 200
    assert [op.return_id for op in market.operations] == [3], "the faulted requests were not carried out"


def test_a_dropped_connection_breaks_mid_answer(market: FakeMarket) -> None:
    market.inject(Fault.DROPPED_CONNECTION)
    with pytest.raises(httpx.RemoteProtocolError):
        post(market)
    assert market.operations == []


def test_a_truncated_body_is_cut_after_the_request_took_effect(market: FakeMarket) -> None:
    market.inject(Fault.TRUNCATED_BODY)
    response = post(market, {"returnId": 9})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert [op.return_id for op in market.operations] == [9]


def test_a_lost_answer_is_lost_after_the_request_took_effect(market: FakeMarket) -> None:
    market.inject(Fault.ANSWER_LOST)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(market, {"returnId": 9})
    assert [op.return_id for op in market.operations] == [9]
    assert market.exchanges[0].fault is Fault.ANSWER_LOST


def test_a_slow_answer_comes_late_after_the_request_took_effect(market: FakeMarket) -> None:
    market.slow_answer_delay = 0.3
    market.inject(Fault.SLOW_ANSWER)
    started = time.monotonic()
    response = post(market, {"returnId": 9})
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert [op.return_id for op in market.operations] == [9]


def test_a_client_that_gives_up_leaves_no_traceback_on_stderr(
    market: FakeMarket, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A timed-out client breaks the pipe the fake Market answers into: a debug record, not a traceback."""
    market.latency = 0.3
    market.inject(*[Fault.SLOW_ANSWER] * 3)
    market.slow_answer_delay = 0.3
    with caplog.at_level("DEBUG", logger="yandex_market_returns.testing"):
        for timeout in (0.05, 0.05, 0.05):
            with httpx.Client(timeout=timeout) as client, pytest.raises(httpx.ReadTimeout):
                client.post(market.base_url + CANCEL_PATH, headers={"Api-Key": KEY}, json={"returnId": 1})
        time.sleep(0.9)  # the fake Market writes its answers into closed connections
    assert "Traceback" not in capfd.readouterr().err
    assert any("ended early" in record.getMessage() for record in caplog.records)


def test_random_faults_follow_the_seed() -> None:
    def faults(seed: int) -> list[Fault | None]:
        with FakeMarket(api_key=KEY, fault_rate=0.5, seed=seed, faults=[Fault.SERVER_ERROR]) as market:
            for _ in range(20):
                post(market)
            return [exchange.fault for exchange in market.exchanges]  # type: ignore[misc]

    assert faults(4) == faults(4)
    assert 3 < faults(4).count(Fault.SERVER_ERROR) < 17


def test_the_key_is_redacted_from_what_it_records(market: FakeMarket) -> None:
    post(market)
    (exchange,) = market.exchanges
    assert httpx.Headers(exchange.headers)["Api-Key"] == "<API-KEY>"
    assert KEY not in repr(market)


def _session(market: FakeMarket) -> None:
    """A bit of everything the client can meet, through the client."""
    market.add_returns(CAMPAIGN, 20_000, shipment_status="PICKED")
    with ReturnsClient(api_key=KEY, base_url=market.base_url, backoff=0.01) as client:
        client.cancel_returns(CAMPAIGN, [1, 2, 3, 20_000, 10_001])
        market.inject(Fault.SERVER_ERROR)
        client.cancel_return(CAMPAIGN, 4)
        market.hourly_limit = 6
        client.cancel_returns(CAMPAIGN, [5, 6])
    with ReturnsClient(api_key="wrong", base_url=market.base_url) as stranger, pytest.raises(errors.ForbiddenError):
        stranger.cancel_return(CAMPAIGN, 7)
    httpx.post(market.base_url + CANCEL_PATH, json={"returnId": 8})  # no key


def test_its_traffic_with_the_client_validates_against_openapi_yaml(market: FakeMarket) -> None:
    _session(market)
    exchanges = market.exchanges
    assert {exchange.status for exchange in exchanges} >= {200, 400, 401, 403, 420, 500}
    for exchange in exchanges:
        validate(exchange)


def test_the_validation_above_can_fail(market: FakeMarket) -> None:
    post(market, {"returnId": 1})
    (exchange,) = market.exchanges
    body = json.loads(exchange.response_body)
    body["result"]["operation"]["type"] = 7
    with pytest.raises(OpenAPIError):
        validate(attrs.evolve(exchange, response_body=json.dumps(body).encode()))
    with pytest.raises(OpenAPIError):
        validate(attrs.evolve(exchange, body=b'{"returnId": "1"}'))


def test_nothing_listens_after_stop() -> None:
    market = FakeMarket().start()
    port = int(market.base_url.rsplit(":", 1)[1])
    market.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_burst_of_new_connections_is_accepted_at_once(market: FakeMarket) -> None:
    """With socketserver's backlog of 5 the kernel dropped SYNs past it and each came back a second later."""
    port = int(market.base_url.rsplit(":", 1)[1])
    start = threading.Barrier(64)

    def connect_time(_: int) -> float:
        start.wait()
        began = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=64) as pool:
        slowest = max(pool.map(connect_time, range(64)))
    assert slowest < 0.5, f"a connection waited {slowest:.2f} s to be accepted"
