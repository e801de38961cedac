"""``cancel``: cancel a list of returns of one store, and say of each whether it was really cancelled."""

import argparse
import contextlib
import json
import logging
import signal
from collections.abc import Iterator
from typing import TextIO

import httpx

from .. import errors
from ..operations import logger as client_logger
from ..results import Outcome
from ..validation import BUSINESS_ID_BOUNDS, CAMPAIGN_ID_BOUNDS
from . import inputs
from .interrupts import Deferral
from .progress import Progress, Watch
from .report import Report

# More returns than this ask for confirmation on a terminal, unless --yes.
CONFIRM_ABOVE = 20

# Exit statuses.
DONE, SOME_NOT, INTERRUPTED = 0, 1, 130


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
    with problems.collected():
        ids = inputs.return_ids(inputs.given(args.ids, args.source, stdin, "return ids"))
    problems.raise_any()
    assert campaign is not None
    if args.dry_run:
        for return_id in ids:
            print(json.dumps({"campaign_id": campaign, "return_id": return_id, "would_send": True}), file=stdout)
        print(f"dry run: {len(ids)} returns of store {campaign} would be cancelled; nothing was sent", file=stderr)
        return DONE
    key, _ = inputs.api_key(args)
    watch = Watch(httpx.HTTPTransport())
    client = inputs.client(args, key, watch)
    if len(ids) > CONFIRM_ABOVE and not args.yes and not _confirmed(len(ids), campaign, stdin, stderr):
        client.close()
        print("nothing was sent", file=stderr)
        return SOME_NOT
    with _shown(stderr, len(ids), watch, business is not None) as progress, Deferral().installed() as deferral:
        report = Report(stdout, stderr, business is not None, progress, deferral)

        def write(outcome: Outcome) -> None:
            report.write(outcome)
            if isinstance(outcome.error, errors.UnauthorizedError | errors.ForbiddenError):
                raise _RefusedError(f"the Market refused the request ({outcome.error})")

        with client:
            try:
                client.cancel_returns(campaign, ids, business_id=business, on_outcome=write)
            except (KeyboardInterrupt, _RefusedError, errors.MarketError, BrokenPipeError) as stopped:
                # A second Ctrl-C must not cut the report short: what was sent is said first.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                return _stopped(stopped, report, progress, len(ids), watch, stderr)
    report.summary(len(ids), watch)
    return DONE if report.all_succeeded else SOME_NOT


def _stopped(
    stopped: BaseException, report: Report, progress: Progress | None, total: int, watch: Watch, stderr: TextIO
) -> int:
    if progress is not None:
        progress.stop()
    outcomes: list[Outcome] = getattr(stopped, "outcomes", [])
    not_sent: list[int] = getattr(stopped, "not_sent", [])
    if isinstance(stopped, BrokenPipeError):
        # Nobody reads stdout any more: the outcomes not yet written go to stderr, so that none is lost.
        report.move_to(stderr)
        reason = "stdout was closed; the outcomes not written there follow on stderr"
    elif isinstance(stopped, KeyboardInterrupt):
        reason = "interrupted (Ctrl-C); the requests in flight were waited for"
    else:
        reason = str(stopped)
    report.write_rest(outcomes)
    report.summary(total, watch, reason, not_sent)
    return INTERRUPTED if isinstance(stopped, KeyboardInterrupt) else SOME_NOT


@contextlib.contextmanager
def _shown(stderr: TextIO, total: int, watch: Watch, confirming: bool) -> Iterator[Progress | None]:
    """The progress display, on a terminal only."""
    if not stderr.isatty():
        yield None
        return
    progress = Progress(stderr, total, watch, "cancelled" if confirming else "started")
    # The client's log (-v) is written above the display, not into it.
    logs = [handler for handler in client_logger.handlers if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(progress.above()) for handler in logs]
    try:
        yield progress
    finally:
        progress.stop()
        for handler, stream in zip(logs, streams, strict=True):
            handler.setStream(stream)


def _confirmed(count: int, campaign: int, stdin: TextIO, stderr: TextIO) -> bool:
    """Ask on the terminal; a run with no terminal (a script, a job) goes on without asking."""
    with _terminal(stdin, stderr) as answers:
        if answers is None:
            return True
        print(
            f"Cancel {count} returns of store {campaign}? A cancelled return stays cancelled. [y/N] ",
            end="",
            file=stderr,
            flush=True,
        )
        return answers.readline().strip().lower() in ("y", "yes")


@contextlib.contextmanager
def _terminal(stdin: TextIO, stderr: TextIO) -> Iterator[TextIO | None]:
    """Where to read an answer: stdin when it is a terminal, else the terminal stderr is on (stdin may carry
    the ids); ``None`` when there is no terminal."""
    if stdin.isatty():
        yield stdin
    elif not stderr.isatty():
        yield None
    else:
        try:
            terminal = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError:
            raise inputs.UsageError(
                [f"more than {CONFIRM_ABOVE} returns and no terminal to confirm on: give --yes"]
            ) from None
        with terminal:
            yield terminal
