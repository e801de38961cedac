"""What a call reports is what is known: whether the Market may have acted, and whether trying again can help."""

import asyncio
import pickle
import socket
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, KEY, async_client
from yandex_market_returns import ReturnsClient, errors
from yandex_market_returns.testing import Canned, FakeMarket, Fault

JSON = {"Content-Type": "application/json"}
MARKET_500 = b'{"status":"ERROR","errors":[{"code":"INTERNAL_ERROR","message":"Internal server error"}]}'
HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize("lost", [Fault.ANSWER_LOST, Fault.SLOW_ANSWER])
def test_a_lost_answer_then_a_400_is_an_unknown_outcome(market: FakeMarket, make_client: Any, lost: Fault) -> None:
    """The first attempt cancelled the return, its answer was lost, the retry is told "not CREATED"."""
    market.slow_answer_delay = 0.5
    market.inject(lost)
    with pytest.raises(errors.OutcomeUnknownError) as raised:
        make_client(timeout=0.2, grace_period=0).cancel_return(CAMPAIGN, 1)
    error = raised.value
    assert [started.return_id for started in market.operations] == [1], "the Market did cancel it"
    assert not isinstance(error, errors.ApiError)
    assert error.may_have_started
    first, last = error.attempts
    assert isinstance(first, errors.ConnectionError if lost is Fault.ANSWER_LOST else errors.TimeoutError)
    assert first.may_have_started
    assert isinstance(last, errors.BadRequestError)
    assert not last.may_have_started
    assert error.__cause__ is last
    assert (error.retryable, error.retry_after) == (False, None), "a 400 will not turn into a 200 later"
    message = str(error)
    assert "outcome unknown: attempt 1" in message
    assert "may have started the cancellation" in message
    assert "shipmentStatus is CANCELLED" in message
    assert "Check the return's status" in message
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.OutcomeUnknownError
    assert [type(attempt) for attempt in copy.attempts] == [type(first), errors.BadRequestError]
    assert copy.may_have_started


def test_the_async_client_says_the_same(market: FakeMarket) -> None:
    async def call() -> None:
        async with async_client(market) as client:
            await client.cancel_return(CAMPAIGN, 1)

    market.inject(Fault.ANSWER_LOST)
    with pytest.raises(errors.OutcomeUnknownError) as raised:
        asyncio.run(call())
    assert [type(attempt) for attempt in raised.value.attempts] == [errors.ConnectionError, errors.BadRequestError]


def test_a_400_with_no_unknown_attempt_before_it_is_a_plain_bad_request(market: FakeMarket, make_client: Any) -> None:
    """A 420 carries nothing out: the 400 that follows is certain, this call started no cancellation."""
    market.add_returns(CAMPAIGN, 20_000, shipment_status="RECEIVED")
    market.inject(Canned(420), Canned(420))
    with pytest.raises(errors.BadRequestError) as raised:
        make_client(backoff=0.01).cancel_return(CAMPAIGN, 20_000)
    assert type(raised.value) is errors.BadRequestError
    assert raised.value.may_have_started is False
    assert [exchange.status for exchange in market.exchanges] == [420, 420, 400]


def test_a_500_after_the_market_acted_then_a_400_is_an_unknown_outcome(market: FakeMarket, make_client: Any) -> None:
    """The Market cancelled the return and then failed: its 500 is no proof that nothing happened."""
    market.inject(Fault.SERVER_ERROR_AFTER_ACTING)
    with pytest.raises(errors.OutcomeUnknownError) as raised:
        make_client(backoff=0.01).cancel_return(CAMPAIGN, 1)
    assert [started.return_id for started in market.operations] == [1], "the Market did cancel it"
    first, last = raised.value.attempts
    assert isinstance(first, errors.ServerError)
    assert first.may_have_started
    assert "the Market failed, maybe after acting; the cancellation may have started" in str(first)
    assert isinstance(last, errors.BadRequestError)
    assert [exchange.status for exchange in market.exchanges] == [500, 400]


def test_a_lost_answer_then_a_success_is_a_success(market: FakeMarket, make_client: Any) -> None:
    market.inject(Fault.DROPPED_CONNECTION)  # cut before the work is done: the retry starts it
    operation = make_client().cancel_return(CAMPAIGN, 1)
    assert operation.id == market.operations[0].id


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# (what happens, what it raises, may_have_started, retryable)
ATTEMPTS: list[tuple[str, Canned | Fault | None, type, bool, bool]] = [
    ("connection refused", None, errors.ConnectionError, False, True),
    ("500 with the Market's body", Canned(500, MARKET_500, JSON), errors.ServerError, True, True),
    ("502 page from a gateway", Canned(502, HTML_502, {"Content-Type": "text/html"}), errors.ServerError, True, True),
    ("503 with no body", Canned(503), errors.ServerError, True, True),
    ("504 with the Market's body", Canned(504, MARKET_500, JSON), errors.ServerError, True, True),
    ("connection dropped mid-answer", Fault.DROPPED_CONNECTION, errors.ConnectionError, True, True),
    ("answer lost", Fault.ANSWER_LOST, errors.ConnectionError, True, True),
    ("200 truncated", Fault.TRUNCATED_BODY, errors.UnexpectedResponseError, True, False),
    ("204", Canned(204), errors.UnexpectedResponseError, True, False),
    ("400", Canned(400, b'{"errors":[{"code":"BAD_REQUEST"}]}', JSON), errors.BadRequestError, False, False),
    ("401", Canned(401), errors.UnauthorizedError, False, False),
    ("403", Canned(403), errors.ForbiddenError, False, False),
    ("404", Canned(404), errors.NotFoundError, False, False),  # an UnexpectedStatusError too
    ("420", Canned(420), errors.RateLimitError, False, True),
    ("read timeout", Fault.SLOW_ANSWER, errors.TimeoutError, True, True),
]


