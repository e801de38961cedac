"""RedisLimits on the Redis that services run, against real redis-servers on loopback: a failover's
replica, a stall longer than the socket timeout, keys that expire."""

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from tests.helpers import ROOT
from tools.lossy_proxy import LossyProxy
from tools.redis_server import RedisCluster, RedisSentinel, RedisServer, free_port
from yandex_market_returns import AsyncReturnsClient, Operation, ReturnsClient
from yandex_market_returns.errors import LimitsUnavailableError
from yandex_market_returns.limits import RedisLimits
from yandex_market_returns.limits._redis_core import Call, Owner, Step, Store
from yandex_market_returns.testing import FakeMarket

CAMPAIGN = 21621656
KEY = "fake-market-key-redis-deployments"


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A replica of a master of its own: what a client still pointed at a failed-over master talks to."""
    master = RedisServer(tmp_path_factory.mktemp("master"))
    master.start()
    follower = RedisServer(tmp_path_factory.mktemp("replica"), "--replicaof", "127.0.0.1", str(master.port))
    follower.start()
    yield follower
    follower.stop()
    master.stop()


def test_a_replica_is_an_outage_not_a_refusal(replica: RedisServer) -> None:
    """READONLY, as after a failover: retryable, so a task queue tries again later."""
    limits = RedisLimits.from_url(replica.url, prefix="test-replica:")
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 1)
        client = ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits, retry_budget=0.3, backoff=0.05)
        with client, pytest.raises(LimitsUnavailableError, match=r"cannot be reached \(ReadOnlyError: ") as away:
            client.cancel_return(CAMPAIGN, 1)
        assert away.value.retryable
        assert market.exchanges == [], "nothing was sent"
    limits.close()


def test_a_replica_falls_back_to_this_process_s_limits_when_told_to(
    replica: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limits = RedisLimits.from_url(replica.url, prefix="test-replica-local:", on_unavailable="local")
    with FakeMarket(api_key=KEY) as market, caplog.at_level(logging.WARNING, logger="yandex_market_returns"):
        market.add_returns(CAMPAIGN, 1)
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            assert client.cancel_return(CAMPAIGN, 1).id
    assert "keeping this process's own limits" in caplog.text
    limits.close()


@pytest.fixture(scope="module")
def debuggable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis that can be made to stall (DEBUG SLEEP), as a fork for BGSAVE or a slow command does."""
    server = RedisServer(tmp_path_factory.mktemp("debug"), "--enable-debug-command", "local")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("kind", ["threads", "tasks"])
def test_takes_whose_replies_were_lost_leave_no_slot_taken(debuggable: RedisServer, kind: str) -> None:
    """The takes ran, their replies never came: the slots they leased are given back (else held no longer than
    a claim), and another process gets all 4 at once, not after the whole lease."""
    prefix = f"test-lost-{kind}:"
    proxy = LossyProxy(debuggable.port)
    where = {"port": proxy.port, "socket_timeout": 0.3, "socket_connect_timeout": 0.3}
    lossy = RedisLimits(redis.Redis(**where) if kind == "threads" else redis.asyncio.Redis(**where), prefix=prefix)
    slots = f"{prefix}{{campaign:{CAMPAIGN}}}:slots"
    with FakeMarket(api_key=KEY) as market, redis.Redis(port=debuggable.port) as peek:
        market.add_returns(CAMPAIGN, *range(1, 13))
        options = {"api_key": KEY, "base_url": market.base_url, "limits": lossy, "retry_budget": 0.5}
        failed = _four_calls_fail(kind, options, proxy)
        assert all(isinstance(e, LimitsUnavailableError) and e.retryable for e in failed), failed
        time.sleep(0.6)  # the give-backs, tried again until Redis answers
        assert peek.zcard(slots) == 0, ("orphaned slots", peek.zrange(slots, 0, -1, withscores=True), peek.time())
        if kind == "threads":
            lossy.close()
        fresh = RedisLimits.from_url(debuggable.url, prefix=prefix)
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=fresh, retry_budget=2.0) as other:
            started = time.monotonic()
            with ThreadPoolExecutor(4) as pool:
                assert all(pool.map(lambda rid: other.cancel_return(CAMPAIGN, rid).id, range(5, 9)))
            assert time.monotonic() - started < 1.0
        fresh.close()
    proxy.close()


