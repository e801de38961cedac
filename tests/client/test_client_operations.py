"""getOperations in the client: statuses in the order asked, polling until final, and batches that confirm."""

import asyncio
import functools
import itertools
import json
import logging
import operator
import threading
import time
from typing import Any

import pytest

from tests.helpers import BUSINESS, CAMPAIGN, DONE, FAILED, IN_PROGRESS, KEY, async_client, client_for
from yandex_market_returns import (
    OperationResult,
    OperationStatusType,
    OperationType,
    Outcome,
    ReturnsClient,
    errors,
)
from yandex_market_returns.testing import Canned, FakeMarket


def _started(market: FakeMarket, client: ReturnsClient, *return_ids: int) -> list[str]:
    return [client.cancel_return(CAMPAIGN, return_id).id for return_id in return_ids]


def _operation_requests(market: FakeMarket) -> list[list[str]]:
    return [json.loads(e.body)["operationIds"] for e in market.exchanges if e.path.endswith("/operations")]


# --- get_operations ---


def test_statuses_come_in_the_order_given_with_none_for_an_unknown_id() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.3) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, cancellation_fails=True)
        slow = _started(market, client, 1)[0]
        time.sleep(0.35)
        done, failed = _started(market, client, 2, 3)
        results = client.get_operations(BUSINESS, ["no-such-operation", failed, slow, done, slow])
    assert [r.id for r in results] == ["no-such-operation", failed, slow, done, slow]
    assert [r.status for r in results] == [None, IN_PROGRESS, DONE, IN_PROGRESS, DONE]
    assert all(r.type is OperationType.RETURN_CANCELLATION for r in results)
    assert _operation_requests(market) == [["no-such-operation", failed, slow, done]], "once each, one request"


def test_more_than_100_ids_go_in_requests_of_at_most_100_unique_ids(market: FakeMarket, client: ReturnsClient) -> None:
    ids = [f"op-{n}" for n in range(250)]
    results = client.get_operations(BUSINESS, ids + ids[:10])
    assert len(results) == 260
    assert [len(chunk) for chunk in _operation_requests(market)] == [100, 100, 50]
    assert functools.reduce(operator.iadd, _operation_requests(market), []) == ids


def test_an_empty_list_sends_nothing(market: FakeMarket, client: ReturnsClient) -> None:
    assert client.get_operations(BUSINESS, []) == []
    assert market.exchanges == []


def test_a_status_the_client_does_not_know_is_kept(market: FakeMarket, client: ReturnsClient) -> None:
    body = {"status": "OK", "result": {"operations": [{"id": "a", "type": "RETURN_CANCELLATION", "status": "PAUSED"}]}}
    market.inject(Canned(200, json.dumps(body).encode(), {"Content-Type": "application/json"}))
    (result,) = client.get_operations(BUSINESS, ["a"])
    assert isinstance(result.status, OperationStatusType)
    assert result.status == "PAUSED"
    assert not result.final


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        ((0, ["a"]), ValueError, "business_id must be between 1 and"),
        ((True, ["a"]), TypeError, "business_id must be an int, not bool"),
        (("11029645", ["a"]), TypeError, "business_id must be an int, not str"),
        ((BUSINESS, "abc"), TypeError, "operation_ids must be an iterable of str, not str"),
        ((BUSINESS, [1]), TypeError, "operation_ids\\[0\\] must be a str, not int: 1"),
        ((BUSINESS, ["a", ""]), ValueError, "operation_ids\\[1\\] must be 1 to 1000 characters long, got ''"),
        ((BUSINESS, ["x" * 1001]), ValueError, "operation_ids\\[0\\] must be 1 to 1000 characters long"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    market: FakeMarket, client: ReturnsClient, arguments: tuple[Any, Any], kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind, match=message):
        client.get_operations(*arguments)
    with pytest.raises(kind, match=message):
        client.wait_for_operations(*arguments)
    assert market.exchanges == []


