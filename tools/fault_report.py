"""``make faults``: the faults a service meets, replayed against the fake Market, and what the client said.

Each line is one scenario a service meets, with the numbers a reader can
check against the promises of docs/guide.md; tests/client/ (outcomes, stops, limits) asserts the same.
"""

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from yandex_market_returns import AsyncReturnsClient, Operation, Outcome, ReturnsClient, errors
from yandex_market_returns.testing import FakeMarket, Fault

STORE = 1


def lost_answers() -> None:
    with FakeMarket() as market:
        market.add_returns(STORE, 1)
        market.inject(Fault.ANSWER_LOST)
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url, backoff=0.01) as client:
            try:
                client.cancel_return(STORE, 1)
            except errors.OutcomeUnknownError as error:
                kinds = [type(attempt).__name__ for attempt in error.attempts]
                print(f"answer lost, then the retry's 400: OutcomeUnknownError, attempts {kinds}")
    ids = list(range(1, 3001))
    with FakeMarket(fault_rate=0.1, seed=8, slow_answer_delay=0.3) as market:
        market.add_returns(STORE, *ids)
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url, backoff=0.002, timeout=0.2) as client:
            # confirm_timeout: how long a cancellation may run; this Market's run at once.
            business = market.DEFAULT_BUSINESS
            outcomes = client.cancel_returns(STORE, ids, business_id=business, confirm_timeout=1, poll_interval=0.1)
        books = {return_id for return_id in ids if market.shipment_status(STORE, return_id) == "CANCELLED"}
    states = Counter(outcome.state.value for outcome in outcomes)
    maybe = [o for o in outcomes if o.error is not None and o.error.may_have_started]
    wrong = [o for o in outcomes if o.cancelled != (o.return_id in books)]
    print(
        f"3,000 at fault_rate 0.1: the Market cancelled {len(books)}; reported "
        + ", ".join(f"{n} {state}" for state, n in states.most_common())
        + f"; {len(maybe)} answers said the cancellation may have started, each settled by the return's record "
        f"({sum(o.source.value == 'record' for o in outcomes)} by its record in all); "
        f"{states['unknown']} unknown, {len(wrong)} wrong against the Market's books"
    )


def stops() -> None:
    with FakeMarket(latency=0.05) as market:
        market.add_returns(STORE, *range(1, 41))
        stopped_at = 0.0

        def stop(outcome: Any) -> None:
            nonlocal stopped_at
            stopped_at = time.monotonic()
            raise RuntimeError("stop")

        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            try:
                client.cancel_returns(STORE, range(1, 41), on_outcome=stop)
            except RuntimeError as error:
                back = time.monotonic() - stopped_at
                time.sleep(0.1)
                after = sum(exchange.received_at > stopped_at + 0.01 for exchange in market.exchanges)
                report = error.outcomes, error.not_sent  # type: ignore[attr-defined]
        print(
            f"on_outcome raises (40 x 50 ms): the Market cancelled {len(market.operations)}, reported "
            f"{sum(o.ok for o in report[0])} started + {len(report[1])} not sent, {after} requests after the "
            f"stop, control back in {back * 1000:.0f} ms"
        )

    async def cancelled(market: FakeMarket) -> tuple[BaseException, float]:
        async with AsyncReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            batch = asyncio.ensure_future(client.cancel_returns(STORE, range(1, 41)))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            batch.cancel()
            try:
                await batch
            except asyncio.CancelledError as error:
                return error, time.monotonic() - started
        raise AssertionError("not cancelled")

    with FakeMarket(latency=0.2) as market:
        market.add_returns(STORE, *range(1, 41))
        stopped, back = asyncio.run(cancelled(market))
        time.sleep(0.3)
        outcomes: list[Outcome] = stopped.outcomes  # type: ignore[attr-defined]
        reported = {o.return_id for o in outcomes if o.ok or (o.error is not None and o.error.may_have_started)}
        everyone = {operation.return_id for operation in market.operations} <= reported
        print(
            f"async batch cancelled (40 x 200 ms): control back in {back * 1000:.0f} ms, "
            f"every cancelled return reported: {everyone}"
        )


def budget() -> None:
    with FakeMarket(slow_answer_delay=3.0) as market:
        market.add_returns(STORE, 1)
        market.inject(*[Fault.SLOW_ANSWER] * 10)
        options: dict[str, Any] = {"timeout": 0.5, "retry_budget": 0.8, "backoff": 0.1, "grace_period": 0}
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url, **options) as client:
            started = time.monotonic()
            try:
                client.cancel_return(STORE, 1)
            except errors.MarketError:
                took = time.monotonic() - started
        print(
            f"timeout 0.5, retry_budget 0.8, no answer in time: {len(market.exchanges)} attempts, "
            f"{took:.2f} s (bound 1.3 s)"
        )


def grace() -> None:
    choices: list[tuple[str, dict[str, Any]]] = [("default grace_period", {}), ("grace_period=0", {"grace_period": 0})]
    for label, options in choices:
        with FakeMarket(latency=0.35) as market:
            market.add_returns(STORE, *range(1, 9))
            with ReturnsClient(
                api_key=market.api_key, base_url=market.base_url, timeout=0.2, max_retries=0, **options
            ) as client:

                def call(return_id: int) -> Operation | errors.MarketError:
                    try:
                        return client.cancel_return(STORE, return_id)
                    except errors.MarketError as error:
                        return error

                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(call, range(1, 5)))
                market.latency = 0.0
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(call, range(5, 9)))
            answered_420 = sum(exchange.status == 420 for exchange in market.exchanges)
            print(
                f"4 time out while the Market works, then 4 more ({label}): max in flight "
                f"{market.max_in_flight(STORE)}, {answered_420} answered 420"
            )


def hourly_limit() -> None:
    with FakeMarket(hourly_limit=1) as market:
        market.add_returns(STORE, *range(1, 202))
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            client.cancel_return(STORE, 1)
            started = time.monotonic()
            outcomes = client.cancel_returns(STORE, range(2, 202))
            took = time.monotonic() - started
        refused = [o.error for o in outcomes if isinstance(o.error, errors.RateLimitError) and o.error.response is None]
        print(
            f"hourly limit spent, then 200: {len(market.exchanges) - 1} sent, {len(refused)} refused without "
            f"sending in {took * 1000:.0f} ms, retry_after {refused[0].retry_after:.0f} s"
        )


def main() -> None:
    lost_answers()
    stops()
    budget()
    grace()
    hourly_limit()


if __name__ == "__main__":
    main()
