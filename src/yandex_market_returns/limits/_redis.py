"""``RedisLimits``: the Market's limits shared through Redis by every process and host that uses a store.

- A slot is a lease: a sorted set per store holds each request in flight with the moment its lease ends, by
  Redis's clock. A worker killed while holding one blocks the store until the lease ends, never longer; a
  request that runs longer renews its lease. A slot released with a grace period stays in the set until
  the grace period ends, as in one process.
- Waiters queue in Redis, retries first, then in order of arrival. The script that frees a slot leases it
  to the head of the queue and tells the waiter's owner (this process's threads, or one async client) on
  the owner's own channel; a waiter looks again on its own only when a lease or grace period is due to end
  (a worker that died releases nothing) and every few seconds, in case a message was lost.
- Taking, releasing, renewing and the hourly gate are Lua scripts (``_redis_scripts.py``): atomic, with no
  read-modify-write race.
- Keys are ``<prefix>{campaign:<id>}:...``: one store's keys share a hash tag, so one Redis Cluster slot.
"""

import asyncio
import contextlib
import functools
import logging
import os
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Generator
from typing import Any, Literal, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.cluster
import redis.retry
import redis.sentinel
from redis.backoff import NoBackoff

from .. import errors
from .._constants import (
    CLAIM_MS,
    DEFAULT_PREFIX,
    LEASE,
    LISTENER_AGAIN,
    LISTENER_LOOK,
    LISTENER_START,
    LONGEST_LEASE,
    REDIS_TIMEOUT,
)
from .._rate_limit import RateLimit
from ._in_process import InProcessLimits, InProcessSlots
from ._protocols import AsyncSlots, Gate, Key
from ._redis_core import (
    FAILURES,
    Call,
    Failure,
    Owner,
    Step,
    Stepping,
    Store,
    Waiter,
    cluster_node,
    outage,
    register,
)
from ._redis_gate import SharedGate
from ._redis_scripts import LOCAL

logger = logging.getLogger("yandex_market_returns")

_SyncRedis = redis.Redis | redis.cluster.RedisCluster
_AsyncRedis = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster


class RedisGate(SharedGate):
    """``HourlyGate`` in Redis for a ``ReturnsClient``: one process's answer that the hour is spent holds
    every other process's next request."""

    def __init__(self, store: Store, observe: Any) -> None:
        super().__init__(store)
        self._observe = observe  # the OBSERVE script, registered on the sync client

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None:
        lesson = self.lesson(key, rate_limit, sent_at)
        if lesson is not None:
            try:
                self._observe(keys=lesson[0], args=lesson[1])
            except FAILURES as error:
                self.not_shared(key, error)


