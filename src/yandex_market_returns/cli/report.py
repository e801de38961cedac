"""What the command says of each return (a JSON line on stdout) and of the whole batch (a summary on stderr)."""

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from .. import errors
from ..results import Outcome, ReturnState, Source
from .interrupts import Deferral
from .progress import Progress
from .watch import Watch


class OutputError(Exception):
    """stdout could not be written (closed, a full disk): the batch stops, and the rest goes to stderr."""


def line(outcome: Outcome) -> dict[str, Any]:
    error = outcome.error
    return {
        "return_id": outcome.return_id,
        "state": outcome.state.value,
        "source": outcome.source.value,
        "detail": None if outcome.verdict is None else outcome.verdict.detail,
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
        return outcome.cancelled or (not self._confirming and outcome.state is ReturnState.IN_PROGRESS)

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
        states = Counter(outcome.state for outcome in outcomes)
        counted = ", ".join(f"{states[state]} {_SAID[state]}" for state in ReturnState if states[state])
        said = [f"{returns(total)}: {counted or 'none reported'}"]
        running = Counter(
            str(outcome.status.value)
            for outcome in outcomes
            if outcome.state is ReturnState.IN_PROGRESS and outcome.status not in (None, "IN_PROGRESS")
        )
        said += [f"{count} of them {status}" for status, count in running.items()]  # a status newer than this client
        journal = sum(outcome.source is Source.JOURNAL for outcome in outcomes)
        if journal:
            said.append(f"{journal} as the journal had them from an earlier run")
        stopped_first = list(not_sent)
        if stopped_first:
            said.append(f"{len(stopped_first)} not sent: the batch stopped first")
        held = [outcome.return_id for outcome in outcomes if _held(outcome)]  # by the hourly limit: never sent
        if held:
            said.append(f"{len(held)} held back by the store's spent hourly limit")
        not_sent = [*stopped_first, *held]
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


# How the summary says each state (ReturnState's values are for machines: not_cancellable).
_SAID = {
    ReturnState.CANCELLED: "cancelled",
    ReturnState.ALREADY_CANCELLED: "already cancelled",
    ReturnState.FAILED: "failed (the Market's FAILED)",
    ReturnState.NOT_CANCELLABLE: "not cancellable",
    ReturnState.IN_PROGRESS: "in progress (started, not seen to end)",
    ReturnState.NOT_SENT: "not sent",
    ReturnState.UNKNOWN: "unknown (may have started; not settled: a rerun with the journal settles them)",
}


def _held(outcome: Outcome) -> bool:
    """Never sent: the store's hourly limit was spent past the call's retry budget (a 420 of our own)."""
    error = outcome.error
    return isinstance(error, errors.RateLimitError) and error.response is None and not error.may_have_started
