"""``RedisLimits``: the Market's limits shared through Redis by every process and host that uses a store.

- A slot is a lease: a sorted set per store holds each request in flight with the moment its lease ends, by
  Redis's clock. A worker killed while holding one blocks the store until the lease ends, never longer; a
  request that runs longer renews its lease. A slot released with a grace period stays in the set until
  the grace period ends, as in one process.
- Waiters queue in Redis, retries first, then in order of arrival. The script that frees a slot leases it
  to the head of the queue and tells the waiter's owner (this process's threads, or one async client) on
  the owner's own channel; a waiter looks again on its own only when a lease or grace period is due to end
  (a worker that died releases nothing) and every few seconds, in case a message was lost.
- Taking, releasing, renewing and the hourly gate are Lua scripts (``redis_scripts.py``): atomic, with no
  read-modify-write race.
- Keys are ``<prefix>{campaign:<id>}:...``: one store's keys share a hash tag, so one Redis Cluster slot.
"""

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
import urllib.parse
import uuid
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.retry
import redis.sentinel
from redis.backoff import NoBackoff

from .. import errors
from ..pacing import PARALLEL_REQUESTS, Key, ThreadSlots
from . import DEFAULT_PREFIX, InProcessLimits
from .redis_gate import TaskGate, ThreadGate
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
    from .redis_tasks import RedisTaskSlots

logger = logging.getLogger("yandex_market_returns")


