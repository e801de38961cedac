"""The journal: what a batch learnt of each return, kept where a crash cannot take it.

Written before a request goes out and after each answer, so that a run killed at any instant leaves what it
sent behind, and the next run resumes instead of guessing. ``SqliteJournal`` keeps it in a file with the
standard library; a service that keeps its state elsewhere implements ``Journal`` over its own database.
"""

import contextlib
import fcntl
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from attrs import frozen

from ._results import ReturnState, Source
from .errors import JournalBusyError, JournalError


@frozen
class JournalEntry:
    """One return of one store, as last learnt. ``state`` is ``None`` while a request for it may be on its
    way: whatever happens next, the Market may have acted."""

    campaign_id: int
    return_id: int
    state: ReturnState | None
    source: Source | None = None
    operation_id: str | None = None
    status: str | None = None  # the operation's last status by getOperations
    detail: str | None = None  # what settled it, or the error it ended in
    at: datetime | None = None  # when it was learnt (UTC)


class Journal(Protocol):
    """Where a batch keeps what it learns. ``write`` must be durable when it returns: the batch sends its
    next request only after it."""

    def claim(self, campaign_id: int) -> Mapping[int, JournalEntry]:
        """Hold the journal for one batch of the store, and give what it knows of the store's returns by
        return id. A second claim while one is held (another process, host or thread) raises
        ``JournalBusyError``: two runs interleaved in one journal would each take the other's entries for
        its own."""
        ...

    def write(self, entry: JournalEntry) -> None:
        """Keep ``entry`` in place of the return's earlier one; called from any thread of the batch."""
        ...

    def release(self) -> None:
        """Let the next batch claim the journal."""
        ...


class SqliteJournal:
    """A journal in one SQLite file (WAL, synchronous=FULL): each entry is committed to the disk before
    ``write`` returns, so a process killed at any instant, or a machine that loses its power, loses nothing
    written. ``fresh`` forgets what the file knows of the store when it is claimed: the run starts over on
    purpose.

    A lock file beside it (``PATH.lock``, an ``flock`` the kernel lets go of when the process dies, even by
    SIGKILL) keeps a second run out; it is not for a journal on a network file system."""

    def __init__(self, path: str | os.PathLike[str], *, fresh: bool = False) -> None:
        self.path = Path(path)
        self._fresh = fresh
        self._lock = threading.Lock()
        self._held: IO[str] | None = None
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SqliteJournal({str(self.path)!r})"

    def claim(self, campaign_id: int) -> dict[int, JournalEntry]:
        with self._lock:
            if self._held is not None:
                raise JournalBusyError(f"the journal {self.path} is already held by a batch of this process")
            self._held = self._locked()
            try:
                self._db = self._opened()
                if self._fresh:
                    self._db.execute("DELETE FROM entries WHERE campaign_id = ?", (campaign_id,))
                rows = self._db.execute(_SELECT, (campaign_id,)).fetchall()
                entries = [_entry(row) for row in rows]
            except (sqlite3.Error, ValueError) as error:
                self._let_go()
                raise JournalError(f"the journal {self.path} could not be read: {error}") from error
        return {entry.return_id: entry for entry in entries}

    def write(self, entry: JournalEntry) -> None:
        at = (entry.at or datetime.now(UTC)).isoformat()
        row = (
            entry.campaign_id,
            entry.return_id,
            None if entry.state is None else entry.state.value,
            None if entry.source is None else entry.source.value,
            entry.operation_id,
            entry.status,
            entry.detail,
            at,
        )
        with self._lock:
            if self._db is None:
                raise JournalError(f"the journal {self.path} is not claimed: nothing can be written to it")
            try:
                self._db.execute(_INSERT, row)
            except sqlite3.Error as error:
                raise JournalError(f"the journal {self.path} could not be written: {error}") from error

    def release(self) -> None:
        with self._lock:
            self._let_go()

    def entries(self, campaign_id: int) -> dict[int, JournalEntry]:
        """What the file knows of the store, read without claiming it or writing anything: a dry run's look."""
        uri = f"file:{urllib.parse.quote(str(self.path.absolute()))}?mode=ro"
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries'").fetchone() is None:
                    return {}
                rows = db.execute(_SELECT, (campaign_id,)).fetchall()
            found = [_entry(row) for row in rows]
        except (sqlite3.Error, ValueError) as error:
            raise JournalError(f"the journal {self.path} could not be read: {error}") from error
        return {entry.return_id: entry for entry in found}

    def _locked(self) -> IO[str]:
        # The lock is named after the file itself, not the path given: a symlink to a journal in use is refused.
        real = Path(os.path.realpath(self.path))
        if not real.name or (real.exists() and not real.is_file()):
            raise JournalError(f"the journal {self.path} is not a file: give the path of a file to keep it in")
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            held = open(real.with_name(real.name + ".lock"), "a+", encoding="utf-8")  # noqa: SIM115 - until release()
        except OSError as error:
            raise JournalError(f"the journal {self.path} could not be opened: {error.strerror or error}") from error
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            held.seek(0)
            holder = held.read().strip()[:20]
            held.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise JournalBusyError(
                f"the journal {self.path} is in use by another run{who}: wait for it to end, or give another journal"
            ) from None
        held.seek(0)
        held.truncate()
        held.write(str(os.getpid()))
        held.flush()
        return held

    def _opened(self) -> sqlite3.Connection:
        # Autocommit: each statement is its own transaction, committed before execute() returns. With WAL and
        # synchronous=FULL each commit is on the disk by then: a killed process, or a lost machine, loses none.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS entries (campaign_id INTEGER NOT NULL, return_id INTEGER NOT NULL, "
            "state TEXT, source TEXT, operation_id TEXT, status TEXT, detail TEXT, at TEXT NOT NULL, "
            "PRIMARY KEY (campaign_id, return_id))"
        )
        return db

    def _let_go(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self._held is not None:
            self._held.close()  # closing the file lets go of the lock
            self._held = None


_SELECT = (
    "SELECT campaign_id, return_id, state, source, operation_id, status, detail, at FROM entries WHERE campaign_id = ?"
)
_INSERT = (
    "INSERT OR REPLACE INTO entries (campaign_id, return_id, state, source, operation_id, status, detail, at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _entry(row: tuple[object, ...]) -> JournalEntry:
    campaign_id, return_id, state, source, operation_id, status, detail, at = row
    if not isinstance(campaign_id, int) or not isinstance(return_id, int) or not isinstance(at, str):
        raise ValueError(f"a malformed entry: {row[:2]!r}")
    return JournalEntry(
        campaign_id=campaign_id,
        return_id=return_id,
        state=None if state is None else ReturnState(str(state)),
        source=None if source is None else Source(str(source)),
        operation_id=None if operation_id is None else str(operation_id),
        status=None if status is None else str(status),
        detail=None if detail is None else str(detail),
        at=datetime.fromisoformat(at),
    )
