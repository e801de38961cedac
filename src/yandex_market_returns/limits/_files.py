"""``FileLimits``: the Market's 4 requests in flight per store, shared by the processes of one host through
lock files, with no server.

A store has 4 slot files in the folder; a request in flight holds one with ``flock``, which the kernel lets
go when its process dies (SIGKILL included): a killed worker holds no slot. Each process first takes a slot
of its own limits (``InProcessLimits``: in order, retries first), then a slot file, looking again every
few milliseconds while all 4 are held elsewhere. A slot released with a grace period keeps its file for it.
The hourly gate stays each process's own: it learns the spent hour from its own answers.
"""

import fcntl
import os
import threading
import weakref
from pathlib import Path

from .._constants import FILE_LOOK_EVERY, PARALLEL_REQUESTS
from ._in_process import HourlyGate, InProcessLimits, InProcessSlots, deadline_passed
from ._protocols import AsyncSlots, Key, SyncSlots


class FileLimits:
    """The limits of every process of this host given a ``FileLimits`` on the same ``folder``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._folder = Path(folder)
        try:
            self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise ValueError(f"the limits' folder {self._folder} cannot be made: {error.strerror}") from None
        if not os.access(self._folder, os.W_OK | os.X_OK):
            raise ValueError(f"the limits' folder {self._folder} cannot be written to")
        self._own = InProcessLimits()
        self._files = SlotFiles(self._folder)

    def __repr__(self) -> str:
        return f"FileLimits({str(self._folder)!r})"

    def for_threads(self) -> tuple[SyncSlots, HourlyGate]:
        slots, gate = self._own.for_threads()
        return FileSlots(slots, self._files), gate

    def for_tasks(self) -> tuple[AsyncSlots, HourlyGate]:
        from ._async_files import AsyncFileSlots  # asyncio only for async clients

        slots, gate = self._own.for_tasks()
        return AsyncFileSlots(slots, self._files), gate


class SlotFiles:
    """A store's slot files, and those this process holds (by store, most recent last)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._held: dict[Key, list[int]] = {}
        self._open: set[int] = set()  # held, or kept for a grace period
        _SLOT_FILES.add(self)

    def forked(self) -> None:
        """In a child: the slot files open here are the parent's, by descriptors the child copied. Closed
        without unlocking (the lock is the open file's, which the parent still holds), so that the parent's
        release lets go of it even while the child lives."""
        for descriptor in self._open:
            os.close(descriptor)
        self._lock = threading.Lock()
        self._held, self._open = {}, set()

    def take(self, key: Key) -> bool:
        """One of the store's slot files, if another process does not hold all 4."""
        kind, number = key
        for slot in range(PARALLEL_REQUESTS):
            path = self._folder / f"{kind}-{number}.{slot}.lock"
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            with self._lock:
                self._held.setdefault(key, []).append(descriptor)
                self._open.add(descriptor)
            return True
        return False

    def give_back(self, key: Key, grace: float) -> None:
        """Let go of one of the store's slot files: now, or when ``grace`` seconds have passed."""
        with self._lock:
            descriptor = self._held[key].pop()
        if grace > 0:
            timer = threading.Timer(grace, self._close, (descriptor,))  # closing it lets go of the lock
            timer.daemon = True
            timer.start()
        else:
            self._close(descriptor)

    def _close(self, descriptor: int) -> None:
        with self._lock:
            self._open.discard(descriptor)
        os.close(descriptor)


_SLOT_FILES: "weakref.WeakSet[SlotFiles]" = weakref.WeakSet()


def _forked() -> None:
    for files in list(_SLOT_FILES):
        files.forked()


os.register_at_fork(after_in_child=_forked)


class FileSlots:
    def __init__(self, own: InProcessSlots, files: SlotFiles) -> None:
        self._own = own
        self._files = files

    def acquire(self, key: Key, stop: threading.Event, deadline: float | None) -> bool:
        if not self._own.acquire(key, stop, deadline):
            return False
        while not self._files.take(key):
            if deadline_passed(deadline) or stop.wait(FILE_LOOK_EVERY):
                self._own.release(key)
                return False
        return True

    def release(self, key: Key, grace: float = 0.0) -> None:
        self._files.give_back(key, grace)
        self._own.release(key, grace)

    def wake(self) -> None:
        self._own.wake()