class RedisLimits:
    """The Market's limits in Redis, for every client given one on the same Redis and ``prefix``.

    - ``client``: a ``redis.Redis`` (for ``ReturnsClient``), a ``redis.asyncio.Redis`` (for
      ``AsyncReturnsClient``), their Redis Cluster kinds, or a Sentinel's ``master_for``; ``from_url`` makes
      one for both kinds of client.
    - ``lease``: seconds a slot stays taken by a worker that stops answering (killed, frozen); a running
      request renews it every third of that.
    - ``on_unavailable``: while Redis cannot be reached, ``"fail"`` (the default) fails each call's attempt
      with ``LimitsUnavailableError`` (nothing sent; retried within the call's budget), and ``"local"``
      keeps this process's own limits, with a warning: the store may then see more than 4 requests at once.
    """

    def __init__(
        self,
        client: "_SyncRedis | _AsyncRedis",
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = LEASE,
        on_unavailable: Literal["fail", "local"] = "fail",
    ) -> None:
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix:
            raise ValueError(f"prefix must be a string without braces (they make Redis Cluster hash tags): {prefix!r}")
        if not isinstance(lease, int | float) or not 1 <= lease <= LONGEST_LEASE:
            raise ValueError(f"lease must be seconds from 1 to {LONGEST_LEASE:g}, not {lease!r}")
        if on_unavailable not in ("fail", "local"):
            raise ValueError(f"on_unavailable must be 'fail' or 'local', not {on_unavailable!r}")
        # While Redis cannot be reached: this process's own limits ("local"), or none, and calls fail.
        self._local = InProcessLimits() if on_unavailable == "local" else None
        if not isinstance(client, _SyncRedis | _AsyncRedis):
            raise TypeError(
                f"client must be a redis.Redis or a redis.asyncio.Redis (or their Redis Cluster kinds), not "
                f"{type(client).__name__}"
            )
        _tried_once(client)
        self._store = Store(prefix, int(lease * 1000), _where(client))
        # A redis.Redis serves ReturnsClient, a redis.asyncio.Redis AsyncReturnsClient; from_url makes both.
        self._async_redis = client if isinstance(client, _AsyncRedis) else None
        self._async_loop: asyncio.AbstractEventLoop | None = None  # the one a given async client serves
        # from_url: each AsyncReturnsClient gets a pool of its own (a closure: no repr shows the URL's password)
        self._new_async_redis: Callable[[], _AsyncRedis] | None = None
        self._serves_threads = isinstance(client, _SyncRedis)
        self._redis: _SyncRedis = client if isinstance(client, _SyncRedis) else redis.Redis()  # then never used
        self._scripts = register(self._redis)
        self._closed = False
        self._serving_threads = False  # a ReturnsClient was opened: its threads run (again, in a forked child)
        self._undecided = False  # a redis.Redis that could not be asked whether it is a cluster's node
        if isinstance(client, redis.Redis):
            self._refuse_a_cluster_node()
        self._start()
        # A child forked with it (gunicorn --preload, Celery prefork) has none of its threads, and waiters
        # or locks held by the parent's threads at the fork: it starts afresh, before any thread runs there.
        os.register_at_fork(after_in_child=functools.partial(_start_in_child, weakref.ref(self)))

    def _start(self) -> None:
        """This process's own state: at first, and again in a child forked with it (which has no threads)."""
        self._owner = Owner()
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._heard = threading.Event()  # the listener subscribed, or found Redis away, at least once
        self._renewer: threading.Thread | None = None
        self._closing = threading.Event()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisLimits":
        """For clients of both kinds: a ``redis://`` (or ``rediss://``, ``unix://``) URL of a Redis or of any
        node of a Redis Cluster (found by asking it), or a Sentinel-managed master's,
        ``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`` (the password is the
        master's; the sentinels are asked without one; no query). A Redis that stops answering fails a call's attempt
        after 5 s, unless the URL sets ``socket_timeout`` and ``socket_connect_timeout`` itself."""
        timeouts: dict[str, Any] = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
        if url.startswith(_SENTINEL):
            sentinels, service, settings = _sentinel_url(url)
            asked = {"sentinel_kwargs": timeouts, **timeouts}
            watched = redis.sentinel.Sentinel(sentinels, **asked)  # type: ignore[no-untyped-call]
            limits = cls(watched.master_for(service, **settings), **options)  # type: ignore[no-untyped-call]
            limits._store.where = (
                f"the master {service!r} of the sentinels {', '.join(f'{h}:{p}' for h, p in sentinels)}"
            )

            def new_async_redis() -> _AsyncRedis:
                watching = redis.asyncio.sentinel.Sentinel(sentinels, **asked)  # type: ignore[no-untyped-call]
                master: redis.asyncio.Redis = watching.master_for(service, **settings)
                return _tried_once(master)

            limits._new_async_redis = new_async_redis
            return limits
        standalone = _tried_once(redis.Redis.from_url(url, **timeouts))
        if _asked_whether_a_cluster_node(standalone):
            standalone.close()
            try:
                cluster = redis.cluster.RedisCluster.from_url(url, **timeouts)
            except FAILURES as error:  # redis-py maps the cluster as it is made
                raise ValueError(
                    f"the Redis Cluster of {_where(standalone)} could not be mapped ({type(error).__name__}: "
                    f"{error}); redis-py's cluster client asks COMMAND and CLUSTER SLOTS as it is made"
                ) from None
            limits = cls(cluster, **options)
            limits._new_async_redis = lambda: _tried_once(redis.asyncio.cluster.RedisCluster.from_url(url, **timeouts))
            return limits
        limits = cls(standalone, **options)
        limits._new_async_redis = lambda: _tried_once(redis.asyncio.Redis.from_url(url, **timeouts))
        return limits

    def _refuse_a_cluster_node(self) -> None:
        """A node of a Redis Cluster owns some stores' keys and answers MOVED for the others: refused here, not
        half working. A Redis that cannot be asked now is asked at each call until it answers (``_ask``)."""
        assert isinstance(self._redis, redis.Redis)
        cluster = _asked_whether_a_cluster_node(self._redis)
        if cluster:
            self._redis.close()
            raise self._store.cluster_node()
        self._undecided = cluster is None

    def _ask(self) -> None:
        """A call's: is the Redis that could not be asked as this was made a node of a cluster? Refused if so;
        a Redis still away fails the call's attempt as a take would."""
        assert isinstance(self._redis, redis.Redis)
        refused = self._store.node_refused(self._redis.info("cluster"))
        if refused is not None:
            raise refused
        self._undecided = False

    def ping(self) -> None:
        """Whether Redis answers and runs what a call runs under the prefix (a health check's question):
        ``LimitsUnavailableError`` when it does not, or refuses, as a call's attempt would fail."""
        if not self._serves_threads:
            raise TypeError("ping() asks the redis.Redis this RedisLimits was given, not a redis.asyncio.Redis")
        nobody = ("campaign", 0)  # a store no one uses: nothing is written
        release = self._store.release(nobody, "-", 0.0)
        try:
            if self._undecided:
                self._ask()
            self._scripts[release.script](keys=release.keys, args=release.args)
            if self._scripts["replicas"]([], []):  # a lease's, on a master with replicas: CONFIRM and WAIT
                leasing = [self._store.key(nobody, "slots"), self._store.key(nobody, "epoch")]
                self._scripts["confirm_replicated"](leasing, ["-", CLAIM_MS])  # no lease is "-": nothing written
        except FAILURES as error:
            raise self._store.unreachable(error) from None

    def close(self) -> None:
        """Stop listening and close the connections to Redis; for the owner, once its clients are closed.
        Clients opened after it refuse to (``ClientClosedError``)."""
        self._closed = True
        self._closing.set()
        with self._lock:
            threads = [thread for thread in (self._listener, self._renewer) if thread is not None]
        for thread in threads:
            thread.join(timeout=REDIS_TIMEOUT)  # a call to Redis in it ends within this
        self._redis.close()

    async def aclose(self) -> None:
        """``close`` for an ``AsyncReturnsClient``'s owner, without blocking the event loop."""
        await asyncio.to_thread(self.close)
        if self._async_redis is not None:
            await self._async_redis.aclose()

    def key(self, key: Key, part: str) -> str:
        return self._store.key(key, part)

    def for_threads(self) -> tuple["RedisSlots", RedisGate]:
        if not self._serves_threads:
            raise TypeError(
                "this RedisLimits was given a redis.asyncio.Redis, which serves AsyncReturnsClient: for a "
                "ReturnsClient give it a redis.Redis, or make it with RedisLimits.from_url"
            )
        self._serving_threads = True
        self._check_open()
        gate = RedisGate(self._store, self._scripts["observe"])
        return RedisSlots(self, gate), gate

    def for_tasks(self) -> tuple[AsyncSlots, Gate]:
        from ._async_redis import AsyncRedisGate, AsyncRedisSlots

        self._check_open()
        local = None if self._local is None else self._local.for_tasks()[0]
        if self._new_async_redis is not None:  # its own pool: an event loop of its own, as every AsyncReturnsClient
            client = self._new_async_redis()
            gate = AsyncRedisGate(self._store, register(client)["observe"])
            slots = AsyncRedisSlots(
                self._store, client, gate, local, self._check_open, given=False, ask=self._undecided
            )
            return slots, gate
        if self._async_redis is None:
            raise TypeError(
                "this RedisLimits was given a redis.Redis, which serves ReturnsClient: for an AsyncReturnsClient "
                "give it a redis.asyncio.Redis, or make it with RedisLimits.from_url"
            )

        def opened() -> None:
            self._check_open()
            self._check_loop()

        gate = AsyncRedisGate(self._store, register(self._async_redis)["observe"])
        ask = isinstance(self._async_redis, redis.asyncio.Redis)  # it could not be asked as this was made
        return AsyncRedisSlots(self._store, self._async_redis, gate, local, opened, given=True, ask=ask), gate

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
                renewing = self._store.renewing(self._owner)
                self._renewer = threading.Thread(
                    target=self._drive, args=(renewing, self._closing.wait), name="RedisLimits leases", daemon=True
                )
                self._renewer.start()
        self._heard.wait(LISTENER_START)  # a Redis that does not answer: the take that follows fails as it does

    def _hear(self) -> None:
        """The hand-overs told on this process's channel."""
        owner = self._owner
        while not self._closing.is_set():
            channel = self._store.channels + owner.id
            try:
                pubsub = _subscriber(self._redis, channel)
            except FAILURES:  # a cluster that cannot be reached
                self._heard.set()
                self._closing.wait(LISTENER_AGAIN)
                continue
            try:
                pubsub.subscribe(channel)
                while not self._closing.is_set():
                    message = pubsub.get_message(timeout=LISTENER_LOOK)
                    if message is not None and owner.heard(message):
                        self._heard.set()
            except FAILURES:
                self._heard.set()
                self._closing.wait(LISTENER_AGAIN)
            except Exception:  # redis-py's insides, its connection closed under it
                if not self._closing.is_set():
                    raise
            finally:
                with contextlib.suppress(*FAILURES):
                    pubsub.close()

    def _drive(self, steps: Generator[Step, Any, Any], wait: Callable[[float], bool]) -> Any:
        """Run ``steps`` (see _redis_core.py): their calls to Redis in this thread, their waits by ``wait``."""
        run = Stepping(steps)
        while (step := run.next()) is not None:
            if isinstance(step, Call):
                try:
                    run.answered(self._scripts[step.script](keys=step.keys, args=step.args))
                except FAILURES as error:
                    run.failed(error)
                except Exception as error:  # redis-py's insides, its connections closed under the call
                    if not self._closed:
                        raise
                    run.failed(redis.ConnectionError(f"this RedisLimits was closed during the call ({error!r})"))
            else:
                run.answered(wait(step.seconds))
        return run.result

    def _unavailable(self, error: Failure) -> InProcessSlots:
        """This process's own slots while Redis is away, or the error a call's attempt fails with."""
        if self._local is None or not outage(error):
            raise self._store.unreachable(error) from None
        logger.warning("%s cannot be reached (%s): keeping this process's own limits", self._store.where, error)
        return self._local.for_threads()[0]

    def _leave(self, key: Key, place: str, grace: float = 0.0) -> None:
        """Release a slot or give up a place (see ``Store.giving_back``) by a thread of its own, so that a
        Redis that does not answer holds up no call."""
        steps = self._store.giving_back(self._owner, key, place, grace)
        threading.Thread(
            target=self._drive, args=(steps, self._closing.wait), name="RedisLimits give-back", daemon=True
        ).start()