class RedisLimits:
    """The Market's limits in Redis, for every client given one on the same Redis and ``prefix``.

    - ``lease``: seconds a slot stays taken by a worker that stops answering (killed, frozen); a running
      request renews it every third of that.
    - ``on_unavailable``: while Redis cannot be reached, ``"fail"`` (the default) fails each call's attempt
      with ``LimitsUnavailableError`` (nothing sent; retried within the call's budget), and ``"local"``
      keeps this process's own limits, with a warning: the store may then see more than 4 requests at once.
    """

    def __init__(
        self,
        client: "redis.Redis | redis.asyncio.Redis",
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = 30.0,
        on_unavailable: Literal["fail", "local"] = "fail",
    ) -> None:
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix:
            raise ValueError(f"prefix must be a string without braces (they make Redis Cluster hash tags): {prefix!r}")
        if not isinstance(lease, int | float) or not 1 <= lease <= 3600:
            raise ValueError(f"lease must be seconds from 1 to 3600, not {lease!r}")
        if on_unavailable not in ("fail", "local"):
            raise ValueError(f"on_unavailable must be 'fail' or 'local', not {on_unavailable!r}")
        # While Redis cannot be reached: this process's own limits ("local"), or none, and calls fail.
        self._local = InProcessLimits() if on_unavailable == "local" else None
        if not isinstance(client, redis.Redis | redis.asyncio.Redis):
            cluster = "a Redis Cluster is not supported yet: " if "Cluster" in type(client).__name__ else ""
            raise TypeError(
                f"client must be a redis.Redis or a redis.asyncio.Redis, not {type(client).__name__} ({cluster}give "
                "a standalone Redis, or the master of a Sentinel)"
            )
        _tried_once(client)
        settings = client.connection_pool.connection_kwargs
        self._where = settings.get("path") or f"{settings.get('host')}:{settings.get('port')}"  # no password
        # A redis.Redis serves ReturnsClient, a redis.asyncio.Redis AsyncReturnsClient; from_url makes both.
        self._async_redis = client if isinstance(client, redis.asyncio.Redis) else None
        self._async_loop: asyncio.AbstractEventLoop | None = None  # the one a given async client serves
        # from_url: each AsyncReturnsClient gets a pool of its own (a closure: no repr shows the URL's password)
        self._new_async_redis: Callable[[], redis.asyncio.Redis] | None = None
        self._serves_threads = isinstance(client, redis.Redis)
        sync = self._redis = client if isinstance(client, redis.Redis) else redis.Redis()  # then never used
        self._prefix = prefix
        self._lease_ms = int(lease * 1000)
        # A hand-over is told on its owner's channel only: this process's threads, or one client's tasks.
        self._channels = f"{prefix}handed-over:"
        self._take = sync.register_script(TAKE)
        self._confirm = sync.register_script(CONFIRM)
        self._release = sync.register_script(RELEASE)
        self._renew = sync.register_script(RENEW)
        self._closed = False
        self._serving_threads = False  # a ReturnsClient was opened: its threads run (again, in a forked child)
        if self._serves_threads:
            self._refuse_a_cluster_node()
        self._start()
        # A child forked with it (gunicorn --preload, Celery prefork) has none of its threads, and waiters
        # or locks held by the parent's threads at the fork: it starts afresh, before any thread runs there.
        os.register_at_fork(after_in_child=functools.partial(_start_in_child, weakref.ref(self)))

    def _start(self) -> None:
        """This process's own state: at first, and again in a child forked with it (which has no threads)."""
        self._owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}  # this process's, by the id a hand-over names
        # Held by this process, renewed by one thread: the lock guards the lists, never a call to Redis.
        self._leases_lock = threading.Lock()
        self._leases: dict[Key, list[str]] = {}
        self._epochs: dict[Key, str] = {}  # the token of each store's keys in Redis, as last renewed
        self._listener: threading.Thread | None = None
        self._heard = threading.Event()  # the listener subscribed, or found Redis away, at least once
        self._renewer: threading.Thread | None = None
        self._closing = threading.Event()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisLimits":
        """For clients of both kinds: a ``redis://`` (or ``rediss://``, ``unix://``) URL, or a Sentinel-managed
        master's, ``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`` (the password is
        the master's; the sentinels are asked without one). A Redis that stops answering fails a call's
        attempt after 5 s, unless the URL sets ``socket_timeout`` and ``socket_connect_timeout`` itself."""
        timeouts: dict[str, Any] = {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT}
        if url.startswith(_SENTINEL):
            sentinels, service, settings = _sentinel_url(url)
            asked = {"sentinel_kwargs": timeouts, **timeouts}
            watched = redis.sentinel.Sentinel(sentinels, **asked)  # type: ignore[no-untyped-call]
            limits = cls(watched.master_for(service, **settings), **options)  # type: ignore[no-untyped-call]
            limits._where = f"the master {service!r} of the sentinels {', '.join(f'{h}:{p}' for h, p in sentinels)}"

            def new_async_redis() -> redis.asyncio.Redis:
                watching = redis.asyncio.sentinel.Sentinel(sentinels, **asked)  # type: ignore[no-untyped-call]
                master: redis.asyncio.Redis = watching.master_for(service, **settings)
                return _tried_once(master)

            limits._new_async_redis = new_async_redis
            return limits
        limits = cls(redis.Redis.from_url(url, **timeouts), **options)
        limits._new_async_redis = lambda: _tried_once(redis.asyncio.Redis.from_url(url, **timeouts))
        return limits

    def _refuse_a_cluster_node(self) -> None:
        """A node of a Redis Cluster owns some stores' keys and answers MOVED for the others: refused here, not
        half working. A Redis that cannot be asked now is taken as it comes (a node's MOVED is then refused at
        the first call, naming the cluster)."""
        try:
            cluster = self._redis.info("cluster").get("cluster_enabled")
        except redis.RedisError:
            return
        if cluster in (1, "1"):
            self._redis.close()
            raise ValueError(
                f"Redis at {self._where} is a node of a Redis Cluster, which RedisLimits does not support yet: it "
                "would serve only the stores whose keys that node owns; give a standalone Redis, or the master of "
                "a Sentinel"
            )

    def ping(self) -> None:
        """Whether Redis answers and runs the limits' scripts under the prefix (a health check's question):
        ``LimitsUnavailableError`` when it does not, or refuses, as a call's attempt would fail."""
        if not self._serves_threads:
            raise TypeError("ping() asks the redis.Redis this RedisLimits was given, not a redis.asyncio.Redis")
        try:  # a release for a store no one uses: the scripts' permissions and a master's, nothing written
            self._give_back(("campaign", 0), "-", 0.0)
        except redis.RedisError as error:
            raise self._unreachable(error) from None

    def close(self) -> None:
        """Stop listening and close the connections to Redis; for the owner, once its clients are closed.
        Clients opened after it refuse to (``ClientClosedError``)."""
        self._closed = True
        self._closing.set()
        with self._lock:
            threads = [thread for thread in (self._listener, self._renewer) if thread is not None]
        for thread in threads:
            thread.join(timeout=5)
        self._redis.close()

    async def aclose(self) -> None:
        """``close`` for an ``AsyncReturnsClient``'s owner, without blocking the event loop."""
        await asyncio.to_thread(self.close)
        if self._async_redis is not None:
            await self._async_redis.aclose()

    def key(self, key: Key, part: str) -> str:
        kind, number = key
        return f"{self._prefix}{{{kind}:{number}}}:{part}"

    def for_threads(self) -> tuple["_ThreadSlots", ThreadGate]:
        if not self._serves_threads:
            raise TypeError(
                "this RedisLimits was given a redis.asyncio.Redis, which serves AsyncReturnsClient: for a "
                "ReturnsClient give it a redis.Redis, or make it with RedisLimits.from_url"
            )
        self._serving_threads = True
        self._check_open()
        gate = ThreadGate(self, self._redis)
        return _ThreadSlots(self, gate), gate

    def for_tasks(self) -> tuple["RedisTaskSlots", TaskGate]:
        from .redis_tasks import RedisTaskSlots

        self._check_open()
        if self._new_async_redis is not None:  # its own pool: an event loop of its own, as every AsyncReturnsClient
            client = self._new_async_redis()
            gate = TaskGate(self, client)
            return RedisTaskSlots(self, client, gate, owns_client=True), gate
        if self._async_redis is None:
            raise TypeError(
                "this RedisLimits was given a redis.Redis, which serves ReturnsClient: for an AsyncReturnsClient "
                "give it a redis.asyncio.Redis, or make it with RedisLimits.from_url"
            )
        gate = TaskGate(self, self._async_redis)
        return RedisTaskSlots(self, self._async_redis, gate, owns_client=False), gate

    def _check_open(self) -> None:
        if self._closed:
            raise errors.ClientClosedError("this RedisLimits is closed: make another for new clients")
        if self._serving_threads and self._listener is None:  # at first, and in a forked child
            self._listen()

    def _check_loop(self) -> None:
        """A redis.asyncio.Redis serves one event loop: another's would fail inside redis-py, mid-batch."""
        loop = asyncio.get_running_loop()
        if self._async_loop is None or self._async_loop.is_closed():
            self._async_loop = loop
        elif self._async_loop is not loop:
            raise RuntimeError(
                "this RedisLimits was given a redis.asyncio.Redis that serves another event loop: give each "
                "event loop its own, or make the RedisLimits with RedisLimits.from_url"
            )

    def _listen(self) -> None:
        """Start the threads that hear of hand-overs and renew leases, once; the first waits until its
        subscription is confirmed (or Redis found away), so that no hand-over goes unheard."""
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(target=self._hear, name="RedisLimits hand-overs", daemon=True)
                self._listener.start()
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_leases, name="RedisLimits leases", daemon=True)
                self._renewer.start()
        self._heard.wait(1.0)  # a Redis that does not answer: the take that follows fails as it does

    def _hear(self) -> None:
        """The hand-overs told on this process's channel. After Redis was away, every waiter looks again
        at once: a hand-over told meanwhile was not heard."""
        while not self._closing.is_set():
            pubsub = self._redis.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._channels + self._owner)
                while not self._closing.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._heard.set()
                        self._wake_all()
                    elif message["type"] == "message":
                        name, _, told = text(message["data"]).partition(" ")
                        self._handed(name, told)
            except redis.RedisError:
                self._heard.set()
                self._closing.wait(0.5)
            finally:
                with contextlib.suppress(redis.RedisError):
                    pubsub.close()

    def _handed(self, name: str, told: str) -> None:
        """A release handed the waiter ``name`` a slot (told as its message, or by the releaser's answer)."""
        waiter = self._waiters.get(name)
        if waiter is not None:
            waiter.handed(told)

    def _waiting(self, name: str) -> "_Waiter":
        with self._lock:
            waiter = self._waiters[name] = _Waiter()
        return waiter

    def _done_waiting(self, waiter: str) -> None:
        with self._lock:
            del self._waiters[waiter]

    def _wake_all(self) -> None:
        with self._lock:
            waiting = list(self._waiters.values())
        for waiter in waiting:
            waiter.wake()

    def _unreachable(self, error: redis.RedisError) -> errors.LimitsUnavailableError:
        """What a call's attempt fails with: an outage (retried), or a refusal no retry mends (ACLs, a key of
        another type under the prefix, a password, a Cluster node that does not own the store)."""
        if _outage(error):
            return errors.LimitsUnavailableError(
                f"the shared limits in Redis at {self._where} cannot be reached ({type(error).__name__}): "
                "the request was not sent"
            )
        if isinstance(error, redis.exceptions.AskError):  # MOVED too: a node of a Redis Cluster
            why = "it is a node of a Redis Cluster, which RedisLimits does not support yet"
        else:
            why = "see the README's 'Running many workers' for what Redis must allow"
        refused = errors.LimitsUnavailableError(
            f"Redis at {self._where} refused the shared limits' commands ({type(error).__name__}: {error}): "
            f"the request was not sent; {why}"
        )
        refused.retryable = False
        return refused

    def _unavailable(self, error: redis.RedisError) -> ThreadSlots:
        """This process's own slots while Redis is away, or the error a call's attempt fails with."""
        if self._local is None or not _outage(error):
            raise self._unreachable(error) from None
        logger.warning("%s cannot be reached (%s): keeping this process's own limits", self._where, error)
        return self._local.for_threads()[0]

    def _confirm_keys(self, key: Key) -> list[str]:
        return [self.key(key, "slots"), self.key(key, "epoch")]

    def _slot_keys(self, key: Key) -> list[str]:
        return [self.key(key, part) for part in ("slots", "queue", "alive", "hold", "epoch")]

    def _slot_args(self, lease: str) -> list[str | int]:
        return [lease, self._lease_ms, PARALLEL_REQUESTS, self._channels]

    def _give_back(self, key: Key, lease: str, grace: float) -> None:
        """Release a slot (or a place in the queue), and hand what frees to the next waiters; a slot kept
        for a grace period is handed on when it ends, by this process (else by the waiters' own look)."""
        told, *handed = self._release(keys=self._slot_keys(key), args=[*self._slot_args(lease), int(grace * 1000)])
        for name in handed:  # this process's own go at once; the message comes too, and finds them gone
            self._handed(text(name), text(told))
        if grace > 0:
            timer = threading.Timer(grace, self._grace_ended, (key,))
            timer.daemon = True
            timer.start()

    def _leave(self, key: Key, place: str, grace: float = 0.0) -> None:
        """Release a slot (with its grace period), or give up a place in the queue or a slot taken with a reply
        that was lost: by a thread of its own, so that a Redis that does not answer holds up no call, and tried
        again until a claim would end (a place ends within QUEUED_MS, a claimed slot within CLAIM_MS, a
        leased one when its lease ends: said then)."""

        def leave() -> None:
            deadline = time.monotonic() + CLAIM_MS / 1000
            while True:
                try:
                    self._give_back(key, place, grace)
                    return
                except (redis.RedisError, ValueError) as error:  # ValueError: this RedisLimits was closed meanwhile
                    if self._closing.wait(0.2) or time.monotonic() > deadline:
                        logger.warning("%s: a slot of %s is freed when its lease ends: %s", self._where, key, error)
                        return

        threading.Thread(target=leave, name="RedisLimits give-back", daemon=True).start()

    def _grace_ended(self, key: Key) -> None:
        with contextlib.suppress(redis.RedisError):  # the waiters look again on their own
            self._give_back(key, "-", 0.0)  # no such lease: it only hands over what is free

    def _renew_leases(self) -> None:
        """Often enough for a slot just handed over (CLAIM_MS) to become a lease before its claim ends;
        after an error, every 0.2 s until Redis answers."""
        period = min(self._lease_ms, CLAIM_MS) / 3000
        while not self._closing.wait(period):
            try:
                with self._leases_lock:
                    held = {key: [lease for lease in ids if lease != LOCAL] for key, ids in self._leases.items()}
                for key, ids in held.items():
                    if ids:
                        self._epochs[key] = text(self._renew_one(key, ids))
                period = min(self._lease_ms, CLAIM_MS) / 3000
            except redis.RedisError:
                period = 0.2

    def _renew_one(self, key: Key, ids: list[str]) -> Any:
        args: list[str | int] = [self._lease_ms, self._epochs.get(key, ""), uuid.uuid4().hex, *ids]
        return self._renew(keys=[self.key(key, "slots"), self.key(key, "epoch")], args=args)


