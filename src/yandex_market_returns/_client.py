"""The synchronous client."""

import contextlib
import contextvars
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import httpx

from . import errors
from ._base import ClientBase, Request, cancel_request, return_request, statuses_request
from ._batches import reported_on
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


class _StoppedError(Exception):
    """The call was told to stop (its batch stopped, or the client closed) before it could finish."""


# What a batch's queue is handed when the client closes under it, and what its wait for the next item
# ends in when a confirmation round is due.
_CLOSED = object()
_ROUND = object()


class Stop(threading.Event):
    """A batch's stop. It is set in the exception paths of the caller's thread, where a second Ctrl-C may land
    at any instant: ``threading.Event.set`` enters a Condition in Python code, and a KeyboardInterrupt landing
    there leaves its lock held, so the next ``set`` waits for ever. This one holds no lock across Python code:
    a flag, and a latch released once."""

    def __init__(self) -> None:
        super().__init__()
        self._stopped = False
        self._latch = threading.Lock()
        self._latch.acquire()

    def is_set(self) -> bool:
        return self._stopped

    def set(self) -> None:
        self._stopped = True
        with contextlib.suppress(RuntimeError):  # released already
            self._latch.release()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._stopped and self._latch.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            with contextlib.suppress(RuntimeError):  # a set() meanwhile released it for us
                self._latch.release()
        return self._stopped


class _Running:
    """A running batch as ``close()`` sees it: its queue, to tell it the client closed, and its threads (the
    caller's and its workers'): a close made in one of them cannot wait for the batch."""

    def __init__(self, finished: "queue.SimpleQueue[Any]") -> None:
        self.finished = finished
        self.threads = {threading.get_ident()}


