"""The asynchronous client."""

import asyncio
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

from . import errors
from .base import ClientBase
from .pacing import TaskSlots
from .responses import unparsed
from .results import Operation, Outcome
from .validation import CAMPAIGN_ID_BOUNDS, check_id, check_return_ids


class AsyncReturnsClient(ClientBase[httpx.AsyncBaseTransport]):
    """``ReturnsClient`` for asyncio: at most 4 requests in flight per store across all tasks of its loop."""

    def _open(self) -> None:
        self._slots = TaskSlots()

    async def __aenter__(self) -> Self:
        await self._generated.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._generated.__aexit__(exc_type, exc, traceback)

    async def aclose(self) -> None:
        await self._generated.get_async_httpx_client().aclose()

    async def cancel_return(self, campaign_id: int, return_id: int) -> Operation:
        """Start cancelling a return; raise a ``MarketError`` when the Market does not start it."""
        body, call = self._prepare(campaign_id, return_id)
        attempts = self._policy.begin(call)
        while True:
            async with self._slots.hold(campaign_id):
                await asyncio.sleep(attempts.hold(self._gate.wait(campaign_id)))
                result = await self._send(campaign_id, body, call)
            if isinstance(result, Operation):
                return result
            delay = attempts.retry_delay(result)
            if delay is None:
                raise result
            await asyncio.sleep(delay)

    async def cancel_returns(
        self,
        campaign_id: int,
        return_ids: Iterable[int],
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Cancel many returns of one store, 4 at a time; one ``Outcome`` per id, in the order given.

        Every id is checked before the first request. ``on_outcome`` is called as each outcome arrives; if
        it raises, the cancellations still running are cancelled and the error propagates.
        """
        check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        ids = check_return_ids(return_ids)

        async def numbered(index: int, return_id: int) -> tuple[int, Outcome]:
            return index, await self._outcome(campaign_id, return_id)

        tasks = [asyncio.ensure_future(numbered(index, return_id)) for index, return_id in enumerate(ids)]
        outcomes: dict[int, Outcome] = {}
        try:
            for next_done in asyncio.as_completed(tasks):
                index, outcome = await next_done
                outcomes[index] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [outcomes[index] for index in range(len(ids))]

    async def _outcome(self, campaign_id: int, return_id: int) -> Outcome:
        try:
            return Outcome(return_id, operation=await self.cancel_return(campaign_id, return_id))
        except errors.MarketError as error:
            return Outcome(return_id, error=error)

    async def _send(self, campaign_id: int, body: CancelReturnRequest, call: str) -> Operation | errors.MarketError:
        try:
            answer = await cancel_return.asyncio_detailed(campaign_id, client=self._generated, body=body)
        except generated_errors.UnexpectedResponse as error:
            return self._settle(campaign_id, unparsed(error), call, cause=error)
        except httpx.RequestError as error:
            return self._lost(error, call)
        return self._settle(campaign_id, answer, call)
