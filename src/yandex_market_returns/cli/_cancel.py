"""``cancel``: cancel a list of returns of one store, and say of each whether it was really cancelled."""

import argparse
import collections
import contextlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from .. import errors
from .._batches import stop_report
from .._confirmations import Confirmations
from .._constants import CONFIRM_ABOVE, MAX_SECONDS, POLL_INTERVAL
from .._journal import JournalEntry, SqliteJournal
from .._rate_limit import RateLimit
from .._results import Outcome, ReturnState, Source
from .._runs import Run
from .._settling import Settlement
from .._validation import BUSINESS_ID_BOUNDS, CAMPAIGN_ID_BOUNDS, check_number
from . import _inputs, _interrupts, _log, _settings
from ._interrupts import Deferral
from ._usage import ALL_DONE, PROG, SOME_NOT_DONE, USAGE, Problems, UsageError

# The cancelReturn requests a batch sends, seen from its transport: how many are in flight, how many returns
# were sent and retried, and the store's remaining hourly requests.


class Watch(httpx.BaseTransport):
    """Counts what it passes on; the store's remaining hourly requests are the latest answer's (of a 200, 400
    or 420: the Market's own)."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._sent: collections.Counter[object] = collections.Counter()
        self.in_flight = 0
        self.remaining: int | None = None

    @property
    def sent(self) -> int:
        """Returns sent at least once."""
        with self._lock:
            return len(self._sent)

    @property
    def retries(self) -> int:
        with self._lock:
            return sum(self._sent.values()) - len(self._sent)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/returns/cancel"):
            return self._transport.handle_request(request)
        with self._lock:
            self._sent[_return_id(request)] += 1
            self.in_flight += 1
        try:
            response = self._transport.handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        # The Market's own answers count against the store; an error page of a server or a gateway may not.
        remaining = RateLimit.from_headers(response.headers).remaining
        if remaining is not None and (response.is_success or response.status_code in (400, 420)):
            self.remaining = remaining
        return response

    def close(self) -> None:
        self._transport.close()


def _return_id(request: httpx.Request) -> object:
    try:
        return json.loads(request.content)["returnId"]
    except (ValueError, KeyError, TypeError):
        return request.content  # the body itself tells one return's requests from another's


# What an operator watches while a batch runs: one line on a terminal, redrawn a few times a second.

# How often the display is redrawn, in seconds.
TICK = 0.25


class Progress:
    """One line on stderr: returns sent, done, not done, in flight, the rate of sending, the time left to send
    and the store's remaining hourly requests. Whatever else is written to the terminal goes above it, through
    ``paused`` or ``write``."""

    def __init__(self, stream: TextIO, total: int, watch: Watch, confirming: bool) -> None:
        self._stream = stream
        self._total = total
        self._watch = watch
        self._confirming = confirming
        self._done = self._not_done = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yandex-market-returns-progress", daemon=True)
        self._thread.start()

    def note(self, done: bool) -> None:
        with self._lock:
            if done:
                self._done += 1
            else:
                self._not_done += 1

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Clear the line for whatever is written meanwhile, and draw it again below."""
        with self._lock:
            self._emit("\r\x1b[K")
            try:
                yield
            finally:
                if not self._stopped.is_set():
                    self._draw()

    def write(self, text: str) -> int:
        """Write ``text`` above the line (a log handler's stream)."""
        with self.paused():
            self._emit(text)
        return len(text)

    def flush(self) -> None:
        """Each write flushes."""

    def stop(self) -> None:
        """Clear the line, once; lines written after it stay."""
        if self._stopped.is_set() and not self._thread.is_alive():
            return
        self._stopped.set()
        self._thread.join()
        with self._lock:
            self._emit("\r\x1b[K")

    def line(self) -> str:
        sent = self._watch.sent
        elapsed = time.monotonic() - self._started
        rate = sent / elapsed if elapsed > 0 else 0.0
        word = "cancelled" if self._confirming else "started"
        parts = [
            f"{sent}/{self._total} sent",
            f"{self._done} {word}",
            f"{self._not_done} not {word}",
            f"{self._watch.in_flight} in flight",
        ]
        if self._watch.retries:
            parts.append(f"{self._watch.retries} retried")
        to_send = self._total - sent
        if to_send:
            parts.append(f"{rate:.1f}/s")
            if self._watch.remaining is not None and self._watch.remaining < to_send:
                parts.append(f"the hourly limit runs out before the {to_send} left are sent")
            elif rate > 0:
                parts.append(f"~{_duration(to_send / rate)} left to send")
        elif self._confirming and self._done + self._not_done < self._total:
            parts.append(f"{self._total - self._done - self._not_done} awaiting their status")
        if self._watch.remaining is not None:
            parts.append(f"hourly requests left: {self._watch.remaining}")
        return " · ".join(parts)

    def _run(self) -> None:
        while not self._stopped.wait(TICK):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        self._emit("\r\x1b[K" + self.line()[: _width(self._stream) - 1])

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the display is not worth an error
            self._stopped.set()


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


# More returns than this ask for confirmation on a terminal, unless --yes.
# What the command says of each return (a JSON line on stdout) and of the whole batch (a summary on stderr).


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


