"""``cancel``: cancel a list of returns of one store, and say of each whether it was really cancelled."""

import argparse
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import TextIO

import httpx

from .. import errors
from ..results import Outcome
from ..validation import BUSINESS_ID_BOUNDS, CAMPAIGN_ID_BOUNDS
from . import inputs, interrupts, settings
from .progress import Progress
from .report import OutputError, Report, returns
from .watch import Watch

# More returns than this ask for confirmation on a terminal, unless --yes.
CONFIRM_ABOVE = 20

# Exit statuses (a stop signal's is 128 and its number).
DONE, SOME_NOT = 0, 1


class _RefusedError(Exception):
    """The Market refused the key or the store (401, 403): every other return would be refused too."""


def run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    problems = inputs.Problems()
    campaign = business = None
    ids: list[int] = []
    with problems.collected():
        campaign = inputs.number("--campaign-id", args.campaign_id, CAMPAIGN_ID_BOUNDS)
    with problems.collected():
        business = inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    given = inputs.given(args.ids, args.sources, stdin, "return ids")
    with problems.collected():
        ids = inputs.return_ids(given)
    problems.found += settings.check(args)
    if not args.dry_run:
        with problems.collected():
            settings.api_key(args)
    problems.raise_any()
    assert campaign is not None
    for header in given.headers:
        print(f"yandex-market-returns: {header}", file=stderr)
    if args.dry_run:
        for return_id in ids:
            print(json.dumps({"campaign_id": campaign, "return_id": return_id, "would_send": True}), file=stdout)
        print(f"dry run: {returns(len(ids))} of store {campaign} would be cancelled; nothing was sent", file=stderr)
        return DONE
    if len(ids) > CONFIRM_ABOVE and not args.yes:
        try:
            confirmed = _confirmed(len(ids), campaign, stdin, stderr)
        except KeyboardInterrupt:
            print("\nstopped: nothing was sent", file=stderr)
            return interrupts.exit_status(KeyboardInterrupt())
        if not confirmed:
            print("nothing was sent", file=stderr)
            return SOME_NOT
    watch = Watch(httpx.HTTPTransport())
    deferral = interrupts.Deferral()
    with deferral.installed(), settings.client(args, watch) as client:
        with _shown(stderr, len(ids), watch, business is not None) as progress:
            report = Report(stdout, stderr, business is not None, progress, deferral)

            def write(outcome: Outcome) -> None:
                report.write(outcome)
                if isinstance(outcome.error, errors.UnauthorizedError | errors.ForbiddenError):
                    raise _RefusedError(f"the Market refused the request ({outcome.error})")

            try:
                client.cancel_returns(campaign, ids, business_id=business, on_outcome=write)
            except (KeyboardInterrupt, _RefusedError, errors.MarketError, OutputError) as stopped:
                deferral.ignore()  # what was sent is said in full first
                if progress is not None:
                    progress.stop()
                return _stopped(stopped, report, len(ids), watch, stderr)
            deferral.ignore()
        report.summary(len(ids), watch)
    return DONE if report.all_succeeded else SOME_NOT


def _stopped(stopped: BaseException, report: Report, total: int, watch: Watch, stderr: TextIO) -> int:
    outcomes, not_sent = _carried(stopped)
    if isinstance(stopped, OutputError):
        report.move_to(stderr)  # nobody reads stdout: the outcomes not written there go to stderr
        reason = f"{stopped}; the outcomes not written there follow on stderr"
    elif isinstance(stopped, KeyboardInterrupt):
        reason = f"interrupted ({interrupts.name(stopped)}): nothing more was sent"
    else:
        reason = str(stopped)
    report.write_rest(outcomes)
    report.summary(total, watch, reason, not_sent)
    return interrupts.exit_status(stopped) if isinstance(stopped, KeyboardInterrupt) else SOME_NOT


def _carried(stopped: BaseException | None) -> tuple[list[Outcome], list[int]]:
    """The stop report: on the exception, or on the one it interrupted (a second Ctrl-C during the first's
    wait carries none of its own)."""
    while stopped is not None:
        if hasattr(stopped, "not_sent"):
            return list(getattr(stopped, "outcomes", [])), list(stopped.not_sent)
        stopped = stopped.__context__
    return [], []


@contextlib.contextmanager
def _shown(stderr: TextIO, total: int, watch: Watch, confirming: bool) -> Iterator[Progress | None]:
    """The progress display, on a terminal only; the client's log is written above it, not into it."""
    if not stderr.isatty():
        yield None
        return
    progress = Progress(stderr, total, watch, confirming)
    logs = [handler for handler in _client_log().handlers if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(progress.above()) for handler in logs]
    try:
        yield progress
    finally:
        progress.stop()
        for handler, stream in zip(logs, streams, strict=True):
            handler.setStream(stream)


def _client_log() -> logging.Logger:
    return logging.getLogger("yandex_market_returns")


def _confirmed(count: int, campaign: int, stdin: TextIO, stderr: TextIO) -> bool:
    """Ask on the terminal; a run with no terminal (a script, a job) goes on without asking."""
    with _terminal(stdin, stderr) as (question, answers):
        if answers is None:
            return True
        question.write(f"Cancel {count} returns of store {campaign}? A cancelled return stays cancelled. [y/N] ")
        question.flush()
        return answers.readline().strip().lower() in ("y", "yes")


@contextlib.contextmanager
def _terminal(stdin: TextIO, stderr: TextIO) -> Iterator[tuple[TextIO, TextIO | None]]:
    """Where to ask and read the answer: stderr and stdin when both are the terminal; else the terminal
    itself, when either is (the ids may come on stdin, or stderr go to a file); nowhere without one."""
    if stdin.isatty() and stderr.isatty():
        yield stderr, stdin
    elif not stdin.isatty() and not stderr.isatty():
        yield stderr, None
    else:
        with contextlib.ExitStack() as opened:
            try:  # a terminal is not seekable: one stream each way
                question = opened.enter_context(open("/dev/tty", "w", encoding="utf-8"))
                answers = opened.enter_context(open("/dev/tty", encoding="utf-8"))
            except OSError:
                raise inputs.UsageError(
                    [f"more than {CONFIRM_ABOVE} returns and no terminal to confirm on: give --yes"]
                ) from None
            yield question, answers