@pytest.mark.parametrize("operation_type", ["REFUND", OperationType("NEW_TYPE_FROM_THE_FUTURE"), 7])
def test_an_operation_type_the_spec_does_not_list_is_refused(
    market: FakeMarket, client: ReturnsClient, operation_type: Any
) -> None:
    with pytest.raises((ValueError, TypeError), match="operation_type must be"):
        client.get_operations(BUSINESS, ["a"], operation_type=operation_type)
    assert market.exchanges == []


def test_a_known_operation_type_is_sent(market: FakeMarket, client: ReturnsClient) -> None:
    (result,) = client.get_operations(BUSINESS, ["a"], operation_type=OperationType.ORDER_STATUS_UPDATE)
    assert result == OperationResult(id="a", type=OperationType.ORDER_STATUS_UPDATE, status=None)
    assert json.loads(market.exchanges[0].body)["operationType"] == "ORDER_STATUS_UPDATE"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, errors.BadRequestError), (401, errors.UnauthorizedError), (403, errors.ForbiddenError)],
)
def test_a_refusal_is_our_typed_error_and_starts_nothing(
    market: FakeMarket, client: ReturnsClient, status: int, kind: type[errors.ApiError]
) -> None:
    body = {"status": "ERROR", "errors": [{"code": "X", "message": f"refused {KEY}"}]}
    market.inject(Canned(status, json.dumps(body).encode(), {"Content-Type": "application/json"}))
    with pytest.raises(kind) as caught:
        client.get_operations(BUSINESS, ["a"])
    assert caught.value.may_have_started is False
    assert KEY not in str(caught.value)
    assert "<API-KEY>" in str(caught.value)
    assert str(caught.value).startswith(f"getOperations(business {BUSINESS}, 1 operation): {status}")


def test_a_read_that_lost_its_answer_started_nothing_and_is_retried(market: FakeMarket, client: ReturnsClient) -> None:
    market.inject(Canned(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}))
    (result,) = client.get_operations(BUSINESS, ["a"])
    assert result.status is None
    assert [e.status for e in market.exchanges] == [502, 200]


def test_a_gateway_error_on_a_read_never_says_something_may_have_started(market: FakeMarket) -> None:
    with client_for(market, max_retries=0) as client:
        market.inject(Canned(504, b"", {}))
        with pytest.raises(errors.ServerError) as caught:
            client.get_operations(BUSINESS, ["a"])
    assert caught.value.may_have_started is False
    assert "may have started" not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"status": "OK"}',
        b'{"status": "OK", "result": {"operations": [{"id": "", "type": "RETURN_CANCELLATION", "status": "DONE"}]}}',
        b'{"status": "OK", "result": {"operations": [{"id": "a", "type": "RETURN_CANCELLATION"}]}}',
        b'{"status": "OK", "result": {"operations": "all done"}}',
    ],
    ids=["not json", "no result", "empty id", "no status", "not a list"],
)
def test_a_malformed_200_is_our_typed_error(market: FakeMarket, body: bytes) -> None:
    with client_for(market, max_retries=0) as client:
        market.inject(Canned(200, body, {"Content-Type": "application/json"}))
        with pytest.raises(errors.UnexpectedResponseError) as caught:
            client.get_operations(BUSINESS, ["a"])
    assert caught.value.may_have_started is False


def test_a_spent_hourly_limit_is_held_per_business_and_not_per_store() -> None:
    with FakeMarket(api_key=KEY, operations_hourly_limit=1) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        client.get_operations(BUSINESS, ["a"])  # answered with Remaining: 0
        with pytest.raises(errors.RateLimitError) as caught:
            client.get_operations(BUSINESS, ["a"])
        assert caught.value.response is None, "refused without sending: the Market would answer 420"
        assert caught.value.rate_limit.remaining == 0
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 3000
        assert "the business's hourly limit is spent" in str(caught.value)
        assert client.cancel_return(CAMPAIGN, 1).id, "the store's cancellations are not held"
        client.get_operations(BUSINESS + 1, ["a"])
    assert len(_operation_requests(market)) == 2


