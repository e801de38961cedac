"""Confirmations under faults and stops: nothing known is lost, the deadline gets a last look, and a poll that
fails for now does not end a wait or a batch."""

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest

from tests.helpers import BUSINESS, CAMPAIGN, DONE, IN_PROGRESS, KEY, async_client, client_for
from yandex_market_returns import (
    OperationResult,
    OperationStatusType,
    OperationType,
    Outcome,
    RateLimit,
    ReturnsClient,
    errors,
)
from yandex_market_returns._confirmations import Confirmations
from yandex_market_returns.testing import Canned, FakeMarket, Fault

Answer = tuple[int, dict[str, str], bytes]
JSON = {"Content-Type": "application/json"}


def _rewriting(market: FakeMarket, change: Callable[[str, bytes, Answer], Answer]) -> None:
    answer = market.answer

    def rewritten(method: str, path: str, headers: Message, body: bytes) -> Answer:
        return change(path, body, answer(method, path, headers, body))

    market.answer = rewritten  # type: ignore[method-assign]


class StopError(Exception):
    pass


def test_a_batch_stopped_while_delivering_confirmations_reports_every_status() -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.3) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, *range(1, 9))

        def stop(outcome: Outcome) -> None:
            raise StopError

        with pytest.raises(StopError) as caught:
            client.cancel_returns(CAMPAIGN, range(1, 9), business_id=BUSINESS, on_outcome=stop, poll_interval=0.5)
    outcomes: list[Outcome] = caught.value.outcomes  # type: ignore[attr-defined]
    assert [o.status for o in outcomes] == [DONE] * 8, "each confirmed status is kept, delivered or not"


def test_an_async_batch_stopped_while_delivering_confirmations_reports_every_status() -> None:
    def stop(outcome: Outcome) -> None:
        raise StopError

    async def main(market: FakeMarket) -> None:
        async with async_client(market) as client:
            await client.cancel_returns(CAMPAIGN, range(1, 9), business_id=BUSINESS, on_outcome=stop, poll_interval=0.5)

    with FakeMarket(api_key=KEY, operation_delay=0.3) as market:
        market.add_returns(CAMPAIGN, *range(1, 9))
        with pytest.raises(StopError) as caught:
            asyncio.run(main(market))
    assert [o.status for o in caught.value.outcomes] == [DONE] * 8  # type: ignore[attr-defined]


def test_the_wait_takes_a_last_look_at_its_deadline() -> None:
    with FakeMarket(api_key=KEY, operation_delay=2.0) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1)
        (operation,) = [client.cancel_return(CAMPAIGN, 1).id]
        started = time.monotonic()
        (result,) = client.wait_for_operations(BUSINESS, [operation], poll_interval=0.5, timeout=2.5)
        assert 2.4 <= time.monotonic() - started < 3.2
    assert result.status is DONE, "polls at 0, 0.5 and 1.5 s miss it, the next would be at 3.5: one goes at 2.5"


def test_a_batch_takes_a_last_look_at_each_confirmation_deadline() -> None:
    with FakeMarket(api_key=KEY, operation_delay=2.0) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, 1)
        (outcome,) = client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, poll_interval=0.5, confirm_timeout=2.5)
    assert outcome.status is DONE


@pytest.mark.parametrize("fault", [Fault.TRUNCATED_BODY, Fault.SERVER_ERROR, Fault.HTML_BAD_GATEWAY])
def test_a_poll_that_fails_for_now_ends_neither_a_wait_nor_a_batch(fault: Fault) -> None:
    with FakeMarket(api_key=KEY, operation_delay=0.2) as market, client_for(market, max_retries=0) as client:
        market.add_returns(CAMPAIGN, *range(1, 6))

        def fail_first_poll(path: str, body: bytes, answer: Answer) -> Answer:
            if path.endswith("/operations") and not getattr(fail_first_poll, "done", False):
                fail_first_poll.done = True  # type: ignore[attr-defined]
                return market.fault_answer(fault) if fault is not Fault.TRUNCATED_BODY else (200, JSON, answer[2][:10])
            return answer

        _rewriting(market, fail_first_poll)
        outcomes = client.cancel_returns(CAMPAIGN, range(1, 6), business_id=BUSINESS, poll_interval=0.1)
    assert [o.status for o in outcomes] == [DONE] * 5