def _four_calls_fail(kind: str, options: dict[str, Any], proxy: LossyProxy) -> list[Exception | None]:
    """Returns 9 to 12 cancelled (4 connections to Redis made), then 1 to 4 tried while the replies are lost;
    async limits are closed in their event loop, after its give-backs (aclose waits for them)."""
    limits: RedisLimits = options["limits"]
    if kind == "threads":
        with ReturnsClient(**options) as client, ThreadPoolExecutor(4) as pool:
            assert all(pool.map(lambda rid: client.cancel_return(CAMPAIGN, rid).id, range(9, 13)))
            proxy.losing.set()
            try:
                return list(pool.map(lambda rid: _refused(client, rid), range(1, 5)))
            finally:
                proxy.losing.clear()

    async def main() -> list[Operation | BaseException]:
        async with AsyncReturnsClient(**options) as client:
            await asyncio.gather(*(client.cancel_return(CAMPAIGN, rid) for rid in range(9, 13)))
            proxy.losing.set()
            try:
                calls = (client.cancel_return(CAMPAIGN, rid) for rid in range(1, 5))
                answers = list(await asyncio.gather(*calls, return_exceptions=True))
            finally:
                proxy.losing.clear()
        await limits.aclose()
        return answers

    return [answer if isinstance(answer, Exception) else None for answer in asyncio.run(main())]


def _refused(client: ReturnsClient, return_id: int) -> Exception | None:
    try:
        client.cancel_return(CAMPAIGN, return_id)
    except Exception as error:
        return error
    return None


def test_every_key_of_a_store_expires(debuggable: RedisServer) -> None:
    """A store no longer used leaves nothing in Redis: each key ends a minute after the last lease in it."""
    prefix = "test-expiry:"
    limits = RedisLimits.from_url(debuggable.url, prefix=prefix)
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, *range(1, 21))
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            assert all(outcome.ok for outcome in client.cancel_returns(CAMPAIGN, range(1, 21)))
    limits.close()
    with redis.Redis(port=debuggable.port) as peek:
        keys = peek.keys(f"{prefix}*")
        assert keys, "the batch used the store's keys"
        lives = {key.decode(): peek.pttl(key) for key in keys}
    assert all(0 < ms <= 30_000 + 60_000 for ms in lives.values()), lives
    assert any(key.endswith(":epoch") for key in lives)


