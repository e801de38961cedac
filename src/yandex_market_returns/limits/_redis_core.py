"""The one core of ``RedisLimits``: its keys, its scripts, what Redis's errors mean, and the steps of taking,
giving back and renewing a slot.

The steps are generators that do no I/O (h11's pattern): they yield a ``Call`` of a script or a ``Wait``, and
are sent what it answered. The threads' front-end (``_redis.py``) and the tasks' (``_async_redis.py``)
drive them with their own I/O, so that a fix to the steps lands once.
"""

import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from .. import errors
from .._constants import CLAIM_MS, PARALLEL_REQUESTS, QUEUED_MS, REDIS_AGAIN, RENEWALS_PER_CLAIM, WAIT_MS
from ._protocols import Key
from ._redis_scripts import CONFIRM, LOCAL, OBSERVE, RELEASE, RENEW, TAKE, Hold, granted, text

logger = logging.getLogger("yandex_market_returns")


@dataclass(frozen=True)
class Call:
    """Run the script ``script`` (a name of ``SCRIPTS``); the step is sent its answer, or thrown its error."""

    script: str
    keys: list[str]
    args: list[Any]


@dataclass(frozen=True)
class Wait:
    """Wait ``seconds`` (a waiter: until woken); the step is sent whether the front-end is closing."""

    seconds: float


Step = Call | Wait


class NotReplicatedError(redis.ConnectionError):
    """A master with replicas passed a lease to none of them in time: as if it could not be reached."""


# What a call to Redis fails with: a cluster client's own failures (no node reachable, a slot no master
# serves) are no RedisError.
FAILURES = (redis.RedisError, redis.exceptions.RedisClusterException)
Failure = redis.RedisError | redis.exceptions.RedisClusterException
SCRIPTS = {"take": TAKE, "confirm": CONFIRM, "release": RELEASE, "renew": RENEW, "observe": OBSERVE}


class Stepping:
    """One run of a generator of steps, as a front-end drives it: the next step, given what the last came to
    (its answer, or the failure thrown into the steps); ``result`` once they end."""

    def __init__(self, steps: Generator[Step, Any, Any]) -> None:
        self._steps = steps
        self._answer: Any = None
        self._failure: BaseException | None = None
        self.result: Any = None

    def next(self) -> Step | None:
        """The next step; ``None`` once the steps ended (see ``result``)."""
        try:
            failure, self._failure = self._failure, None
            step = self._steps.send(self._answer) if failure is None else self._steps.throw(failure)
        except StopIteration as done:
            self.result = done.value
            return None
        self._answer = None
        return step

    def answered(self, answer: Any) -> None:
        self._answer = answer

    def failed(self, failure: BaseException) -> None:
        self._failure = failure


def register(client: Any) -> dict[str, Any]:
    """The scripts, registered on a client of any kind (standalone or cluster, sync or async), and the
    commands a master is asked: how many replicas it has (``replicas``, 0 when it cannot tell), that and which
    Redis process it is in one round trip (``served``: its run id; ``""`` when it says none, as a cluster;
    ``None`` when Redis could not be asked), and ``wait``: until one of its replicas has a slot's lease."""
    called: dict[str, Any] = {name: client.register_script(source) for name, source in SCRIPTS.items()}
    if isinstance(client, redis.cluster.RedisCluster):
        return called | {"replicas": _none, "served": _unknown}
    if isinstance(client, redis.asyncio.cluster.RedisCluster):
        return called | {"replicas": _no_replicas, "served": _async_unknown}

    def replicas(keys: list[str], args: list[Any]) -> int:
        try:
            return _online(client.info("replication"))
        except FAILURES:
            return 0  # INFO refused (an ACL) or Redis away: nothing to wait for

    async def async_replicas(keys: list[str], args: list[Any]) -> int:
        try:
            return _online(await client.info("replication"))
        except FAILURES:
            return 0

    def served(keys: list[str], args: list[Any]) -> tuple[int, str | None]:
        try:
            pipe = client.pipeline(transaction=False)
            pipe.info("replication")
            pipe.info("server")
            return _answered(pipe.execute())
        except FAILURES:
            return 0, None  # Redis away: not known, asked again

    async def async_served(keys: list[str], args: list[Any]) -> tuple[int, str | None]:
        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.info("replication")
                pipe.info("server")
                return _answered(await pipe.execute())
        except FAILURES:
            return 0, None

    # WAIT waits for the writes of its own connection: the lease and the wait go on one, in a pipeline.
    def confirm_replicated(keys: list[str], args: list[Any]) -> Any:
        pipe = client.pipeline(transaction=False)
        called["confirm"](keys=keys, args=args, client=pipe)
        pipe.execute_command("WAIT", 1, WAIT_MS)
        return pipe.execute()

    async def async_confirm_replicated(keys: list[str], args: list[Any]) -> Any:
        async with client.pipeline(transaction=False) as pipe:
            await called["confirm"](keys=keys, args=args, client=pipe)
            pipe.execute_command("WAIT", 1, WAIT_MS)
            return await pipe.execute()

    if isinstance(client, redis.asyncio.Redis):
        return called | {
            "replicas": async_replicas,
            "served": async_served,
            "confirm_replicated": async_confirm_replicated,
        }
    return called | {"replicas": replicas, "served": served, "confirm_replicated": confirm_replicated}