@pytest.mark.parametrize(
    ("happening", "kind", "may_have_started", "retryable"),
    [row[1:] for row in ATTEMPTS],
    ids=[row[0] for row in ATTEMPTS],
)
def test_each_failure_says_whether_it_may_have_started_and_whether_to_retry(
    market: FakeMarket, happening: Canned | Fault | None, kind: type, may_have_started: bool, retryable: bool
) -> None:
    market.slow_answer_delay = 0.5
    base_url = market.base_url if happening is not None else f"http://127.0.0.1:{_refused_port()}"
    if happening is not None:
        market.inject(happening)
    client = ReturnsClient(api_key=KEY, base_url=base_url, max_retries=0, timeout=0.2, grace_period=0)
    with client, pytest.raises(errors.MarketError) as raised:
        client.cancel_return(CAMPAIGN, 1)
    error = raised.value
    assert type(error) is kind
    assert (error.may_have_started, error.retryable) == (may_have_started, retryable)
    assert (error.retry_after is not None) == retryable, "a retryable error says when to try again"
    if may_have_started and isinstance(error, errors.TransportError):
        assert "may have reached the Market" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.may_have_started, copy.retryable, copy.retry_after) == (
        error.may_have_started,
        error.retryable,
        error.retry_after,
    )


def test_a_connect_timeout_was_not_sent() -> None:
    """A connect timeout never reached the Market (a blackholed address would do; a full backlog does here)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(64):  # fill the accept queue, so that the next connect hangs
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            client = ReturnsClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0, timeout=0.2)
            with client, pytest.raises(errors.TimeoutError) as raised:
                client.cancel_return(CAMPAIGN, 1)
        finally:
            for filler in fillers:
                filler.close()
    assert "ConnectTimeout" in str(raised.value)
    assert raised.value.may_have_started is False
    assert "the request was not sent" in str(raised.value)


def test_retry_after_of_a_spent_hourly_limit_is_the_time_to_until(make_client: Any) -> None:
    with FakeMarket(api_key=KEY, hourly_limit=0, limit_period=600.0) as market:
        market.add_returns(CAMPAIGN, 1)
        with pytest.raises(errors.RateLimitError) as raised:
            make_client(base_url=market.base_url, retry_budget=5.0).cancel_return(CAMPAIGN, 1)
    assert raised.value.retryable
    assert raised.value.retry_after is not None
    assert 598 <= raised.value.retry_after <= 602


def test_retry_after_of_a_5xx_is_the_next_backoff(market: FakeMarket, make_client: Any) -> None:
    market.inject(*[Fault.SERVER_ERROR] * 3)
    with pytest.raises(errors.ServerError) as raised:
        make_client(max_retries=2, backoff=0.01).cancel_return(CAMPAIGN, 1)
    assert raised.value.retry_after is not None
    assert 0.02 <= raised.value.retry_after <= 0.04, "the third backoff: 0.04 s, in its upper half"


def test_under_faults_no_cancelled_return_is_reported_as_not_started() -> None:
    """3,000 cancellations, one answer in ten faulty: every return the Market cancelled is reported as
    started, or as an error whose ``may_have_started`` says so."""
    ids = list(range(1, 3001))
    market = FakeMarket(api_key=KEY, fault_rate=0.1, seed=8, slow_answer_delay=0.3)
    market.add_returns(CAMPAIGN, *ids)
    with market, ReturnsClient(api_key=KEY, base_url=market.base_url, backoff=0.002, timeout=0.2) as client:
        outcomes = client.cancel_returns(CAMPAIGN, ids, confirm_timeout=1, poll_interval=0.05)
    cancelled = {operation.return_id for operation in market.operations}
    wrongly_denied = [
        outcome.return_id
        for outcome in outcomes
        if outcome.error is not None and not outcome.error.may_have_started and outcome.return_id in cancelled
    ]
    assert wrongly_denied == []
    unknown = [outcome for outcome in outcomes if isinstance(outcome.error, errors.OutcomeUnknownError)]
    carried_out = sum(exchange.fault in (Fault.TRUNCATED_BODY, Fault.ANSWER_LOST) for exchange in market.exchanges)
    assert len(unknown) >= 10, "faults that carried the work out were drawn, and their retries were told 400"
    assert carried_out >= 30
    assert all(outcome.return_id in cancelled for outcome in outcomes if outcome.ok)