def test_a_slow_renewal_holds_up_no_release(debuggable: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A renewal stuck on its way to Redis (a slow network, a stall) keeps no call waiting for its slot to
    be given back: the renewer holds no lock across its calls."""
    limits = RedisLimits.from_url(debuggable.url, prefix="test-slow-renewal:")
    renewing = Store.renewing

    def slow(store: Store, owner: Owner) -> Generator[Step, Any, None]:
        """The core's renewal, each of its calls 2 s on its way to Redis."""
        steps, answer = renewing(store, owner), None
        while True:
            try:
                step = steps.send(answer)
            except StopIteration:
                return
            if isinstance(step, Call):
                time.sleep(2.0)
            answer = yield step

    monkeypatch.setattr(Store, "renewing", slow)
    with FakeMarket(api_key=KEY, latency=1.2) as market:  # a renewal (every second) starts while it runs
        market.add_returns(CAMPAIGN, 1)
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            started = time.monotonic()
            client.cancel_return(CAMPAIGN, 1)
            took = time.monotonic() - started
    limits.close()
    assert took < 1.2 + 0.5, f"the release waited for the renewal: {took:.2f} s"


@pytest.mark.parametrize(
    ("timeout", "budget"), [(0.5, 2.0), (None, 0.1)], ids=["its own socket timeout", "none: 5 s, once"]
)
def test_a_redis_that_never_answers_keeps_a_call_within_its_budget(timeout: float | None, budget: float) -> None:
    """A Redis that accepts and never answers, behind a client passed in as redis-py makes it (retries on,
    no timeout unless given): the call ends within its retry budget and two attempts' Redis timeouts (5 s
    when the client has none), not after 20 s of redis-py's own retries, or never."""
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel completes each connection; nothing reads
    limits = RedisLimits(redis.Redis(port=silent.getsockname()[1], socket_timeout=timeout), prefix="test-silent:")
    try:
        with ReturnsClient(
            api_key=KEY, base_url="http://127.0.0.1:9", limits=limits, retry_budget=budget, timeout=1.0
        ) as client:
            started = time.monotonic()
            with pytest.raises(LimitsUnavailableError):
                client.cancel_return(CAMPAIGN, 1)
            took = time.monotonic() - started
    finally:
        limits.close()
        silent.close()
    # The budget's clock starts as the first attempt fails; the last attempt may begin just before it ends.
    assert took < 2 * (timeout or 5.0) + budget + 1.0, took


# What docs/many-workers.md says RedisLimits needs, for the prefix "acl-limits:" only.
_ACL = (
    "on >acl-secret ~acl-limits:* &acl-limits:handed-over:* -@all +evalsha +eval +script|load +subscribe "
    "+ping +hello +info +wait +script|exists +@sortedset +@hash +@string +del +exists +pexpire +publish +time"
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis that speaks TLS only, with an ACL user limited to the keys and channels of one prefix."""
    server = RedisServer(tmp_path_factory.mktemp("tls"), tls=True)
    server.start()
    with redis.Redis.from_url(server.url) as admin:
        admin.execute_command("ACL", "SETUSER", "limits", *_ACL.split())
    yield server
    server.stop()


def test_tls_and_an_acl_user_hold_the_limits(tls: RedisServer) -> None:
    url = tls.url.replace("rediss://", "rediss://limits:acl-secret@")
    limits = RedisLimits.from_url(url, prefix="acl-limits:")
    with FakeMarket(api_key=KEY, latency=0.05) as market:
        market.add_returns(CAMPAIGN, *range(1, 41))
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            outcomes = client.cancel_returns(CAMPAIGN, range(1, 41))
        assert all(outcome.ok for outcome in outcomes)
        assert market.max_in_flight(CAMPAIGN) == 4
    limits.close()
    assert "acl-secret" not in repr(limits)


@pytest.mark.parametrize("protocol", [4, "4", 0, "abc", b"9"])
@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_protocol_redis_py_cannot_speak_is_refused_at_construction(asynchronous: bool, protocol: Any) -> None:
    """redis-py refuses it only as it connects, with a ConnectionError that would pass for an outage."""
    kind = redis.asyncio.Redis if asynchronous else redis.Redis
    with pytest.raises(ValueError, match=rf"protocol must be 2 or 3 \(.*\), not {re.escape(repr(protocol))}$"):
        RedisLimits(kind(host="127.0.0.1", port=1, protocol=protocol))


@pytest.mark.parametrize("protocol", [3, "2", " 3", "03", b"3"])
def test_a_protocol_redis_py_reads_as_2_or_3_is_taken(protocol: Any) -> None:
    """As redis-py reads it (``int()``): the check refuses nothing that redis-py speaks."""
    RedisLimits(redis.Redis(host="127.0.0.1", port=1, protocol=protocol)).close()


def test_a_protocol_in_a_url_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"protocol must be 2 or 3 \(.*\), not 4$"):
        RedisLimits.from_url("redis://127.0.0.1:1/0?protocol=4")


def test_a_query_on_a_sentinel_url_is_refused_by_its_names() -> None:
    """redis-py would not read it: RESP3, a database, a timeout asked for there would be lost without a word."""
    with pytest.raises(ValueError, match=r"takes no query \(password, protocol, socket_timeout\)") as refused:
        RedisLimits.from_url("redis+sentinel://127.0.0.1:1/svc?protocol=3&socket_timeout=1&password=s3cret")
    assert "s3cret" not in str(refused.value)


def test_a_client_of_a_blocking_pool_is_refused_plainly() -> None:
    """redis-py cannot turn its retries off (its set_retry raises AttributeError there)."""
    pool = redis.BlockingConnectionPool(host="127.0.0.1", port=1)  # type: ignore[no-untyped-call]
    with pytest.raises(ValueError, match=r"a redis\.Redis of a BlockingConnectionPool"):
        RedisLimits(redis.Redis(connection_pool=pool))


@pytest.mark.parametrize("setting", ["ssl_ca_certs", "ssl_certfile", "ssl_keyfile"])
def test_a_tls_file_that_is_missing_is_refused_at_construction(tls: RedisServer, setting: str) -> None:
    """Not an outage retried for nothing at every call: the setting and the path are named."""
    address, _, query = tls.url.partition("?")  # it trusts the test's CA by ssl_ca_certs
    url = f"{address}?{'' if setting == 'ssl_ca_certs' else query + '&'}{setting}=/nowhere/{setting}.pem"
    with pytest.raises(ValueError, match=rf"the TLS setting {setting} names no file: /nowhere/{setting}\.pem"):
        RedisLimits.from_url(url)


def _refusal(limits: RedisLimits, match: str) -> LimitsUnavailableError:
    """What a call on ``limits`` that Redis refuses raises: not retryable, and nothing reaches the Market."""
    with FakeMarket(api_key=KEY) as market:
        market.add_returns(CAMPAIGN, 1)
        client = ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits)
        with client, pytest.raises(LimitsUnavailableError, match=match) as refused:
            client.cancel_return(CAMPAIGN, 1)
        assert market.exchanges == []
    assert not refused.value.retryable
    return refused.value


def test_a_certificate_not_trusted_is_a_refusal_naming_it(tls: RedisServer) -> None:
    """Not an outage retried for the whole budget: no retry makes a certificate trusted."""
    limits = RedisLimits.from_url(tls.url.partition("?")[0], prefix="test-untrusted:")  # the system's CAs only
    refused = _refusal(limits, "certificate verify failed")
    assert "its TLS certificate is not trusted" in str(refused)
    limits.close()


def test_an_acl_that_refuses_is_a_refusal_naming_it(tls: RedisServer) -> None:
    """Keys outside the user's: not an outage, whatever on_unavailable says; the password is not shown."""
    url = tls.url.replace("rediss://", "rediss://limits:acl-secret@")
    limits = RedisLimits.from_url(url, prefix="another-prefix:", on_unavailable="local")
    refused = _refusal(limits, "refused the shared limits' commands")
    assert "acl-secret" not in str(refused)
    limits.close()


@pytest.mark.parametrize("how", ["SENTINEL FAILOVER", "master killed"])
def test_a_sentinel_failover_mid_batch_holds_the_limits(tmp_path_factory: pytest.TempPathFactory, how: str) -> None:
    """Two processes' limits through `redis+sentinel://`, 8 threads each, a replica promoted mid-batch (asked
    for, or after the master was killed): never more than 4 in flight, no 420, every return one outcome and
    one cancellation; the failover was an outage, retried, each call within its bound."""
    master = RedisServer(tmp_path_factory.mktemp("sentinel-master"), "--repl-diskless-sync-delay", "0")
    master.start()
    replica = RedisServer(tmp_path_factory.mktemp("sentinel-replica"), "--replicaof", "127.0.0.1", str(master.port))
    replica.start()
    sentinel = RedisSentinel(tmp_path_factory.mktemp("sentinel"), master.port)
    sentinel.start()
    shared = [RedisLimits.from_url(sentinel.url, prefix="test-sentinel:") for _ in range(2)]
    budget = 20.0
    try:
        with FakeMarket(api_key=KEY, latency=0.05) as market:
            market.add_returns(CAMPAIGN, *range(1, 201))
            outcomes: list[tuple[int, BaseException | None, float]] = []

            def call(client: ReturnsClient, return_id: int) -> None:
                started = time.monotonic()
                try:
                    client.cancel_return(CAMPAIGN, return_id)
                    outcomes.append((return_id, None, time.monotonic() - started))
                except Exception as error:  # each is asserted on below
                    outcomes.append((return_id, error, time.monotonic() - started))

            def batch(limits: RedisLimits, ids: range) -> None:
                with (
                    ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits, retry_budget=budget) as client,
                    ThreadPoolExecutor(8) as pool,
                ):
                    list(pool.map(lambda return_id: call(client, return_id), ids))

            batches = [
                threading.Thread(target=batch, args=(limits, ids))
                for limits, ids in zip(shared, (range(1, 101), range(101, 201)), strict=True)
            ]
            for thread in batches:
                thread.start()
            time.sleep(0.5)
            if how == "master killed":
                master.kill()
            else:
                sentinel.failover()
            for thread in batches:
                thread.join()
            assert sentinel.master() == replica.port, "the replica was promoted"
            assert sorted(return_id for return_id, _, _ in outcomes) == list(range(1, 201))
            assert [(error, took) for _, error, took in outcomes if error is not None] == []
            # The bound docs/many-workers.md gives: the retry budget, and two socket timeouts (the attempt that
            # found Redis away, before the budget's clock starts, and the last one begun before it ends).
            assert max(took for _, _, took in outcomes) < budget + 2 * 5.0 + 1.0
            assert market.max_in_flight(CAMPAIGN) <= 4
            assert not [exchange for exchange in market.exchanges if exchange.status == 420]
            assert sorted(operation.return_id for operation in market.operations) == list(range(1, 201))
    finally:
        for limits in shared:
            limits.close()
        sentinel.stop()
        replica.stop()
        master.stop()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("redis+sentinel://:pw-hidden@127.0.0.1:26379", "ends with /service"),
        ("redis+sentinel://:pw-hidden@127.0.0.1:26379/returns/zero", "ends with /service"),
        ("redis+sentinel://:pw-hidden@127.0.0.1/returns", "each sentinel as host:port"),
        ("redis+sentinel://:pw-hidden@127.0.0.1:26379,:1/returns", "each sentinel as host:port"),
    ],
)
def test_a_bad_sentinel_url_is_refused_without_its_password(url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said) as refused:
        RedisLimits.from_url(url)
    assert "pw-hidden" not in str(refused.value)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster on loopback."""
    made = RedisCluster(tmp_path_factory.mktemp("cluster"))
    made.start()
    yield made
    made.stop()


def _stores_on_every_node(cluster: RedisCluster) -> list[int]:
    """A store whose keys (``{campaign:<id>}``) each node of ``cluster`` owns."""
    found: dict[int, int] = {}
    for campaign in range(CAMPAIGN, CAMPAIGN + 100):
        found.setdefault(cluster.port_of(f"{{campaign:{campaign}}}"), campaign)
    assert len(found) == len(cluster.nodes)
    return sorted(found.values())


# A worker process given (store, return) pairs: 8 threads that cancel them, or one async batch per store at
# once ("tasks"); prints one outcome per return: [store, id, ok, error type].
CLUSTER_WORKER = """
import asyncio, json, sys
from concurrent.futures import ThreadPoolExecutor
from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.limits import RedisLimits
mode, url, base_url, key, *pairs = sys.argv[1:]
pairs = [tuple(int(part) for part in pair.split(":")) for pair in pairs]
limits = RedisLimits.from_url(url, prefix="test-cluster:")
def outcome(campaign, return_id, error):
    return [campaign, return_id, error is None, None if error is None else type(error).__name__]
