"""``RedisLimits`` for the tasks of an ``AsyncReturnsClient``: the same scripts, awaited on ``redis.asyncio``.

Nothing here blocks the event loop: a slot given up or released is handed back by a task of its own.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio

from ..pacing import Key
from . import AsyncSlots
from .redis_gate import TaskGate
from .redis_limits import _outage
from .redis_scripts import (
    CLAIM_MS,
    CONFIRM,
    LOCAL,
    QUEUED_MS,
    RELEASE,
    RENEW,
    TAKE,
    TIMEOUT,
    Waiter,
    look_again_in,
    text,
)

if TYPE_CHECKING:
    from .redis_limits import RedisLimits

logger = logging.getLogger("yandex_market_returns")


class RedisTaskSlots:
    """``TaskSlots`` in Redis, for the event loop of one client (see redis_limits.py)."""

    def __init__(self, limits: "RedisLimits", client: redis.asyncio.Redis, gate: TaskGate, owns_client: bool) -> None:
        self._limits = limits
        self._take = client.register_script(TAKE)
        self._confirm = client.register_script(CONFIRM)
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)
        self._client = client
        self._owns_client = owns_client  # made for this client by from_url: closed with it
        self._gate = gate
        self._local = None if limits._local is None else limits._local.for_tasks()[0]
        self._waiters: dict[str, _TaskWaiter] = {}
        self._owner = uuid.uuid4().hex  # the waiters of this client: hand-overs are told on its own channel
        self._leases: dict[Key, list[str]] = {}
        self._epochs: dict[Key, str] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._heard: asyncio.Event | None = None  # the listener subscribed, or found Redis away, at least once
        self._closed = False

    async def acquire(self, key: Key, deadline: float | None) -> bool:
        limits = self._limits
        limits._check_open()
        if not self._owns_client:
            limits._check_loop()
        await self._listen()
        me = name = f"{self._owner}.{uuid.uuid4().hex}"
        retry = "1" if deadline is not None else "0"
        keys, args = limits._slot_keys(key), [*limits._slot_args(me), retry, QUEUED_MS, uuid.uuid4().hex]
        waiter = self._waiters[name] = _TaskWaiter()
        try:
            while not self._closed:
                try:
                    answer: list[Any] = [-1, ""] if waiter.granted else await self._take(keys=keys, args=args)
                    # A slot taken is leased before anything is sent in it; one whose claim ended first (a
                    # stall) is asked for again.
                    if int(answer[0]) < 0 and not await self._confirm(
                        keys=limits._confirm_keys(key), args=[me, limits._lease_ms]
                    ):
                        waiter.granted = False
                        continue
                except redis.RedisError as error:
                    # The take may have run and its reply been lost: its place (or slot) is given back below.
                    local = self._unavailable(error)
                    if await local.acquire(key, deadline):
                        self._leases.setdefault(key, []).append(LOCAL)
                        return True
                    return False
                wait_ms = int(answer[0])
                if wait_ms < 0:
                    self._gate.granted(key, waiter.gate(answer))
                    self._leases.setdefault(key, []).append(me)
                    me = ""
                    return True
                timeout = look_again_in(wait_ms, deadline)
                if timeout is None:
                    return False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await waiter.event.wait()
                waiter.event.clear()
            return False
        finally:
            del self._waiters[name]
            if me:  # gave up or was cancelled: out of the queue, whatever happens to this task now
                self._spawn(self._leave(key, me, 0.0))

    def release(self, key: Key, grace: float = 0.0) -> None:
        lease = self._leases[key].pop()
        if lease == LOCAL:
            assert self._local is not None
            self._local.release(key, grace)
            return
        self._spawn(self._leave(key, lease, grace))

    def close(self) -> None:
        self._closed = True
        for waiter in self._waiters.values():
            waiter.wake()
        for task in (self._listener, self._renewer):
            if task is not None:
                task.cancel()
        if self._local is not None:
            self._local.close()

    async def wait_closed(self) -> None:
        """Until the slots released so far are given back to Redis: an event loop that ends first would
        leave them taken until their leases end, for every process. Then a pool made for this client closes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TIMEOUT):
                while self._background:
                    await asyncio.gather(*self._background, return_exceptions=True)
                # The listener closes its subscription's connection as it ends.
                ending = [task for task in (self._listener, self._renewer) if task is not None]
                await asyncio.gather(*ending, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()

    async def _leave(self, key: Key, lease: str, grace: float) -> None:
        """Release a slot, or give up a place (or a slot taken with a reply that was lost), tried again until
        the claim would end anyway."""
        keys, args = self._limits._slot_keys(key), [*self._limits._slot_args(lease), int(grace * 1000)]
        deadline = time.monotonic() + CLAIM_MS / 1000
        while True:
            try:
                told, *handed = await self._release(keys=keys, args=args)
                break
            except redis.RedisError as error:
                if time.monotonic() > deadline:  # closing too: wait_closed() waits for this
                    logger.warning("%s: a slot is freed when its lease ends: %s", self._limits._where, error)
                    return
                await asyncio.sleep(0.2)
        for name in handed:
            self._handed(text(name), text(told))
        if grace > 0:  # a slot kept for a grace period is handed on when it ends
            await asyncio.sleep(grace)
            await self._leave(key, "-", 0.0)

    async def _renew_leases(self) -> None:
        """As the thread of redis_limits.py does, for this client's leases."""
        period = min(self._limits._lease_ms, CLAIM_MS) / 3000
        while not self._closed:
            await asyncio.sleep(period)
            try:
                held = {key: [lease for lease in ids if lease != LOCAL] for key, ids in self._leases.items()}
                for key, ids in held.items():
                    if ids:
                        self._epochs[key] = text(await self._renew_one(key, ids))
                period = min(self._limits._lease_ms, CLAIM_MS) / 3000
            except redis.RedisError:
                period = 0.2

    async def _renew_one(self, key: Key, ids: list[str]) -> Any:
        args: list[str | int] = [self._limits._lease_ms, self._epochs.get(key, ""), uuid.uuid4().hex, *ids]
        return await self._renew(keys=[self._limits.key(key, "slots"), self._limits.key(key, "epoch")], args=args)

    def _handed(self, name: str, told: str) -> None:
        waiter = self._waiters.get(name)
        if waiter is not None:
            waiter.handed(told)

    def _unavailable(self, error: redis.RedisError) -> AsyncSlots:
        if self._local is None or not _outage(error):
            raise self._limits._unreachable(error) from None
        logger.warning("%s cannot be reached (%s): keeping this client's own limits", self._limits._where, error)
        return self._local

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _listen(self) -> None:
        """Start the tasks that hear of hand-overs and renew leases; the first time, wait until the first has
        subscribed (or found Redis away), so that no hand-over goes unheard."""
        loop = asyncio.get_running_loop()
        if self._renewer is None or self._renewer.done():
            self._renewer = loop.create_task(self._renew_leases())
        if self._listener is None or self._listener.done():
            self._heard = self._heard or asyncio.Event()
            self._listener = loop.create_task(self._hand_overs(self._heard))
        assert self._heard is not None
        with contextlib.suppress(TimeoutError):  # a Redis that does not answer: as in redis_limits.py
            async with asyncio.timeout(1.0):
                await self._heard.wait()

    async def _hand_overs(self, heard: asyncio.Event) -> None:
        """Tells a waiter of this client that a release handed it a slot. After Redis was away, every waiter
        looks again at once: a hand-over told meanwhile was not heard."""
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._limits._channels + self._owner)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        heard.set()
                        for waiter in list(self._waiters.values()):
                            waiter.wake()
                    elif message["type"] == "message":
                        name, _, told = text(message["data"]).partition(" ")
                        self._handed(name, told)
            except redis.RedisError:
                heard.set()
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(redis.RedisError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]


class _TaskWaiter(Waiter):
    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()