class _Waiter(Waiter):
    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()


class RedisSlots:
    """``InProcessSlots`` in Redis (see the module's docstring)."""

    def __init__(self, limits: RedisLimits, gate: RedisGate) -> None:
        self._limits = limits
        self._gate = gate

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool:
        limits = self._limits
        limits._check_open()
        owner, waiter = limits._owner, _Waiter()
        name = owner.waiting(waiter)

        def wait(seconds: float) -> bool:
            waiter.event.wait(seconds)
            waiter.event.clear()
            return False

        taken = False
        try:
            try:
                if limits._undecided:
                    limits._ask()
                got = limits._drive(limits._store.taking(owner, key, name, waiter, deadline, stop.is_set), wait)
            except FAILURES as error:
                if limits._closed:
                    raise errors.ClientClosedError("this RedisLimits was closed during the call") from None
                # The take may have run and its reply been lost: its place (or slot) is given back below.
                local = limits._unavailable(error)
                if not local.acquire(key, stop, deadline):
                    return False
                owner.leased(key, LOCAL)
                return True
            if got is None:
                return False
            self._gate.granted(key, got[0])
            owner.leased(key, name, got[1])
            taken = True
            return True
        finally:
            owner.done_waiting(name)
            if not taken:  # gave up: out of the queue, and a slot handed over meanwhile goes to the next
                limits._leave(key, name)

    def release(self, key: Key, grace: float = 0.0) -> None:
        limits = self._limits
        lease = limits._owner.released(key, grace)
        if lease == LOCAL:
            assert limits._local is not None
            limits._local.for_threads()[0].release(key, grace)
            return
        limits._leave(key, lease, grace)

    def wake(self) -> None:
        self._limits._owner.wake_all()
        if self._limits._local is not None:
            self._limits._local.for_threads()[0].wake()