if mode == "tasks":
    async def main():
        async with AsyncReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.01) as client:
            stores = sorted({campaign for campaign, _ in pairs})
            batches = [client.cancel_returns(s, [r for c, r in pairs if c == s]) for s in stores]
            done = await asyncio.gather(*batches)
        await limits.aclose()
        return [outcome(s, o.return_id, o.error) for s, outcomes in zip(stores, done) for o in outcomes]
    print(json.dumps(asyncio.run(main())), flush=True)
    sys.exit()
with ReturnsClient(api_key=key, base_url=base_url, limits=limits, backoff=0.01) as client:
    def call(pair):
        try:
            client.cancel_return(*pair)
            return outcome(*pair, None)
        except Exception as error:
            return outcome(*pair, error)
    with ThreadPoolExecutor(8) as pool:
        print(json.dumps(list(pool.map(call, pairs))), flush=True)
limits.close()
"""


def test_a_redis_cluster_holds_the_limits_of_stores_on_every_node(cluster: RedisCluster) -> None:
    """The issue's proof: 3 processes of 8 threads and one of tasks, given the cluster by one node's URL, on
    stores whose keys live on 3 different nodes: never more than 4 in flight per store, no 420, every
    return one outcome, none sent twice."""
    stores = _stores_on_every_node(cluster)
    pairs = [(store, return_id) for return_id in range(1, 61) for store in stores]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src", "."))}
    with FakeMarket(api_key=KEY, latency=0.02) as market:
        for store in stores:
            market.add_returns(store, *range(1, 61))
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", CLUSTER_WORKER, mode, cluster.url, market.base_url, KEY]
                + [f"{store}:{return_id}" for store, return_id in pairs[n::4]],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n, mode in enumerate(["threads", "threads", "threads", "tasks"])
        ]
        finished = [worker.communicate(timeout=120) for worker in workers]
        assert [worker.returncode for worker in workers] == [0] * 4, [err[-2000:] for _, err in finished]
        sent = sorted((operation.campaign_id, operation.return_id) for operation in market.operations)
        statuses = {exchange.status for exchange in market.exchanges}
        in_flight = {store: market.max_in_flight(store) for store in stores}
    results = [outcome for out, _ in finished for outcome in json.loads(out)]
    assert sorted((store, return_id) for store, return_id, *_ in results) == sorted(pairs), "one outcome each"
    assert [result for result in results if not result[2]] == []
    assert sent == sorted(pairs), "each cancelled once"
    assert statuses == {200}, "no 420"
    assert all(count <= 4 for count in in_flight.values()), in_flight


def test_a_cluster_client_of_either_kind_serves_its_client(cluster: RedisCluster) -> None:
    """A ``RedisCluster`` made by the service, sync for ``ReturnsClient`` and async for
    ``AsyncReturnsClient``, serves stores on every node."""
    stores = _stores_on_every_node(cluster)
    with FakeMarket(api_key=KEY, latency=0.01) as market:
        for store in stores:
            market.add_returns(store, *range(1, 21))
        limits = RedisLimits(redis.cluster.RedisCluster.from_url(cluster.url), prefix="test-cluster-client:")
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            assert all(outcome.ok for store in stores for outcome in client.cancel_returns(store, range(1, 11)))
        limits.close()

        async def tasks() -> list[bool]:
            given = redis.asyncio.cluster.RedisCluster.from_url(cluster.url)
            shared = RedisLimits(given, prefix="test-cluster-client:")
            async with AsyncReturnsClient(api_key=KEY, base_url=market.base_url, limits=shared) as client:
                done = await asyncio.gather(*(client.cancel_returns(store, range(11, 21)) for store in stores))
            await shared.aclose()
            return [outcome.ok for outcomes in done for outcome in outcomes]

        assert all(asyncio.run(tasks()))
        assert [market.max_in_flight(store) <= 4 for store in stores] == [True] * 3
        assert sorted(exchange.status for exchange in market.exchanges) == [200] * 60


def test_a_node_of_a_cluster_is_refused_at_construction_not_half_served(cluster: RedisCluster) -> None:
    """A redis.Redis of one node owns a third of the stores' keys: refused at once, saying what to give."""
    with pytest.raises(ValueError, match=r"is a node of a Redis Cluster.*give a redis\.cluster\.RedisCluster"):
        RedisLimits(redis.Redis.from_url(cluster.url))