class ReturnsClient(ClientBase[httpx.BaseTransport]):
    """Cancels returns, retrying what is worth retrying and pacing itself to the Market's limits.

    Safe to share between threads: one connection pool, and at most 4 requests in flight per store.
    """

    def _bounded(self, transport: httpx.BaseTransport | None) -> httpx.BaseTransport:
        return BoundedTransport(transport or httpx.HTTPTransport(), self._request_seconds)

    def _open(self) -> None:
        self._slots, self._gate = self._limits.for_threads()
        self._closed = Stop()
        # The running batches, each by its stop (set when the client closes), and the threads in close(). A
        # plain lock, never a Condition: a Ctrl-C cannot leave it held (see Stop).
        self._batches = threading.Lock()
        self._stops: dict[Stop, _Running] = {}
        self._closers: set[int] = set()

    def _forked(self) -> None:
        self._batches = threading.Lock()
        self._stops, self._closers = {}, set()
        if self._remake is None:
            self._closed.set()

    def __enter__(self) -> Self:
        if self._closed.is_set():
            raise self._closed_error()
        self._generated.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop: running batches send nothing more and wait for their requests in flight, then the connection
        pool is closed. Safe from any thread; a batch run by another thread is waited for (within one
        request timeout and a second), so the answers to its requests in flight are not lost."""
        if self._forked_from() is not None:
            return  # the parent's connections and batches: not this process's to close
        deadline = time.monotonic() + self._request_seconds + CLOSE_GRACE
        self._closed.set()
        with self._batches:
            self._closers.add(threading.get_ident())
            for stop, running in self._stops.items():
                stop.set()
                running.finished.put(_CLOSED)
        self._slots.wake()
        try:
            while time.monotonic() < deadline:
                with self._batches:  # a batch whose thread is closing too is not waited for
                    if all(running.threads & self._closers for running in self._stops.values()):
                        break
                time.sleep(0.01)
        finally:
            with self._batches:
                self._closers.discard(threading.get_ident())
        self._generated.get_httpx_client().close()

    def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        return self._run(cancel_request(campaign_id, return_id), self._closed)

    def get_return(self, campaign_id: int, order_id: int, return_id: int) -> ReturnRecord:
        """The Market's record of a return of an order of the store; ``NotFoundError`` when it has none."""
        return self._run(return_request(campaign_id, order_id, return_id), self._closed)

    def get_returns(
        self,
        campaign_id: int,
        *,
        shipment_statuses: Iterable[models.ReturnShipmentStatusType] | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> list[ReturnRecord]:
        """The store's returns, every page of them, in the Market's order: only those in ``shipment_statuses``
        when given, and last updated from ``from_date`` to ``to_date`` (days, both included) when given."""
        pages = self._return_pages(campaign_id, shipment_statuses, from_date, to_date)
        while (request := pages.request()) is not None:
            pages.answered(self._run(request, self._closed))
        return pages.records

    def get_operations(
        self,
        business_id: int,
        operation_ids: Iterable[str],
        *,
        operation_type: models.OperationType = models.OperationType.RETURN_CANCELLATION,
    ) -> list[OperationResult]:
        """The status of each operation, one ``OperationResult`` per id in the order given (``status`` is
        ``None`` for one the Market did not report, or reported in an answer that contradicts itself). More
        than 100 ids go in several requests; when one fails, its error carries the results of the requests
        answered before it as ``answered``."""
        business_id, ids, kind = self._check_statuses(business_id, operation_ids, operation_type)
        return reported(ids, self._statuses(business_id, ids, kind, self._closed))

    def wait_for_operations(
        self,
        business_id: int,
        operation_ids: Iterable[str],
        *,
        timeout: float = CONFIRM_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        operation_type: models.OperationType = models.OperationType.RETURN_CANCELLATION,
    ) -> list[OperationResult]:
        """Poll until every operation is ``DONE`` or ``FAILED``, or ``timeout`` seconds pass; the last status
        of each, in the order given (``IN_PROGRESS`` for one still running at the timeout, ``None`` for one
        the Market never reported).

        Only the ids not yet final are asked for, 100 to a request; the first round goes at once, the next
        after ``poll_interval`` seconds, doubling to a minute, slower if the business's hourly requests would
        not last the period, and a last one at ``timeout``. Retries end at ``timeout`` too: the call returns
        within it plus one request's timeout. A poll that fails only for now (5xx, a timeout, a garbled
        answer) is asked again next round; one the Market refuses (400, 401, 403) is raised. ``close()``
        ends the wait with ``ClientClosedError``.
        """
        business_id, ids, kind = self._check_statuses(business_id, operation_ids, operation_type)
        timeout, poll_interval = self._check_wait(timeout, poll_interval)
        wait = Wait(ids, timeout, poll_interval)
        while wait.pending:
            polled = self._statuses(business_id, wait.pending, kind, self._closed, wait.deadline)
            self._after_round(polled, self._closed.is_set())
            seconds = wait.after(polled, self._held(business_id))
            if seconds is None:
                break
            if self._closed.wait(seconds):
                raise self._closed_error()
        return in_order(ids, wait.known, kind)

    def _statuses(
        self,
        business_id: int,
        ids: list[str],
        operation_type: models.OperationType,
        stop: threading.Event,
        deadline: float | None = None,
        learn: Callable[[list[OperationResult]], None] | None = None,
    ) -> Round:
        """What the Market reports of ``ids`` (unique, checked), 100 to a request, one request after another.

        A round with a ``deadline`` (a wait's, or its confirmations') retries no request past it, and goes on
        after a request that failed only for now; without one (``get_operations``) it ends at the first
        failure.
        """
        polled = Round(operation_type, deadline, learn)
        for chunk in requests_for(ids):
            try:
                polled.answered(
                    chunk, self._run(statuses_request(business_id, chunk, operation_type), stop, polled.seconds_left())
                )
            except errors.MarketError as error:
                if not polled.keeps_going(error):
                    break
        return polled

    def _run(self, request: Request[Result], stop: threading.Event, seconds: float | None = None) -> Result:
        if self._closed.is_set():
            raise self._closed_error()
        attempts = self._attempts(request, seconds)
        try:
            return self._call(request, attempts, stop)
        except _StoppedError:
            if attempts.errors:
                raise attempts.outcome() from None
            raise self._closed_error() from None

    def cancel_returns(
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

        With ``business_id`` (the store's business) each started cancellation is confirmed by getOperations
        while the others are still being sent, every round asking for all that wait (100 to a request), as
        ``wait_for_operations`` paces it: the outcome's ``status`` is ``DONE``, ``FAILED``, or
        ``IN_PROGRESS`` when ``confirm_timeout`` seconds after the start it had not ended.

        Every id is checked before the first request. ``on_outcome`` is called, in this thread, as each
        outcome is final (confirmed, when confirming). The batch stops when ``on_outcome`` raises, on
        ``KeyboardInterrupt``, when the client is closed and when getOperations refuses (400, 401, 403):
        nothing more is sent, the requests in flight are waited for, and the exception carries ``outcomes``
        (every return that was sent, with what is known of its status) and ``not_sent`` (the ids of the others).

        ``journal`` (a path, or a ``Journal``) keeps what the batch learns of each return before it acts on it,
        and a later call with the same journal resumes: returns it knows the end of are reported, not sent;
        operations it started are confirmed, not sent again (see "The journal" in docs/guide.md).

        What the answers cannot tell (a lost answer, a 5xx, a 400, an operation not seen to end) is settled by
        the return's record before it is reported: by getReturn for a return whose order ``order_ids`` (return
        id to order id) gives, else among the store's ``CANCELLED`` returns by getReturns.
        """
        batch, confirming = self._batch(
            campaign_id, return_ids, business_id, on_outcome, confirm_timeout, poll_interval, journal, order_ids
        )
        run, settlement = batch.run, batch.settlement
        campaign_id, ids = run.campaign_id, run.return_ids
        stop = Stop()
        in_progress: dict[int, Attempts] = {}
        # Every outcome a worker hands back, kept here too: a Ctrl-C may land in this thread just after an
        # item left the queue and before it was noted, and the stop report must not lose it.
        handed: dict[int, Outcome] = {}
        # Workers take the next id as they free up and hand back (index, outcome) pairs; None when one ends,
        # _CLOSED when the client closes.
        finished: queue.SimpleQueue[tuple[int, Outcome | None] | BaseException | object] = queue.SimpleQueue()
        running = _Running(finished)
        with self._batches:  # checked as it is registered: a close() meanwhile stops it, or it does not start
            if self._closed.is_set():
                raise self._closed_error()
            self._stops[stop] = running
        pending: Iterator[int] = iter(())  # the returns to send, once the journal has said which
        pending_lock = threading.Lock()
        # Workers that began (each counts itself, under pending_lock, unless the batch has stopped), and those
        # that said they are done. A worker counts itself, not the thread that starts it: a Ctrl-C inside
        # Thread.start() leaves a running worker that its starter never counted.
        began = ended = 0

        def work() -> None:
            nonlocal began
            with pending_lock:
                if stop.is_set():
                    return
                began += 1
            with self._batches:
                running.threads.add(threading.get_ident())
            try:
                while not stop.is_set():
                    with pending_lock:
                        index = next(pending, None)
                    if index is None:
                        break
                    request = cancel_request(campaign_id, ids[index])
                    attempts = in_progress[index] = self._policy.begin(request.call, run.sender(index))
                    outcome = self._batch_item(ids[index], request, attempts, stop)
                    if outcome is not None:
                        handed[index] = outcome
                    finished.put((index, outcome))
                    del in_progress[index]
                    # Before the next request; after the outcome is handed back, for a journal that fails.
                    run.learnt(Outcome(ids[index]) if outcome is None else outcome)
            except BaseException as error:  # a bug of ours must reach the caller, not die with the thread
                finished.put(error)
            finally:
                with self._batches:  # a thread started later may be given the same ident
                    running.threads.discard(threading.get_ident())
                finished.put(None)

        def collect(item: object, quiet: bool = False) -> None:
            """Take in what a worker handed back (``quiet``, once the batch stopped: only noted, for the report)."""
            nonlocal ended
            if item is None:
                ended += 1
            elif isinstance(item, tuple) and item[1] is not None:
                index, outcome = cast(tuple[int, Outcome], item)
                if quiet:
                    batch.outcomes[index] = outcome
                else:
                    batch.sent(index, outcome)

        # Twice the slots: while one worker sleeps before a retry, another keeps its slot busy. Each runs in
        # a copy of the caller's context: logging filters and tracing see it.
        workers: list[threading.Thread] = []
        try:
            to_send = batch.open()  # in the try: a stop from here on releases the journal
            pending = iter(to_send)
            workers += [
                threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"yandex-market-returns-{n}")
                for n in range(min(2 * PARALLEL_REQUESTS, len(to_send)))
            ]
            for worker in workers:
                worker.start()
            while ended < len(workers) or batch:
                try:
                    item = finished.get(timeout=batch.due_in())
                except queue.Empty:
                    item = _ROUND
                if isinstance(item, BaseException):
                    raise item
                if item is _CLOSED:
                    raise self._closed_error()
                if item is _ROUND and confirming is not None:
                    self._confirm_round(*confirming, stop)
                if item is _ROUND and batch.settling_due():
                    for index in batch.looked(*self._settle_round(campaign_id, settlement, stop)):
                        # Not cancelled, and none of ours can still be running: once more.
                        request = cancel_request(campaign_id, ids[index])
                        attempts = self._policy.begin(request.call, run.sender(index))
                        resent = self._batch_item(ids[index], request, attempts, stop)
                        run.learnt(Outcome(ids[index]) if resent is None else resent)
                        batch.sent(index, resent)
                collect(item)
                batch.confirmed()
            if len(batch.outcomes) < len(ids):  # only a close stops a batch from outside
                raise self._closed_error()
        except BaseException as error:
            with pending_lock:  # first, and again in `finally`: a second Ctrl-C may cut this block short
                stop.set()  # from here on no worker begins: `began` counts all there will be
            self._slots.wake()
            # A report first, the requests in flight counted as abandoned: a second Ctrl-C may cut the wait
            # for them short. Then the wait (within their timeout; nothing new starts) and the final report.
            self._drain(finished, collect, batch, handed)
            batch.report(error, in_progress)
            while ended < began:
                collect(finished.get(), quiet=True)
            self._drain(finished, collect, batch, handed)
            batch.report(error, in_progress)
            raise
        finally:
            stop.set()
            self._slots.wake()
            run.close()
            interrupted = sys.exc_info()[1]  # a second Ctrl-C: what came back since the report is put in it
            if interrupted is not None:
                self._drain(finished, collect, batch, handed)
                batch.report(reported_on(interrupted) or interrupted, in_progress)
            with self._batches:
                self._stops.pop(stop, None)
            if ended == began:  # every worker that began has said it is done: let them exit before returning
                for worker in workers:
                    if worker.ident is not None:
                        worker.join()
        return [batch.outcomes[index] for index in range(len(ids))]

    @staticmethod
    def _drain(
        finished: "queue.SimpleQueue[Any]", collect: Callable[..., None], batch: Batch, handed: dict[int, Outcome]
    ) -> None:
        """Take in what the workers handed back, for a report."""
        while not finished.empty():
            collect(finished.get(), quiet=True)
        for index, outcome in dict(handed).items():  # a copy at once: workers may still be adding
            batch.outcomes.setdefault(index, outcome)

    def _settle_round(
        self, campaign_id: int, settlement: Settlement, stop: threading.Event
    ) -> tuple[list[tuple[int, Outcome]], list[tuple[int, Outcome]]]:
        look = self._look(campaign_id, settlement)
        try:
            while (request := look.request()) is not None:
                try:
                    look.answered(self._run(request, stop))
                except errors.NotFoundError as error:
                    look.not_found(error)
        except errors.MarketError as error:
            return look.ended(error)
        return look.ended()

    def _confirm_round(self, business_id: int, confirmations: Confirmations, stop: threading.Event) -> None:
        ids = confirmations.to_poll()
        if not ids:
            return
        kind = models.OperationType.RETURN_CANCELLATION
        polled = self._statuses(business_id, ids, kind, stop, confirmations.last_deadline(), confirmations.learn)
        confirmations.polled(polled.rate_limit, self._held(business_id))
        self._after_round(polled, self._closed.is_set())

    def _batch_item(
        self, return_id: int, request: Request[Operation], attempts: Attempts, stop: threading.Event
    ) -> Outcome | None:
        """One return of a batch: its outcome, or ``None`` when the batch stopped before it was sent."""
        try:
            return Outcome(return_id, operation=self._call(request, attempts, stop))
        except errors.MarketError as error:
            return Outcome(return_id, error=error)
        except _StoppedError:
            return Outcome(return_id, error=attempts.outcome()) if attempts.errors else None

    def _call(self, request: Request[Result], attempts: Attempts, stop: threading.Event) -> Result:
        while True:
            try:
                taken = self._slots.acquire(request.key, stop, attempts.deadline)
            except errors.LimitsUnavailableError as error:  # nothing was sent: retried as such
                attempts.start_clock()  # within the budget: a Redis that stays away ends the call in time
                delay = self._retry_wait(request, attempts, error)
                if delay is None:
                    raise attempts.outcome() from None
                if stop.wait(delay):
                    raise _StoppedError from None
                continue
            if not taken:
                if stop.is_set():
                    raise _StoppedError
                raise attempts.outcome()  # the budget ran out waiting for a slot to retry in
            result: object = None  # what the request ended in, for how long its slot stays taken
            sent_at = None
            try:
                wait = self._gate_wait(request, attempts)
                if wait and stop.wait(wait):
                    raise _StoppedError
                # Marked in flight before the last look at the stop: a report made meanwhile may count
                # this request as (maybe) sent, never one that goes out as not sent.
                attempts.sending()
                if stop.is_set():
                    attempts.in_flight = False
                    raise _StoppedError
                sent_at = time.monotonic()
                answer = self._send(request)
                result = answer
            finally:
                self._slots.release(request.key, self._slot_grace(result, sent_at))
            if not isinstance(answer, errors.MarketError):
                return answer
            delay = self._retry_wait(request, attempts, answer)
            if delay is None:
                raise attempts.outcome()
            if stop.wait(delay):
                raise _StoppedError

    def _send(self, request: Request[Result]) -> Result | errors.MarketError:
        sent_at = time.monotonic()
        try:
            answer = request.endpoint.sync_detailed(*request.path, client=self._generated, **request.arguments)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(request, unparsed(error), sent_at, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, request)
        except RuntimeError:  # httpx's word for a closed pool: closed between our check and the request
            if self._closed.is_set():
                raise _StoppedError from None
            raise
        return self._settle(request, answer, sent_at)


class BoundedTransport(httpx.BaseTransport):
    """The whole of a request within its timeout.

    httpx's timeouts bound each phase and each read, so a server that sends its answer a byte at a time never
    trips them. A sync client cannot interrupt a blocking read, so this transport ends the answer's body once
    the request's time is up (its headers are still bounded by the read timeout alone, each read at a time).
    The async client bounds the whole request with a timer instead (``RequestDeadlines``)."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._seconds
        response = self._inner.handle_request(request)
        if not isinstance(response.stream, httpx.ByteStream):  # a body already in memory has nothing to bound
            response.stream = _BoundedStream(response, deadline, request)
        return response

    def close(self) -> None:
        self._inner.close()


class _BoundedStream(httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, deadline: float, request: httpx.Request) -> None:
        self._stream = cast(httpx.SyncByteStream, response.stream)  # a sync transport's
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the answer did not complete within the timeout", request=self._request)
            yield chunk

    def close(self) -> None:
        self._stream.close()
