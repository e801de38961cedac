"""The asynchronous client."""

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import httpx

from . import errors
from ._base import ClientBase, Request, cancel_request, return_request, statuses_request
from ._confirmations import Confirmations, Round, Wait, in_order, reported, requests_for
from ._constants import CLOSE_GRACE, CONFIRM_TIMEOUT, PARALLEL_REQUESTS, POLL_INTERVAL
from ._generated import errors as generated_errors
from ._generated import models
from ._journal import Journal
from ._responses import unparsed
from ._results import Operation, OperationResult, Outcome, ReturnRecord
from ._retry import Attempts
from ._runs import Batch
from ._settling import Settlement

Result = TypeVar("Result")
# What a batch's queue is handed when the client closes under it.
_CLOSED = object()


class AsyncReturnsClient(ClientBase[httpx.AsyncBaseTransport]):
    """``ReturnsClient`` for asyncio: at most 4 requests in flight per store across all tasks of its loop.

    A cancelled call abandons its request; the store's slot stays taken for ``grace_period`` all the same,
    since the Market may still be working on it.
    """

    def _open(self) -> None:
        self._slots, self._gate = self._limits.for_tasks()
        self._deadlines = RequestDeadlines()
        self._closed = False
        self._closing = asyncio.Event()  # set by aclose(): wakes calls waiting to retry
        # One per running batch: its stop, set when the client closes; its queue, told so; and its end, which
        # aclose() waits for.
        self._stops: dict[asyncio.Event, tuple[asyncio.Queue[Any], asyncio.Event]] = {}

    def _forked(self) -> None:
        self._stops = {}
        if self._remake is None:
            self._closed = True

    async def __aenter__(self) -> Self:
        if self._closed:
            raise self._closed_error()
        await self._generated.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: running batches send nothing more and are waited for (within one request timeout and a
        second), so the answers to their requests in flight are not lost; then the connection pool is closed,
        and the store's slots are given back (shared limits hear of it before this returns)."""
        if self._forked_from() is not None:
            return  # the parent's connections and batches: not this process's to close
        self._closed = True
        self._closing.set()
        for stop, (batch, _) in self._stops.items():
            stop.set()
            batch.put_nowait(_CLOSED)
        running = [done for _, done in self._stops.values()]
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._request_seconds + CLOSE_GRACE):
                    for done in running:
                        await done.wait()
        finally:  # and when this wait is cancelled: the slots (their leases renewed until now) and the pool
            self._slots.close()
            try:
                await self._generated.get_async_httpx_client().aclose()
            finally:
                await self._slots.wait_closed()

    async def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        return await self._run(cancel_request(campaign_id, return_id))

    async def get_return(self, campaign_id: int, order_id: int, return_id: int) -> ReturnRecord:
        """See ``ReturnsClient.get_return``."""
        return await self._run(return_request(campaign_id, order_id, return_id))

    async def get_returns(
        self,
        campaign_id: int,
        *,
        shipment_statuses: Iterable[models.ReturnShipmentStatusType] | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[ReturnRecord]:
        """See ``ReturnsClient.get_returns``."""
        pages = self._return_pages(campaign_id, shipment_statuses, from_date, to_date)
        while (request := pages.request()) is not None:
            pages.answered(await self._run(request))
        return pages.records

    async def get_operations(
        self,
        business_id: int,
        operation_ids: Iterable[str],
        *,
        operation_type: models.OperationType = models.OperationType.RETURN_CANCELLATION,
    ) -> list[OperationResult]:
        """See ``ReturnsClient.get_operations``."""
        business_id, ids, kind = self._check_statuses(business_id, operation_ids, operation_type)
        return reported(ids, await self._statuses(business_id, ids, kind))

    async def wait_for_operations(
        self,
        business_id: int,
        operation_ids: Iterable[str],
        *,
        timeout: float = CONFIRM_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        operation_type: models.OperationType = models.OperationType.RETURN_CANCELLATION,
    ) -> list[OperationResult]:
        """See ``ReturnsClient.wait_for_operations``; ``aclose()`` ends the wait with ``ClientClosedError``."""
        business_id, ids, kind = self._check_statuses(business_id, operation_ids, operation_type)
        timeout, poll_interval = self._check_wait(timeout, poll_interval)
        wait = Wait(ids, timeout, poll_interval)
        while wait.pending:
            polled = await self._statuses(business_id, wait.pending, kind, wait.deadline)
            self._after_round(polled, self._closed)
            seconds = wait.after(polled, self._held(business_id))
            if seconds is None:
                break
            if await self._sleep(seconds, self._closing):
                raise self._closed_error()
        return in_order(ids, wait.known, kind)

    async def _statuses(
        self,
        business_id: int,
        ids: list[str],
        operation_type: models.OperationType,
        deadline: float | None = None,
        learn: Callable[[list[OperationResult]], None] | None = None,
    ) -> Round:
        """As ``ReturnsClient`` asks for statuses: 100 to a request, one after another, the round deciding."""
        polled = Round(operation_type, deadline, learn)
        for chunk in requests_for(ids):
            try:
                polled.answered(
                    chunk, await self._run(statuses_request(business_id, chunk, operation_type), polled.seconds_left())
                )
            except errors.MarketError as error:
                if not polled.keeps_going(error):
                    break
        return polled

    async def _run(self, request: Request[Result], seconds: float | None = None) -> Result:
        return await self._call(request, self._attempts(request, seconds), self._closing)

    async def cancel_returns(
        self,
        campaign_id: int,
        return_ids: Iterable[int],
        *,
        business_id: int | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        confirm_timeout: float = CONFIRM_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        journal: Journal | str | os.PathLike[str] | None = None,
        order_ids: Mapping[int, int] | None = None,
    ) -> list[Outcome]:
        """Cancel many returns of one store, 4 at a time; one ``Outcome`` per id, in the order given.

        ``business_id`` confirms each cancellation as ``ReturnsClient.cancel_returns`` does. Every id is
        checked before the first request. ``on_outcome`` is called as each outcome is final. The batch
        stops as ``ReturnsClient.cancel_returns`` does, and when the awaiting task is cancelled: nothing more
        is sent, the requests in flight are waited for, and the exception carries ``outcomes`` and
        ``not_sent``. A second cancellation abandons those requests (their slots held for the grace period;
        each reported with an ``AbandonedRequestError``). ``journal`` and ``order_ids`` are as
        ``ReturnsClient.cancel_returns`` says; the journal's writes are short and made on the event loop's
        thread.
        """
        batch, confirming = self._batch(
            campaign_id, return_ids, business_id, on_outcome, confirm_timeout, poll_interval, journal, order_ids
        )
        run, settlement = batch.run, batch.settlement
        campaign_id, ids = run.campaign_id, run.return_ids
        if self._closed:
            raise self._closed_error()
        stop = asyncio.Event()
        in_progress: dict[int, Attempts] = {}
        calls: dict[asyncio.Future[None], Attempts] = {}  # each worker's call under way
        # Workers take the next id as they free up and hand back (index, outcome) pairs; the client's
        # close() hands every running batch _CLOSED.
        finished: asyncio.Queue[tuple[int, Outcome] | BaseException | object] = asyncio.Queue()
        pending: Iterator[int] = iter(())  # the returns to send, once the journal has said which

        async def work() -> None:
            worker = cast(asyncio.Future[None], asyncio.current_task())
            index = None
            try:
                for index in pending:
                    request = cancel_request(campaign_id, ids[index])
                    attempts = in_progress[index] = calls[worker] = self._policy.begin(request.call, run.sender(index))
                    outcome = await self._batch_item(ids[index], request, attempts, stop)
                    del in_progress[index], calls[worker]
                    finished.put_nowait((index, outcome))
                    run.learnt(outcome)  # before the next request; after it is handed back, for a journal that fails
                    if stop.is_set():
                        break
            except asyncio.CancelledError:
                # Ended by the stop between two attempts, or abandoned by a second one: what it learnt is kept.
                if index in in_progress and (so_far := in_progress[index].outcome_so_far()) is not None:
                    run.learnt(Outcome(ids[index], error=so_far))
                raise
            except BaseException as error:  # ClientClosedError, or a bug of ours: it must reach the caller
                finished.put_nowait(error)

        done = asyncio.Event()
        self._stops[stop] = finished, done
        # Twice the slots: while one worker sleeps before a retry, another keeps its slot busy.
        workers: list[asyncio.Future[None]] = []
        delivered = 0  # outcomes of the returns sent: final, or waiting for confirmation
        try:
            to_send = batch.open()  # in the try: a stop from here on releases the journal
            pending = iter(to_send)
            workers += [asyncio.ensure_future(work()) for _ in range(min(2 * PARALLEL_REQUESTS, len(to_send)))]
            while delivered < len(to_send) or batch:
                try:
                    async with asyncio.timeout(batch.due_in()):
                        item = await finished.get()
                except TimeoutError:
                    if confirming is not None:
                        await self._confirm_round(*confirming)
                    if batch.settling_due():
                        for index in batch.looked(*await self._settle_round(campaign_id, settlement)):
                            # Not cancelled, and none of ours can still be running: once more.
                            request = cancel_request(campaign_id, ids[index])
                            attempts = self._policy.begin(request.call, run.sender(index))
                            resent = await self._batch_item(ids[index], request, attempts, stop)
                            run.learnt(resent)
                            batch.sent(index, resent)
                else:
                    if item is _CLOSED:
                        raise self._closed_error()
                    if isinstance(item, BaseException):
                        raise item
                    delivered += 1
                    batch.sent(*cast(tuple[int, Outcome], item))
                batch.confirmed()
        except BaseException as error:
            stop.set()
            for worker in workers:  # those with no request in flight end now; the others after its answer
                if worker not in calls or not calls[worker].in_flight:
                    worker.cancel()
            # The report comes first, before any await: a second cancellation (anyio delivers one at every
            # await) must not lose it. Then the wait for the requests in flight (within their timeout; a
            # second cancellation abandons them), and the final report.
            self._drain(finished, batch)
            batch.report(error, in_progress)
            try:
                await asyncio.gather(*workers, return_exceptions=True)
            finally:  # and after a second cancellation: what came back meanwhile is put in the report
                self._drain(finished, batch)
                batch.report(error, in_progress)
            raise
        finally:
            self._stops.pop(stop, None)
            run.close()
            done.set()
        return [batch.outcomes[index] for index in range(len(ids))]

    @staticmethod
    def _drain(finished: "asyncio.Queue[Any]", batch: Batch) -> None:
        """Take in what the workers handed back, for a report."""
        while not finished.empty():
            item = finished.get_nowait()
            if isinstance(item, tuple):
                batch.outcomes[item[0]] = item[1]

    async def _batch_item(
        self, return_id: int, request: Request[Operation], attempts: Attempts, stop: asyncio.Event
    ) -> Outcome:
        """One return of a batch: its outcome."""
        try:
            operation = await self._call(request, attempts, stop)
        except errors.MarketError as error:
            return Outcome(return_id, error=error)
        return Outcome(return_id, operation=operation)

    async def _settle_round(
        self, campaign_id: int, settlement: Settlement
    ) -> tuple[list[tuple[int, Outcome]], list[tuple[int, Outcome]]]:
        look = self._look(campaign_id, settlement)
        try:
            while (request := look.request()) is not None:
                try:
                    look.answered(await self._run(request))
                except errors.NotFoundError as error:
                    look.not_found(error)
        except errors.MarketError as error:
            return look.ended(error)
        return look.ended()

    async def _confirm_round(self, business_id: int, confirmations: Confirmations) -> None:
        ids = confirmations.to_poll()
        if not ids:
            return
        kind = models.OperationType.RETURN_CANCELLATION
        polled = await self._statuses(business_id, ids, kind, confirmations.last_deadline(), confirmations.learn)
        confirmations.polled(polled.rate_limit, self._held(business_id))
        self._after_round(polled, self._closed)

    async def _call(self, request: Request[Result], attempts: Attempts, stop: asyncio.Event) -> Result:
        """Send ``request`` until it succeeds or ``attempts`` ends it; ``stop`` (the client's close, or the
        batch's stop) wakes the waits between attempts and ends the call there."""
        while True:
            try:
                taken = await self._slots.acquire(request.key, attempts.deadline)
            except errors.LimitsUnavailableError as error:  # nothing was sent: retried as such
                attempts.start_clock()  # within the budget: a Redis that stays away ends the call in time
                delay = self._retry_wait(request, attempts, error)
                if delay is None or await self._sleep(delay, stop):
                    raise attempts.outcome() from None
                continue
            if not taken:
                if self._closed and not attempts.errors:
                    raise self._closed_error()
                raise attempts.outcome()  # the budget ran out, or the client closed, waiting for a slot
            result: object = None  # what the request ended in, for how long its slot stays taken
            sent_at = None
            try:
                wait = self._gate_wait(request, attempts)
                if (wait and await self._sleep(wait, stop)) or self._closed:
                    raise attempts.outcome() if attempts.errors else self._closed_error()
                attempts.sending()
                sent_at = time.monotonic()
                try:
                    answer = await self._send(request)
                    result = answer
                except asyncio.CancelledError:
                    if attempts.in_flight:
                        attempts.abandoned()
                    raise
            finally:
                self._slots.release(request.key, self._slot_grace(result, sent_at))
            if not isinstance(answer, errors.MarketError):
                return answer
            delay = self._retry_wait(request, attempts, answer)
            if delay is None or await self._sleep(delay, stop):
                raise attempts.outcome()

    @staticmethod
    async def _sleep(seconds: float, stop: asyncio.Event) -> bool:
        """Wait; ``True`` when ``stop`` was set meanwhile (the wait ends then)."""
        try:
            async with asyncio.timeout(seconds):
                await stop.wait()
        except TimeoutError:
            return False
        return True

    async def _send(self, request: Request[Result]) -> Result | errors.MarketError:
        sent_at = time.monotonic()
        task: asyncio.Task[object] = asyncio.current_task()  # type: ignore[assignment]
        # The whole request, not each read of it, within its time.
        cancelling = self._deadlines.enter(task, self._request_seconds)
        cancelled = False
        try:
            answer = await request.endpoint.asyncio_detailed(*request.path, client=self._generated, **request.arguments)
        except asyncio.CancelledError:
            cancelled = True
            if not self._deadlines.left(task, cancelling, cancelled):
                raise
            error = httpx.ReadTimeout(f"the answer did not complete within {self._request_seconds:g} s")
            return self._lost(error, request)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(request, unparsed(error), sent_at, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, request)
        finally:
            if not cancelled:
                self._deadlines.left(task, cancelling, cancelled)
        return self._settle(request, answer, sent_at)


class RequestDeadlines:
    """Cancels a task whose request outlives its deadline (on the loop's clock).

    One timer for all of an async client's requests in flight, instead of one each.

    ``asyncio.timeout`` arms a timer for every request and cancels it when the answer is in; cancelled timers
    stay in the event loop's heap until the loop gets round to them, and every request pays to push into it.
    Requests of one client all get the same timeout, so their deadlines come in order: one timer, aimed at the
    earliest deadline still running, bounds them all as exactly. It stops of itself once none is running:
    closing the client leaves the requests still in flight bounded.
    """

    def __init__(self) -> None:
        self._running: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def enter(self, task: asyncio.Task[object], seconds: float) -> int:
        """The task's request starts; how many cancellations the task already had (see ``left``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self._running[task] = deadline
        if deadline < self._timer_at:
            self._arm(loop, deadline)
        return task.cancelling()

    def left(self, task: asyncio.Task[object], cancelling: int, cancelled: bool) -> bool:
        """The task's request is over; ``True`` when it was this deadline, and nothing else, that cancelled
        it (``cancelled``: it ended in ``CancelledError``): the caller reports a timeout then."""
        del self._running[task]
        if task not in self._expired:
            return False
        self._expired.discard(task)
        # As asyncio.timeout does: take our cancellation back; a timeout only if no one else's is pending.
        return task.uncancel() <= cancelling and cancelled

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = loop.call_at(when, self._expire, loop), when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer, self._timer_at = None, math.inf
        now = loop.time()
        waiting = math.inf
        for task, deadline in self._running.items():
            if task in self._expired:
                continue
            if deadline <= now:
                self._expired.add(task)
                task.cancel()
            else:
                waiting = min(waiting, deadline)
        if waiting < math.inf:
            self._arm(loop, waiting)