def test_a_stall_right_after_a_take_lets_no_fifth_request_in(debuggable: RedisServer) -> None:
    """Redis stalls longer than a claim (3 s) just after one process took all 4 slots: the slots were leased
    for the whole lease before any request went out, so the other process waits rather than sends a fifth."""
    prefix = "test-stall-after-take:"
    slots = f"{prefix}{{campaign:{CAMPAIGN}}}:slots"
    first, second = (RedisLimits.from_url(debuggable.url, prefix=prefix) for _ in range(2))
    with FakeMarket(api_key=KEY, latency=5.0) as market, redis.Redis(port=debuggable.port) as peek:
        market.add_returns(CAMPAIGN, *range(1, 6))
        holder = ReturnsClient(api_key=KEY, base_url=market.base_url, limits=first, timeout=20)
        other = ReturnsClient(api_key=KEY, base_url=market.base_url, limits=second, retry_budget=10.0, timeout=20)
        second.ping()  # connected: its take is queued during the stall, before the holder's first renewal
        calls = [threading.Thread(target=_refused, args=(holder, rid)) for rid in range(1, 5)]
        for call in calls:
            call.start()
        while peek.zcard(slots) < 4:
            time.sleep(0.002)
        stall = threading.Thread(target=_stall, args=(debuggable, 4.0))
        stall.start()
        time.sleep(0.05)
        calls.append(threading.Thread(target=_refused, args=(other, 5)))
        calls[-1].start()
        for call in [*calls, stall]:
            call.join()
        holder.close()
        other.close()
        assert market.max_in_flight(CAMPAIGN) <= 4
        assert not [exchange for exchange in market.exchanges if exchange.status == 420]
    first.close()
    second.close()


