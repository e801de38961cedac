"""A batch stops when told: nothing is sent after the stop, control comes back soon, and nothing sent is lost."""

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import CAMPAIGN, FAST, KEY, ROOT, async_client
from yandex_market_returns import AsyncReturnsClient, Outcome, ReturnsClient, SqliteJournal, errors
from yandex_market_returns.testing import Canned, FakeMarket, Fault

LATENCY = 0.2
# A request already on its way when the batch stops may reach the fake Market a little later; a request
# started after the stop would arrive only when a slot frees, one LATENCY later.
ARRIVAL_SLACK = 0.1


class StopBatchError(Exception):
    pass


def _return_id(body: bytes) -> int | None:
    """The return a request was for; ``None`` for a body cut short (a client closed mid-request) and for
    getOperations."""
    try:
        return int(json.loads(body)["returnId"])
    except (ValueError, KeyError):  # KeyError: a getOperations request
        return None


def _check_report(error: BaseException, ids: list[int], seen: list[Outcome], market: FakeMarket) -> None:
    """Every return the Market cancelled is reported, and the ids said not to be sent never reached it."""
    outcomes: list[Outcome] = error.outcomes  # type: ignore[attr-defined]
    not_sent: list[int] = error.not_sent  # type: ignore[attr-defined]
    assert sorted([outcome.return_id for outcome in outcomes] + not_sent) == sorted(ids)
    assert [outcome.return_id for outcome in outcomes] == [i for i in ids if i not in not_sent], "input order"
    assert {outcome.return_id for outcome in seen} <= {outcome.return_id for outcome in outcomes}
    cancelled = {operation.return_id for operation in market.operations}
    reported = {o.return_id for o in outcomes if o.ok or (o.error is not None and o.error.may_have_started)}
    assert cancelled <= reported, "a return the Market cancelled was not reported as (maybe) started"
    reached = {_return_id(exchange.body) for exchange in market.exchanges}
    assert not reached & set(not_sent), "a return reported as not sent did reach the Market"
    assert "cancel_returns stopped" in "".join(getattr(error, "__notes__", []))


def _sent_after(market: FakeMarket, moment: float) -> list[int | None]:
    return [_return_id(e.body) for e in market.exchanges if e.received_at > moment + ARRIVAL_SLACK]


def test_a_raising_callback_stops_the_batch_and_loses_nothing(market: FakeMarket, client: ReturnsClient) -> None:
    market.latency = LATENCY
    ids = list(range(1, 41))
    seen: list[Outcome] = []
    stopped_at = 0.0

    def stop(outcome: Outcome) -> None:
        nonlocal stopped_at
        seen.append(outcome)
        stopped_at = time.monotonic()
        raise StopBatchError(outcome.return_id)

    with pytest.raises(StopBatchError) as raised:
        client.cancel_returns(CAMPAIGN, ids, on_outcome=stop)
    returned_in = time.monotonic() - stopped_at
    assert returned_in < LATENCY + 1.0
    assert _sent_after(market, stopped_at) == [], "no request started after the stop"
    assert len(market.exchanges) <= 8
    _check_report(raised.value, ids, seen, market)
    assert len(raised.value.not_sent) >= 30  # type: ignore[attr-defined]


def test_a_raising_callback_stops_the_async_batch_and_loses_nothing(market: FakeMarket) -> None:
    market.latency = LATENCY
    ids = list(range(1, 41))
    seen: list[Outcome] = []
    stopped_at = 0.0

    def stop(outcome: Outcome) -> None:
        nonlocal stopped_at
        seen.append(outcome)
        stopped_at = time.monotonic()
        raise StopBatchError(outcome.return_id)

    async def main() -> None:
        async with async_client(market) as client:
            await client.cancel_returns(CAMPAIGN, ids, on_outcome=stop)

    with pytest.raises(StopBatchError) as raised:
        asyncio.run(main())
    assert time.monotonic() - stopped_at < 1.0
    time.sleep(LATENCY + 0.1)  # the abandoned requests finish at the Market
    assert _sent_after(market, stopped_at) == []
    _check_report(raised.value, ids, seen, market)