def _online(replication: dict[str, Any]) -> int:
    """The replicas that take the master's writes now: ``connected_slaves`` counts those still syncing, and
    ``online`` those that have not yet said how far they got (offset 0)."""
    return sum(
        name.startswith("slave") and isinstance(replica, dict) and replica.get("state") == "online"
        and int(replica.get("offset", 0)) > 0
        for name, replica in replication.items()
    )  # fmt: skip


def _none(keys: list[str], args: list[Any]) -> int:
    return 0


async def _no_replicas(keys: list[str], args: list[Any]) -> int:
    return 0


def _answered(infos: list[dict[str, Any]]) -> tuple[int, str | None]:
    replication, server = infos
    return _online(replication), str(server.get("run_id", ""))


def _unknown(keys: list[str], args: list[Any]) -> tuple[int, str | None]:
    return 0, ""  # a cluster's keys live on many nodes: no one run id tells (see docs/many-workers.md)


async def _async_unknown(keys: list[str], args: list[Any]) -> tuple[int, str | None]:
    return 0, ""


class Waiter:
    """One waiting for a slot, of a thread or a task: woken to look again, or told a release handed it one."""

    granted = False
    hold: Hold | None = None  # the hourly gate, as the hand-over told it

    def handed(self, told: str) -> None:
        self.hold = granted(told)
        self.granted = True
        self.wake()

    def wake(self) -> None:
        raise NotImplementedError


# An epoch no store has: the keys were lost, as far as this owner can tell (see Owner.leased).
_LOST = "lost"


