"""The synchronous client."""

import contextvars
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

from . import errors
from .base import ClientBase
from .batches import has_report, report_stop
from .deadlines import BoundedTransport
from .pacing import PARALLEL_REQUESTS, ThreadSlots
from .responses import unparsed
from .results import Operation, Outcome
from .retry import Attempts
from .validation import CAMPAIGN_ID_BOUNDS, check_id, check_return_ids


class _StoppedError(Exception):
    """The call was told to stop (its batch stopped, or the client closed) before it could finish."""


class ReturnsClient(ClientBase[httpx.BaseTransport]):
    """Cancels returns, retrying what is worth retrying and pacing itself to the Market's limits.

    Safe to share between threads: one connection pool, and at most 4 requests in flight per store.
    """

    def _bounded(self, transport: httpx.BaseTransport | None) -> httpx.BaseTransport:
        return BoundedTransport(transport or httpx.HTTPTransport(), self._request_seconds)

    def _open(self) -> None:
        self._slots = ThreadSlots()
        self._closed = threading.Event()
        self._stops_lock = threading.Lock()
        self._stops: set[threading.Event] = set()  # one per running batch, set when the client closes

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
        """Stop: running batches send nothing more, and the connection pool is closed. Safe from any thread."""
        self._closed.set()
        with self._stops_lock:
            for stop in self._stops:
                stop.set()
        self._slots.wake()
        self._generated.get_httpx_client().close()

    def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        campaign_id, body, call = self._prepare(campaign_id, return_id)
        attempts = self._policy.begin(call)
        try:
            return self._call(campaign_id, body, call, attempts, self._closed)
        except _StoppedError:
            if attempts.errors:
                raise attempts.outcome() from None
            raise self._closed_error() from None

    def cancel_returns(
        self,
        campaign_id: int,
        return_ids: Iterable[int],
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Cancel many returns of one store, 4 at a time; one ``Outcome`` per id, in the order given.

        Every id is checked before the first request. ``on_outcome`` is called, in this thread, as each
        outcome arrives. The batch stops when ``on_outcome`` raises, on ``KeyboardInterrupt`` and when the
        client is closed: nothing more is sent, the requests in flight are waited for, and the exception
        carries ``outcomes`` (every return that was sent) and ``not_sent`` (the ids of the others).
        """
        campaign_id = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        ids = check_return_ids(return_ids)
        if self._closed.is_set():
            raise self._closed_error()
        stop = threading.Event()
        with self._stops_lock:
            self._stops.add(stop)
        outcomes: dict[int, Outcome] = {}
        in_progress: dict[int, Attempts] = {}
        # Workers take the next id as they free up and hand back (index, outcome) pairs; None when one ends.
        finished: queue.SimpleQueue[tuple[int, Outcome | None] | BaseException | None] = queue.SimpleQueue()
        pending = iter(range(len(ids)))
        pending_lock = threading.Lock()
        running = 0  # workers started and not yet done

        def work() -> None:
            try:
                while not stop.is_set():
                    with pending_lock:
                        index = next(pending, None)
                    if index is None:
                        break
                    _, body, call = self._prepare(campaign_id, ids[index])
                    attempts = in_progress[index] = self._policy.begin(call)
                    finished.put((index, self._batch_item(ids[index], campaign_id, body, call, attempts, stop)))
                    del in_progress[index]
            except BaseException as error:  # a bug of ours must reach the caller, not die with the thread
                finished.put(error)
            finally:
                finished.put(None)

        def collect(item: tuple[int, Outcome | None] | BaseException | None) -> None:
            nonlocal running
            if item is None:
                running -= 1
            elif not isinstance(item, BaseException) and item[1] is not None:
                outcomes[item[0]] = item[1]

        # Twice the slots: while one worker sleeps before a retry, another keeps its slot busy. Each runs in
        # a copy of the caller's context: logging filters and tracing see it.
        workers = [
            threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"yandex-market-returns-{n}")
            for n in range(min(2 * PARALLEL_REQUESTS, len(ids)))
        ]
        try:
            for worker in workers:
                worker.start()
                running += 1
            while running:
                item = finished.get()
                if isinstance(item, BaseException):
                    raise item
                collect(item)
                if item is not None and item[1] is not None and on_outcome is not None:
                    on_outcome(item[1])
            if len(outcomes) < len(ids):  # only a close stops a batch from outside
                raise self._closed_error()
        except BaseException as error:
            stop.set()  # first, and again in `finally`: a second Ctrl-C may cut this block short
            self._slots.wake()
            # A report first, the requests in flight counted as abandoned: a second Ctrl-C may cut the wait
            # for them short. Then the wait (within their timeout; nothing new starts) and the final report.
            while not finished.empty():
                collect(finished.get())
            report_stop(error, ids, outcomes, in_progress)
            while running:
                collect(finished.get())
            report_stop(error, ids, outcomes, in_progress)
            raise
        finally:
            stop.set()
            self._slots.wake()
            interrupted = sys.exc_info()[1]  # a second Ctrl-C, landed before the report above was made
            if interrupted is not None and not has_report(interrupted):
                report_stop(interrupted, ids, outcomes, in_progress)
            with self._stops_lock:
                self._stops.discard(stop)
            if not running:  # every worker has said it is done: let them exit before returning
                for worker in workers:
                    if worker.ident is not None:
                        worker.join()
        return [outcomes[index] for index in range(len(ids))]

    def _batch_item(
        self,
        return_id: int,
        campaign_id: int,
        body: CancelReturnRequest,
        call: str,
        attempts: Attempts,
        stop: threading.Event,
    ) -> Outcome | None:
        """One return of a batch: its outcome, or ``None`` when the batch stopped before it was sent."""
        try:
            return Outcome(return_id, operation=self._call(campaign_id, body, call, attempts, stop))
        except errors.MarketError as error:
            return Outcome(return_id, error=error)
        except _StoppedError:
            return Outcome(return_id, error=attempts.outcome()) if attempts.errors else None

    def _call(
        self, campaign_id: int, body: CancelReturnRequest, call: str, attempts: Attempts, stop: threading.Event
    ) -> Operation:
        while True:
            if not self._slots.acquire(campaign_id, stop, attempts.deadline):
                if stop.is_set():
                    raise _StoppedError
                raise attempts.outcome()  # the budget ran out waiting for a slot to retry in
            result: Operation | errors.MarketError | None = None
            sent_at = None
            try:
                wait = self._gate_wait(campaign_id, attempts, call)
                if wait and stop.wait(wait):
                    raise _StoppedError
                # Marked in flight before the last look at the stop: a report made meanwhile may count
                # this request as (maybe) sent, never one that goes out as not sent.
                attempts.sending()
                if stop.is_set():
                    attempts.in_flight = False
                    raise _StoppedError
                sent_at = time.monotonic()
                result = self._send(campaign_id, body, call)
            finally:
                self._slots.release(campaign_id, self._slot_grace(result, sent_at))
            if isinstance(result, Operation):
                return result
            delay = self._retry_wait(campaign_id, attempts, result)
            if delay is None:
                raise attempts.outcome()
            if stop.wait(delay):
                raise _StoppedError

    def _send(self, campaign_id: int, body: CancelReturnRequest, call: str) -> Operation | errors.MarketError:
        sent_at = time.monotonic()
        try:
            answer = cancel_return.sync_detailed(campaign_id, client=self._generated, body=body)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(campaign_id, unparsed(error), call, sent_at, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, call)
        except RuntimeError:  # httpx's word for a closed pool: closed between our check and the request
            if self._closed.is_set():
                raise _StoppedError from None
            raise
        return self._settle(campaign_id, answer, call, sent_at)