def test_a_garbled_answer_to_a_read_is_retried_within_the_call(market: FakeMarket, client: ReturnsClient) -> None:
    market.inject(Fault.TRUNCATED_BODY)
    (result,) = client.get_operations(BUSINESS, ["a"])
    assert result.status is None
    assert len(market.exchanges) == 2


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


def test_a_wait_ends_within_its_timeout_plus_one_request(silent_server: str) -> None:
    with ReturnsClient(api_key=KEY, base_url=silent_server, timeout=1, backoff=0.01) as client:
        started = time.monotonic()
        (result,) = client.wait_for_operations(BUSINESS, ["a"], timeout=1, poll_interval=0.1)
        took = time.monotonic() - started
    assert result.status is None
    assert took < 1 + 1 + 1.5, f"{took:.1f} s"


def test_business_id_is_taken_through_operator_index_in_a_batch(market: FakeMarket, client: ReturnsClient) -> None:
    class Business:
        def __index__(self) -> int:
            return BUSINESS

    (outcome,) = client.cancel_returns(CAMPAIGN, [1], business_id=Business(), poll_interval=0.05)  # type: ignore[arg-type]
    assert outcome.status is DONE
    assert market.exchanges[-1].path == f"/v1/businesses/{BUSINESS}/operations"


def test_a_failed_request_of_a_round_keeps_what_the_others_learnt(market: FakeMarket) -> None:
    def fail_second_request(path: str, body: bytes, answer: Answer) -> Answer:
        if path.endswith("/operations") and json.loads(body)["operationIds"][0] != "op-0":
            return 500, JSON, b'{"status": "ERROR", "errors": [{"code": "INTERNAL_ERROR"}]}'
        if path.endswith("/operations"):
            ids = json.loads(body)["operationIds"]
            found = [{"id": id_, "type": "RETURN_CANCELLATION", "status": "DONE"} for id_ in ids]
            return 200, answer[1], json.dumps({"status": "OK", "result": {"operations": found}}).encode()
        return answer

    _rewriting(market, fail_second_request)
    with client_for(market, max_retries=0) as client:
        results = client.wait_for_operations(BUSINESS, [f"op-{n}" for n in range(150)], timeout=0.5, poll_interval=0.1)
        assert [r.status for r in results] == [DONE] * 100 + [None] * 50
        with pytest.raises(errors.ServerError):
            client.get_operations(BUSINESS, [f"op-{n}" for n in range(150)])


def test_two_returns_answered_with_one_operation_id_are_both_delivered(market: FakeMarket) -> None:
    body = json.dumps({"status": "OK", "result": {"operation": {"id": "same", "type": "RETURN_CANCELLATION"}}})
    market.inject(Canned(200, body.encode(), JSON), Canned(200, body.encode(), JSON))
    seen: list[Outcome] = []
    with client_for(market) as client:
        outcomes = client.cancel_returns(
            CAMPAIGN, [1, 2, 3], business_id=BUSINESS, on_outcome=seen.append, confirm_timeout=0.5, poll_interval=0.1
        )
    assert sorted(o.return_id for o in seen) == [1, 2, 3]
    assert [o.return_id for o in outcomes] == [1, 2, 3]
    statuses = {(o.operation.id == "same", o.status) for o in outcomes if o.operation}
    assert statuses == {(True, None), (False, DONE)}, "the Market never reported 'same'"


def test_a_str_subclass_is_sent_as_its_characters(market: FakeMarket, client: ReturnsClient) -> None:
    class Loud(str):
        def __str__(self) -> str:
            return "x" * 5000

    client.get_operations(BUSINESS, [Loud("abc")])
    assert json.loads(market.exchanges[0].body)["operationIds"] == ["abc"]