def test_cancelling_the_awaiting_task_stops_the_async_batch(market: FakeMarket) -> None:
    market.latency = LATENCY
    ids = list(range(1, 41))
    seen: list[Outcome] = []

    async def main() -> tuple[BaseException, float]:
        async with async_client(market) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, ids, on_outcome=seen.append))
            await asyncio.sleep(LATENCY * 1.5)  # the first 4 answered, the next 4 in flight
            cancelled_at = time.monotonic()
            batch.cancel()
            try:
                await batch
            except asyncio.CancelledError as error:
                return error, cancelled_at
            raise AssertionError("the batch was not cancelled")

    error, cancelled_at = asyncio.run(main())
    assert time.monotonic() - cancelled_at < LATENCY + 1.0
    assert _sent_after(market, cancelled_at) == []
    _check_report(error, ids, seen, market)
    outcomes: list[Outcome] = error.outcomes  # type: ignore[attr-defined]
    assert len(outcomes) > len(seen), "the requests in flight at the cancel are reported"
    assert all(outcome.ok for outcome in outcomes), "the requests in flight were waited for, not abandoned"
    assert {o.return_id for o in outcomes} == {operation.return_id for operation in market.operations}
    assert seen, "the first answers came before the cancel"


def _stopped(kind: str, market: FakeMarket, ids: list[int], journal: Path) -> tuple[BaseException, float]:
    """A batch of ``kind`` stopped by its callback at its first outcome, with 4 requests in flight."""
    stopped_at = 0.0

    def stop(outcome: Outcome) -> None:
        nonlocal stopped_at
        stopped_at = time.monotonic()
        raise StopBatchError(outcome.return_id)

    async def run_async() -> None:
        async with async_client(market) as client:
            await client.cancel_returns(CAMPAIGN, ids, on_outcome=stop, journal=journal)

    def run_sync() -> None:
        with ReturnsClient(api_key=KEY, base_url=market.base_url, **FAST) as client:
            client.cancel_returns(CAMPAIGN, ids, on_outcome=stop, journal=journal)

    with pytest.raises(StopBatchError) as raised:
        run_sync() if kind == "sync" else asyncio.run(run_async())
    return raised.value, time.monotonic() - stopped_at


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_both_clients_stop_the_same_way(kind: str, market: FakeMarket, tmp_path: Path) -> None:
    """Nothing more is sent, the requests in flight are waited for, and the report (one note) tells every
    return the Market started as started, the journal too: what a rerun learns from."""
    market.latency = LATENCY
    ids = list(range(1, 41))
    error, returned_in = _stopped(kind, market, ids, tmp_path / "journal.sqlite3")
    assert returned_in < LATENCY + 1.0
    outcomes: list[Outcome] = error.outcomes  # type: ignore[attr-defined]
    started = {operation.return_id for operation in market.operations}
    assert [o.return_id for o in outcomes] == sorted(started), "every return the Market started, no other"
    assert len(started) > 1, "requests were in flight at the stop"
    assert all(o.ok and o.operation is not None for o in outcomes), "none abandoned, none unknown"
    assert error.not_sent == [i for i in ids if i not in started]  # type: ignore[attr-defined]
    notes = [note for note in getattr(error, "__notes__", []) if note.startswith("cancel_returns stopped")]
    assert len(notes) == 1
    entries = SqliteJournal(tmp_path / "journal.sqlite3").entries(CAMPAIGN)
    assert {i for i, entry in entries.items() if entry.operation_id is not None} == started


def test_closing_the_client_from_another_thread_stops_the_batch(market: FakeMarket, client: ReturnsClient) -> None:
    market.latency = LATENCY
    ids = list(range(1, 41))
    seen: list[Outcome] = []
    closer = threading.Timer(LATENCY * 1.5, client.close)
    closer.start()
    with pytest.raises(errors.ClientClosedError, match="ReturnsClient is closed") as raised:
        client.cancel_returns(CAMPAIGN, ids, on_outcome=seen.append)
    closed_at = time.monotonic()
    closer.join()
    assert _sent_after(market, closed_at - 0.05) == []
    _check_report(raised.value, ids, seen, market)
    with pytest.raises(errors.ClientClosedError, match="ReturnsClient is closed"):
        client.cancel_return(CAMPAIGN, 100)
    assert [t.name for t in threading.enumerate() if t.name.startswith("yandex-market")] == [], "no worker left"