class Owner:
    """The waiters and leases of one owner (a process's threads, or one async client's tasks): hand-overs are
    told on its own channel. Its lock guards its lists, never a call to Redis."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._waiters: dict[str, Waiter] = {}  # by the id a hand-over names
        self._leases: dict[Key, list[str]] = {}
        self._graces: dict[Key, dict[str, float]] = {}  # slots kept for a grace period: when each ends (monotonic)
        self._epochs: dict[Key, str] = {}  # the token of each store's keys in Redis, as last renewed
        self._server: str | None = None  # the run id of the Redis process that answered last ("": none given)

    def waiting(self, waiter: Waiter) -> str:
        name = f"{self.id}.{uuid.uuid4().hex}"
        with self._lock:
            self._waiters[name] = waiter
        return name

    def done_waiting(self, name: str) -> None:
        with self._lock:
            del self._waiters[name]

    def handed(self, name: str, told: str) -> None:
        """A release handed the waiter ``name`` a slot (told as its message, or by the releaser's answer)."""
        with self._lock:
            waiter = self._waiters.get(name)
        if waiter is not None:
            waiter.handed(told)

    def wake_all(self) -> None:
        with self._lock:
            waiting = list(self._waiters.values())
        for waiter in waiting:
            waiter.wake()

    def heard(self, message: Mapping[str, Any]) -> bool:
        """A message on the owner's channel; ``True`` once subscribed. After Redis was away every waiter looks
        again: a hand-over told meanwhile was not heard."""
        if message["type"] == "subscribe":
            self.wake_all()
            return True
        if message["type"] == "message":
            name, _, told = text(message["data"]).partition(" ")
            self.handed(name, told)
        return False

    def leased(self, key: Key, lease: str, epoch: str = "") -> None:
        """A lease taken; ``epoch``, the store's as it was confirmed, is this owner's for the store if it knew
        none. Another than the one it knew means the keys were lost between two of its confirmations (or
        renewals): the next renewal is told so, and puts this owner's leases back."""
        with self._lock:
            self._leases.setdefault(key, []).append(lease)
            if epoch in ("", "-"):
                return
            known = self._epochs.get(key)
            if not known:
                self._epochs[key] = epoch
            elif known != epoch:
                self._epochs[key] = _LOST

    def released(self, key: Key, grace: float = 0.0) -> str:
        """A lease given back; one kept for ``grace`` seconds is a grace period of this owner's from then on,
        in the same step, so that no renewal finds it neither (a renewal puts it back in a Redis emptied
        meanwhile, or keeps it in one whose release never came)."""
        with self._lock:
            lease = self._leases[key].pop()
            if grace > 0 and lease != LOCAL:
                self._graces.setdefault(key, {})[lease] = time.monotonic() + grace
            return lease

    def held(self) -> dict[Key, list[str]]:
        with self._lock:
            return {key: [lease for lease in ids if lease != LOCAL] for key, ids in self._leases.items()}

    def graces(self) -> dict[Key, list[tuple[str, int]]]:
        """The grace periods not ended, each with the milliseconds left of it (the ended ones are forgotten)."""
        now = time.monotonic()
        with self._lock:
            if not self._graces:
                return {}
            self._graces = {
                key: left for key, kept in self._graces.items() if (left := {k: e for k, e in kept.items() if e > now})
            }
            return {
                key: [(lease, int((end - now) * 1000)) for lease, end in kept.items()]
                for key, kept in self._graces.items()
            }

    def epoch(self, key: Key) -> str:
        with self._lock:
            return self._epochs.get(key, "")

    def served_by(self, server: str | None) -> None:
        """The Redis process that answers now (its run id; ``None``: it could not be asked). Another than
        before (restarted, or a replica promoted) may hold older keys than this owner wrote: a snapshot, or a
        replica that lagged, where the epoch is the same but leases since are gone. The next renewals put
        them back, as after keys lost."""
        if server is None:
            return
        with self._lock:
            if server and self._server and server != self._server:
                self._epochs = {key: _LOST for key in self._epochs.keys() | self._leases.keys() | self._graces.keys()}
            if server or self._server is None:
                self._server = server

    def knows_server(self) -> bool:
        """Whether it was asked which Redis process answers (a cluster, or a Redis that hides it, says none)."""
        with self._lock:
            return self._server is not None

    def renewed(self, key: Key, epoch: bytes | str) -> None:
        with self._lock:
            self._epochs[key] = text(epoch)


class Store:
    """Where the limits live in Redis: the keys of each store (``<prefix>{campaign:<id>}:...``, one hash tag:
    one Redis Cluster slot), the owners' channels, the lease; and the steps over them."""

    def __init__(self, prefix: str, lease_ms: int, where: str) -> None:
        self.prefix = prefix
        self.lease_ms = lease_ms
        self.where = where  # for messages: never a password
        self.channels = f"{prefix}handed-over:"
        self.replicas: int | None = None  # the master's, as last asked: a lease is waited for to reach one

    def key(self, key: Key, part: str) -> str:
        kind, number = key
        return f"{self.prefix}{{{kind}:{number}}}:{part}"

    def _slot(self, key: Key, lease: str) -> tuple[list[str], list[Any]]:
        keys = [self.key(key, part) for part in ("slots", "queue", "alive", "hold", "epoch")]
        return keys, [lease, self.lease_ms, PARALLEL_REQUESTS, self.channels]

    def release(self, key: Key, place: str, grace: float) -> Call:
        """The call that releases a slot or a place (``"-"``, none: it only hands over what is free)."""
        keys, args = self._slot(key, place)
        return Call("release", keys, [*args, int(grace * 1000)])

    def taking(
        self, owner: Owner, key: Key, name: str, waiter: Waiter, deadline: float | None, stopped: Callable[[], bool]
    ) -> Generator[Step, Any, tuple[Hold | None, str] | None]:
        """Queue (retries, whose call's clock runs, before first attempts), take a slot or be handed one,
        and lease it before anything is sent in it: ``(the hourly gate, the store's epoch)``, or ``None`` at
        the deadline or a stop. A Redis error is the front-end's: the take may have run, so it gives the
        place back."""
        keys, args = self._slot(key, name)
        args += ["1" if deadline is not None else "0", QUEUED_MS, uuid.uuid4().hex]
        while not stopped():
            answer: list[Any] = [-1, ""] if waiter.granted else (yield Call("take", keys, args))
            if int(answer[0]) < 0:
                # A slot taken is the waiter's for a claim only: one whose claim ended first (a stall) is
                # asked for again.
                if self.replicas is None or not owner.knows_server():  # so a restart after its first lease is noticed
                    self._served(owner, (yield Call("served", [], [])))
                leasing = [self.key(key, "slots"), self.key(key, "epoch")], [name, self.lease_ms]
                if self.replicas:
                    confirmed, acknowledged = yield Call("confirm_replicated", *leasing)
                else:
                    confirmed, acknowledged = (yield Call("confirm", *leasing)), 1
                if not confirmed:
                    waiter.granted = False
                    continue
                if not acknowledged:
                    # Replication is asynchronous: a lease that no replica has would be lost if one took the
                    # master's place (a failover, maybe under way: a master already replaced takes writes
                    # until it is told), and its slot taken again, a fifth request. Not trusted: an outage.
                    raise NotReplicatedError(f"no replica of the master had the lease within {WAIT_MS} ms")
                return waiter.hold if waiter.granted else granted(answer[1]), text(confirmed)
            timeout = look_again_in(int(answer[0]), deadline)
            if timeout is None:
                return None
            yield Wait(timeout)
        return None

    def giving_back(self, owner: Owner, key: Key, place: str, grace: float) -> Generator[Step, Any, None]:
        """Release a slot (kept taken for ``grace`` seconds), or give up a place in the queue or a slot taken
        with a reply that was lost; tried again until a claim would end anyway (a place ends within
        QUEUED_MS, a claimed slot within CLAIM_MS, a leased one when its lease ends: said then). What frees
        is handed to the next waiters, this owner's woken at once; after a grace period, handed on again."""
        deadline = time.monotonic() + CLAIM_MS / 1000
        while True:
            try:
                told, *handed = yield self.release(key, place, grace)
                break
            except FAILURES as error:
                if (yield Wait(REDIS_AGAIN)) or time.monotonic() > deadline:
                    logger.warning(
                        "%s: a place or slot of %s was not given back; it ends with its claim or lease: %s",
                        self.where,
                        key,
                        error,
                    )
                    return
        self._told(owner, told, handed)
        if grace > 0 and not (yield Wait(grace)):
            yield from self.giving_back(owner, key, "-", 0.0)  # no such lease: it only hands over what is free

    @staticmethod
    def _told(owner: Owner, told: bytes | str, handed: list[bytes | str]) -> None:
        """What a release handed over: this owner's own waiters go at once; the message comes too, and finds
        them gone."""
        for name in handed:
            owner.handed(text(name), text(told))

    def renewing(self, owner: Owner) -> Generator[Step, Any, None]:
        """Renew the owner's leases, often enough for a slot just handed over (CLAIM_MS) to become a lease
        before its claim ends; after an error every ``REDIS_AGAIN`` seconds until Redis answers. Ends when the
        owner closes."""
        period = min(self.lease_ms, CLAIM_MS) / 1000 / RENEWALS_PER_CLAIM
        doubtful: dict[Key, list[str]] = {}  # leases a renewal that failed may have put back
        while not (yield Wait(period)):
            try:
                known = self._served(owner, (yield Call("served", [], [])))
                for key in list(doubtful):
                    yield from self._released_meanwhile(owner, key, doubtful[key])
                    del doubtful[key]
                held, graces = owner.held(), owner.graces()
                for key in held.keys() | graces.keys():
                    ids, kept = held.get(key, []), [part for grace in graces.get(key, []) for part in grace]
                    if ids or kept:
                        keys, fresh = [self.key(key, "slots"), self.key(key, "epoch")], uuid.uuid4().hex
                        args = [self.lease_ms, owner.epoch(key), fresh, len(ids), *ids, *kept]
                        doubtful[key] = ids  # until its answer comes: one lost may have put them back
                        epoch, restored = yield Call("renew", keys, args)
                        owner.renewed(key, epoch)
                        if int(restored):
                            yield from self._released_meanwhile(owner, key, ids)
                        del doubtful[key]
                # Not known which Redis answers (a connection broken by a restart, say): asked again soon.
                period = min(self.lease_ms, CLAIM_MS) / 1000 / RENEWALS_PER_CLAIM if known else REDIS_AGAIN
            except FAILURES:
                period = REDIS_AGAIN

    def _served(self, owner: Owner, answer: tuple[int, str | None]) -> bool:
        """What ``served`` answered, taken in; whether Redis could be asked (else the replicas are as before)."""
        replicas, server = answer
        owner.served_by(server)
        if server is not None:
            self.replicas = replicas
        return server is not None

    def _released_meanwhile(self, owner: Owner, key: Key, renewed: list[str]) -> Generator[Step, Any, None]:
        """A renewal that put the leases back may have put back one released while it was on its way, which
        no one would renew or release: its slot would stay taken for a whole lease. Released again, as it
        was (with what is left of its grace period; RELEASE is idempotent)."""
        held, graces = set(owner.held().get(key, [])), dict(owner.graces().get(key, []))
        for lease in renewed:
            if lease not in held:
                told, *handed = yield self.release(key, lease, graces.get(lease, 0) / 1000)
                self._told(owner, told, handed)

    def cluster_node(self) -> ValueError:
        """What a client of one node of a Redis Cluster is refused with: it would serve only the stores whose
        keys that node owns."""
        return ValueError(
            f"Redis at {self.where} is a node of a Redis Cluster: it would serve only the stores whose keys that "
            "node owns; give a redis.cluster.RedisCluster (redis.asyncio.cluster.RedisCluster), or make it with "
            "RedisLimits.from_url, which finds the cluster"
        )

    def node_refused(self, info: Mapping[str, Any]) -> errors.LimitsUnavailableError | None:
        """What a call is refused with when the Redis it was given answers ``INFO cluster`` (``info``) as a node
        of a Redis Cluster (not asked as the limits were made: it was away, or is a redis.asyncio.Redis)."""
        if not cluster_node(info):
            return None
        return refusal(f"{self.cluster_node()}; the request was not sent")

    def unreachable(self, error: Failure) -> errors.LimitsUnavailableError:
        """What a call's attempt fails with: an outage (retried), or a refusal no retry mends (ACLs, a key of
        another type under the prefix, a password, a Cluster node that does not own the store)."""
        if outage(error):
            return errors.LimitsUnavailableError(
                f"the shared limits in Redis at {self.where} cannot be reached ({type(error).__name__}: "
                f"{error}): the request was not sent"
            )
        if isinstance(error, redis.exceptions.AskError):  # MOVED too: a node of a Redis Cluster
            why = str(self.cluster_node()).split(": ", 1)[1]
        elif isinstance(error.__context__, ssl.SSLCertVerificationError):
            why = "its TLS certificate is not trusted (ssl_ca_certs names the CA that signed it)"
        else:
            why = "see docs/many-workers.md for what Redis must allow"
        return refusal(
            f"Redis at {self.where} refused the shared limits' commands ({type(error).__name__}: {error}): "
            f"the request was not sent; {why}"
        )


def cluster_node(info: Mapping[str, Any]) -> bool:
    """Whether a Redis that answered ``INFO cluster`` with ``info`` is a node of a Redis Cluster."""
    return info.get("cluster_enabled") in (1, "1")


def refusal(message: str) -> errors.LimitsUnavailableError:
    """An error no retry mends: the call ends at once."""
    refused = errors.LimitsUnavailableError(message)
    refused.retryable = False
    return refused


def look_again_in(wait_ms: int, deadline: float | None) -> float | None:
    """Seconds a waiter waits to be told of a hand-over before it asks again: until the first lease or grace
    period ends, and often enough to stay in the queue; ``None`` when its deadline has passed."""
    now = time.monotonic()
    if deadline is not None and deadline <= now:
        return None
    timeout = min(wait_ms / 1000 if wait_ms else QUEUED_MS / 1000, QUEUED_MS / 1000 / RENEWALS_PER_CLAIM)
    return timeout if deadline is None else min(timeout, deadline - now)


# Redis away for now, as during a failover: a node that has become a replica (READONLY), a master whose
# replication link is down (MASTERDOWN), a node loading its data (LOADING), a cluster resharding or without
# a majority (TRYAGAIN, CLUSTERDOWN), a cluster client that reaches no node or finds a slot unserved.
_FAILING_OVER = (
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,  # MASTERDOWN too: a MasterDownError is one
    redis.exceptions.RedisClusterException,
)

# Answers of a Redis that cannot write for now, which redis-py leaves as a plain ResponseError: too few
# replicas (NOREPLICAS, a master's guard during a failover), a long script running (BUSY), a failed save
# (MISCONF).
_BUSY_FOR_NOW = ("NOREPLICAS", "BUSY", "MISCONF")


def outage(error: Failure) -> bool:
    """Redis away (refused, reset, timed out, loading, failing over, out of memory, busy), not a refusal that
    no retry mends (a password, an ACL, a key of another type)."""
    refused = (redis.AuthenticationError, redis.exceptions.AuthorizationError, redis.exceptions.NoPermissionError)
    if isinstance(error, refused) or isinstance(error.__context__, ssl.SSLCertVerificationError):
        return False
    if isinstance(
        error, (redis.ConnectionError, redis.TimeoutError, redis.exceptions.OutOfMemoryError, *_FAILING_OVER)
    ):
        return True
    return isinstance(error, redis.ResponseError) and str(error).split(" ", 1)[0] in _BUSY_FOR_NOW
