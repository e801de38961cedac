"""Where a client keeps the Market's limits: 4 requests in flight per store (and per business), the grace
period after an abandoned request, and the hourly gate learned from ``X-RateLimit-Resource-*``.

``InProcessLimits``, the default, keeps them for one process. ``FileLimits`` shares the requests in flight
with the other processes of one host, through lock files (no server). ``RedisLimits`` (``pip install
yandex-market-returns-client[redis]``) shares them with every process and host that uses the same Redis, as
the Market counts them: pass the same one, or one on the same Redis and prefix, to every client of a store.
"""

from typing import TYPE_CHECKING, Any, cast

from .._constants import DEFAULT_PREFIX
from ._in_process import InProcessLimits
from ._protocols import AsyncSlots, Gate, Key, Limits, SyncSlots

if TYPE_CHECKING:
    from ._files import FileLimits as FileLimits
    from ._redis import RedisLimits as RedisLimits  # typed for those with the extra


def check_limits(limits: object) -> Limits:
    """Anything else would fail at the client's first request, not where it was passed."""
    if not all(callable(getattr(limits, method, None)) for method in ("for_threads", "for_tasks")):
        raise TypeError(
            f"limits must be an InProcessLimits, a FileLimits or a RedisLimits, not {type(limits).__name__}"
        )
    return cast(Limits, limits)  # the methods are there; their types are the caller's word


def __getattr__(name: str) -> Any:
    if name == "FileLimits":  # fcntl: POSIX only, imported by those who ask for it
        from ._files import FileLimits

        FileLimits.__module__ = __name__
        return FileLimits
    if name == "RedisLimits":  # the redis extra is imported only by those who ask for it
        try:
            from ._redis import RedisLimits
        except ModuleNotFoundError as error:
            if error.name != "redis":
                raise
            raise ImportError(
                "RedisLimits needs the redis extra: pip install 'yandex-market-returns-client[redis]'"
            ) from None
        RedisLimits.__module__ = __name__
        return RedisLimits
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_PREFIX",
    "AsyncSlots",
    "Gate",
    "InProcessLimits",
    "Key",
    "Limits",
    "SyncSlots",
]  # RedisLimits: with the redis extra

# Public classes name the module users import them from, in reprs, signatures and pickles (as httpx's do): a
# private module that moves breaks none of them.
for _public in __all__:
    if isinstance(globals().get(_public), type) and globals()[_public].__module__.startswith(f"{__name__}._"):
        globals()[_public].__module__ = __name__
del _public
