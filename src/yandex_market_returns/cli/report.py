"""What the command says of each return (a JSON line on stdout) and of the whole batch (a summary on stderr)."""

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from .. import errors
from ..results import Outcome
from .interrupts import Deferral
from .progress import Progress
from .watch import Watch


class OutputError(Exception):
    """stdout could not be written (closed, a full disk): the batch stops, and the rest goes to stderr."""


def line(outcome: Outcome) -> dict[str, Any]:
    error = outcome.error
    return {
        "return_id": outcome.return_id,
        "ok": outcome.ok,
        "operation_id": None if outcome.operation is None else outcome.operation.id,
        "status": None if outcome.status is None else str(outcome.status.value),
        "error": None if error is None else f"{type(error).__name__}: {error}",
        "retryable": None if error is None else error.retryable,
        "may_have_started": None if error is None else error.may_have_started,
    }


def returns(count: int) -> str:
    return f"{count} return{'' if count == 1 else 's'}"


class Report:
    """Writes each outcome once, as it is final; keeps them all for the summary.

    ``confirming``: the batch waits for each operation's status, and a return counts as done only when its
    operation is ``DONE``; otherwise when its cancellation started.
    """

    def __init__(
        self, stdout: TextIO, stderr: TextIO, confirming: bool, progress: Progress | None, deferral: Deferral
    ) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self._confirming = confirming
        self._progress = progress
        self._deferral = deferral
        self._written: dict[int, Outcome] = {}

    def succeeded(self, outcome: Outcome) -> bool:
        return outcome.cancelled if self._confirming else outcome.ok

    @property
    def all_succeeded(self) -> bool:
        return all(map(self.succeeded, self._written.values()))

    def write(self, outcome: Outcome) -> None:
        """Called as each outcome is final; a return already written is not written again."""
        if outcome.return_id in self._written:
            return
        with self._deferral.held(), self._paused(self._stdout):
            try:
                print(json.dumps(line(outcome)), file=self._stdout, flush=True)
            except OSError as error:
                raise OutputError(f"stdout could not be written ({error})") from error
            self._written[outcome.return_id] = outcome  # only once written: a failed write is tried again
        if self._progress is not None:
            self._progress.note(self.succeeded(outcome))

    def move_to(self, stream: TextIO, again: bool = False) -> None:
        """Write the outcomes still to come to ``stream``, with no progress display: stdout failed. ``again``:
        those written already too."""
        self._stdout = stream
        self._progress = None
        if again:
            written, self._written = self._written, {}
            self.write_rest(written.values())

    def write_rest(self, outcomes: Iterable[Outcome]) -> None:
        """The outcomes not written yet, as they stand; when stdout fails, on stderr."""
        for outcome in outcomes:
            try:
                self.write(outcome)
            except OutputError:
                self.move_to(self._stderr)
                self.write(outcome)

    def summary(self, total: int, watch: Watch, stopped: str | None = None, not_sent: Iterable[int] = ()) -> None:
        outcomes = list(self._written.values())
        done = sum(map(self.succeeded, outcomes))
        said = [f"{returns(total)}: {done} {'cancelled (DONE)' if self._confirming else 'started'}"]
        if self._confirming:  # every other status the Market reported, by name: a new one too
            statuses = Counter(
                None if outcome.status is None else str(outcome.status.value) for outcome in outcomes if outcome.ok
            )
            said += [f"{count} {status}" for status, count in statuses.items() if status not in (None, "DONE")]
            if statuses[None]:
                said.append(f"{statuses[None]} started, status not known")
        held = [outcome.return_id for outcome in outcomes if _held(outcome)]  # by the hourly limit: not sent
        not_sent = [*not_sent, *held]
        refused = sum(
            outcome.error is not None and not outcome.error.may_have_started and not _held(outcome)
            for outcome in outcomes
        )
        unsure = sum(outcome.error is not None and outcome.error.may_have_started for outcome in outcomes)
        if refused:
            said.append(f"{refused} not started")
        if unsure:
            said.append(f"{unsure} may have started (outcome unknown: may_have_started is true)")
        if not_sent:
            said.append(f"{len(not_sent)} not sent")
        if held:
            said.append(f"{len(held)} of them held back by the store's spent hourly limit")
        said.append(f"{watch.retries} retried")
        if watch.remaining is not None:
            said.append(f"the store's hourly requests left: {watch.remaining}")
        lines = ["; ".join(said)]
        if stopped is not None:
            lines.append(f"stopped: {stopped}")
        if not_sent:
            lines.append(f"not sent: {' '.join(map(str, not_sent))}")
        with contextlib.suppress(OSError):  # a terminal gone (SIGHUP): the outcomes are written; nothing is left
            print("\n".join(lines), file=self._stderr, flush=True)

    @contextlib.contextmanager
    def _paused(self, stream: TextIO) -> Iterator[None]:
        """The progress line cleared while ``stream`` is written, when that is the terminal too."""
        if self._progress is None or not stream.isatty():
            yield
        else:
            with self._progress.paused():
                yield


def _held(outcome: Outcome) -> bool:
    """Never sent: the store's hourly limit was spent past the call's retry budget (a 420 of our own)."""
    error = outcome.error
    return isinstance(error, errors.RateLimitError) and error.response is None and not error.may_have_started