def test_closing_the_async_client_stops_its_batch(market: FakeMarket) -> None:
    market.latency = LATENCY
    ids = list(range(1, 41))

    async def main() -> BaseException:
        client = async_client(market)
        batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, ids))
        await asyncio.sleep(LATENCY * 1.5)
        await client.aclose()
        try:
            await batch
        except errors.ClientClosedError as error:
            return error
        raise AssertionError("the batch went on")

    error = asyncio.run(main())
    time.sleep(LATENCY + 0.1)
    _check_report(error, ids, [], market)


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, threading, time
    from yandex_market_returns import ReturnsClient
    from yandex_market_returns.testing import Canned, FakeMarket, Fault

    interrupted_at = []
    def on_sigint(signum, frame):
        interrupted_at.append(time.monotonic())
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, on_sigint)

    with FakeMarket(latency=float(sys.argv[1])) as market:
        market.add_returns(1, *range(1, 201))
        with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
            print("started", flush=True)
            try:
                client.cancel_returns(1, range(1, 201))
            except KeyboardInterrupt as stop:
                returned_at = time.monotonic()
                time.sleep(float(sys.argv[1]) + 0.2)
                late = [e for e in market.exchanges if e.received_at > interrupted_at[0] + float(sys.argv[2])]
                print(json.dumps({
                    "returned_in": returned_at - interrupted_at[0],
                    "sent_after": len(late),
                    "outcomes": [o.return_id for o in stop.outcomes],
                    "ok": sorted(o.return_id for o in stop.outcomes if o.ok),
                    "maybe": sorted(o.return_id for o in stop.outcomes if o.error and o.error.may_have_started),
                    "not_sent": len(stop.not_sent),
                    "cancelled": sorted(op.return_id for op in market.operations),
                    "workers": [t.name for t in threading.enumerate() if t.name.startswith("yandex-market")],
                }), flush=True)
    """
)


def test_ctrl_c_stops_the_batch_within_a_request_and_reports_what_was_sent() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))}
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT, str(LATENCY), str(ARRIVAL_SLACK)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    time.sleep(LATENCY * 2.5)
    child.send_signal(signal.SIGINT)
    report = json.loads(child.stdout.readline())
    child.stdout.close()
    assert child.wait(timeout=10) == 0
    assert report["returned_in"] < LATENCY + 1.0
    assert report["sent_after"] == 0
    assert report["ok"] == report["cancelled"], "every return the Market cancelled is reported"
    assert len(report["outcomes"]) + report["not_sent"] == 200
    assert 8 <= len(report["outcomes"]) <= 20
    assert report["workers"] == [], "no worker thread is left sending"


def test_batch_workers_run_in_the_callers_context(market: FakeMarket, make_client: Any) -> None:
    """Logging filters and tracing read contextvars: the workers' log records must see the caller's."""
    import contextvars
    import logging

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    stamped: list[str] = []

    class Stamp(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            stamped.append(request_id.get())
            return True

    logger = logging.getLogger("yandex_market_returns")
    stamp = Stamp()
    logger.addFilter(stamp)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        from yandex_market_returns.testing import Fault

        market.inject(*[Fault.SERVER_ERROR] * 6)
        request_id.set("req-42")
        make_client().cancel_returns(CAMPAIGN, range(1, 9))

        async def main() -> None:
            request_id.set("req-43")
            async with async_client(market) as client:
                await client.cancel_returns(CAMPAIGN, range(9, 17))

        market.inject(*[Fault.SERVER_ERROR] * 6)
        asyncio.run(main())
    finally:
        logger.removeFilter(stamp)
        logger.setLevel(previous)
    assert stamped.count("req-42") == 6
    assert stamped.count("req-43") == 6
    assert "-" not in stamped


def test_closing_stops_workers_waiting_to_retry(market: FakeMarket, make_client: Any) -> None:
    """Workers sleeping before a retry wake at the stop: neither the retry nor the rest of the wait happens."""
    market.inject(*[Canned(500)] * 100)
    client = make_client(backoff=2.0, retry_budget=30.0)
    closer = threading.Timer(0.3, client.close)
    closer.start()
    started = time.monotonic()
    with pytest.raises(errors.ClientClosedError) as raised:
        client.cancel_returns(CAMPAIGN, range(1, 41))
    closer.join()
    assert time.monotonic() - started < 0.3 + 0.5, "the backoff (1 to 2 s) was not slept out"
    sent = [_return_id(exchange.body) for exchange in market.exchanges]
    assert 4 <= len(sent) <= 8, "at most a first try for each of the 8 workers"
    assert len(set(sent)) == len(sent), "no retry"
    outcomes = raised.value.outcomes  # type: ignore[attr-defined]
    assert [type(outcome.error) for outcome in outcomes] == [errors.ServerError] * len(sent)


@dataclasses.dataclass(frozen=True)
class FrozenStopError(Exception):
    reason: str


def test_an_exception_that_refuses_new_attributes_still_carries_the_report(
    market: FakeMarket, client: ReturnsClient
) -> None:
    def stop(outcome: Outcome) -> None:
        raise FrozenStopError("enough")

    with pytest.raises(FrozenStopError) as raised:
        client.cancel_returns(CAMPAIGN, range(1, 21), on_outcome=stop)
    _check_report(raised.value, list(range(1, 21)), [], market)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_huge_batch_reports_its_first_outcome_at_once_and_stops_at_once(kind: str) -> None:
    """Outcomes go to on_outcome as they come, not after every id has been queued; a stop is as quick."""
    ids = list(range(1, 100_001))
    with FakeMarket(api_key="another-key") as market:  # every request is refused: 403
        stopped_at = 0.0

        def stop(outcome: Outcome) -> None:
            nonlocal stopped_at
            stopped_at = time.monotonic()
            raise StopBatchError

        started = time.monotonic()
        with pytest.raises(StopBatchError):
            _run_batch(kind, market, ids, stop)
        returned_at = time.monotonic()
        assert stopped_at - started < 2.0, "the first outcome came only after the whole batch was queued"
        assert returned_at - stopped_at < 1.0
        # Each 403 comes back at once: the workers send a few more while the first outcome reaches this
        # thread (more on a loaded machine), none once it stopped the batch.
        assert _sent_after(market, stopped_at) == []
        assert len(market.exchanges) < 200


def _run_batch(kind: str, market: FakeMarket, ids: list[int], on_outcome: Any) -> list[Outcome]:
    if kind == "sync":
        with ReturnsClient(api_key=KEY, base_url=market.base_url) as client:
            return client.cancel_returns(CAMPAIGN, ids, on_outcome=on_outcome)

    async def main() -> list[Outcome]:
        async with async_client(market) as client:
            return await client.cancel_returns(CAMPAIGN, ids, on_outcome=on_outcome)

    return asyncio.run(main())


def test_closing_the_async_client_stops_workers_waiting_to_retry(market: FakeMarket) -> None:
    market.inject(*[Canned(500)] * 100)

    async def main() -> BaseException:
        client = async_client(market, backoff=2.0, retry_budget=30.0)
        batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, range(1, 41)))
        await asyncio.sleep(0.3)  # every worker has had its 500 and sleeps 1 to 2 s before retrying
        await client.aclose()
        try:
            await batch
        except errors.ClientClosedError as error:
            return error
        raise AssertionError("the batch went on")

    started = time.monotonic()
    error = asyncio.run(main())
    assert time.monotonic() - started < 0.3 + 0.5, "the backoff was not slept out"
    sent = [_return_id(exchange.body) for exchange in market.exchanges]
    assert len(set(sent)) == len(sent), "no retry"
    # On a loaded machine a worker's first request may still be in flight at the close: it is abandoned.
    kinds = [type(o.error) for o in error.outcomes]  # type: ignore[attr-defined]
    assert set(kinds) <= {errors.ServerError, errors.AbandonedRequestError}
    assert kinds.count(errors.ServerError) >= 1
    assert len(kinds) >= len(sent), "every request the Market saw is reported"


def _reports(error: BaseException | None) -> list[BaseException]:
    """The exceptions down the chain that carry a batch's report."""
    found = []
    while error is not None:
        if hasattr(error, "outcomes"):
            found.append(error)
        error = error.__cause__ or error.__context__
    return found


