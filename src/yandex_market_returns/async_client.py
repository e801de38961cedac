"""The asynchronous client."""

import asyncio
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self, cast

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

from . import errors
from .base import ClientBase
from .batches import report_stop
from .pacing import PARALLEL_REQUESTS, TaskSlots
from .responses import unparsed
from .results import Operation, Outcome
from .retry import Attempts
from .validation import CAMPAIGN_ID_BOUNDS, check_id, check_return_ids

# What a batch's queue is handed when the client closes under it.
_CLOSED = object()


class AsyncReturnsClient(ClientBase[httpx.AsyncBaseTransport]):
    """``ReturnsClient`` for asyncio: at most 4 requests in flight per store across all tasks of its loop.

    A cancelled call abandons its request; the store's slot stays taken for ``grace_period`` all the same,
    since the Market may still be working on it.
    """

    def _open(self) -> None:
        self._slots = TaskSlots()
        self._closed = False
        self._closing = asyncio.Event()  # set by aclose(): wakes calls waiting to retry
        self._stops: set[asyncio.Queue[Any]] = set()  # one per running batch, told when the client closes

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
        """Stop: running batches send nothing more, and the connection pool is closed."""
        self._closed = True
        self._closing.set()
        self._slots.close()
        for batch in self._stops:
            batch.put_nowait(_CLOSED)
        await self._generated.get_async_httpx_client().aclose()

    async def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        campaign_id, body, call = self._prepare(campaign_id, return_id)
        return await self._call(campaign_id, body, call, self._policy.begin(call))

    async def cancel_returns(
        self,
        campaign_id: int,
        return_ids: Iterable[int],
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Cancel many returns of one store, 4 at a time; one ``Outcome`` per id, in the order given.

        Every id is checked before the first request. ``on_outcome`` is called as each outcome arrives. The
        batch stops when ``on_outcome`` raises, when the awaiting task is cancelled and when the client is
        closed: nothing more is sent, the requests in flight are abandoned (their slots held for the grace
        period), and the exception carries ``outcomes`` (every return that was sent, an abandoned one with
        an ``AbandonedRequestError``) and ``not_sent`` (the ids of the others).
        """
        campaign_id = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        ids = check_return_ids(return_ids)
        if self._closed:
            raise self._closed_error()
        outcomes: dict[int, Outcome] = {}
        in_progress: dict[int, Attempts] = {}
        # Workers take the next id as they free up and hand back (index, outcome) pairs; the client's
        # close() hands every running batch _CLOSED.
        finished: asyncio.Queue[tuple[int, Outcome] | BaseException | object] = asyncio.Queue()
        pending = iter(range(len(ids)))

        async def work() -> None:
            try:
                for index in pending:
                    _, body, call = self._prepare(campaign_id, ids[index])
                    attempts = in_progress[index] = self._policy.begin(call)
                    try:
                        outcome = Outcome(ids[index], operation=await self._call(campaign_id, body, call, attempts))
                    except errors.MarketError as error:
                        outcome = Outcome(ids[index], error=error)
                    del in_progress[index]
                    finished.put_nowait((index, outcome))
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # ClientClosedError, or a bug of ours: it must reach the caller
                finished.put_nowait(error)

        self._stops.add(finished)
        # Twice the slots: while one worker sleeps before a retry, another keeps its slot busy.
        workers = [asyncio.ensure_future(work()) for _ in range(min(2 * PARALLEL_REQUESTS, len(ids)))]
        try:
            while len(outcomes) < len(ids):
                item = await finished.get()
                if item is _CLOSED:
                    raise self._closed_error()
                if isinstance(item, BaseException):
                    raise item
                index, outcome = cast(tuple[int, Outcome], item)
                outcomes[index] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)
        except BaseException as error:
            for worker in workers:
                worker.cancel()
            # The report comes first, before any await: a second cancellation (anyio delivers one at every
            # await) must not lose it. A request still in flight is abandoned now.
            while not finished.empty():
                item = finished.get_nowait()
                if isinstance(item, tuple):
                    outcomes[item[0]] = item[1]
            report_stop(error, ids, outcomes, in_progress)
            await asyncio.gather(*workers, return_exceptions=True)  # they release their slots
            raise
        finally:
            self._stops.discard(finished)
        return [outcomes[index] for index in range(len(ids))]

    async def _call(self, campaign_id: int, body: CancelReturnRequest, call: str, attempts: Attempts) -> Operation:
        while True:
            if not await self._slots.acquire(campaign_id, attempts.deadline):
                if self._closed and not attempts.errors:
                    raise self._closed_error()
                raise attempts.outcome()  # the budget ran out, or the client closed, waiting for a slot
            result: Operation | errors.MarketError | None = None
            sent_at = None
            try:
                wait = self._gate_wait(campaign_id, attempts, call)
                if (wait and await self._sleep(wait)) or self._closed:
                    raise attempts.outcome() if attempts.errors else self._closed_error()
                attempts.sending()
                sent_at = time.monotonic()
                try:
                    result = await self._send(campaign_id, body, call)
                except asyncio.CancelledError:
                    if attempts.in_flight:
                        attempts.abandoned()
                    raise
            finally:
                self._slots.release(campaign_id, self._slot_grace(result, sent_at))
            if isinstance(result, Operation):
                return result
            delay = self._retry_wait(campaign_id, attempts, result)
            if delay is None or await self._sleep(delay):
                raise attempts.outcome()

    async def _sleep(self, seconds: float) -> bool:
        """Wait; ``True`` when the client was closed meanwhile (the wait ends then)."""
        try:
            async with asyncio.timeout(seconds):
                await self._closing.wait()
        except TimeoutError:
            return False
        return True

    async def _send(self, campaign_id: int, body: CancelReturnRequest, call: str) -> Operation | errors.MarketError:
        sent_at = time.monotonic()
        try:
            async with asyncio.timeout(self._request_seconds):  # the whole request, not each read of it
                answer = await cancel_return.asyncio_detailed(campaign_id, client=self._generated, body=body)
        except TimeoutError:
            error = httpx.ReadTimeout(f"the answer did not complete within {self._request_seconds:g} s")
            return self._lost(error, call)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(campaign_id, unparsed(error), call, sent_at, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, call)
        return self._settle(campaign_id, answer, call, sent_at)