def test_closing_during_a_poll_logs_no_retry_warning(caplog: pytest.LogCaptureFixture) -> None:
    with FakeMarket(api_key=KEY, latency=0.5) as market:
        client = client_for(market)
        threading.Timer(0.2, client.close).start()
        with caplog.at_level(logging.WARNING, "yandex_market_returns"), pytest.raises(errors.ClientClosedError):
            client.wait_for_operations(BUSINESS, ["a"], timeout=5)
    assert "asking again" not in caplog.text


def test_many_waiting_confirmations_cost_little_bookkeeping() -> None:
    """20,000 operations waiting: adding, scheduling and finishing them stays linear."""

    confirmations = Confirmations(timeout=600, poll_interval=1)
    started = time.monotonic()
    for index in range(20_000):
        confirmations.add(index, f"op-{index}", Outcome(index))
        confirmations.due_in()
        confirmations.finished()
    assert time.monotonic() - started < 2.0
    assert bool(confirmations)
    assert confirmations.known()[0] == (0, Outcome(0))


# --- the second review's findings ---


def test_deadlines_add_no_rounds_of_their_own() -> None:
    """300 operations that never end, each with its own deadline: the rounds stay spaced, not back to back."""
    with FakeMarket(api_key=KEY, operation_delay=1000) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, *range(1, 301))
        outcomes = client.cancel_returns(
            CAMPAIGN, range(1, 301), business_id=BUSINESS, confirm_timeout=0.5, poll_interval=0.2
        )
    assert {o.status for o in outcomes} == {IN_PROGRESS}
    polls = [e for e in market.exchanges if e.path.endswith("/operations")]
    assert len(polls) <= 3 * 4, f"{len(polls)} getOperations requests for 300 operations"


def test_a_poll_garbled_by_its_encoding_is_asked_again(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 1)
    with client_for(market, max_retries=0) as client:
        (operation,) = [client.cancel_return(CAMPAIGN, 1).id]
        market.inject(Canned(200, b"not gzip at all", {**JSON, "Content-Encoding": "gzip"}))
        (result,) = client.wait_for_operations(BUSINESS, [operation], timeout=2, poll_interval=0.05)
    assert result.status is DONE


@pytest.mark.parametrize("how", ["close", "interrupt"])
def test_a_batch_stopped_mid_round_keeps_what_the_round_learnt(how: str) -> None:
    with FakeMarket(api_key=KEY) as market, client_for(market) as client:
        market.add_returns(CAMPAIGN, *range(1, 251))
        main_thread = threading.main_thread().ident

        def slow_second_request(path: str, body: bytes, answer: Answer) -> Answer:
            if path.endswith("/operations") and len(json.loads(body)["operationIds"]) == 100:
                if getattr(slow_second_request, "seen", False):
                    if how == "close":
                        threading.Timer(0.1, client.close).start()
                    else:
                        threading.Timer(0.1, _interrupt, args=(main_thread,)).start()
                    time.sleep(1)
                slow_second_request.seen = True  # type: ignore[attr-defined]
            return answer

        _rewriting(market, slow_second_request)
        kind = errors.ClientClosedError if how == "close" else KeyboardInterrupt
        with pytest.raises(kind) as caught:
            client.cancel_returns(CAMPAIGN, range(1, 251), business_id=BUSINESS, poll_interval=1.5)
    statuses = [o.status for o in caught.value.outcomes]  # type: ignore[attr-defined]
    if how == "close":  # the close waits for the round's request in flight: its answer is kept too
        assert statuses.count(DONE) == 200, "both requests of the round answered DONE for 100 each"
    else:
        assert statuses.count(DONE) == 100, "the first request of the round answered DONE for 100"


def _interrupt(thread_id: int | None) -> None:
    import _thread

    assert thread_id == threading.main_thread().ident
    _thread.interrupt_main()


def test_a_wait_over_many_ids_retries_no_request_past_its_deadline(market: FakeMarket) -> None:
    market.inject(*[Canned(500, b'{"status":"ERROR","errors":[{"code":"INTERNAL_ERROR"}]}', JSON)] * 1000)
    with client_for(market, max_retries=50, backoff=0.2, retry_budget=60) as client:
        started = time.monotonic()
        results = client.wait_for_operations(BUSINESS, [f"op-{n}" for n in range(1000)], timeout=1, poll_interval=0.5)
        took = time.monotonic() - started
    assert {r.status for r in results} == {None}
    assert took < 3, f"{took:.1f} s"