def test_a_second_cancellation_does_not_lose_the_async_report(market: FakeMarket) -> None:
    """anyio (Starlette, FastAPI) cancels again at every await: the report must be made before any."""
    market.latency = LATENCY
    ids = list(range(1, 41))

    async def main() -> BaseException:
        async with async_client(market) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, ids))
            await asyncio.sleep(LATENCY / 2)  # 4 requests in flight
            batch.cancel()
            await asyncio.sleep(0)
            batch.cancel()
            try:
                await batch
            except asyncio.CancelledError as error:
                return error
            raise AssertionError("the batch was not cancelled")

    error = asyncio.run(main())
    time.sleep(LATENCY + 0.1)
    (report,) = _reports(error)
    _check_report(report, ids, [], market)


DOUBLE_CTRL_C_SCRIPT = CTRL_C_SCRIPT.replace(
    "except KeyboardInterrupt as stop:",
    "except KeyboardInterrupt as last:\n            stop = last\n"
    "            while not hasattr(stop, 'outcomes'):\n"
    "                stop = stop.__context__",
)


@pytest.mark.parametrize("gap", [0.1, 0.0], ids=["while waiting for the requests in flight", "at once"])
def test_a_second_ctrl_c_keeps_the_report(gap: float) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))}
    child = subprocess.Popen(
        [sys.executable, "-c", DOUBLE_CTRL_C_SCRIPT, "0.8", str(ARRIVAL_SLACK)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    time.sleep(gap)
    child.send_signal(signal.SIGINT)
    report = json.loads(child.stdout.readline())
    child.stdout.close()
    assert child.wait(timeout=10) == 0
    reported = set(report["ok"]) | set(report["maybe"])
    assert set(report["cancelled"]) <= reported, "a return the Market cancelled is missing from the report"
    assert len(report["outcomes"]) + report["not_sent"] == 200
    assert report["sent_after"] == 0, "the workers stopped"


def _interrupt_after(call: str, times: int, returned: Any = None, pause: float = 0.0) -> Any:
    """A profiler for this thread that raises KeyboardInterrupt the ``times``-th time ``call`` returns (a C
    function by name, or a Python one by its code's name whose return value passes ``returned``): as a Ctrl-C
    does when it lands between two bytecodes, after a call's result is taken and before it is kept."""
    seen = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal seen
        if (event == "c_return" and getattr(arg, "__name__", None) == call) or (
            event == "return" and frame.f_code.co_name == call and (returned is None or returned(arg))
        ):
            seen += 1
            if seen == times:
                sys.setprofile(None)
                time.sleep(pause)  # what the other threads do meanwhile
                raise KeyboardInterrupt

    return profile


def _interrupted(profile: Any, batch: Any) -> BaseException:
    """The KeyboardInterrupt that ``profile`` raises in ``batch()``."""
    sys.setprofile(profile)
    try:
        with pytest.raises(KeyboardInterrupt) as stopped:
            batch()
    finally:
        sys.setprofile(None)
    return stopped.value


@pytest.mark.parametrize("times", [2, 5, 9])
def test_ctrl_c_just_after_an_outcome_left_the_queue_loses_nothing(
    market: FakeMarket, client: ReturnsClient, times: int
) -> None:
    market.latency = 0.02
    ids = list(range(1, 41))
    stopped = _interrupted(_interrupt_after("get", times), lambda: client.cancel_returns(CAMPAIGN, ids))
    _check_report(stopped, ids, [], market)
    reported = {outcome.return_id for outcome in stopped.outcomes}  # type: ignore[attr-defined]
    assert {_return_id(exchange.body) for exchange in market.exchanges} == reported  # no getOperations here


def test_ctrl_c_just_after_confirmed_outcomes_were_taken_keeps_their_status(
    market: FakeMarket, client: ReturnsClient
) -> None:
    ids = list(range(1, 11))
    stopped = _interrupted(
        _interrupt_after("finished", 1, returned=bool),
        lambda: client.cancel_returns(CAMPAIGN, ids, business_id=FakeMarket.DEFAULT_BUSINESS, poll_interval=0.05),
    )
    _check_report(stopped, ids, [], market)
    outcomes: list[Outcome] = stopped.outcomes  # type: ignore[attr-defined]
    assert sorted(outcome.return_id for outcome in outcomes) == ids
    assert any(outcome.cancelled for outcome in outcomes)
    assert all(outcome.status is not None for outcome in outcomes)


def test_ctrl_c_while_the_batch_starts_its_workers_waits_for_every_request_sent(
    market: FakeMarket, client: ReturnsClient
) -> None:
    market.latency = 0.3
    ids = list(range(1, 41))
    # As the third worker's Thread.start() returns, once that worker has sent its request.
    stopped = _interrupted(_interrupt_after("start", 3, pause=0.15), lambda: client.cancel_returns(CAMPAIGN, ids))
    _check_report(stopped, ids, [], market)
    outcomes: list[Outcome] = stopped.outcomes  # type: ignore[attr-defined]
    assert outcomes, "the workers started had sent requests"
    assert all(outcome.ok for outcome in outcomes), "a request sent was not waited for"


def _journalled(path: Path) -> dict[int, Any]:
    return SqliteJournal(path).entries(CAMPAIGN)


def _stop_batch(
    how: str, market: FakeMarket, ids: list[int], journal: Path, at: float | Callable[[], bool], **options: Any
) -> BaseException:
    """A batch stopped ``at`` seconds in, or once ``at()`` is true: by ``close()`` from another thread (sync),
    ``aclose()`` or a cancellation of its task (async). The exception it stopped with."""

    def due() -> bool:
        return at() if callable(at) else False

    deadline = time.monotonic() + (10.0 if callable(at) else at)
    if how == "sync-close":
        with ReturnsClient(api_key=KEY, base_url=market.base_url, **{**FAST, **options}) as client:

            def close() -> None:
                while not due() and time.monotonic() < deadline:
                    time.sleep(0.01)
                client.close()

            closer = threading.Thread(target=close)
            closer.start()
            try:
                client.cancel_returns(CAMPAIGN, ids, journal=journal)
            except errors.ClientClosedError as error:
                return error
            finally:
                closer.join()
        raise AssertionError("the batch went on")

    async def main() -> BaseException:
        async with async_client(market, **options) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, ids, journal=journal))
            while not due() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if how == "async-close":
                await client.aclose()
            else:
                batch.cancel()
            try:
                await batch
            except (errors.ClientClosedError, asyncio.CancelledError) as error:
                return error
        raise AssertionError("the batch went on")

    return asyncio.run(main())