def test_at_most_4_requests_in_flight_per_business() -> None:
    with FakeMarket(api_key=KEY, latency=0.1) as market, client_for(market) as client:
        threads = [threading.Thread(target=client.get_operations, args=(BUSINESS, [f"op-{n}"])) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert market.max_operations_in_flight(BUSINESS) == 4
        assert {e.status for e in market.exchanges} == {200}


# --- wait_for_operations ---


def test_waiting_polls_only_what_is_still_in_progress_and_ends_when_all_are_final() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.4) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, cancellation_fails=True)
        first = _started(market, client, 1)[0]
        time.sleep(0.45)
        later = _started(market, client, 2, 3)
        results = client.wait_for_operations(BUSINESS, [first, *later], poll_interval=0.1, timeout=5)
    assert [r.status for r in results] == [DONE, DONE, FAILED]
    polls = _operation_requests(market)
    assert polls[0] == [first, *later]
    assert all(poll == later for poll in polls[1:]), "a final status is not asked for again"
    assert 2 <= len(polls) <= 5


def test_the_interval_starts_short_and_grows() -> None:
    with FakeMarket(api_key=KEY, operation_delay=1.6) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1)
        (operation,) = _started(market, client, 1)
        client.wait_for_operations(BUSINESS, [operation], poll_interval=0.1, timeout=5)
    times = [e.received_at for e in market.exchanges if e.path.endswith("/operations")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) >= 4
    assert gaps[0] < 0.3
    assert all(later > earlier * 1.5 for earlier, later in itertools.pairwise(gaps)), gaps


def test_what_is_still_running_at_the_timeout_is_returned_in_progress() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1)
        operation = _started(market, client, 1)[0]
        started = time.monotonic()
        results = client.wait_for_operations(BUSINESS, [operation, "unknown"], poll_interval=0.1, timeout=0.5)
        assert time.monotonic() - started < 1.0
    assert [r.status for r in results] == [IN_PROGRESS, None]


def test_waiting_stays_within_the_business_s_remaining_requests() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30, operations_hourly_limit=3) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1)
        operation = _started(market, client, 1)[0]
        results = client.wait_for_operations(BUSINESS, [operation], poll_interval=0.01, timeout=1)
    assert results[0].status is IN_PROGRESS
    statuses = [e.status for e in market.exchanges if e.path.endswith("/operations")]
    assert 420 not in statuses, "spread over the period, the remaining requests never run out"


def test_a_poll_refused_by_the_market_is_raised(market: FakeMarket, client: ReturnsClient) -> None:
    market.inject(
        Canned(403, b'{"status":"ERROR","errors":[{"code":"FORBIDDEN"}]}', {"Content-Type": "application/json"})
    )
    with pytest.raises(errors.ForbiddenError):
        client.wait_for_operations(BUSINESS, ["a"], poll_interval=0.01, timeout=1)


def test_a_poll_that_fails_for_now_is_asked_again(market: FakeMarket, caplog: pytest.LogCaptureFixture) -> None:
    market.add_returns(CAMPAIGN, 1)
    with client_for(market, max_retries=0) as client:
        (operation,) = _started(market, client, 1)
        market.inject(
            Canned(
                500, b'{"status":"ERROR","errors":[{"code":"INTERNAL_ERROR"}]}', {"Content-Type": "application/json"}
            )
        )
        with caplog.at_level(logging.WARNING, "yandex_market_returns"):
            (result,) = client.wait_for_operations(BUSINESS, [operation], poll_interval=0.01, timeout=2)
    assert result.status is DONE
    assert "asking again next round" in caplog.text