class _Waiter(Waiter):
    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()


class _ThreadSlots:
    """``ThreadSlots`` in Redis (see the module's docstring)."""

    def __init__(self, limits: RedisLimits, gate: ThreadGate) -> None:
        self._limits = limits
        self._gate = gate

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool:
        limits = self._limits
        limits._check_open()
        me = name = f"{limits._owner}.{uuid.uuid4().hex}"
        waiter = limits._waiting(name)
        # Retries (the call's clock runs) before first attempts, each in order of arrival.
        retry = "1" if deadline is not None else "0"
        keys, args = limits._slot_keys(key), [*limits._slot_args(me), retry, QUEUED_MS, uuid.uuid4().hex]
        try:
            while not stop.is_set():
                # A hand-over names this waiter: the slot is already its own (the release leased it).
                try:
                    answer: list[Any] = [-1, ""] if waiter.granted else limits._take(keys=keys, args=args)
                    # A slot taken is leased before anything is sent in it; one whose claim ended first (a
                    # stall) is asked for again.
                    if int(answer[0]) < 0 and not limits._confirm(
                        keys=limits._confirm_keys(key), args=[me, limits._lease_ms]
                    ):
                        waiter.granted = False
                        continue
                except redis.RedisError as error:
                    # The take may have run and its reply been lost: its place (or slot) is given back below.
                    local = limits._unavailable(error)
                    if local.acquire(key, stop, deadline):
                        with limits._leases_lock:
                            limits._leases.setdefault(key, []).append(LOCAL)
                        return True
                    return False
                wait_ms = int(answer[0])
                if wait_ms < 0:
                    self._gate.granted(key, waiter.gate(answer))
                    with limits._leases_lock:
                        limits._leases.setdefault(key, []).append(me)
                    me = ""
                    return True
                timeout = look_again_in(wait_ms, deadline)
                if timeout is None:
                    return False
                waiter.event.wait(timeout)
                waiter.event.clear()
            return False
        finally:
            limits._done_waiting(name)
            if me:  # gave up: out of the queue, and a slot handed over meanwhile goes to the next
                limits._leave(key, me)

    def release(self, key: Key, grace: float = 0.0) -> None:
        limits = self._limits
        with limits._leases_lock:
            lease = limits._leases[key].pop()
        if lease == LOCAL:
            assert limits._local is not None
            limits._local.for_threads()[0].release(key, grace)
            return
        limits._leave(key, lease, grace)

    def wake(self) -> None:
        self._limits._wake_all()
        if self._limits._local is not None:
            self._limits._local.for_threads()[0].wake()


