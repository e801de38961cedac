"""The journal: what a batch learns is kept before it acts, a rerun resumes from it, and two runs never share it."""

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CAMPAIGN, FAST, KEY, ROOT, async_client
from yandex_market_returns import Outcome, ReturnsClient, errors
from yandex_market_returns._journal import JournalEntry, SqliteJournal
from yandex_market_returns._results import ReturnState, Source
from yandex_market_returns._runs import Run
from yandex_market_returns._settling import Settlement
from yandex_market_returns.testing import FakeMarket, Fault

BUSINESS = FakeMarket.DEFAULT_BUSINESS
CONFIRM: dict[str, Any] = {"business_id": BUSINESS, "poll_interval": 0.05, "confirm_timeout": 5}


class StopError(Exception):
    pass


def _client(market: FakeMarket, **options: Any) -> ReturnsClient:
    return ReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options})


def _cancels(market: FakeMarket) -> list[int]:
    return [json.loads(e.body)["returnId"] for e in market.exchanges if e.path.endswith("/returns/cancel")]


def _states(outcomes: list[Outcome]) -> list[tuple[int, str, str]]:
    return [(o.return_id, o.state.value, o.source.value) for o in outcomes]


def test_a_rerun_reports_what_the_journal_knows_and_sends_nothing(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with FakeMarket(api_key=KEY, operation_delay=0.05) as market, _client(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        market.add_returns(CAMPAIGN, 3, cancellation_fails=True)
        market.add_returns(CAMPAIGN, 4, shipment_status="RECEIVED")
        first = client.cancel_returns(CAMPAIGN, [1, 2, 3, 4], journal=journal, **CONFIRM)
        sent = len(market.exchanges)
        again = client.cancel_returns(CAMPAIGN, [1, 2, 3, 4], journal=str(journal), **CONFIRM)
        assert len(market.exchanges) == sent, "nothing asked of the Market again"
    assert _states(first) == [
        (1, "cancelled", "operation"),
        (2, "cancelled", "operation"),
        (3, "failed", "operation"),
        (4, "not_cancellable", "record"),
    ]
    assert _states(again) == [(r, state, "journal") for r, state, _ in _states(first)]
    assert [o.operation.id for o in again[:3] if o.operation] == [o.operation.id for o in first[:3] if o.operation]
    assert again[3].verdict is not None
    assert again[3].verdict.detail == "its record is neither CANCELLED nor CREATED among the store's"


def test_a_stopped_batch_is_resumed_its_started_operations_confirmed_not_sent_again(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with FakeMarket(api_key=KEY, operation_delay=0.3) as market, _client(market) as client:
        market.add_returns(CAMPAIGN, *range(1, 21))

        def stop(outcome: Outcome) -> None:
            raise StopError

        with pytest.raises(StopError):  # stops at the first outcome, while its operation is in progress
            client.cancel_returns(CAMPAIGN, range(1, 21), journal=journal, on_outcome=stop)
        first_sent = _cancels(market)
        assert 0 < len(first_sent) < 20
        outcomes = client.cancel_returns(CAMPAIGN, range(1, 21), journal=journal, **CONFIRM)
        sent_again = _cancels(market)[len(first_sent) :]
    assert not set(first_sent) & set(sent_again), "no return whose cancellation started is sent again"
    assert sorted(first_sent + sent_again) == list(range(1, 21))
    assert all(o.state is ReturnState.CANCELLED for o in outcomes)
    assert {o.return_id for o in outcomes if o.return_id in first_sent and o.source is Source.OPERATION} == set(
        first_sent
    ), "the earlier run's operations confirmed by getOperations"
    assert {m.return_id for m in market.operations} == set(range(1, 21))
    assert len(market.operations) == 20, "one operation each"


def test_a_lost_answer_is_settled_by_the_return_s_record_and_never_sent_again(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with FakeMarket(api_key=KEY) as market, _client(market, max_retries=0) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        market.inject(Fault.ANSWER_LOST)
        (first,) = client.cancel_returns(CAMPAIGN, [1], journal=journal, poll_interval=0.05)
        again = client.cancel_returns(CAMPAIGN, [1, 2], journal=journal)
    assert isinstance(first.error, errors.ConnectionError)
    assert (first.state, first.source) == (ReturnState.CANCELLED, Source.RECORD)
    assert _cancels(market) == [1, 2], "return 1 not sent a second time"
    assert (again[0].state, again[0].source) == (ReturnState.CANCELLED, Source.JOURNAL)
    assert again[1].state is ReturnState.IN_PROGRESS


def test_a_killed_run_s_request_is_settled_by_the_record_before_anything_is_sent_again(tmp_path: Path) -> None:
    """The journal says a request may have gone out, nothing more (the process died): the record settles it."""
    path = tmp_path / "journal.sqlite3"
    with FakeMarket(api_key=KEY) as market, _client(market) as client:
        market.add_returns(CAMPAIGN, 1, 2)
        client.cancel_return(CAMPAIGN, 1)  # the killed run's request, which reached the Market
        journal = SqliteJournal(path)
        journal.claim(CAMPAIGN)
        for return_id in (1, 2):  # 2: killed before its request went out, after the journal held it
            journal.write(JournalEntry(CAMPAIGN, return_id, None, at=datetime.now(UTC) - timedelta(seconds=5)))
        journal.release()
        outcomes = client.cancel_returns(CAMPAIGN, [1, 2], journal=path, confirm_timeout=2, poll_interval=0.05)
    assert _states(outcomes) == [(1, "cancelled", "record"), (2, "in_progress", "request")]
    assert _cancels(market) == [1, 2], "1 was not sent again; 2, not cancelled 2 s after, was"


def test_returns_refused_without_acting_are_sent_again(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 1)
        with ReturnsClient(api_key="wrong-key", base_url=market.base_url, **FAST) as refused:
            (outcome,) = refused.cancel_returns(CAMPAIGN, [1], journal=journal)
        assert outcome.state is ReturnState.NOT_SENT
        with _client(market) as client:
            (outcome,) = client.cancel_returns(CAMPAIGN, [1], journal=journal, **CONFIRM)
    assert outcome.state is ReturnState.CANCELLED
    assert _cancels(market) == [1, 1]


def test_the_journal_holds_a_return_before_its_request_goes_out(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    seen: list[tuple[object, ...]] = []
    with FakeMarket(api_key=KEY) as market, _client(market) as client:
        market.add_returns(CAMPAIGN, 1)
        answer = market.answer

        def looking(method: str, path: str, headers: Any, body: bytes) -> Any:
            with sqlite3.connect(journal) as db:
                seen.extend(db.execute("SELECT return_id, state, operation_id FROM entries").fetchall())
            return answer(method, path, headers, body)

        market.answer = looking  # type: ignore[method-assign]
        client.cancel_returns(CAMPAIGN, [1], journal=journal)
        with sqlite3.connect(journal) as db:
            after = db.execute("SELECT return_id, state, operation_id FROM entries").fetchall()
    assert seen == [(1, None, None)], "written before the request reached the Market"
    assert after == [(1, "in_progress", market.operations[0].id)]


def test_a_second_run_on_a_held_journal_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(journal)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with FakeMarket(api_key=KEY) as market, _client(market) as client:
            market.add_returns(CAMPAIGN, 1)
            with pytest.raises(errors.JournalBusyError) as raised:
                client.cancel_returns(CAMPAIGN, [1], journal=journal)
            assert market.exchanges == []
        assert str(journal) in str(raised.value)
        assert f"process {holder.pid}" in str(raised.value)
    finally:
        holder.kill()
        holder.communicate()
    with FakeMarket(api_key=KEY) as market, _client(market) as client:  # the kernel let go of the killed holder's lock
        market.add_returns(CAMPAIGN, 1)
        (outcome,) = client.cancel_returns(CAMPAIGN, [1], journal=journal)
    assert outcome.ok


_HOLD = """
import sys, time
sys.path[:0] = ["generated", "src"]
from yandex_market_returns._journal import SqliteJournal
journal = SqliteJournal(sys.argv[1])
journal.claim(1)
print("held", flush=True)
time.sleep(60)
"""


def test_a_journal_held_in_this_process_is_refused_too(tmp_path: Path) -> None:
    held = SqliteJournal(tmp_path / "journal.sqlite3")
    held.claim(CAMPAIGN)
    with pytest.raises(errors.JournalBusyError, match="in use by another run"):
        SqliteJournal(tmp_path / "journal.sqlite3").claim(CAMPAIGN)
    with pytest.raises(errors.JournalBusyError, match="already held by a batch of this process"):
        held.claim(CAMPAIGN)
    held.release()
    again = SqliteJournal(tmp_path / "journal.sqlite3")
    again.claim(CAMPAIGN)
    again.release()


def test_fresh_forgets_the_store_and_only_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = SqliteJournal(path)
    journal.claim(CAMPAIGN)
    journal.write(JournalEntry(CAMPAIGN, 1, ReturnState.CANCELLED, Source.OPERATION))
    journal.write(JournalEntry(CAMPAIGN + 1, 1, ReturnState.CANCELLED, Source.OPERATION))
    journal.release()
    fresh = SqliteJournal(path, fresh=True)
    assert fresh.claim(CAMPAIGN) == {}
    fresh.release()
    other = SqliteJournal(path)
    assert list(other.claim(CAMPAIGN + 1)) == [1]
    other.release()


@pytest.mark.parametrize(
    ("journal", "kind", "message"),
    [
        (42, TypeError, "journal must be a path or a Journal \\(claim, write, release\\), not int"),
        ("", ValueError, "journal must be a path or a Journal, not an empty path"),
        (object(), TypeError, "not object"),
    ],
)
def test_a_bad_journal_is_refused_before_any_request(
    market: FakeMarket, journal: object, kind: type, message: str
) -> None:
    with _client(market) as client, pytest.raises(kind, match=message):
        client.cancel_returns(CAMPAIGN, [1], journal=journal)  # type: ignore[arg-type]
    assert market.exchanges == []


def test_a_journal_that_is_not_one_is_our_error_naming_it(market: FakeMarket, tmp_path: Path) -> None:
    path = tmp_path / "not-a-journal"
    path.write_bytes(b"this is not an SQLite database, but a file given by mistake" * 100)
    with _client(market) as client, pytest.raises(errors.JournalError, match=f"the journal {path} could not be read"):
        client.cancel_returns(CAMPAIGN, [1], journal=path)
    assert market.exchanges == []
    again = SqliteJournal(path)
    with pytest.raises(errors.JournalError, match="could not be read"):  # not "in use": the lock was let go of
        again.claim(1)


def test_a_journal_that_cannot_be_written_stops_the_batch(market: FakeMarket, tmp_path: Path) -> None:
    class Failing(SqliteJournal):
        def write(self, entry: JournalEntry) -> None:
            if entry.state is not None:
                raise errors.JournalError("the disk is full")
            super().write(entry)

    with _client(market) as client, pytest.raises(errors.JournalError, match="the disk is full") as raised:
        client.cancel_returns(CAMPAIGN, range(1, 50), journal=Failing(tmp_path / "journal.sqlite3"))
    assert len(_cancels(market)) < 49, "the batch did not go on without its journal"
    assert raised.value.not_sent  # type: ignore[attr-defined]
    reported = {o.return_id: o.operation.id for o in raised.value.outcomes if o.operation}  # type: ignore[attr-defined]
    assert reported == {op.return_id: op.id for op in market.operations}, "the answer whose write failed is kept"


def test_the_async_client_keeps_and_resumes_the_same_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"

    async def batch(market: FakeMarket, ids: list[int]) -> list[Outcome]:
        async with async_client(market) as client:
            return await client.cancel_returns(CAMPAIGN, ids, journal=journal, **CONFIRM)

    with FakeMarket(api_key=KEY, operation_delay=0.05) as market:
        market.add_returns(CAMPAIGN, 1, 2, 3)
        first = asyncio.run(batch(market, [1, 2]))
        with _client(market) as client:  # a sync rerun reads what the async one wrote
            again = client.cancel_returns(CAMPAIGN, [1, 2, 3], journal=journal, **CONFIRM)
    assert _states(first) == [(1, "cancelled", "operation"), (2, "cancelled", "operation")]
    assert _states(again) == [(1, "cancelled", "journal"), (2, "cancelled", "journal"), (3, "cancelled", "operation")]
    assert sorted(_cancels(market)) == [1, 2, 3]


def test_a_service_keeps_its_journal_in_its_own_store(market: FakeMarket) -> None:
    """The interface is three methods: a dict stands in for a service's database."""

    class InMemory:
        def __init__(self) -> None:
            self.rows: dict[tuple[int, int], JournalEntry] = {}

        def claim(self, campaign_id: int) -> dict[int, JournalEntry]:
            return {r: e for (c, r), e in self.rows.items() if c == campaign_id}

        def write(self, entry: JournalEntry) -> None:
            self.rows[entry.campaign_id, entry.return_id] = entry

        def release(self) -> None:
            pass

    kept = InMemory()
    with _client(market) as client:
        client.cancel_returns(CAMPAIGN, [1, 2], journal=kept)
        again = client.cancel_returns(CAMPAIGN, [1, 2], journal=kept)
    assert [e.state for e in kept.rows.values()] == [ReturnState.IN_PROGRESS] * 2
    assert sorted(_cancels(market)) == [1, 2]
    assert [o.state for o in again] == [ReturnState.IN_PROGRESS] * 2
    assert [o.source for o in again] == [Source.JOURNAL] * 2


def _paths(market: FakeMarket) -> list[str]:
    return [e.path.split("?")[0] for e in market.exchanges]


def test_with_the_orders_known_each_uncertain_return_is_read_by_get_return(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 20_001, order_id=777, shipment_status="RECEIVED")
    market.add_returns(CAMPAIGN, 20_002, order_id=778, shipment_status="CANCELLED")
    orders = {1: 1, 20_001: 777, 20_002: 778}
    with _client(market, max_retries=0) as client:
        market.inject(Fault.ANSWER_LOST)  # return 1's answer
        outcomes = client.cancel_returns(CAMPAIGN, [1], order_ids=orders, poll_interval=0.05)
        outcomes += client.cancel_returns(CAMPAIGN, [20_001, 20_002], order_ids=orders, poll_interval=0.05)
    assert _states(outcomes) == [
        (1, "cancelled", "record"),
        (20_001, "not_cancellable", "record"),
        (20_002, "already_cancelled", "record"),
    ]
    assert outcomes[1].verdict is not None
    assert outcomes[1].verdict.detail == "its record: shipmentStatus RECEIVED"
    reads = [path for path in _paths(market) if "/v2/" in path]
    assert sorted(reads) == sorted(
        f"/v2/campaigns/{CAMPAIGN}/orders/{order}/returns/{ret}"
        for ret, order in ((1, 1), (20_001, 777), (20_002, 778))
    ), "getReturn of each, no getReturns"


def test_a_wrong_order_is_looked_up_among_the_store_s_returns(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 20_002, order_id=778, shipment_status="CANCELLED")
    with _client(market) as client:
        (outcome,) = client.cancel_returns(CAMPAIGN, [20_002], order_ids={20_002: 999}, poll_interval=0.05)
    assert (outcome.state, outcome.source) == (ReturnState.ALREADY_CANCELLED, Source.RECORD)
    reads = [path for path in _paths(market) if "/v2/" in path]
    assert reads[0] == f"/v2/campaigns/{CAMPAIGN}/orders/999/returns/20002"
    assert set(reads[1:]) == {f"/v2/campaigns/{CAMPAIGN}/returns"}, "then the store's returns"


@pytest.mark.parametrize(
    ("order_ids", "kind", "message"),
    [
        ([(1, 2)], TypeError, "order_ids must be a mapping of return ids to order ids, not list"),
        ({1: 2**63}, ValueError, "order_ids\\[1\\] must be between"),
        ({"1": 2}, TypeError, "order_ids key must be an int, not str"),
        ({1: True}, TypeError, "order_ids\\[1\\] must be an int, not bool"),
    ],
)
def test_bad_order_ids_are_refused_before_any_request(
    market: FakeMarket, order_ids: object, kind: type, message: str
) -> None:
    with _client(market) as client, pytest.raises(kind, match=message):
        client.cancel_returns(CAMPAIGN, [1], order_ids=order_ids)  # type: ignore[arg-type]
    assert market.exchanges == []


def test_a_symlink_to_a_journal_in_use_is_refused(tmp_path: Path) -> None:
    held = SqliteJournal(tmp_path / "journal.sqlite3")
    held.claim(CAMPAIGN)
    (tmp_path / "link.sqlite3").symlink_to(tmp_path / "journal.sqlite3")
    try:
        with pytest.raises(errors.JournalBusyError, match="in use by another run"):
            SqliteJournal(tmp_path / "link.sqlite3").claim(CAMPAIGN)
    finally:
        held.release()


@pytest.mark.parametrize("where", [".", "/", "a-file/journal", "/dev/null"])
def test_a_journal_path_that_is_no_file_is_our_error_naming_it(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    path = where if where.startswith("/") else str(tmp_path / where) if where != "." else str(tmp_path)
    with pytest.raises(errors.JournalError, match=r"the journal .* (is not a file|could not be opened)"):
        SqliteJournal(path).claim(CAMPAIGN)
    assert not Path("/dev/null.lock").exists()


def test_a_stop_while_a_return_is_sent_again_leaves_it_unknown(market: FakeMarket) -> None:
    """The first request may have started it, the second may have: a stop then says unknown, not the first's 400."""
    resent = threading.Event()
    answer = market.answer

    def slow_second(method: str, path: str, headers: Any, body: bytes) -> Any:
        if path.endswith("/returns/cancel") and len(_cancels(market)) == 1:
            resent.set()
            time.sleep(0.5)
        return answer(method, path, headers, body)

    market.answer = slow_second  # type: ignore[method-assign]
    market.inject(Fault.DROPPED_CONNECTION)  # not carried out; the answer is lost: it may have started

    async def main() -> BaseException:
        async with async_client(market, max_retries=0) as client:
            batch = asyncio.ensure_future(client.cancel_returns(CAMPAIGN, [1], confirm_timeout=0.3, poll_interval=0.05))
            await asyncio.get_running_loop().run_in_executor(None, resent.wait, 10)
            batch.cancel()
            with pytest.raises(asyncio.CancelledError) as stopped:
                await batch
            return stopped.value

    stopped = asyncio.run(main())
    (outcome,) = stopped.outcomes  # type: ignore[attr-defined]
    assert (outcome.state, outcome.verdict.detail) == (ReturnState.UNKNOWN, "the batch stopped while it was sent again")


def test_a_stop_before_a_refusal_is_settled_leaves_it_unknown(market: FakeMarket) -> None:
    market.add_returns(CAMPAIGN, 20_000, shipment_status="CANCELLED")
    with _client(market) as client:
        threading.Timer(0.5, client.close).start()
        with pytest.raises(errors.ClientClosedError) as stopped:
            client.cancel_returns(CAMPAIGN, [20_000], poll_interval=5)
    (outcome,) = stopped.value.outcomes  # type: ignore[attr-defined]
    assert isinstance(outcome.error, errors.BadRequestError)
    assert outcome.state is ReturnState.UNKNOWN, "not settled: not reported not cancellable"
    assert outcome.verdict is not None
    assert outcome.verdict.detail == "the batch stopped before its record settled it"


@pytest.mark.parametrize(
    "entries",
    [
        {1: JournalEntry(CAMPAIGN + 1, 1, ReturnState.CANCELLED, Source.OPERATION)},
        {1: JournalEntry(CAMPAIGN, 77, ReturnState.CANCELLED, Source.OPERATION)},
        [JournalEntry(CAMPAIGN, 1, ReturnState.CANCELLED, Source.OPERATION)],
    ],
)
def test_a_journal_that_gives_entries_of_another_is_refused(market: FakeMarket, entries: object) -> None:
    class Foreign:
        def claim(self, campaign_id: int) -> Any:
            return entries

        def write(self, entry: JournalEntry) -> None:
            raise AssertionError("nothing is written")

        def release(self) -> None:
            pass

    with _client(market) as client, pytest.raises(errors.JournalError, match=r"the journal .* gave"):
        client.cancel_returns(CAMPAIGN, [1], journal=Foreign())
    assert market.exchanges == []


def test_a_journal_whose_release_fails_loses_no_outcome(market: FakeMarket, caplog: pytest.LogCaptureFixture) -> None:
    class Unreleasable:
        def claim(self, campaign_id: int) -> dict[int, JournalEntry]:
            return {}

        def write(self, entry: JournalEntry) -> None:
            pass

        def release(self) -> None:
            raise RuntimeError("the database went away")

    with _client(market) as client:
        outcomes = client.cancel_returns(CAMPAIGN, [1, 2], journal=Unreleasable())
    assert [o.ok for o in outcomes] == [True, True]
    assert "could not be released: RuntimeError: the database went away" in caplog.text


def _stopped_at(market: FakeMarket, ids: list[int], nth: int, asynchronous: bool, **options: Any) -> BaseException:
    """The exception of a batch whose ``on_outcome`` raises at its ``nth`` outcome."""
    delivered: list[Outcome] = []

    def stop(outcome: Outcome) -> None:
        delivered.append(outcome)
        if len(delivered) == nth:
            raise StopError

    async def batch() -> None:
        async with async_client(market) as client:
            await client.cancel_returns(CAMPAIGN, ids, on_outcome=stop, **options)

    def run() -> None:
        if asynchronous:
            asyncio.run(batch())
        else:
            with _client(market) as client:
                client.cancel_returns(CAMPAIGN, ids, on_outcome=stop, **options)

    with pytest.raises(StopError) as raised:
        run()
    return raised.value


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_stop_keeps_what_a_return_s_record_settled(asynchronous: bool) -> None:
    """Its operation not seen to end, its record settled it cancelled: a later stop does not undo that."""
    with FakeMarket(api_key=KEY, operation_delay=0.45) as market:
        market.add_returns(CAMPAIGN, 101, 102)
        stopped = _stopped_at(
            market, [101, 102], 2, asynchronous, business_id=BUSINESS, confirm_timeout=0.3, poll_interval=0.3
        )
        books = {r: market.shipment_status(CAMPAIGN, r) for r in (101, 102)}
    reported = {o.return_id: o.state for o in stopped.outcomes}  # type: ignore[attr-defined]
    assert all(reported[r] is ReturnState.CANCELLED for r in reported if books[r] == "CANCELLED"), reported


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_stop_at_the_first_outcome_a_look_settles_keeps_the_others(asynchronous: bool) -> None:
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 101, 102, 103, shipment_status="CANCELLED")
        stopped = _stopped_at(market, [101, 102, 103], 1, asynchronous, confirm_timeout=0.0, poll_interval=0.2)
    states = {o.return_id: o.state for o in stopped.outcomes}  # type: ignore[attr-defined]
    assert set(states.values()) == {ReturnState.ALREADY_CANCELLED}, states


def test_a_refusal_that_arrives_as_the_batch_stops_is_unknown_not_not_cancellable() -> None:
    with FakeMarket(api_key=KEY, latency=0.3) as market:
        market.add_returns(CAMPAIGN, 101)
        market.add_returns(CAMPAIGN, 102, 103, 104, shipment_status="CANCELLED")
        stopped = _stopped_at(market, [101, 102, 103, 104], 1, False)
    states = {o.return_id: o.state for o in stopped.outcomes}  # type: ignore[attr-defined]
    assert ReturnState.NOT_CANCELLABLE not in states.values(), states
    assert {states[r] for r in (102, 103, 104) if r in states} <= {ReturnState.UNKNOWN, ReturnState.ALREADY_CANCELLED}


def test_a_return_cancelled_before_its_request_went_out_is_already_cancelled(market: FakeMarket) -> None:
    """A 500 that did nothing, then the retry's 400: its record, cancelled before the request, says 'before'."""
    market.add_returns(CAMPAIGN, 20_000, shipment_status="CANCELLED")
    time.sleep(2.2)  # the record's time has whole seconds, and two of skew are allowed
    market.inject(Fault.SERVER_ERROR)
    with _client(market) as client:
        (outcome,) = client.cancel_returns(CAMPAIGN, [20_000], poll_interval=0.05)
    assert isinstance(outcome.error, errors.OutcomeUnknownError)
    assert (outcome.state, outcome.source) == (ReturnState.ALREADY_CANCELLED, Source.RECORD)


def test_an_answer_after_the_run_let_go_of_its_journal_is_said_not_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A request abandoned by a second stop may be answered after the batch released the journal (another
    run may hold it by then): the answer is not written, and a warning says the rerun will settle it."""
    path = tmp_path / "journal.sqlite3"
    settlement = Settlement(1.0, 0.05, datetime.now(UTC), {})
    run = Run(CAMPAIGN, [7], SqliteJournal(path))
    run.open(None, settlement)
    run.sender(0)()
    run.close()
    with caplog.at_level("WARNING", logger="yandex_market_returns"):
        run.learnt(Outcome(7, error=errors.AbandonedRequestError("late")))
    assert SqliteJournal(path).entries(CAMPAIGN)[7].state is None, "still: a request that may have gone out"
    assert "return 7" in caplog.text
    assert "rerun settles" in caplog.text