def test_closing_the_client_ends_a_wait() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30) as market:
        market.add_returns(CAMPAIGN, 1)
        client = client_for(market)
        operation = _started(market, client, 1)[0]
        threading.Timer(0.3, client.close).start()
        started = time.monotonic()
        with pytest.raises(errors.ClientClosedError):
            client.wait_for_operations(BUSINESS, [operation], poll_interval=5, timeout=60)
        assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": -1}, "timeout must be a number from 0 to 86400"),
        ({"poll_interval": 0}, "poll_interval must be a number from 0.01 to 86400"),
        ({"poll_interval": float("nan")}, "poll_interval must be a number"),
    ],
)
def test_bad_wait_options_are_refused(market: FakeMarket, client: ReturnsClient, options: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        client.wait_for_operations(BUSINESS, ["a"], **options)
    assert market.exchanges == []


# --- cancel_returns(business_id=...) ---


def test_cancelling_200_returns_with_10_set_to_fail_gives_190_done_and_10_failed() -> None:
    """The issue's acceptance case: operation_delay=1, one call."""
    failing = set(range(1, 201, 20))
    with FakeMarket(api_key=KEY, operation_delay=1) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, *(n for n in range(1, 201) if n not in failing))
        market.add_returns(CAMPAIGN, *failing, cancellation_fails=True)
        seen: list[Outcome] = []
        outcomes = client.cancel_returns(
            CAMPAIGN, range(1, 201), business_id=BUSINESS, on_outcome=seen.append, poll_interval=0.5
        )
        assert [o.return_id for o in outcomes] == list(range(1, 201))
        assert sum(o.status is DONE for o in outcomes) == 190
        assert {o.return_id for o in outcomes if o.status is FAILED} == failing
        assert all(o.cancelled == (o.status is DONE) for o in outcomes)
        assert sorted(seen, key=lambda o: o.return_id) == outcomes, "on_outcome saw each outcome once, final"
        assert all(
            market.shipment_status(CAMPAIGN, n) == ("CREATED" if n in failing else "CANCELLED") for n in range(1, 201)
        )
    polls = _operation_requests(market)
    assert all(len(poll) <= 100 for poll in polls)
    assert len(polls) <= 2 * 6, f"{len(polls)} getOperations requests"


def test_confirmations_are_polled_while_cancellations_are_still_sent() -> None:
    with FakeMarket(api_key=KEY, latency=0.05) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, *range(1, 81))
        client.cancel_returns(CAMPAIGN, range(1, 81), business_id=BUSINESS, poll_interval=0.1)
    paths = [e.path for e in market.exchanges]
    first_poll = next(i for i, path in enumerate(paths) if path.endswith("/operations"))
    assert any(path.endswith("/returns/cancel") for path in paths[first_poll:]), "polled only after the last cancel"


def test_an_outcome_that_has_not_ended_at_the_timeout_is_in_progress() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, shipment_status="CANCELLED")
        started = time.monotonic()
        outcomes = client.cancel_returns(
            CAMPAIGN, [1, 2, 3], business_id=BUSINESS, confirm_timeout=0.5, poll_interval=0.1
        )
        assert time.monotonic() - started < 1.5
    assert [o.status for o in outcomes] == [IN_PROGRESS, IN_PROGRESS, None]
    assert [o.state.value for o in outcomes] == ["in_progress", "in_progress", "already_cancelled"]
    assert [o.cancelled for o in outcomes] == [False, False, True], "its record says it was cancelled before"
    assert isinstance(outcomes[2].error, errors.BadRequestError)


def test_without_business_id_nothing_is_confirmed(market: FakeMarket, client: ReturnsClient) -> None:
    outcomes = client.cancel_returns(CAMPAIGN, [1, 2])
    assert [(o.ok, o.status, o.cancelled) for o in outcomes] == [(True, None, False)] * 2
    assert _operation_requests(market) == []


def test_a_refused_confirmation_stops_the_batch_with_every_outcome_reported() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        forbidden = Canned(
            403, b'{"status":"ERROR","errors":[{"code":"FORBIDDEN"}]}', {"Content-Type": "application/json"}
        )
        original = market.answer

        def refuse_operations(method: str, path: str, headers: Any, body: bytes) -> Any:
            if path.endswith("/operations"):
                return forbidden.status, dict(forbidden.headers), forbidden.body
            return original(method, path, headers, body)

        market.answer = refuse_operations  # type: ignore[method-assign]
        with pytest.raises(errors.ForbiddenError) as caught:
            client.cancel_returns(CAMPAIGN, [1, 2], business_id=BUSINESS, poll_interval=0.05)
    outcomes: list[Outcome] = caught.value.outcomes  # type: ignore[attr-defined]
    assert [(o.return_id, o.ok, o.status) for o in outcomes] == [(1, True, None), (2, True, None)]
    assert caught.value.not_sent == []  # type: ignore[attr-defined]


