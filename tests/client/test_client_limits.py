"""The call's time budget, slots held while the Market may still work, and the hourly limit kept here."""

import asyncio
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, KEY, async_client, dripping_server
from yandex_market_returns import AsyncReturnsClient, Operation, RateLimit, ReturnsClient, errors
from yandex_market_returns.limits._in_process import HourlyGate
from yandex_market_returns.testing import Canned, FakeMarket, Fault

# Scheduling noise allowed on a loaded 2-core machine.
NOISE = 0.5


def _parallel_420s(market: FakeMarket) -> int:
    return sum(b"parallel requests" in exchange.response_body for exchange in market.exchanges)


@pytest.mark.parametrize("failure", ["never answers", "instant 500s", "instant 420s"])
def test_a_call_ends_within_its_budget_plus_one_timeout(market: FakeMarket, failure: str) -> None:
    """The budget starts at the call's first request, whatever fails."""
    budget, timeout = 0.8, 0.5
    if failure == "never answers":
        market.latency = 5.0
    else:
        canned = Canned(500) if failure == "instant 500s" else Canned(420, b"", {"X-RateLimit-Resource-Remaining": "9"})
        market.inject(*[canned] * 200)
    client = ReturnsClient(
        api_key=KEY, base_url=market.base_url, timeout=timeout, retry_budget=budget, backoff=0.1, max_retries=100
    )
    started = time.monotonic()
    with client, pytest.raises(errors.MarketError):
        client.cancel_return(CAMPAIGN, 1)
    took = time.monotonic() - started
    assert took <= budget + timeout + NOISE
    assert len(market.exchanges) >= 2 or failure == "never answers", "it did retry within the budget"


def test_the_budget_counts_the_first_attempt(market: FakeMarket) -> None:
    """timeout 0.5, budget 0.8, answers that never come in time: no attempt starts later than 0.8 s after
    the first one (the budget used to start after the first attempt had failed)."""
    market.slow_answer_delay = 3.0  # carried out at once, recorded, answered too late
    market.inject(*[Fault.SLOW_ANSWER] * 20)
    client = ReturnsClient(
        api_key=KEY, base_url=market.base_url, timeout=0.5, retry_budget=0.8, backoff=0.1, grace_period=0
    )
    started = time.monotonic()
    with client, pytest.raises(errors.MarketError):
        client.cancel_return(CAMPAIGN, 1)
    assert time.monotonic() - started <= 0.8 + 0.5 + NOISE
    arrivals = [exchange.received_at - market.exchanges[0].received_at for exchange in market.exchanges]
    assert len(arrivals) >= 2, "it did retry"
    assert max(arrivals) <= 0.8 + 0.1, f"an attempt started after the budget: {arrivals}"


def _time_out_four(market: FakeMarket, client: ReturnsClient) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda rid: _attempt(client, rid), range(1, 5)))
    assert all(isinstance(result, errors.TimeoutError) for result in results)


def _attempt(client: ReturnsClient, return_id: int) -> Operation | errors.MarketError:
    try:
        return client.cancel_return(CAMPAIGN, return_id)
    except errors.MarketError as error:
        return error


def test_slots_stay_taken_while_the_market_may_still_work_on_timed_out_requests(market: FakeMarket) -> None:
    """4 calls time out while the Market still works on them; 4 new calls must not make 8 in flight."""
    market.latency = 0.35
    slow = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=0.2, max_retries=0)  # grace: 0.2 s
    with slow:
        _time_out_four(market, slow)
        market.latency = 0.0
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda rid: _attempt(slow, rid), range(5, 9)))
    assert all(isinstance(result, Operation) for result in results), results
    assert market.max_in_flight(CAMPAIGN) <= 4
    assert _parallel_420s(market) == 0


def test_grace_period_0_frees_the_slots_at_once(market: FakeMarket) -> None:
    """The same with the grace switched off: the Market sees 8 in flight (the check above can fail)."""
    market.latency = 0.35
    eager = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=0.2, max_retries=0, grace_period=0)
    with eager:
        _time_out_four(market, eager)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda rid: _attempt(eager, rid), range(5, 9)))
    assert market.max_in_flight(CAMPAIGN) > 4


def test_an_abandoned_async_batch_keeps_its_slots_for_the_grace_period(market: FakeMarket) -> None:
    market.latency = 0.3

    async def main() -> list[Operation]:
        async with async_client(market, timeout=0.3) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, range(1, 41)))
            await asyncio.sleep(0.1)  # 4 requests in flight
            batch.cancel()
            await asyncio.sleep(0)  # the batch waits for them: a second cancellation abandons them
            batch.cancel()
            with pytest.raises(asyncio.CancelledError):
                await batch
            market.latency = 0.0
            return await asyncio.gather(*(client.cancel_return(CAMPAIGN, rid) for rid in range(41, 45)))

    operations = asyncio.run(main())
    assert len(operations) == 4
    assert market.max_in_flight(CAMPAIGN) <= 4
    assert _parallel_420s(market) == 0