@pytest.mark.parametrize("how", ["sync-close", "async-close", "async-cancel"])
def test_a_stop_between_two_attempts_journals_what_the_call_learnt(
    how: str, market: FakeMarket, tmp_path: Path
) -> None:
    """Each worker had a 420 and sleeps before its retry when the batch stops: the journal says "not sent",
    as the report does, so a rerun sends them at once instead of looking for them in the store's records."""
    market.inject(*[Canned(420)] * 8)
    journal = tmp_path / "journal.sqlite3"
    error = _stop_batch(how, market, list(range(1, 41)), journal, 0.3, backoff=2.0, retry_budget=30.0)
    outcomes: list[Outcome] = error.outcomes  # type: ignore[attr-defined]
    assert len(outcomes) == len(market.exchanges) == 8
    assert {outcome.state.value for outcome in outcomes} == {"not_sent"}
    entries = _journalled(journal)
    assert sorted(entries) == sorted(outcome.return_id for outcome in outcomes)
    assert {entry.state.value for entry in entries.values() if entry.state is not None} == {"not_sent"}
    assert all(entry.state is not None for entry in entries.values()), "journalled as maybe sent"


@pytest.mark.parametrize("how", ["sync-close", "async-close"])
def test_closing_the_client_waits_for_the_batchs_requests_in_flight(
    how: str, market: FakeMarket, tmp_path: Path
) -> None:
    """The connection pool is closed once the batch's requests in flight are answered: their operation ids
    are reported and journalled, not lost with the connections."""
    market.latency = LATENCY
    journal = tmp_path / "journal.sqlite3"
    # A second wave in flight at the close: half its latency after the fifth request came (on a slow machine
    # a fixed delay may fall between two waves).
    fifth: list[float] = []

    def second_wave_half_way() -> bool:
        if not fifth and len(market.operations) > 4:
            fifth.append(time.monotonic())
        return bool(fifth) and time.monotonic() - fifth[0] >= LATENCY / 2

    error = _stop_batch(how, market, list(range(1, 41)), journal, second_wave_half_way)
    outcomes: list[Outcome] = error.outcomes  # type: ignore[attr-defined]
    started = {operation.return_id for operation in market.operations}
    assert len(started) > 4, "requests were in flight at the close"
    assert {o.return_id for o in outcomes} == started
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    operation_ids = {i: entry.operation_id for i, entry in _journalled(journal).items()}
    assert {i for i, operation_id in operation_ids.items() if operation_id is not None} == started


