"""``RedisLimits``: the Market's limits shared through Redis by every process and host that uses a store.

- A slot is a lease: a sorted set per store holds each request in flight with the moment its lease ends, by
  Redis's clock. A worker killed while holding one blocks the store until the lease ends, never longer; a
  request that runs longer renews its lease. A slot released with a grace period stays in the set until
  the grace period ends, as in one process.
- Retries go first: a retry that waits is in a second set (with a lease of its own), and first attempts
  wait while that set is not empty.
- Taking, releasing, renewing and the hourly gate are Lua scripts: atomic, with no read-modify-write race.
- A release publishes on the prefix's channel; waiters are woken by it, and look again on their own only
  when a lease or grace period is due to end (a worker that died releases nothing).
- Keys are ``<prefix>{campaign:<id>}:...``: one store's keys share a hash tag, so one Redis Cluster slot.
"""

import contextlib
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import redis
import redis.asyncio

from .. import errors
from ..pacing import LONGEST_HOLD, PARALLEL_REQUESTS, Key, ThreadSlots
from ..rate_limit import RateLimit
from . import InProcessLimits

if TYPE_CHECKING:
    from .redis_tasks import RedisTaskGate, RedisTaskSlots

logger = logging.getLogger("yandex_market_returns")
# In a process's list of its leases: one taken from its own limits while Redis was away.
_LOCAL = ""

# How long a waiter stays queued without asking again: one that died leaves the queue within it.
_QUEUED_MS = 10_000
# Milliseconds by Redis's clock, in every script.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# Every slot script: KEYS slots, queue, alive; ARGV[1] id, ARGV[2] lease ms, ARGV[3] limit, ARGV[4] channel.
# Leases and waiters that ended are dropped, then free slots are handed to the waiters at the head of the
# queue (retries first, then in order of arrival), each told by a message on the channel with its id.
_HAND_OVER = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('ZREM', KEYS[3], gone)
end
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
while free > 0 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then break end
  redis.call('ZREM', KEYS[2], head)
  redis.call('ZREM', KEYS[3], head)
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), head)
  redis.call('PUBLISH', ARGV[4], head)
  free = free - 1
end
"""
# ARGV[5] the waiter's place in the queue, ARGV[6] ms it stays there unless it asks again.
# -1: the slot is the caller's. Otherwise ms until the first lease or grace period ends (0: none runs).
_TAKE = (
    _NOW
    + """
local queued = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not queued then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1]) end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[1])
"""
    + _HAND_OVER
    + """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then return math.max(tonumber(first[2]) - now, 1) end