def test_a_spent_hourly_limit_fails_fast_without_sending(make_client: Any) -> None:
    with FakeMarket(api_key=KEY, hourly_limit=1, limit_period=3600.0) as market:
        market.add_returns(CAMPAIGN, *range(1, 202))
        client = make_client(base_url=market.base_url, retry_budget=60.0)
        first = client.cancel_return(CAMPAIGN, 1)
        assert first.rate_limit.exhausted
        started = time.monotonic()
        outcomes = client.cancel_returns(CAMPAIGN, range(2, 202))
        took = time.monotonic() - started
        assert len(market.exchanges) == 1, "nothing more was sent"
    assert took < 2.0
    for outcome in outcomes:
        error = outcome.error
        assert isinstance(error, errors.RateLimitError)
        assert error.response is None
        assert error.status_code == 420
        assert "not sent: the store's hourly limit is spent until" in str(error)
        assert (error.may_have_started, error.retryable) == (False, True)
        assert error.retry_after is not None
        assert 3590 <= error.retry_after <= 3601
        assert error.rate_limit == first.rate_limit


def test_a_batch_that_spends_the_limit_sends_nothing_after_it_learns_it(make_client: Any) -> None:
    with FakeMarket(api_key=KEY, hourly_limit=10, limit_period=3600.0, latency=0.02) as market:
        market.add_returns(CAMPAIGN, *range(1, 201))
        outcomes = make_client(base_url=market.base_url).cancel_returns(CAMPAIGN, range(1, 201))
        sent = len(market.exchanges)
    assert sum(outcome.ok for outcome in outcomes) == 10
    assert sent <= 10 + 4, "the 10 the period allows, and at most the 4 in flight when the last of them came back"
    assert sum(isinstance(o.error, errors.RateLimitError) and o.error.response is None for o in outcomes) >= 186


def test_the_async_client_fails_fast_too() -> None:
    async def main(market: FakeMarket) -> list[Any]:
        async with async_client(market) as client:
            await client.cancel_return(CAMPAIGN, 1)
            return await client.cancel_returns(CAMPAIGN, range(2, 50))

    with FakeMarket(api_key=KEY, hourly_limit=1, limit_period=3600.0) as market:
        market.add_returns(CAMPAIGN, *range(1, 50))
        outcomes = asyncio.run(main(market))
        assert len(market.exchanges) == 1
    assert all(isinstance(o.error, errors.RateLimitError) and o.error.response is None for o in outcomes)


def _limit(remaining: int, until: datetime, date: datetime | None = None) -> RateLimit:
    return RateLimit(limit=5000, remaining=remaining, until=until, date=date)


STORE = ("campaign", CAMPAIGN)


def test_a_stale_answer_does_not_lift_the_hold() -> None:
    gate = HourlyGate()
    now = datetime.now(UTC)
    period_end = now + timedelta(seconds=60)
    sent_before = time.monotonic()
    gate.observe(STORE, _limit(0, period_end, now), sent_at=time.monotonic())
    assert gate.held(STORE) is not None
    gate.observe(STORE, _limit(7, period_end, now), sent_at=sent_before)  # an older request's answer
    held = gate.held(STORE)
    assert held is not None, "an answer to an older request, handled late, lifted the hold"
    assert 58 <= held[0] <= 60
    gate.observe(STORE, _limit(4999, period_end + timedelta(hours=1), now), sent_at=sent_before)
    assert gate.held(STORE) is None, "an answer from a later period lifts it"
    gate.observe(STORE, _limit(0, period_end, now), sent_at=time.monotonic())
    gate.observe(STORE, _limit(3, period_end, now), sent_at=time.monotonic() + 1)
    assert gate.held(STORE) is None, "an answer to a request sent after the hold was learned lifts it"


@pytest.mark.parametrize("skew", [-3600, 3600])
def test_the_hold_is_measured_by_the_markets_clock(skew: int) -> None:
    """Until - Date of the same answer, whatever the local clock says."""
    gate = HourlyGate()
    market_now = datetime.now(UTC) + timedelta(seconds=skew)
    gate.observe(STORE, _limit(0, market_now + timedelta(seconds=30), market_now), sent_at=time.monotonic())
    held = gate.held(STORE)
    assert held is not None
    assert 29 <= held[0] <= 30