_SENTINEL = "redis+sentinel://"


def _sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """The sentinels, the service and the master's settings (db, username, password) of a sentinel URL; a
    ``ValueError`` that does not repeat the URL (it may hold a password)."""
    parts = urllib.parse.urlsplit(url)
    if parts.query:  # redis-py would not read it: its settings would be lost without a word
        named = ", ".join(sorted(urllib.parse.parse_qs(parts.query, keep_blank_values=True)))
        raise ValueError(
            f"a {_SENTINEL} URL takes no query ({named}): for other settings give RedisLimits a "
            "redis.sentinel.Sentinel(...).master_for(...) client"
        )
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


_Client = TypeVar("_Client", bound="_SyncRedis | _AsyncRedis")


def _tried_once(client: _Client) -> _Client:
    """``client``, each of its commands tried once and within ``REDIS_TIMEOUT`` unless it says less: redis-py
    retries a timed-out command 3 to 10 times by default, and waits for an answer for ever; a call's
    ``retry_budget``, and a stop, would wait for all of that. The call retries itself. A cluster client still
    follows MOVED and ASK: they are redirections, not retries."""
    once = (redis.asyncio.retry.Retry if isinstance(client, _AsyncRedis) else redis.retry.Retry)(NoBackoff(), 0)
    try:
        client.set_retry(once)  # type: ignore[arg-type]
    except AttributeError:  # redis-py 8's set_retry fails on a BlockingConnectionPool
        if not isinstance(client, redis.Redis) or not isinstance(client.connection_pool, redis.BlockingConnectionPool):
            raise
        raise ValueError(
            "redis-py cannot turn off the retries of a redis.Redis of a BlockingConnectionPool (its set_retry "
            "fails), and they would hold a call past its retry_budget: give RedisLimits a redis.Redis of a "
            "ConnectionPool, or make it with RedisLimits.from_url"
        ) from None
    if isinstance(client, redis.Redis | redis.asyncio.Redis):
        settings = [client.connection_pool.connection_kwargs]
    else:  # a cluster's: for the nodes it finds, and those it found
        settings = [client.get_connection_kwargs()]
        for node in client.get_nodes():
            found = getattr(node, "redis_connection", None)
            settings.append(node.connection_kwargs if found is None else found.connection_pool.connection_kwargs)
    for setting in settings:
        for name in ("socket_timeout", "socket_connect_timeout"):
            if setting.get(name) is None:
                setting[name] = REDIS_TIMEOUT
        for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
            # Else each call would fail as if Redis were away, and be retried for nothing.
            if isinstance(setting.get(name), str) and not os.path.isfile(setting[name]):
                raise ValueError(f"the TLS setting {name} names no file: {setting[name]}")
        if not _speakable(setting.get("protocol")):
            # redis-py says so only as it connects, as a ConnectionError: an outage, retried for nothing.
            raise ValueError(
                f"protocol must be 2 or 3 (the RESP versions redis-py speaks), not {setting['protocol']!r}"
            )
    return client