def _stall(server: RedisServer, seconds: float) -> None:
    with redis.Redis(port=server.port) as admin:
        admin.execute_command("DEBUG", "SLEEP", seconds)


def test_doctor_s_check_fails_on_a_replica(replica: RedisServer) -> None:
    """ping() runs what a call needs (a script that writes under the prefix), not only PING: a replica answers
    PING and refuses every take."""
    limits = RedisLimits.from_url(replica.url, prefix="test-ping:")
    with pytest.raises(LimitsUnavailableError, match="ReadOnlyError"):
        limits.ping()
    limits.close()


def test_a_master_short_of_replicas_is_an_outage(tmp_path: Path) -> None:
    """NOREPLICAS (min-replicas-to-write, a master's guard while a failover settles) is retried, not a refusal."""
    guarded = RedisServer(tmp_path, "--min-replicas-to-write", "1")
    guarded.start()
    limits = RedisLimits.from_url(guarded.url, prefix="test-noreplicas:")
    try:
        with FakeMarket(api_key=KEY) as market:
            market.add_returns(CAMPAIGN, 1)
            client = ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits, retry_budget=0.3)
            with client, pytest.raises(LimitsUnavailableError, match="cannot be reached") as away:
                client.cancel_return(CAMPAIGN, 1)
            assert away.value.retryable
    finally:
        limits.close()
        guarded.stop()


