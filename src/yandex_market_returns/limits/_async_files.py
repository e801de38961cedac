"""``FileSlots`` for the tasks of an ``AsyncReturnsClient``, apart so that a sync client never imports asyncio."""

import asyncio

from .._constants import FILE_LOOK_EVERY
from ._files import SlotFiles
from ._in_process import deadline_passed
from ._protocols import AsyncSlots, Key


class AsyncFileSlots:
    def __init__(self, own: AsyncSlots, files: SlotFiles) -> None:
        self._own = own
        self._files = files
        self._closed = False

    async def acquire(self, key: Key, deadline: float | None) -> bool:
        if not await self._own.acquire(key, deadline):
            return False
        taken = False
        try:
            while not (taken := self._files.take(key)):
                if deadline_passed(deadline) or self._closed:
                    return False
                await asyncio.sleep(FILE_LOOK_EVERY)
            return True
        finally:
            if not taken:  # the deadline, the close, or a cancellation
                self._own.release(key)

    def release(self, key: Key, grace: float = 0.0) -> None:
        self._files.give_back(key, grace)
        self._own.release(key, grace)

    def close(self) -> None:
        self._closed = True
        self._own.close()

    async def wait_closed(self) -> None:
        await self._own.wait_closed()