return 0
"""
)
# ARGV[5] grace ms: a slot released with a grace period stays taken until it ends. Also how a waiter that
# gives up leaves the queue (grace 0), handing on a slot given to it meanwhile.
_RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if tonumber(ARGV[5]) > 0 then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[5]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
"""
    + _HAND_OVER
)
# KEYS: slots. ARGV: lease ms, whether to add back, ids.
# ARGV[2] '1': added back if missing (after Redis was away: it may have come back empty, and a request
# still running counts all the same); '0': only those still held.
_RENEW = (
    _NOW
    + """
for i = 3, #ARGV do
  if ARGV[2] == '1' then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
  else
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  end
end
"""
)
# KEYS: hold. ARGV: exhausted (0/1), wait ms, ms since the request was sent, remaining > 0 (0/1),
# until (epoch ms, or ''), the rate limit as JSON. Mirrors HourlyGate.observe.
_OBSERVE = (
    _NOW
    + """
local resume = tonumber(redis.call('HGET', KEYS[1], 'resume') or '0')
if ARGV[1] == '1' then
  local wait = tonumber(ARGV[2])
  if wait > 0 and now + wait > resume then
    redis.call('HSET', KEYS[1], 'resume', now + wait, 'learned', now, 'until', ARGV[5], 'rate_limit', ARGV[6])
    redis.call('PEXPIRE', KEYS[1], wait)
  end
elseif ARGV[4] == '1' and resume > 0 then
  local held_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '')
  local later = ARGV[5] ~= '' and held_until ~= nil and tonumber(ARGV[5]) > held_until
  if later or now - tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[1], 'learned')) then
    redis.call('DEL', KEYS[1])
  end
end
"""
)
# KEYS: hold. {ms left, rate limit JSON}, or nil.
_HELD = (
    _NOW
    + """
local resume = tonumber(redis.call('HGET', KEYS[1], 'resume') or '0')
if resume <= now then return nil end
return {resume - now, redis.call('HGET', KEYS[1], 'rate_limit')}
"""
)


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
        prefix: str = "yandex-market-returns:",
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
            raise TypeError(f"client must be a redis.Redis or a redis.asyncio.Redis, not {type(client).__name__}")
        settings = client.connection_pool.connection_kwargs
        self._where = settings.get("path") or f"{settings.get('host')}:{settings.get('port')}"  # no password
        # A redis.Redis serves ReturnsClient, a redis.asyncio.Redis AsyncReturnsClient; from_url makes both.
        self._async_redis = client if isinstance(client, redis.asyncio.Redis) else None
        self._serves_threads = isinstance(client, redis.Redis)
        sync = self._redis = client if isinstance(client, redis.Redis) else redis.Redis()  # then never used
        self._prefix = prefix
        self._lease_ms = int(lease * 1000)
        self._channel = f"{prefix}handed-over"
        self._take = sync.register_script(_TAKE)
        self._release = sync.register_script(_RELEASE)
        self._renew = sync.register_script(_RENEW)
        self._observe = sync.register_script(_OBSERVE)
        self._held = sync.register_script(_HELD)
        self._lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}  # this process's, by the id a hand-over names
        self._leases: dict[Key, list[str]] = {}  # held by this process, renewed by one thread
        self._listener: Any = None
        self._renewer: threading.Thread | None = None
        self._closing = threading.Event()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisLimits":
        """For clients of both kinds: a ``redis://`` (or ``rediss://``, ``unix://``) URL."""
        limits = cls(redis.Redis.from_url(url), **options)
        limits._async_redis = redis.asyncio.Redis.from_url(url)
        return limits

    def close(self) -> None:
        """Stop listening and close the connections to Redis; for the owner, once its clients are closed."""
        self._closing.set()
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
            listener.join(timeout=5)
        self._redis.close()

    async def aclose(self) -> None:
        """``close`` for an ``AsyncReturnsClient``'s owner, in the event loop the clients used."""
        self.close()
        if self._async_redis is not None:
            await self._async_redis.aclose()

    def key(self, key: Key, part: str) -> str:
        kind, number = key
        return f"{self._prefix}{{{kind}:{number}}}:{part}"

    def for_threads(self) -> tuple["_ThreadSlots", "_Gate"]:
        if not self._serves_threads:
            raise TypeError(
                "this RedisLimits was given a redis.asyncio.Redis, which serves AsyncReturnsClient: for a "
                "ReturnsClient give it a redis.Redis, or make it with RedisLimits.from_url"
            )
        self._listen()
        return _ThreadSlots(self), _Gate(self)

    def for_tasks(self) -> tuple["RedisTaskSlots", "RedisTaskGate"]:
        from .redis_tasks import RedisTaskGate, RedisTaskSlots

        if self._async_redis is None:
            raise TypeError(
                "this RedisLimits was given a redis.Redis, which serves ReturnsClient: for an AsyncReturnsClient "
                "give it a redis.asyncio.Redis, or make it with RedisLimits.from_url"
            )
        gate = RedisTaskGate(self, self._async_redis)
        return RedisTaskSlots(self, self._async_redis, gate), gate

    def _listen(self) -> None:
        """One subscription per process: every release on the prefix wakes this process's waiters."""
        with self._lock:
            if self._listener is None:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(**{self._channel: self._on_release})
                self._listener = pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=_reconnect)
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_leases, name="RedisLimits leases", daemon=True)
                self._renewer.start()

    def _on_release(self, message: Any) -> None:
        waiter = self._waiters.get(message["data"].decode())
        if waiter is not None:
            waiter.granted = True
            waiter.event.set()

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
            waiter.event.set()

    def _unavailable(self, error: redis.RedisError) -> ThreadSlots:
        """This process's own slots while Redis is away, or the error a call's attempt fails with."""
        if self._local is None:
            raise errors.LimitsUnavailableError(
                f"the shared limits in Redis at {self._where} cannot be reached ({type(error).__name__}): "
                "the request was not sent"
            ) from None
        logger.warning("%s cannot be reached (%s): keeping this process's own limits", self._where, error)
        return self._local.for_threads()[0]

    def _slot_keys(self, key: Key) -> list[str]:
        return [self.key(key, "slots"), self.key(key, "queue"), self.key(key, "alive")]

    def _slot_args(self, lease: str) -> list[str | int]:
        return [lease, self._lease_ms, PARALLEL_REQUESTS, self._channel]

    def _renew_leases(self) -> None:
        """Every third of a lease; after an error, every 0.2 s until Redis answers, then the leases of the
        requests still running are added back (Redis may have come back empty)."""
        period, restore = self._lease_ms / 3000, False
        while not self._closing.wait(period):
            try:
                if restore:
                    with self._lock:  # held: a lease released meanwhile must not be added back after it
                        self._renew_held(restore=True)
                else:
                    self._renew_held(restore=False)
                period, restore = self._lease_ms / 3000, False
            except redis.RedisError:
                period, restore = 0.2, True

    def _renew_held(self, restore: bool) -> None:
        held = {key: [lease for lease in ids if lease != _LOCAL] for key, ids in list(self._leases.items())}
        for key, ids in held.items():
            if ids:
                self._renew(keys=[self.key(key, "slots")], args=[self._lease_ms, int(restore), *ids])


def _reconnect(error: BaseException, pubsub: Any, thread: Any) -> None:
    """Redis went away: the listener tries again, and waiters meanwhile look again when their leases end."""
    time.sleep(0.5)