def test_a_420_from_a_market_whose_clock_is_an_hour_behind_is_waited_out(market: FakeMarket, make_client: Any) -> None:
    market_now = datetime.now(UTC) - timedelta(hours=1)
    headers = {
        "Date": format_datetime(market_now, usegmt=True),
        "X-RateLimit-Resource-Remaining": "0",
        "X-RateLimit-Resource-Until": format_datetime(market_now + timedelta(seconds=2), usegmt=True),
    }
    market.inject(Canned(420, b"", headers))
    started = time.monotonic()
    make_client().cancel_return(CAMPAIGN, 1)
    waited = time.monotonic() - started
    assert [exchange.status for exchange in market.exchanges] == [420, 200]
    assert 1.0 <= waited <= 3.5, "waited for the period's end by the Market's clock, not the local one"


def test_the_fake_market_counts_a_slow_answer_as_done(market: FakeMarket, make_client: Any) -> None:
    market.slow_answer_delay = 0.3
    market.inject(Fault.SLOW_ANSWER)
    with pytest.raises(errors.TimeoutError):
        make_client(timeout=0.1, max_retries=0).cancel_return(CAMPAIGN, 1)
    assert [operation.return_id for operation in market.operations] == [1]


def test_a_call_waiting_behind_four_timed_out_requests_goes_when_their_grace_ends(market: FakeMarket) -> None:
    """Four requests time out and keep their slots for the grace period; the fifth must not wait forever."""
    market.latency = 1.0
    client = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=0.2, max_retries=0)  # grace 0.2 s
    outcome: list[Any] = []
    batch = threading.Thread(
        target=lambda: outcome.append(
            client.cancel_returns(CAMPAIGN, range(1, 6), confirm_timeout=0.5, poll_interval=0.1)
        )
    )
    batch.start()
    batch.join(timeout=5)
    client.close()
    assert not batch.is_alive(), "the fifth request waited for a slot forever"
    assert [type(o.error) for o in outcome[0]] == [errors.TimeoutError] * 5


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_retry_in_a_batch_is_not_starved_by_fresh_requests(market: FakeMarket, kind: str) -> None:
    """The batch takes 200 x 0.05 / 4 = 2.5 s, longer than the budget: a retry queued behind the fresh
    requests would run out of it."""
    market.latency = 0.05
    market.inject(Fault.SERVER_ERROR)
    options: dict[str, Any] = {"retry_budget": 2.0, "backoff": 0.05}
    if kind == "sync":
        with ReturnsClient(api_key=KEY, base_url=market.base_url, **options) as client:
            outcomes = client.cancel_returns(CAMPAIGN, range(1, 201))
    else:

        async def main() -> list[Any]:
            async with async_client(market, **options) as client:
                return await client.cancel_returns(CAMPAIGN, range(1, 201))

        outcomes = asyncio.run(main())
    assert [outcome.error for outcome in outcomes if not outcome.ok] == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_answer_that_drips_in_still_ends_within_the_budget(kind: str) -> None:
    stop = threading.Event()
    listener, server = dripping_server(stop)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    options: dict[str, Any] = {"api_key": KEY, "base_url": base_url, "timeout": 0.5, "retry_budget": 0.8}
    started = time.monotonic()
    try:
        with pytest.raises(errors.TimeoutError) as raised:
            _cancel_one(kind, options)
    finally:
        stop.set()
        server.join()
        listener.close()
    assert time.monotonic() - started <= 0.8 + 0.5 + NOISE
    assert raised.value.may_have_started


def _cancel_one(kind: str, options: dict[str, Any]) -> Operation:
    if kind == "sync":
        with ReturnsClient(**options) as client:
            return client.cancel_return(CAMPAIGN, 1)

    async def main() -> Operation:
        async with AsyncReturnsClient(**options) as client:
            return await client.cancel_return(CAMPAIGN, 1)

    return asyncio.run(main())


def test_an_absurd_until_does_not_hold_the_store(market: FakeMarket, make_client: Any) -> None:
    """A garbled Until a century away would hold the store for the client's lifetime: it is not believed."""
    body = b'{"status":"OK","result":{"operation":{"id":"op-1","type":"RETURN_CANCELLATION"}}}'
    far = {"Content-Type": "application/json", "X-RateLimit-Resource-Remaining": "0"}
    market.inject(Canned(200, body, {**far, "X-RateLimit-Resource-Until": "Fri, 31 Dec 2100 23:59:59 GMT"}))
    client = make_client()
    client.cancel_return(CAMPAIGN, 1)
    client.cancel_return(CAMPAIGN, 2)
    assert len(market.exchanges) == 2, "the second call was sent"


