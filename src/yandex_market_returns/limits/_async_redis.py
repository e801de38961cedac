"""``RedisLimits`` for the tasks of an ``AsyncReturnsClient``: the core's steps (_redis_core.py), awaited on
``redis.asyncio``.

Nothing here blocks the event loop: a slot given up or released is handed back by a task of its own.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster

from .._constants import LISTENER_AGAIN, LISTENER_START, REDIS_TIMEOUT
from .._rate_limit import RateLimit
from ._async_in_process import OneLoop
from ._protocols import AsyncSlots, Key
from ._redis_core import FAILURES, Call, Failure, Owner, Step, Stepping, Store, Waiter, outage, register
from ._redis_gate import SharedGate
from ._redis_scripts import LOCAL

logger = logging.getLogger("yandex_market_returns")


class AsyncRedisGate(SharedGate):
    """``RedisGate`` for an ``AsyncReturnsClient``: Redis is told by a task of its own, and nothing waits."""

    def __init__(self, store: Store, observe: Any) -> None:
        super().__init__(store)
        self._observe = observe  # the OBSERVE script, registered on the async client
        self._background: set[asyncio.Task[None]] = set()

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None:
        lesson = self.lesson(key, rate_limit, sent_at)
        if lesson is not None:
            task = asyncio.get_running_loop().create_task(self._tell(key, *lesson))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _tell(self, key: Key, keys: list[str], arguments: list[Any]) -> None:
        try:
            await self._observe(keys=keys, args=arguments)
        except FAILURES as error:
            self.not_shared(key, error)


class AsyncRedisSlots:
    """``AsyncInProcessSlots`` in Redis, for the event loop of one client (see _redis.py)."""

    def __init__(
        self,
        store: Store,
        client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster,
        gate: AsyncRedisGate,
        local: AsyncSlots | None,
        opened: Callable[[], None],
        given: bool,
        ask: bool,
    ) -> None:
        self._store = store
        self._scripts = register(client)
        self._client = client
        self._owns_client = not given  # made for this client by from_url: closed with it
        # A redis.asyncio.Redis not asked whether it is of one node of a cluster: asked at the first call.
        self._ask_cluster = ask
        self._gate = gate
        self._local = local  # this client's own slots while Redis is away (on_unavailable="local")
        self._opened = opened  # raises if the RedisLimits was closed, or serves another event loop
        self._owner = Owner()  # the waiters of this client: hand-overs are told on its own channel
        self._background: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._heard: asyncio.Event | None = None  # the listener subscribed, or found Redis away, at least once
        self._closed = False
        self._loop = OneLoop()

    async def acquire(self, key: Key, deadline: float | None) -> bool:
        self._loop.running()
        self._opened()
        await self._listen()
        waiter = _AsyncWaiter()
        name = self._owner.waiting(waiter)

        async def wait(seconds: float) -> bool:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await waiter.event.wait()
            waiter.event.clear()
            return False

        taken = False
        try:
            try:
                if self._ask_cluster:
                    await self._refuse_a_cluster_node()
                got = await self._drive(
                    self._store.taking(self._owner, key, name, waiter, deadline, lambda: self._closed), wait
                )
            except FAILURES as error:
                # The take may have run and its reply been lost: its place (or slot) is given back below.
                local = self._unavailable(error)
                if not await local.acquire(key, deadline):
                    return False
                self._owner.leased(key, LOCAL)
                return True
            if got is None:
                return False
            self._gate.granted(key, got[0])
            self._owner.leased(key, name, got[1])
            taken = True
            return True
        finally:
            self._owner.done_waiting(name)
            if not taken:  # gave up or was cancelled: out of the queue, whatever happens to this task now
                self._spawn(self._drive(self._store.giving_back(self._owner, key, name, 0.0), self._sleep))

    def release(self, key: Key, grace: float = 0.0) -> None:
        lease = self._owner.released(key, grace)
        if lease == LOCAL:
            assert self._local is not None
            self._local.release(key, grace)
            return
        self._spawn(self._drive(self._store.giving_back(self._owner, key, lease, grace), self._sleep))

    def close(self) -> None:
        self._closed = True
        self._owner.wake_all()
        for task in (self._listener, self._renewer):
            if task is not None:
                task.cancel()
        if self._local is not None:
            self._local.close()

    async def wait_closed(self) -> None:
        """Until the slots released so far are given back to Redis: an event loop that ends first would
        leave them taken until their leases end, for every process. Then a pool made for this client closes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REDIS_TIMEOUT):
                while self._background:
                    await asyncio.gather(*self._background, return_exceptions=True)
                # The listener closes its subscription's connection as it ends.
                ending = [task for task in (self._listener, self._renewer) if task is not None]
                await asyncio.gather(*ending, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()

    async def _refuse_a_cluster_node(self) -> None:
        """As ``RedisLimits`` does for a redis.Redis at construction, at a call until Redis answers (one that
        does not fails the call's attempt as a take would): no request is sent."""
        assert isinstance(self._client, redis.asyncio.Redis)
        refused = self._store.node_refused(await self._client.info("cluster"))
        self._ask_cluster = False
        if refused is not None:
            raise refused

    async def _drive(self, steps: Generator[Step, Any, Any], wait: Callable[[float], Coroutine[Any, Any, bool]]) -> Any:
        """Run ``steps`` (see _redis_core.py): their calls to Redis awaited, their waits by ``wait``."""
        run = Stepping(steps)
        while (step := run.next()) is not None:
            if isinstance(step, Call):
                try:
                    run.answered(await self._scripts[step.script](keys=step.keys, args=step.args))
                except FAILURES as error:
                    run.failed(error)
            else:
                run.answered(await wait(step.seconds))
        return run.result

    async def _sleep(self, seconds: float) -> bool:
        """A give-back's wait: it goes on while the client closes (wait_closed() waits for it, within a claim)."""
        await asyncio.sleep(seconds)
        return False

    async def _pause(self, seconds: float) -> bool:
        """The renewer's wait: it ends when the client closes."""
        await asyncio.sleep(seconds)
        return self._closed

    def _unavailable(self, error: Failure) -> AsyncSlots:
        if self._local is None or not outage(error):
            raise self._store.unreachable(error) from None
        logger.warning("%s cannot be reached (%s): keeping this client's own limits", self._store.where, error)
        return self._local

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _listen(self) -> None:
        """Start the tasks that hear of hand-overs and renew leases; the first time, wait until the first has
        subscribed (or found Redis away), so that no hand-over goes unheard."""
        loop = asyncio.get_running_loop()
        if self._renewer is None or self._renewer.done():
            self._renewer = loop.create_task(self._drive(self._store.renewing(self._owner), self._pause))
        if self._listener is None or self._listener.done():
            self._heard = self._heard or asyncio.Event()
            self._listener = loop.create_task(self._hand_overs(self._heard))
        assert self._heard is not None
        with contextlib.suppress(TimeoutError):  # a Redis that does not answer: as in _redis.py
            async with asyncio.timeout(LISTENER_START):
                await self._heard.wait()

    async def _hand_overs(self, heard: asyncio.Event) -> None:
        """Tells a waiter of this client that a release handed it a slot."""
        while not self._closed:
            channel = self._store.channels + self._owner.id
            async with _subscription(self._client, channel) as pubsub:
                try:
                    await pubsub.subscribe(channel)
                    async for message in pubsub.listen():
                        if self._owner.heard(message):
                            heard.set()
                except FAILURES:
                    heard.set()
                    await asyncio.sleep(LISTENER_AGAIN)


@contextlib.asynccontextmanager
async def _subscription(client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster, channel: str) -> Any:
    """A subscription to ``channel``, closed as it ends: on a cluster, on the master of the channel's slot by
    a connection of its own (a message published on any node reaches every node)."""
    subscriber, pool = client, None
    try:
        if isinstance(client, redis.asyncio.cluster.RedisCluster):
            await client.initialize()
            node = client.get_node_from_key(channel)
            if node is None:
                raise redis.ConnectionError("no master of the Redis Cluster serves the channel's slot")
            pool = redis.asyncio.ConnectionPool(connection_class=node.connection_class, **node.connection_kwargs)
            subscriber = redis.asyncio.Redis(connection_pool=pool)
        pubsub = subscriber.pubsub()
    except FAILURES:
        await asyncio.sleep(LISTENER_AGAIN)  # the cluster cannot be reached: the listener asks again
        yield _Unheard()
        return
    try:
        yield pubsub
    finally:
        with contextlib.suppress(*FAILURES):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        if pool is not None:
            with contextlib.suppress(*FAILURES):
                await pool.disconnect()


class _Unheard:
    """A subscription that could not be made: its subscribe fails as Redis did."""

    async def subscribe(self, channel: str) -> None:
        raise redis.ConnectionError("the Redis Cluster could not be reached")


class _AsyncWaiter(Waiter):
    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()
