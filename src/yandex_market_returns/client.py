"""The synchronous client."""

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from types import TracebackType
from typing import Self

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

from . import errors
from .base import ClientBase
from .pacing import PARALLEL_REQUESTS, ThreadSlots
from .responses import unparsed
from .results import Operation, Outcome
from .validation import CAMPAIGN_ID_BOUNDS, check_id, check_return_ids


class ReturnsClient(ClientBase[httpx.BaseTransport]):
    """Cancels returns, retrying what is worth retrying and pacing itself to the Market's limits.

    Safe to share between threads: one connection pool, and at most 4 requests in flight per store.
    """

    def _open(self) -> None:
        self._slots = ThreadSlots()

    def __enter__(self) -> Self:
        self._generated.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._generated.__exit__(exc_type, exc, traceback)

    def close(self) -> None:
        self._generated.get_httpx_client().close()

    def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        body, call = self._prepare(campaign_id, return_id)
        attempts = self._policy.begin(call)
        while True:
            with self._slots.hold(campaign_id):
                time.sleep(attempts.hold(self._gate.wait(campaign_id)))
                result = self._send(campaign_id, body, call)
            if isinstance(result, Operation):
                return result
            delay = attempts.retry_delay(result)
            if delay is None:
                raise result
            time.sleep(delay)

    def cancel_returns(
        self,
        campaign_id: int,
        return_ids: Iterable[int],
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Cancel many returns of one store, 4 at a time; one ``Outcome`` per id, in the order given.

        Every id is checked before the first request. ``on_outcome`` is called, in this thread, as each
        outcome arrives; if it raises, the returns not yet started are left alone and the error propagates.
        """
        check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        ids = check_return_ids(return_ids)
        outcomes: dict[int, Outcome] = {}
        # Twice the slots: while one worker sleeps before a retry, another keeps its slot busy.
        pool = ThreadPoolExecutor(max_workers=2 * PARALLEL_REQUESTS, thread_name_prefix="yandex-market-returns")
        try:
            futures = {pool.submit(self._outcome, campaign_id, return_id): index for index, return_id in enumerate(ids)}
            for future in as_completed(futures):
                outcomes[futures[future]] = outcome = future.result()
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [outcomes[index] for index in range(len(ids))]

    def _outcome(self, campaign_id: int, return_id: int) -> Outcome:
        try:
            return Outcome(return_id, operation=self.cancel_return(campaign_id, return_id))
        except errors.MarketError as error:
            return Outcome(return_id, error=error)

    def _send(self, campaign_id: int, body: CancelReturnRequest, call: str) -> Operation | errors.MarketError:
        try:
            answer = cancel_return.sync_detailed(campaign_id, client=self._generated, body=body)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(campaign_id, unparsed(error), call, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, call)
        return self._settle(campaign_id, answer, call)