def _speakable(protocol: object) -> bool:
    """Whether redis-py speaks ``protocol`` (none given: its default); it reads it as ``int()`` does."""
    if protocol is None:
        return True
    try:
        return int(protocol) in (2, 3)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _asked_whether_a_cluster_node(client: redis.Redis) -> bool | None:
    """Whether ``client`` is a node of a Redis Cluster, as a RedisLimits is made: ``None`` when Redis cannot
    be asked now (a call asks, and says why it cannot); a ``ValueError`` when the user may not ask."""
    try:
        return cluster_node(client.info("cluster"))
    except FAILURES as error:
        if not isinstance(error, redis.exceptions.NoPermissionError):
            return None
        raise ValueError(
            f"Redis at {_where(client)} refused INFO ({type(error).__name__}: {error}), which RedisLimits asks "
            "as it is made (is it a node of a Redis Cluster?): see 'What Redis must allow' in docs/many-workers.md"
        ) from None


def _where(client: "_SyncRedis | _AsyncRedis") -> str:
    """Where Redis is, for messages: never its password."""
    if isinstance(client, redis.Redis | redis.asyncio.Redis):
        settings = client.connection_pool.connection_kwargs
        return str(settings.get("path") or f"{settings.get('host')}:{settings.get('port')}")
    nodes = client.nodes_manager.startup_nodes
    return f"the Redis Cluster of {', '.join(nodes)}"


def _subscriber(client: _SyncRedis, channel: str) -> Any:
    """A subscription to ``channel``: on a cluster, on the master of the channel's slot (a message published
    on any node reaches every node)."""
    if isinstance(client, redis.Redis):
        return client.pubsub()  # type: ignore[no-untyped-call]
    return client.get_node_from_key(channel).redis_connection.pubsub()  # type: ignore[no-untyped-call]


def _start_in_child(alive: "weakref.ref[RedisLimits]") -> None:
    limits = alive()
    if limits is not None:
        limits._start()