def test_a_second_cancellation_reports_what_came_back_before_it(market: FakeMarket, tmp_path: Path) -> None:
    """The second cancellation abandons the one request still in flight; the three answered after the first
    cancellation are in the report as started, not abandoned."""
    market.latency = LATENCY
    market.slow_answer_delay = 2.0
    market.inject(Fault.SLOW_ANSWER)
    ids = list(range(1, 41))

    async def main() -> BaseException:
        async with async_client(market, timeout=5.0) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, ids, journal=tmp_path / "journal"))
            await asyncio.sleep(LATENCY / 2)  # 4 requests in flight, the first of them slow
            batch.cancel()
            await asyncio.sleep(LATENCY + 0.3)  # the 3 others answered
            batch.cancel()
            try:
                await batch
            except asyncio.CancelledError as error:
                return error
        raise AssertionError("the batch was not cancelled")

    (report,) = _reports(asyncio.run(main()))
    outcomes: list[Outcome] = report.outcomes  # type: ignore[attr-defined]
    assert len(outcomes) == 4
    abandoned = [o for o in outcomes if isinstance(o.error, errors.AbandonedRequestError)]
    assert len(abandoned) == 1, outcomes
    assert sum(o.ok for o in outcomes) == 3, outcomes


def test_two_threads_closing_the_client_at_once_do_not_wait_for_each_other(market: FakeMarket) -> None:
    """Each batch's on_outcome closes the shared client: neither close waits for the other's batch, whose
    thread is closing too, so both return within a request, not after the whole timeout."""
    market.latency = LATENCY
    client = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=5.0, **FAST)
    took: list[float] = []
    both = threading.Barrier(2)

    def batch(ids: range) -> None:
        closed_at: list[float] = []

        def close(outcome: Outcome) -> None:
            if not closed_at:
                both.wait(timeout=10.0)  # each batch has its first outcome (later on a loaded machine): both close
                closed_at.append(time.monotonic())
                client.close()

        with pytest.raises(errors.ClientClosedError):
            client.cancel_returns(CAMPAIGN, ids, on_outcome=close)
        took.append(time.monotonic() - closed_at[0])  # from the close, not from a first outcome load may delay

    threads = [threading.Thread(target=batch, args=(ids,)) for ids in (range(1, 41), range(41, 81))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(took) == 2
    assert max(took) < 2.0, took


class _ClosingJournal:
    """A service's journal whose write closes the client, as a shutdown hook in it might (in a worker thread)."""

    def __init__(self) -> None:
        self.client: ReturnsClient | None = None

    def claim(self, campaign_id: int) -> dict[int, Any]:
        return {}

    def write(self, entry: Any) -> None:
        if entry.operation_id is not None and self.client is not None:
            self.client.close()

    def release(self) -> None:
        pass


def test_a_close_from_a_worker_of_the_batch_does_not_wait_for_it(market: FakeMarket) -> None:
    market.latency = LATENCY
    journal = _ClosingJournal()
    client = journal.client = ReturnsClient(api_key=KEY, base_url=market.base_url, timeout=5.0, **FAST)
    started = time.monotonic()
    with pytest.raises(errors.ClientClosedError):
        client.cancel_returns(CAMPAIGN, range(1, 41), journal=journal)
    assert time.monotonic() - started < 2.0


class _RecordedClose(httpx.AsyncHTTPTransport):
    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


def test_an_aclose_cancelled_while_it_waits_for_a_batch_still_closes_the_connections(market: FakeMarket) -> None:
    """`async with client:` ending under a timeout, or anyio's cancellation: the wait is cut short, the
    connections are closed all the same."""
    market.latency = 1.0
    transport = _RecordedClose()

    async def main() -> None:
        client = AsyncReturnsClient(api_key=KEY, base_url=market.base_url, transport=transport, **FAST)
        batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, range(1, 41)))
        await asyncio.sleep(0.2)  # 4 requests in flight
        closing = asyncio.ensure_future(client.aclose())
        await asyncio.sleep(0.1)  # it waits for the batch
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert transport.closed
        with pytest.raises(errors.ClientClosedError):
            await batch

    asyncio.run(main())