def test_get_operations_ends_at_the_first_request_that_fails(market: FakeMarket) -> None:
    market.inject(Canned(500, b'{"status":"ERROR","errors":[{"code":"INTERNAL_ERROR"}]}', JSON))
    with client_for(market, max_retries=0) as client, pytest.raises(errors.ServerError):
        client.get_operations(BUSINESS, [f"op-{n}" for n in range(1000)])
    assert len(market.exchanges) == 1


def test_the_next_round_is_sized_by_what_still_waits() -> None:
    confirmations = Confirmations(timeout=600, poll_interval=1)
    for index in range(500):
        confirmations.add(index, f"op-{index}", Outcome(index))
    now = datetime.now(UTC)
    scarce = RateLimit(limit=1000, remaining=10, until=now + timedelta(seconds=3600), date=now)
    done = OperationStatusType.DONE
    confirmations.learn([OperationResult(f"op-{n}", OperationType.RETURN_CANCELLATION, done) for n in range(450)])
    confirmations.polled(scarce, held=0.0)
    due = confirmations.due_in()
    assert due is not None
    assert 350 <= due <= 361, "1 request of the 50 left, 10 requests left for 3,600 s: one round per 360 s"
    assert len(confirmations.finished()) == 450


def test_an_unusable_on_outcome_is_refused_before_any_request(market: FakeMarket, client: ReturnsClient) -> None:
    with pytest.raises(TypeError, match="on_outcome must be callable or None, not str: 'x'"):
        client.cancel_returns(CAMPAIGN, [1], on_outcome="x")  # type: ignore[arg-type]
    assert market.exchanges == []


def test_a_status_reported_for_another_operation_type_confirms_nothing(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 1)

    def other_type(path: str, body: bytes, answer: Answer) -> Answer:
        if path.endswith("/operations"):
            ids = json.loads(body)["operationIds"]
            found = [{"id": id_, "type": "ORDER_STATUS_UPDATE", "status": "DONE"} for id_ in ids]
            return 200, answer[1], json.dumps({"status": "OK", "result": {"operations": found}}).encode()
        return answer

    _rewriting(market, other_type)
    with client_for(market) as client:
        (outcome,) = client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, confirm_timeout=0.3, poll_interval=0.1)
    assert outcome.status is None, "no status of its own type: getOperations confirmed nothing"
    assert (outcome.state.value, outcome.source.value) == ("cancelled", "record"), "its record did"


def _operations_answer(*operations: tuple[str, str]) -> Canned:
    found = [{"id": id_, "type": "RETURN_CANCELLATION", "status": status} for id_, status in operations]
    return Canned(200, json.dumps({"status": "OK", "result": {"operations": found}}).encode(), JSON)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (_operations_answer(("a", "DONE"), ("b", "DONE"), ("a", "FAILED")), "operation 'a' twice: DONE"),
        (_operations_answer(("a", "DONE"), ("a", "IN_PROGRESS")), "operation 'a' twice: DONE"),
        (_operations_answer(("a", "DONE"), ("b", "DONE"), ("c", "DONE")), "operation 'c', which was not asked about"),
    ],
)
def test_an_answer_that_contradicts_itself_is_believed_in_nothing(
    market: FakeMarket, caplog: pytest.LogCaptureFixture, answer: Canned, said: str
) -> None:
    market.inject(answer)
    with client_for(market) as client:
        results = client.get_operations(BUSINESS, ["a", "b"])
    assert [(r.id, r.status) for r in results] == [("a", None), ("b", None)], "neither status reported as certain"
    assert said in caplog.text
    assert "its statuses are taken as unknown" in caplog.text


def test_an_id_listed_twice_with_one_status_is_taken_at_its_word(market: FakeMarket) -> None:
    market.inject(_operations_answer(("a", "DONE"), ("a", "DONE")))
    with client_for(market) as client:
        (result,) = client.get_operations(BUSINESS, ["a"])
    assert result.status is DONE