_SENTINEL = "redis+sentinel://"


def _sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """The sentinels, the service and the master's settings (db, username, password) of a sentinel URL; a
    ``ValueError`` that does not repeat the URL (it may hold a password)."""
    parts = urllib.parse.urlsplit(url)
    names = [name for name in parts.path.split("/") if name]
    if not 1 <= len(names) <= 2 or (len(names) == 2 and not names[1].isdigit()):
        raise ValueError(f"a {_SENTINEL} URL ends with /service or /service/db (the master's name, the database)")
    sentinels = []
    for place in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = place.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a {_SENTINEL} URL names each sentinel as host:port, separated by commas")
        sentinels.append((host, int(port)))
    settings: dict[str, Any] = {"db": int(names[1]) if len(names) == 2 else 0}
    if parts.username:
        settings["username"] = urllib.parse.unquote(parts.username)
    if parts.password:
        settings["password"] = urllib.parse.unquote(parts.password)
    return sentinels, names[0], settings


_Client = TypeVar("_Client", bound="redis.Redis | redis.asyncio.Redis")


def _tried_once(client: _Client) -> _Client:
    """``client``, each of its commands tried once and within ``TIMEOUT`` unless it says less: redis-py
    retries a timed-out command 3 to 10 times by default, and waits for an answer for ever; a call's
    ``retry_budget``, and a stop, would wait for all of that. The call retries itself."""
    if isinstance(client, redis.asyncio.Redis):
        client.set_retry(redis.asyncio.retry.Retry(NoBackoff(), 0))
    else:
        client.set_retry(redis.retry.Retry(NoBackoff(), 0))
    settings = client.connection_pool.connection_kwargs
    for name in ("socket_timeout", "socket_connect_timeout"):
        if settings.get(name) is None:
            settings[name] = TIMEOUT
    return client


