"""Where a client keeps the Market's limits: 4 requests in flight per store (and per business), the grace
period after an abandoned request, and the hourly gate learned from ``X-RateLimit-Resource-*``.

``InProcessLimits``, the default, keeps them for one process. ``FileLimits`` shares the requests in flight
with the other processes of one host, through lock files (no server). ``RedisLimits`` (``pip install
yandex-market-returns-client[redis]``) shares them with every process and host that uses the same Redis, as
the Market counts them: pass the same one, or one on the same Redis and prefix, to every client of a store.
"""

from typing import TYPE_CHECKING, Any, Protocol, cast

from .._constants import DEFAULT_PREFIX
from ..pacing import HourlyGate, Key, ThreadSlots
from ..rate_limit import RateLimit

if TYPE_CHECKING:
    import threading

    from .file_limits import FileLimits as FileLimits
    from .redis_limits import RedisLimits as RedisLimits  # typed for those with the extra


class SyncSlots(Protocol):
    """A store's slots for the threads of a ``ReturnsClient``."""

    def acquire(self, key: Key, stop: "threading.Event", deadline: float | None) -> bool: ...
    def release(self, key: Key, grace: float = 0.0) -> None: ...
    def wake(self) -> None: ...


class AsyncSlots(Protocol):
    """A store's slots for the tasks of an ``AsyncReturnsClient``."""

    async def acquire(self, key: Key, deadline: float | None) -> bool: ...
    def release(self, key: Key, grace: float = 0.0) -> None: ...
    def close(self) -> None: ...
    async def wait_closed(self) -> None: ...


class Gate(Protocol):
    """Holds a store's requests once an answer says its hourly limit is spent (see ``HourlyGate``)."""

    def observe(self, key: Key, rate_limit: RateLimit, sent_at: float) -> None: ...
    def held(self, key: Key) -> tuple[float, RateLimit] | None: ...


class Limits(Protocol):
    """What a client asks for when it opens: its slots and the hourly gate, for threads or for tasks."""

    def for_threads(self) -> tuple[SyncSlots, Gate]: ...
    def for_tasks(self) -> tuple[AsyncSlots, Gate]: ...


class InProcessLimits:
    """The limits kept in this process. Clients given the same object share them: sync clients one set of
    slots, async clients one set per client (its event loop's), and all of them one hourly gate."""

    def __init__(self) -> None:
        self._gate = HourlyGate()
        self._thread_slots = ThreadSlots()

    def for_threads(self) -> tuple[ThreadSlots, HourlyGate]:
        return self._thread_slots, self._gate

    def for_tasks(self) -> tuple[AsyncSlots, HourlyGate]:
        from ..task_slots import TaskSlots  # asyncio only for async clients

        return TaskSlots(), self._gate


def check_limits(limits: object) -> Limits:
    """Anything else would fail at the client's first request, not where it was passed."""
    if not all(callable(getattr(limits, method, None)) for method in ("for_threads", "for_tasks")):
        raise TypeError(
            f"limits must be an InProcessLimits, a FileLimits or a RedisLimits, not {type(limits).__name__}"
        )
    return cast(Limits, limits)  # the methods are there; their types are the caller's word


def __getattr__(name: str) -> Any:
    if name == "FileLimits":  # fcntl: POSIX only, imported by those who ask for it
        from .file_limits import FileLimits

        return FileLimits
    if name == "RedisLimits":  # the redis extra is imported only by those who ask for it
        try:
            from .redis_limits import RedisLimits
        except ModuleNotFoundError as error:
            if error.name != "redis":
                raise
            raise ImportError(
                "RedisLimits needs the redis extra: pip install 'yandex-market-returns-client[redis]'"
            ) from None
        return RedisLimits
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_PREFIX",
    "AsyncSlots",
    "Gate",
    "InProcessLimits",
    "Limits",
    "SyncSlots",
]  # RedisLimits: with the redis extra