def _set_interrupted_at(stop: threading.Event, step: int) -> bool:
    """``stop.set()`` with a KeyboardInterrupt raised at its ``step``-th traced event (a Ctrl-C landing there);
    ``True`` when one was raised."""
    seen = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen == step:
            raise KeyboardInterrupt
        return tracer

    sys.settrace(tracer)
    try:
        stop.set()
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)
    return False


@pytest.mark.parametrize("kind", ["the batch's stop", "threading.Event"])
def test_a_stop_interrupted_anywhere_can_be_set_again(kind: str) -> None:
    """A second Ctrl-C may land anywhere in the first one's stop.set(): the stop set again in the batch's
    `finally` must not wait for ever (threading.Event's does, once: it leaves its Condition's lock held)."""
    from yandex_market_returns._client import Stop

    hung = []
    for step in range(1, 40):
        stop: threading.Event = Stop() if kind == "the batch's stop" else threading.Event()
        if not _set_interrupted_at(stop, step):
            break
        again = threading.Thread(target=stop.set, daemon=True)
        again.start()
        again.join(timeout=1.0)
        if again.is_alive():
            hung.append(step)
        else:
            assert stop.is_set()
            assert stop.wait(0)
    if kind == "threading.Event":
        assert hung, "the hazard this guards against is no longer there: threading.Event may do"
    else:
        assert hung == []