# The command: what it reads, sends and says, in the order it does it.

# The journal's file when --journal is not given, in the directory the command runs in: run again there, it resumes.
JOURNAL = "yandex-market-returns-journal.sqlite3"
# The column of a spreadsheet's export that holds return ids, by its header (unless --column names it).
RETURN_COLUMN = _inputs.Columns("return ids", re.compile(r"return|возврат", re.IGNORECASE))


class _RefusedError(Exception):
    """The Market refused the key or the store (401, 403): every other return would be refused too."""


def run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    problems = Problems()
    campaign = business = None
    ids: list[int] = []
    with problems.collected():
        campaign = _inputs.number("--campaign-id", args.campaign_id, CAMPAIGN_ID_BOUNDS)
    with problems.collected():
        business = _inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    _settings.warn_key_file_open(args, stderr)
    given = _settings.ids_given(args, stdin, stderr, RETURN_COLUMN._replace(orders=args.order_column))
    orders: dict[int, int] = {}
    with problems.collected():
        ids = _inputs.return_ids(given)
        orders = _inputs.order_ids(given, ids)
    problems.found += _settings.check(args)
    try:
        check_number("confirm_timeout", args.confirm_timeout, minimum=0, maximum=MAX_SECONDS)
    except ValueError as error:
        problems.found.append(f"--confirm-timeout: {error}")
    if not args.dry_run:
        with problems.collected():
            _settings.api_key(args)
    problems.raise_any()
    assert campaign is not None
    if args.dry_run:
        known = _in_journal(args, campaign, ids)
        for index, return_id in enumerate(ids):
            line = {"campaign_id": campaign, "return_id": return_id, "would_send": index not in known}
            print(json.dumps(line | known.get(index, {})), file=stdout)
        said = f"{len(ids) - len(known)} of {returns(len(ids))} of store {campaign} would be sent"
        if known:
            said += f" ({len(known)} the journal knows of: reported, confirmed or looked up, not sent)"
        print(f"dry run: {said}; nothing was sent", file=stderr)
        return ALL_DONE
    if len(ids) > CONFIRM_ABOVE and not args.yes:
        question = f"Cancel {len(ids)} returns of store {campaign}"
        if given.headers:
            question += f" ({'; '.join(map(str, given.headers))})"
        try:
            confirmed = _confirmed(f"{question}? A cancelled return stays cancelled. [y/N] ", stdin, stdout, stderr)
        except KeyboardInterrupt:
            print("\nstopped: nothing was sent", file=stderr)
            return _interrupts.INTERRUPTED
        if not confirmed:
            print("nothing was sent", file=stderr)
            return SOME_NOT_DONE
    journal = SqliteJournal(args.journal, fresh=args.fresh)
    print(f"journal: {Path(args.journal).absolute()} ({_journal_said(args)})", file=stderr, flush=True)
    print(f"limits: {_settings.limits_said(args)}", file=stderr, flush=True)
    watch = Watch(httpx.HTTPTransport())
    deferral = _interrupts.Deferral(lambda stop: _stopping(stop, watch, args.timeout, stderr))
    with deferral.installed(), _settings.client(args, watch) as client:
        with _shown(stderr, len(ids), watch, business is not None) as progress:
            report = Report(stdout, stderr, business is not None, progress, deferral)

            def write(outcome: Outcome) -> None:
                report.write(outcome)
                if isinstance(outcome.error, errors.UnauthorizedError | errors.ForbiddenError):
                    raise _RefusedError(f"the Market refused the request ({outcome.error})")

            try:
                outcomes = client.cancel_returns(
                    campaign,
                    ids,
                    business_id=business,
                    on_outcome=write,
                    confirm_timeout=args.confirm_timeout,
                    journal=journal,
                    order_ids=orders,
                )
                report.write_rest(outcomes)  # each was written as it came: none is written twice
            except errors.JournalError as unusable:
                if (stop_report(unusable) or ([], []))[0]:  # it failed mid-batch: what was sent is reported
                    deferral.ignore()
                    if progress is not None:
                        progress.stop()
                    return _stopped(unusable, report, len(ids), watch, stderr)
                if progress is not None:
                    progress.stop()
                print(f"{PROG}: {unusable}; nothing was sent", file=stderr)
                return USAGE
            except (KeyboardInterrupt, _RefusedError, errors.MarketError, OutputError) as stopped:
                deferral.ignore()  # what was sent is said in full first
                if progress is not None:
                    progress.stop()
                return _stopped(stopped, report, len(ids), watch, stderr)
            deferral.ignore()
        report.summary(len(ids), watch)
    return ALL_DONE if report.all_succeeded else SOME_NOT_DONE