def test_a_release_that_cannot_reach_redis_is_tried_again(debuggable: RedisServer) -> None:
    """A release lost on its way (a blip of Redis's network) is sent again off the caller's thread: the slot
    is free within a second of Redis being back, not when its 30 s lease ends."""
    prefix = "test-release-again:"
    proxy = LossyProxy(debuggable.port)
    limits = RedisLimits(redis.Redis(port=proxy.port, socket_timeout=0.3, socket_connect_timeout=0.3), prefix=prefix)
    slots = f"{prefix}{{campaign:{CAMPAIGN}}}:slots"
    with FakeMarket(api_key=KEY, latency=0.5) as market, redis.Redis(port=debuggable.port) as peek:
        market.add_returns(CAMPAIGN, 1, 2)
        with ReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
            client.cancel_return(CAMPAIGN, 1)  # the connections are made
            blip = threading.Timer(0.2, proxy.dropping.set)  # while the request is at the Market
            blip.start()
            client.cancel_return(CAMPAIGN, 2)
            blip.join()
            time.sleep(0.2)
            assert peek.zcard(slots) == 1, "the release has not reached Redis yet"
            proxy.dropping.clear()
            time.sleep(1.0)
            assert peek.zcard(slots) == 0, "the slot stays taken until its lease ends"
    limits.close()
    proxy.close()


def test_an_async_client_of_one_node_of_a_cluster_is_refused_at_its_first_call(cluster: RedisCluster) -> None:
    """A redis.asyncio.Redis cannot be asked at construction: its first call is refused, nothing sent."""
    limits = RedisLimits(redis.asyncio.Redis.from_url(cluster.url), prefix="test-async-node:")

    async def call() -> None:
        with FakeMarket(api_key=KEY) as market:
            market.add_returns(CAMPAIGN, 1)
            async with AsyncReturnsClient(api_key=KEY, base_url=market.base_url, limits=limits) as client:
                with pytest.raises(LimitsUnavailableError, match="is a node of a Redis Cluster") as refused:
                    await client.cancel_return(CAMPAIGN, 1)
            assert market.exchanges == []
        assert not refused.value.retryable
        await limits.aclose()

    asyncio.run(call())