def _start_in_child(alive: "weakref.ref[RedisLimits]") -> None:
    limits = alive()
    if limits is not None:
        limits._start()


# Redis away for now, as during a failover: a node that has become a replica (READONLY), a master whose
# replication link is down (MASTERDOWN), a node loading its data (LOADING), a cluster resharding or without
# a majority (TRYAGAIN, CLUSTERDOWN).
_FAILING_OVER = (
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,  # MASTERDOWN too: a MasterDownError is one
)


# Answers of a Redis that cannot write for now, which redis-py leaves as a plain ResponseError: too few
# replicas (NOREPLICAS, a master's guard during a failover), a long script running (BUSY), a failed save
# (MISCONF).
_BUSY_FOR_NOW = ("NOREPLICAS", "BUSY", "MISCONF")


def _outage(error: redis.RedisError) -> bool:
    """Redis away (refused, reset, timed out, loading, failing over, out of memory, busy), not a refusal that
    no retry mends (a password, an ACL, a key of another type)."""
    refused = (redis.AuthenticationError, redis.exceptions.AuthorizationError, redis.exceptions.NoPermissionError)
    if isinstance(error, refused):
        return False
    if isinstance(
        error, (redis.ConnectionError, redis.TimeoutError, redis.exceptions.OutOfMemoryError, *_FAILING_OVER)
    ):
        return True
    return isinstance(error, redis.ResponseError) and str(error).split(" ", 1)[0] in _BUSY_FOR_NOW