def _in_journal(args: argparse.Namespace, campaign: int, ids: list[int]) -> dict[int, dict[str, str]]:
    """What a run would do instead of sending, for each return the journal knows of (by index): a dry run reads
    it as a run would, and writes nothing (a journal not there yet is not made; --fresh would forget it)."""
    path = Path(args.journal)
    if args.fresh or not path.exists():
        return {}
    if not path.is_file():
        raise UsageError([f"--journal: {path} is not a file: give the path of a file to keep the journal in"])
    try:
        entries = SqliteJournal(path).entries(campaign)
    except errors.JournalError as error:
        raise UsageError([f"--journal: {error}"]) from None
    settlement = Settlement(0.0, POLL_INTERVAL, datetime.now(UTC), {})  # nothing waits: nothing is sent
    confirmations = None if args.business_id is None else Confirmations(0.0, POLL_INTERVAL)
    known = Run(campaign, ids, _Seen(entries)).open(confirmations, settlement)
    would: dict[int, dict[str, str]] = {index: {"state": outcome.state.value} for index, outcome in known}
    would |= {
        index: {"would": "confirm its operation"} for index, _ in (confirmations.known() if confirmations else [])
    }
    would |= {index: {"would": "look up its record"} for index, _ in settlement.unsettled()}
    return would


class _Seen:
    """A journal's entries as a dry run sees them: read, never held or written."""

    def __init__(self, entries: dict[int, JournalEntry]) -> None:
        self._entries = entries

    def claim(self, campaign_id: int) -> dict[int, JournalEntry]:
        return self._entries

    def write(self, entry: JournalEntry) -> None:
        raise AssertionError("a dry run writes nothing")

    def release(self) -> None:
        pass


def _journal_said(args: argparse.Namespace) -> str:
    if args.fresh:
        return "--fresh: what it knows of this store is forgotten as the run starts"
    return "a rerun with the same journal resumes; --fresh starts over"


def _stopping(stop: KeyboardInterrupt, watch: Watch, timeout: float, stderr: TextIO) -> None:
    """Said at once on the first stop: the wait for the requests in flight may be long."""
    if watch.in_flight:
        with contextlib.suppress(OSError):
            clear = "\r\x1b[K" if stderr.isatty() else ""
            print(
                f"{clear}{PROG}: stopping ({_interrupts.name(stop)}): nothing more is sent; waiting up to "
                f"{timeout:g} s for the {watch.in_flight} requests in flight (the same signal again stops waiting)",
                file=stderr,
                flush=True,
            )


def _stopped(stopped: BaseException, report: Report, total: int, watch: Watch, stderr: TextIO) -> int:
    outcomes, not_sent = stop_report(stopped) or ([], [])
    if isinstance(stopped, OutputError):
        # What a reader took from the pipe but did not keep cannot be known: every outcome goes to stderr.
        report.move_to(stderr, again=True)
        reason = f"{stopped}; every outcome is above, on stderr"
    elif isinstance(stopped, KeyboardInterrupt):
        reason = f"interrupted ({_interrupts.name(stopped)}): nothing more was sent"
    else:
        reason = str(stopped)
    report.write_rest(outcomes)
    report.summary(total, watch, reason, not_sent)
    return _interrupts.exit_status(stopped) if isinstance(stopped, KeyboardInterrupt) else SOME_NOT_DONE


@contextlib.contextmanager
def _shown(stderr: TextIO, total: int, watch: Watch, confirming: bool) -> Iterator[Progress | None]:
    """The progress display, on a terminal only; the client's log is written above it, not into it."""
    if not stderr.isatty():
        yield None
        return
    progress = Progress(stderr, total, watch, confirming)
    logs = [handler for handler in _client_log().handlers if isinstance(handler, _log.Handler)]
    streams = [handler.setStream(progress) for handler in logs]
    try:
        yield progress
    finally:
        progress.stop()
        for handler, stream in zip(logs, streams, strict=True):
            handler.setStream(stream)


def _client_log() -> logging.Logger:
    return logging.getLogger("yandex_market_returns")


def _confirmed(question: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> bool:
    """Ask on the terminal; a run with no terminal (a script, a job) goes on without asking."""
    with _terminal(stdin, stdout, stderr) as (asked, answers):
        if answers is None:
            return True
        asked.write(question)
        asked.flush()
        answer = answers.readline()
        if not answer.endswith("\n"):
            asked.write("\n")  # end of input: what follows starts on a line of its own
        return answer.strip().lower() in ("y", "yes")


@contextlib.contextmanager
def _terminal(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> Iterator[tuple[TextIO, TextIO | None]]:
    """Where to ask and read the answer: stderr and stdin when both are the terminal; else the terminal itself
    when any of the three is (the ids may come on stdin, stderr go to a file); nowhere without one."""
    if stdin.isatty() and stderr.isatty():
        yield stderr, stdin
    elif not any(stream.isatty() for stream in (stdin, stdout, stderr)):
        yield stderr, None
    else:
        with contextlib.ExitStack() as opened:
            try:  # a terminal is not seekable: one stream each way
                asked = opened.enter_context(open("/dev/tty", "w", encoding="utf-8"))
                answers = opened.enter_context(open("/dev/tty", encoding="utf-8"))
                background = os.tcgetpgrp(answers.fileno()) != os.getpgrp()
            except OSError:
                background = True
            if background:  # no terminal, or reading it would stop the process (SIGTTIN): no one can answer
                raise UsageError([f"more than {CONFIRM_ABOVE} returns and no terminal to confirm on: give --yes"])
            yield asked, answers