class _Waiter:
    """A thread waiting for a slot: woken to look again, or told that a release handed it one."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False


class _ThreadSlots:
    """``ThreadSlots`` in Redis (see the module's docstring)."""

    def __init__(self, limits: RedisLimits) -> None:
        self._limits = limits

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool:
        limits = self._limits
        me = name = uuid.uuid4().hex
        # Retries before first attempts, each kind in order of arrival (by this host's clock: a tie-break).
        place = (0 if deadline is not None else 10**13) + int(time.time() * 1000)
        waiter = limits._waiting(name)
        keys, args = limits._slot_keys(key), [*limits._slot_args(me), place, _QUEUED_MS]
        try:
            while not stop.is_set():
                # A hand-over names this waiter: the slot is already its own (the release leased it).
                try:
                    wait_ms = -1 if waiter.granted else int(limits._take(keys=keys, args=args))
                except redis.RedisError as error:
                    local = limits._unavailable(error)
                    if local.acquire(key, stop, deadline):
                        with limits._lock:
                            limits._leases.setdefault(key, []).append(_LOCAL)
                        return True
                    return False
                if wait_ms < 0:
                    with limits._lock:
                        limits._leases.setdefault(key, []).append(me)
                    me = ""
                    return True
                now = time.monotonic()
                if deadline is not None and deadline <= now:
                    return False
                # Told by the release that hands a slot over; on its own only when a lease or grace period
                # ends, and often enough to stay in the queue.
                timeout = min(wait_ms / 1000 if wait_ms else _QUEUED_MS / 1000, _QUEUED_MS / 3000)
                waiter.event.wait(timeout if deadline is None else min(timeout, deadline - now))
                waiter.event.clear()
            return False
        finally:
            limits._done_waiting(name)
            if me:  # gave up: out of the queue, and a slot handed over meanwhile goes to the next
                with contextlib.suppress(redis.RedisError):  # unreachable: the place ends within _QUEUED_MS
                    limits._release(keys=keys, args=[*limits._slot_args(me), 0])

    def release(self, key: Key, grace: float = 0.0) -> None:
        limits = self._limits
        with limits._lock:
            lease = limits._leases[key].pop()
        if lease == _LOCAL:
            assert limits._local is not None
            limits._local.for_threads()[0].release(key, grace)
            return
        try:
            limits._release(keys=limits._slot_keys(key), args=[*limits._slot_args(lease), int(grace * 1000)])
        except redis.RedisError as error:
            logger.warning("%s: a slot of %s is freed when its lease ends: %s", limits._where, key, error)

    def wake(self) -> None:
        self._limits._wake_all()
        if self._limits._local is not None:
            self._limits._local.for_threads()[0].wake()


class _Gate:
    """``HourlyGate`` in Redis: one process's answer that the hour is spent holds every other process."""

    def __init__(self, limits: RedisLimits) -> None:
        self._limits = limits

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None:
        if self._limits._local is not None:
            self._limits._local.for_threads()[1].observe(key, rate_limit, sent_at)
        try:
            self._observe(key, rate_limit, sent_at)
        except redis.RedisError as error:
            logger.warning("%s: the hourly limit of %s is not shared: %s", self._limits._where, key, error)

    def held(self, key: Key) -> tuple[float, RateLimit] | None:
        try:
            found = self._limits._held(keys=[self._limits.key(key, "hold")])
        except redis.RedisError as error:
            logger.warning("%s: the shared hourly limit of %s is unknown: %s", self._limits._where, key, error)
            return None if self._limits._local is None else self._limits._local.for_threads()[1].held(key)
        if not found:
            return None
        ms_left, payload = found
        return int(ms_left) / 1000, _loads(payload)

    def _observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None:
        args = _observed(rate_limit, sent_at)
        if args is not None:
            self._limits._observe(keys=[self._limits.key(key, "hold")], args=args)


def _observed(rate_limit: RateLimit, sent_at: float) -> list[str | int] | None:
    """The arguments of ``_OBSERVE`` for an answer to a request sent at ``sent_at``; ``None``: nothing to note
    (a period said to end too far ahead, as ``HourlyGate`` has it)."""
    wait = (rate_limit.resets_in(datetime.now(UTC)) or 0.0) if rate_limit.exhausted else 0.0
    if rate_limit.exhausted and not 0 < wait <= LONGEST_HOLD:
        return None
    until = "" if rate_limit.until is None else str(int(rate_limit.until.timestamp() * 1000))
    return [
        int(rate_limit.exhausted),
        int(wait * 1000),
        int((time.monotonic() - sent_at) * 1000),
        int(bool(rate_limit.remaining)),
        until,
        _dumps(rate_limit),
    ]


def _dumps(rate_limit: RateLimit) -> str:
    return json.dumps(
        {
            "limit": rate_limit.limit,
            "remaining": rate_limit.remaining,
            "until": _moment(rate_limit.until),
            "date": _moment(rate_limit.date),
        }
    )


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _loads(payload: bytes | str) -> RateLimit:
    fields = json.loads(payload)
    until, date = (None if fields[name] is None else datetime.fromisoformat(fields[name]) for name in ("until", "date"))
    return RateLimit(limit=fields["limit"], remaining=fields["remaining"], until=until, date=date)