def test_requests_abandoned_early_keep_their_slots_as_long_as_timed_out_ones(market: FakeMarket) -> None:
    """Cancelled 50 ms after sending, the Market still works on them until it answers (0.5 s, within twice
    the 0.3 s timeout): the slots stay taken until then."""
    market.latency = 0.5

    async def main() -> None:
        async with async_client(market, timeout=0.3, max_retries=0) as client:
            first = [asyncio.ensure_future(client.cancel_return(CAMPAIGN, rid)) for rid in range(1, 5)]
            await asyncio.sleep(0.05)
            for task in first:
                task.cancel()
            await asyncio.gather(*first, return_exceptions=True)
            market.latency = 0.0
            await asyncio.gather(*(client.cancel_return(CAMPAIGN, rid) for rid in range(5, 9)))

    asyncio.run(main())
    assert market.max_in_flight(CAMPAIGN) <= 4
    assert _parallel_420s(market) == 0


def test_a_wait_for_the_hourly_limit_counts_against_the_budget(market: FakeMarket, make_client: Any) -> None:
    """The store is held 1.5 s, then every answer is a 500: the call still ends within budget + timeout."""
    market_now = datetime.now(UTC)
    spent = {
        "Content-Type": "application/json",
        "Date": format_datetime(market_now, usegmt=True),
        "X-RateLimit-Resource-Remaining": "0",
        "X-RateLimit-Resource-Until": format_datetime(market_now + timedelta(seconds=1.5), usegmt=True),
    }
    body = b'{"status":"OK","result":{"operation":{"id":"op-1","type":"RETURN_CANCELLATION"}}}'
    market.inject(Canned(200, body, spent), *[Fault.SERVER_ERROR] * 100)
    client = make_client(timeout=0.5, retry_budget=2.0, backoff=0.1, max_retries=100)
    client.cancel_return(CAMPAIGN, 1)
    started = time.monotonic()
    with pytest.raises(errors.ServerError):
        client.cancel_return(CAMPAIGN, 2)
    assert time.monotonic() - started <= 2.0 + 0.5 + NOISE


def test_closing_the_async_client_wakes_a_call_waiting_to_retry(market: FakeMarket) -> None:
    market.inject(Fault.SERVER_ERROR)

    async def main() -> float:
        client = async_client(market, backoff=6.0, retry_budget=30.0)
        call = asyncio.ensure_future(client.cancel_return(CAMPAIGN, 1))
        await asyncio.sleep(0.3)
        await client.aclose()
        closed_at = time.monotonic()
        with pytest.raises(errors.ServerError):
            await call
        return time.monotonic() - closed_at

    assert asyncio.run(main()) < 0.5, "the backoff (3 to 6 s) was not slept out"
    assert len(market.exchanges) == 1


class JobTimeoutError(Exception):
    """What a task runner's SIGALRM job timeout raises in the middle of whatever runs."""


def test_a_sync_request_cut_short_by_an_exception_keeps_its_slot(market: FakeMarket) -> None:
    """A job timeout (SIGALRM) or Ctrl-C interrupts a call mid-request: the Market still works on it."""
    market.latency = 0.6

    def job_timeout(signum: int, frame: object) -> None:
        raise JobTimeoutError

    previous = signal.signal(signal.SIGALRM, job_timeout)
    try:
        with ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=0.7, max_retries=0) as client:
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(JobTimeoutError):
                client.cancel_return(CAMPAIGN, 1)
            market.latency = 0.1  # long enough for the 4 new requests to be in flight together
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda rid: _attempt(client, rid), range(2, 6)))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert market.max_in_flight(CAMPAIGN) <= 4
    assert _parallel_420s(market) == 0


def test_closing_the_async_client_wakes_a_call_waiting_for_a_slot(market: FakeMarket) -> None:
    market.latency = 1.0

    async def main() -> float:
        client = async_client(market, timeout=0.2, max_retries=0, grace_period=6.0)
        await asyncio.gather(*(client.cancel_return(CAMPAIGN, rid) for rid in range(1, 5)), return_exceptions=True)
        waiting = asyncio.ensure_future(client.cancel_return(CAMPAIGN, 5))  # the 4 slots are held 6 s
        await asyncio.sleep(0.1)
        await client.aclose()
        closed_at = time.monotonic()
        with pytest.raises(errors.ClientClosedError):
            await waiting
        return time.monotonic() - closed_at

    assert asyncio.run(main()) < 0.5