def test_a_wait_asks_again_after_a_contradiction(market: FakeMarket) -> None:
    market.inject(_operations_answer(("a", "DONE"), ("a", "FAILED")), _operations_answer(("a", "FAILED")))
    with client_for(market) as client:
        (result,) = client.wait_for_operations(BUSINESS, ["a"], timeout=5, poll_interval=0.05)
    assert result.status is OperationStatusType.FAILED
    assert len(market.exchanges) == 2


def test_a_batch_confirms_nothing_from_a_contradiction(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 1)

    def contradicting(path: str, body: bytes, answer: Answer) -> Answer:
        if path.endswith("/operations"):
            (id_,) = json.loads(body)["operationIds"]
            found = [{"id": id_, "type": "RETURN_CANCELLATION", "status": status} for status in ("DONE", "FAILED")]
            return 200, answer[1], json.dumps({"status": "OK", "result": {"operations": found}}).encode()
        return answer

    _rewriting(market, contradicting)
    with client_for(market) as client:
        (outcome,) = client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, confirm_timeout=0.3, poll_interval=0.1)
    assert outcome.ok
    assert outcome.status is None


@pytest.mark.parametrize("asynchronous", [False, True])
def test_get_operations_keeps_the_requests_answered_before_one_failed(market: FakeMarket, asynchronous: bool) -> None:
    ids = [f"op-{n}" for n in range(250)]
    market.inject(
        _operations_answer(("op-3", "DONE")),
        _operations_answer(("op-150", "FAILED")),
        Canned(403, b'{"status":"ERROR","errors":[{"code":"FORBIDDEN"}]}', JSON),
    )

    async def asked() -> None:
        async with async_client(market) as client:
            await client.get_operations(BUSINESS, ids)

    def ask() -> None:
        if asynchronous:
            asyncio.run(asked())
        else:
            with client_for(market) as client:
                client.get_operations(BUSINESS, ids)

    with pytest.raises(errors.ForbiddenError) as raised:
        ask()
    answered = raised.value.answered  # type: ignore[attr-defined]
    assert [r.id for r in answered] == ids[:200], "the two requests answered, in the order given"
    known = {r.id: r.status for r in answered if r.status is not None}
    assert known == {"op-3": DONE, "op-150": OperationStatusType.FAILED}


@pytest.mark.parametrize("left", [1, 10])
def test_the_confirmation_timeout_is_kept_whatever_the_budget(left: int) -> None:
    """With a few getOperations requests left this hour, the rounds are spread over it: the batch still ends at
    its confirmation timeout, its outcomes unconfirmed, not an hour later."""
    with FakeMarket(api_key=KEY, operation_delay=60, operations_hourly_limit=left + 1) as market:
        market.add_returns(CAMPAIGN, 1, 2)
        with client_for(market) as client:
            stopper = threading.Timer(20, client.close)  # a batch that waits past its timeout fails, not hangs
            stopper.start()
            try:
                started = time.monotonic()
                outcomes = client.cancel_returns(
                    CAMPAIGN, [1, 2], business_id=BUSINESS, confirm_timeout=2, poll_interval=0.1
                )
                took = time.monotonic() - started
            finally:
                stopper.cancel()
    assert [outcome.status for outcome in outcomes] == [IN_PROGRESS, IN_PROGRESS]
    assert all(outcome.operation is not None for outcome in outcomes), "reported with their operation ids"
    assert took < 4, f"{took:.1f} s"


def test_the_async_confirmation_timeout_is_kept_whatever_the_budget() -> None:
    async def batch(market: FakeMarket) -> list[Outcome]:
        async with async_client(market) as client:
            return await asyncio.wait_for(
                client.cancel_returns(CAMPAIGN, [1], business_id=BUSINESS, confirm_timeout=2, poll_interval=0.1), 20
            )

    with FakeMarket(api_key=KEY, operation_delay=60, operations_hourly_limit=2) as market:
        market.add_returns(CAMPAIGN, 1)
        started = time.monotonic()
        (outcome,) = asyncio.run(batch(market))
        took = time.monotonic() - started
    assert outcome.status is IN_PROGRESS
    assert took < 4, f"{took:.1f} s"