# Clients opened, and used, before a fork (gunicorn --preload): in the child, one with its own transport gets a
# connection pool of its own (an answer read on one the parent also uses could be another request's), one given
# a transport (whose pool is the parent's) refuses to send; the parent goes on. Prints what each saw.
FORKED = """
import json, os, sys
import httpx
from yandex_market_returns import ReturnsClient
base_url, key = sys.argv[1:]
client = ReturnsClient(api_key=key, base_url=base_url)
given = ReturnsClient(api_key=key, base_url=base_url, transport=httpx.HTTPTransport())
client.cancel_return(1, 1)
given.cancel_return(1, 2)
reader, writer = os.pipe()
child = os.fork()
if child == 0:
    said = []
    for call in (
        lambda: client.cancel_return(1, 4),
        lambda: given.cancel_return(1, 6),
    ):
        try:
            call()
            said.append("sent")
        except Exception as error:
            said.append(f"{type(error).__name__}: {error}")
    client.close()
    given.close()  # the parent's connections: left alone
    os.write(writer, json.dumps(said).encode())
    os._exit(0)
os.waitpid(child, 0)
os.close(writer)
said = json.loads(os.read(reader, 65536))
client.cancel_return(1, 7)
given.cancel_return(1, 8)
print(json.dumps({"child": said, "parent_pid": os.getpid()}))
"""


def test_a_client_forked_with_its_process_sends_on_connections_of_its_own() -> None:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(1, 1, 2, 4, 6, 7, 8)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))}
        ran = subprocess.run(
            [sys.executable, "-c", FORKED, market.base_url, KEY], capture_output=True, text=True, env=env, check=False
        )
        assert ran.returncode == 0, ran.stderr
        seen = json.loads(ran.stdout)
        assert sorted(operation.return_id for operation in market.operations) == [1, 2, 4, 7, 8]
        assert {exchange.status for exchange in market.exchanges} == {200}
    assert seen["child"] == [
        "sent",
        f"ClientClosedError: this ReturnsClient was opened in process {seen['parent_pid']}, which this one was "
        "forked from, with a transport of yours: its connections are that process's; make a new one in this process",
    ]


# Forked while 4 requests were in flight in the parent's threads, and while its batch ran: the child has none
# of those threads, so it starts with its slots free (the store's, and the business's that getOperations
# would count) and no batch of its own to wait for.
FORKED_MID_FLIGHT = """
import json, os, sys, threading, time
from yandex_market_returns import ReturnsClient
base_url, key = sys.argv[1:]
client = ReturnsClient(api_key=key, base_url=base_url, timeout=10, retry_budget=5)
batch = threading.Thread(target=client.cancel_returns, args=(1, range(1, 9)))
batch.start()
time.sleep(0.3)  # 4 in flight, for 1 s
child = os.fork()
if child == 0:
    started = time.monotonic()
    client.cancel_return(1, 100)
    sent = time.monotonic() - started
    started = time.monotonic()
    client.close()
    closed = time.monotonic() - started
    print(json.dumps({"sent": sent, "closed": closed}), flush=True)
    os._exit(0)
os.waitpid(child, 0)
batch.join()
client.close()
"""


def test_a_child_forked_mid_batch_has_the_slots_free_and_no_batch_to_wait_for() -> None:
    with FakeMarket(api_key=KEY, latency=1.0) as market:
        market.add_returns(1, *range(1, 9), 100)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))}
        ran = subprocess.run(
            [sys.executable, "-c", FORKED_MID_FLIGHT, market.base_url, KEY],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=30,
        )
        assert ran.returncode == 0, ran.stderr
        child = json.loads(ran.stdout)
    # Its request went out once the Market took it (the parent's 8 count there for 2 s; retried after 420s),
    # not never: the parent's slots, copied, would be let go by threads the child does not have.
    assert child["sent"] < 8.0, child
    assert child["closed"] < 1.0, child


def test_clients_made_and_closed_leave_nothing_behind() -> None:
    """No handler, pool or hook per client outlives it (a service may make one per request)."""
    import gc
    import tracemalloc

    for _ in range(25):  # the first ones fill caches that do not grow after
        ReturnsClient(api_key=KEY).close()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(100):
        ReturnsClient(api_key=KEY).close()
    gc.collect()
    ours = [tracemalloc.Filter(True, "*yandex_market_returns*")]  # httpx's own caches are not ours to judge
    after = tracemalloc.take_snapshot().filter_traces(ours)
    grown = sum(stat.size_diff for stat in after.compare_to(before.filter_traces(ours), "filename"))
    tracemalloc.stop()
    assert grown < 5_000, f"{grown} bytes kept by 100 clients made and closed"