@pytest.mark.parametrize("kind", ["threads", "tasks"])
def test_a_lease_that_no_replica_has_is_not_trusted(tmp_path_factory: pytest.TempPathFactory, kind: str) -> None:
    """A master whose replica does not acknowledge the lease (stalled here; in a failover, already promoted,
    while the old master still takes writes): the lease would be lost with the master and its slot taken
    again, so nothing is sent; an outage, retried. With the replica answering, the lease waits for it."""
    master = RedisServer(tmp_path_factory.mktemp("wait-master"), "--repl-diskless-sync-delay", "0")
    master.start()
    follower = RedisServer(
        tmp_path_factory.mktemp("wait-replica"), "--replicaof", "127.0.0.1", str(master.port),
        "--enable-debug-command", "local",
    )  # fmt: skip
    follower.start()
    # The ACL of docs/many-workers.md, with a replica: WAIT and its pipeline.
    with redis.Redis(port=master.port) as admin:
        admin.execute_command("ACL", "SETUSER", "limits", *_ACL.split())
    limits = RedisLimits.from_url(master.url.replace("redis://", "redis://limits:acl-secret@"), prefix="acl-limits:")
    try:
        limits.ping()
        with redis.Redis(port=master.port) as admin:
            admin.set("test-wait:written", 1)
            while admin.info("replication").get("slave0", {}).get("offset", 0) == 0:  # online, and told how far
                time.sleep(0.05)
        with FakeMarket(api_key=KEY) as market:
            market.add_returns(CAMPAIGN, 1, 2)
            options: dict[str, Any] = {"api_key": KEY, "base_url": market.base_url, "limits": limits}
            stalled = threading.Thread(target=_stall, args=(follower, 1.5))

            def threads() -> Exception | None:
                with ReturnsClient(**options, retry_budget=0.6) as client:
                    client.cancel_return(CAMPAIGN, 1)
                    stalled.start()
                    time.sleep(0.1)
                    try:
                        client.cancel_return(CAMPAIGN, 2)
                    except LimitsUnavailableError as error:
                        return error
                return None

            async def tasks() -> Exception | None:
                async with AsyncReturnsClient(**options, retry_budget=0.6) as client:
                    await client.cancel_return(CAMPAIGN, 1)
                    stalled.start()
                    await asyncio.sleep(0.1)
                    try:
                        await client.cancel_return(CAMPAIGN, 2)
                    except LimitsUnavailableError as error:
                        return error
                return None

            failed = threads() if kind == "threads" else asyncio.run(tasks())
            stalled.join()
            assert [json.loads(exchange.body)["returnId"] for exchange in market.exchanges] == [1]
        assert isinstance(failed, LimitsUnavailableError), "the second was sent on a lease no replica had"
        assert "NotReplicatedError" in str(failed)
        assert failed.retryable
    finally:
        if kind == "tasks":
            asyncio.run(limits.aclose())
        else:
            limits.close()
        follower.stop()
        master.stop()


def test_a_user_that_may_not_ask_info_is_refused_at_construction(tls: RedisServer) -> None:
    """INFO says whether Redis is a node of a cluster: without it a node would half serve, so RedisLimits
    is not made, and says what to allow; the password is not shown."""
    with redis.Redis.from_url(tls.url) as admin:
        admin.execute_command("ACL", "SETUSER", "no-info", *_ACL.replace("+info ", "").split())
    url = tls.url.replace("rediss://", "rediss://no-info:acl-secret@")
    with pytest.raises(ValueError, match=r"refused INFO \(NoPermissionError") as refused:
        RedisLimits.from_url(url, prefix="acl-limits:")
    assert "acl-secret" not in str(refused.value)


_A_CLUSTER_NODE = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")


def test_a_cluster_that_cannot_be_mapped_is_refused_at_construction(tmp_path: Path) -> None:
    """A node of a cluster not yet made (no slots): an error of ours, naming why, not redis-py's."""
    node = RedisServer(tmp_path, *_A_CLUSTER_NODE, "--cluster-port", str(free_port()))
    node.start()
    try:
        with pytest.raises(ValueError, match=r"could not be mapped \(RedisClusterException"):
            RedisLimits.from_url(node.url)
    finally:
        node.stop()


@pytest.mark.parametrize("kind", ["threads", "tasks"])
def test_a_cluster_node_away_as_the_limits_are_made_is_refused_at_a_call(tmp_path: Path, kind: str) -> None:
    """from_url could not ask the node whether it is a cluster's: each call asks until it answers, and a
    node of a cluster is then refused, nothing sent, rather than serving the stores it owns."""
    node = RedisServer(tmp_path, *_A_CLUSTER_NODE, "--cluster-port", str(free_port()))
    limits = RedisLimits.from_url(node.url, prefix="test-undecided:")  # nothing listens yet
    node.start()
    try:
        with FakeMarket(api_key=KEY) as market:
            market.add_returns(CAMPAIGN, 1)
            options: dict[str, Any] = {"api_key": KEY, "base_url": market.base_url, "limits": limits}

            def threads() -> None:
                with ReturnsClient(**options) as client:
                    client.cancel_return(CAMPAIGN, 1)

            async def tasks() -> None:
                async with AsyncReturnsClient(**options) as client:
                    await client.cancel_return(CAMPAIGN, 1)

            with pytest.raises(LimitsUnavailableError, match="is a node of a Redis Cluster") as refused:
                threads() if kind == "threads" else asyncio.run(tasks())
            assert not refused.value.retryable
            if kind == "threads":  # the health check asks what a call asks
                with pytest.raises(LimitsUnavailableError, match="is a node of a Redis Cluster"):
                    limits.ping()
            assert market.exchanges == []
    finally:
        limits.close()
        node.stop()
