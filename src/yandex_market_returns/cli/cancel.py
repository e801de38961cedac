"""``cancel``: cancel a list of returns of one store, and say of each whether it was really cancelled."""

import argparse
import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx

from .. import errors
from .._constants import MAX_SECONDS
from ..batches import stop_report
from ..journal import JournalEntry, SqliteJournal
from ..operations import Confirmations
from ..results import Outcome
from ..runs import Run
from ..settling import Settlement
from ..validation import BUSINESS_ID_BOUNDS, CAMPAIGN_ID_BOUNDS, check_number
from . import inputs, interrupts, log, settings
from .progress import Progress
from .report import OutputError, Report, returns
from .usage import ALL_DONE, PROG, SOME_NOT_DONE, USAGE, Problems, UsageError
from .watch import Watch

# More returns than this ask for confirmation on a terminal, unless --yes.
CONFIRM_ABOVE = 20
# The journal's file when --journal is not given, in the directory the command runs in: run again there, it resumes.
JOURNAL = "yandex-market-returns-journal.sqlite3"
# The column of a spreadsheet's export that holds return ids, by its header (unless --column names it).
RETURN_COLUMN = inputs.Columns("return ids", re.compile(r"return|возврат", re.IGNORECASE))


class _RefusedError(Exception):
    """The Market refused the key or the store (401, 403): every other return would be refused too."""


def run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    problems = Problems()
    campaign = business = None
    ids: list[int] = []
    with problems.collected():
        campaign = inputs.number("--campaign-id", args.campaign_id, CAMPAIGN_ID_BOUNDS)
    with problems.collected():
        business = inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    settings.warn_key_file_open(args, stderr)
    given = settings.ids_given(args, stdin, stderr, RETURN_COLUMN._replace(orders=args.order_column))
    orders: dict[int, int] = {}
    with problems.collected():
        ids = inputs.return_ids(given)
        orders = inputs.order_ids(given, ids)
    problems.found += settings.check(args)
    try:
        check_number("confirm_timeout", args.confirm_timeout, minimum=0, maximum=MAX_SECONDS)
    except ValueError as error:
        problems.found.append(f"--confirm-timeout: {error}")
    if not args.dry_run:
        with problems.collected():
            settings.api_key(args)
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
            return interrupts.INTERRUPTED
        if not confirmed:
            print("nothing was sent", file=stderr)
            return SOME_NOT_DONE
    journal = SqliteJournal(args.journal, fresh=args.fresh)
    print(f"journal: {Path(args.journal).absolute()} ({_journal_said(args)})", file=stderr, flush=True)
    print(f"limits: {settings.limits_said(args)}", file=stderr, flush=True)
    watch = Watch(httpx.HTTPTransport())
    deferral = interrupts.Deferral(lambda stop: _stopping(stop, watch, args.timeout, stderr))
    with deferral.installed(), settings.client(args, watch) as client:
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
    settlement = Settlement(0.0, 1.0, datetime.now(UTC), {})
    confirmations = None if args.business_id is None else Confirmations(0.0, 1.0)
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
                f"{clear}{PROG}: stopping ({interrupts.name(stop)}): nothing more is sent; waiting up to "
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
        reason = f"interrupted ({interrupts.name(stopped)}): nothing more was sent"
    else:
        reason = str(stopped)
    report.write_rest(outcomes)
    report.summary(total, watch, reason, not_sent)
    return interrupts.exit_status(stopped) if isinstance(stopped, KeyboardInterrupt) else SOME_NOT_DONE


@contextlib.contextmanager
def _shown(stderr: TextIO, total: int, watch: Watch, confirming: bool) -> Iterator[Progress | None]:
    """The progress display, on a terminal only; the client's log is written above it, not into it."""
    if not stderr.isatty():
        yield None
        return
    progress = Progress(stderr, total, watch, confirming)
    logs = [handler for handler in _client_log().handlers if isinstance(handler, log.Handler)]
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