def test_bad_confirmation_options_are_refused_before_any_request(market: FakeMarket, client: ReturnsClient) -> None:
    with pytest.raises(ValueError, match="business_id must be between 1 and"):
        client.cancel_returns(CAMPAIGN, [1], business_id=0)
    with pytest.raises(ValueError, match="confirm_timeout must be a number"):
        client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, confirm_timeout=-1)
    with pytest.raises(ValueError, match="poll_interval must be a number"):
        client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, poll_interval=0)
    assert market.exchanges == []


def test_closing_the_client_stops_a_batch_waiting_for_confirmations() -> None:
    with FakeMarket(api_key=KEY, operation_delay=30) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        client = client_for(market)
        threading.Timer(0.3, client.close).start()
        started = time.monotonic()
        with pytest.raises(errors.ClientClosedError) as caught:
            client.cancel_returns(CAMPAIGN, [1, 2], business_id=BUSINESS, poll_interval=10)
        assert time.monotonic() - started < 2
    assert [o.status for o in caught.value.outcomes] == [None, None]  # type: ignore[attr-defined]


# --- async ---


def test_async_client_has_the_same_operations() -> None:
    failing = {3}

    async def main(market: FakeMarket) -> tuple[list[Outcome], list[OperationResult], list[OperationResult]]:
        async with async_client(market) as client:
            outcomes = await client.cancel_returns(CAMPAIGN, [1, 2, 3], business_id=BUSINESS, poll_interval=0.1)
            ids = [o.operation.id for o in outcomes if o.operation]
            statuses = await client.get_operations(BUSINESS, [*ids, "unknown"])
            waited = await client.wait_for_operations(BUSINESS, ids, poll_interval=0.1, timeout=2)
            return outcomes, statuses, waited

    with FakeMarket(api_key=KEY, operation_delay=0.3) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, *failing, cancellation_fails=True)
        outcomes, statuses, waited = asyncio.run(main(market))
    assert [o.status for o in outcomes] == [DONE, DONE, FAILED]
    assert [o.cancelled for o in outcomes] == [True, True, False]
    assert [r.status for r in statuses] == [DONE, DONE, FAILED, None]
    assert [r.status for r in waited] == [DONE, DONE, FAILED]


def test_async_wait_ends_in_progress_at_the_timeout_and_on_aclose() -> None:
    async def main(market: FakeMarket) -> list[OperationResult]:
        client = async_client(market)
        operation = (await client.cancel_return(CAMPAIGN, 1)).id
        results = await client.wait_for_operations(BUSINESS, [operation], poll_interval=0.05, timeout=0.3)
        asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(client.aclose()))
        with pytest.raises(errors.ClientClosedError):
            await client.wait_for_operations(BUSINESS, [operation], poll_interval=5, timeout=60)
        return results

    with FakeMarket(api_key=KEY, operation_delay=30) as market:
        market.add_returns(CAMPAIGN, 1)
        started = time.monotonic()
        (result,) = asyncio.run(main(market))
        assert time.monotonic() - started < 2
    assert result.status is IN_PROGRESS


def test_async_batch_cancelled_while_confirming_reports_what_is_known() -> None:
    async def main(market: FakeMarket) -> BaseException:
        async with async_client(market) as client:
            task = asyncio.ensure_future(
                client.cancel_returns(CAMPAIGN, [1, 2], business_id=BUSINESS, poll_interval=0.05)
            )
            await asyncio.sleep(0.4)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError as error:
                return error
        raise AssertionError("not cancelled")

    with FakeMarket(api_key=KEY, operation_delay=30) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        error = asyncio.run(main(market))
    assert [(o.ok, o.status) for o in error.outcomes] == [(True, IN_PROGRESS)] * 2  # type: ignore[attr-defined]


def test_statuses_compare_equal_to_their_strings() -> None:
    assert DONE == "DONE"
    assert str(FAILED) == "FAILED"
    assert OperationStatusType("NEW") == "NEW"
