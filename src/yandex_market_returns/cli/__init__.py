"""``yandex-market-returns``: cancel returns in bulk from a list, and know which ones were really cancelled.

Built on ``ReturnsClient`` alone. The key comes from ``YANDEX_MARKET_API_KEY`` or ``--api-key-file``, never from
a flag (it would show in ``ps`` and in shell history), and is never printed.
"""

import argparse
import contextlib
import io
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .. import __version__
from .._base import API_KEY_VARIABLE
from .._constants import (
    CONFIRM_ABOVE,
    CONFIRM_TIMEOUT,
    FILE_BOUND,
    LINE_BOUND,
    MAX_RETRIES,
    PARALLEL_REQUESTS,
    TIMEOUT,
)
from .._validation import DEFAULT_BASE_URL
from . import _cancel, _doctor, _interrupts, _log, _reading, _settings, _status
from ._usage import PROG, SOME_NOT_DONE, USAGE, UsageError

# argparse's words for a value it could not take, with the value: "invalid float value: 'x'".
_INVALID = re.compile(r"(invalid [\w ]+? value|invalid choice): .*?(?= \(choose from|\Z)", re.DOTALL)
# Problems listed at most: the rest are counted (a file of 500,000 bad lines is one mistake).
PROBLEMS_SHOWN = 50


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; its exit status (2 for a usage error, 128 and a stop signal's number when one stopped it).

    A stop signal's report written, the process ends at once: requests abandoned by a second Ctrl-C are not
    waited for at exit.
    """
    stderr = sys.stderr or open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the process's life)
    if sys.stdout is None:
        print(f"{PROG}: stdout is closed: there is nowhere to write what happens", file=stderr)
        return USAGE
    parser = _parser()
    args = parser.parse_args(argv)
    key = _settings.known_key(args)
    if key and any(key in word for word in (sys.argv[1:] if argv is None else argv)):
        parser.error("an argument holds the API key: a key in a command line shows in ps and in shell history")
    _log.to(stderr, logging.INFO if args.verbose else logging.WARNING)
    stdin = sys.stdin or io.StringIO()
    try:
        if args.command == "cancel":
            code = _cancel.run(args, stdin, sys.stdout, stderr)
            if code > 128:  # stopped by a signal
                _flushed(sys.stdout, stderr)
                os._exit(code)
            return code
        if args.command == "status":
            return _status.run(args, stdin, sys.stdout, stderr)
        return _doctor.run(args, sys.stdout)
    except UsageError as error:
        for problem in error.problems[:PROBLEMS_SHOWN]:
            print(f"{PROG}: {problem}", file=stderr)
        if len(error.problems) > PROBLEMS_SHOWN:
            print(f"{PROG}: and {len(error.problems) - PROBLEMS_SHOWN} more problems", file=stderr)
        return USAGE
    except KeyboardInterrupt as stop:
        print(f"\n{PROG}: interrupted ({_interrupts.name(stop)})", file=stderr)
        return _interrupts.exit_status(stop)
    except OSError as error:  # stdout could not be written (closed by ``| head``, a full disk)
        with contextlib.suppress(OSError):
            print(f"{PROG}: {error}", file=stderr)
        _flushed(sys.stdout, stderr)
        return SOME_NOT_DONE


def _flushed(*streams: Any) -> None:
    """Flush, and put /dev/null under a stream that cannot take what is left (Python would try at exit)."""
    for stream in streams:
        try:
            stream.flush()
        except OSError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _Once(argparse.Action):
    """An option that takes one value: given twice, it is a mistake, not the last one winning."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: str | None = None) -> None:
        given: set[str] = namespace.__dict__.setdefault("given_options", set())
        if self.dest in given:
            parser.error(f"{option} is given twice")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class _KeyInFlag(argparse.Action):
    """``--api-key``, refused without repeating its value."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: str | None = None) -> None:
        parser.error(
            f"{option} is not taken: a key in a flag shows in ps and in shell history; "
            f"set {API_KEY_VARIABLE}, or give --api-key-file FILE"
        )


class _Parser(argparse.ArgumentParser):
    """Refuses what it does not know by the option's name alone: the value may be a key (``--api_key KEY``)."""

    def error(self, message: str) -> NoReturn:
        # argparse quotes a value it cannot convert ("invalid float value: '...'"): it may be the key.
        super().error(_INVALID.sub(r"\1 (not shown: it may be a key)", message))

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            names = [_option_name(word) for word in unknown if word.startswith("-")]
            more = len(unknown) - len(names)
            self.error(
                f"unrecognized arguments: {' '.join(names)}"
                + (f" and {more} value{'s' if more > 1 else ''}, not shown: one may be a key" if more else "")
            )
        return parsed


def _parser() -> _Parser:
    options = _Parser(add_help=False, allow_abbrev=False)
    _once(
        options,
        "--api-key-file",
        metavar="FILE",
        help=f"a file holding the key (else the environment variable {API_KEY_VARIABLE})",
    )
    options.add_argument("--api-key", "--token", action=_KeyInFlag, nargs="?", help=argparse.SUPPRESS)
    _once(options, "--base-url", default=DEFAULT_BASE_URL, help="the Market's API (default: %(default)s)")
    _once(options, "--timeout", type=float, default=TIMEOUT, help="seconds for each request (default: %(default)g)")
    _once(options, "--max-retries", type=int, default=MAX_RETRIES, help="tries after the first (default: %(default)g)")
    _once(
        options,
        "--redis-url",
        metavar="URL",
        help=(
            f"share the Market's limits ({PARALLEL_REQUESTS} in flight per store, the hourly gate) with every "
            f"process that uses this Redis and prefix, as RedisLimits does (else {_settings.REDIS_URL_VARIABLE}; "
            "a password only there, not in a flag; needs the redis extra)"
        ),
    )
    _once(
        options,
        "--redis-prefix",
        default=_settings.REDIS_PREFIX,
        metavar="PREFIX",
        help="the prefix of the limits' keys, the same as the services' RedisLimits (default: %(default)s)",
    )
    options.add_argument("-v", "--verbose", action="store_true", help="the client's log on stderr: each retry and why")
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description=(
            "Cancel Yandex Market returns and know which ones were really cancelled. "
            f"The key comes from {API_KEY_VARIABLE} or --api-key-file, never from a flag."
        ),
        epilog=(
            "Exit status: 0 all cancelled (started, without --business-id; status: all DONE), 1 some not, 2 usage, "
            "3 status only: getOperations failed (the Market could not be asked, or refused), 130 Ctrl-C, "
            "143 SIGTERM, 129 SIGHUP."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = _command(
        commands,
        "cancel",
        options,
        help="cancel returns of one store",
        description=(
            f"Cancel returns of one store, {PARALLEL_REQUESTS} at a time: one JSON object per return on stdout as "
            "its outcome is final, with the state it ended in, a summary on stderr. A journal keeps what the batch "
            "learns: run the same command again to resume a stopped or killed run. Exit status: 0 all cancelled "
            "(or already cancelled; started, without --business-id), 1 some not, 2 usage (nothing sent), 130 "
            "Ctrl-C, 143 SIGTERM, 129 SIGHUP (after the report)."
        ),
    )
    _once(command, "--campaign-id", required=True, metavar="C", help="the store (campaignId)")
    _once(
        command,
        "--business-id",
        metavar="B",
        help="the store's business: wait for each operation and report its status",
    )
    _ids(command, "RETURN_ID", "return ids (or --from)")
    _once(
        command,
        "--order-column",
        metavar="NAME",
        help="the CSV header's column of each return's order id: an uncertain outcome is then read by getReturn",
    )
    command.add_argument("--dry-run", action="store_true", help="check and print what would be sent; send nothing")
    command.add_argument(
        "--yes", action="store_true", help=f"ask nothing (a terminal asks when there are over {CONFIRM_ABOVE})"
    )
    _once(
        command,
        "--journal",
        default=_cancel.JOURNAL,
        metavar="PATH",
        help="where the batch keeps what it learns, and a rerun resumes from (default: %(default)s, here)",
    )
    command.add_argument(
        "--fresh", action="store_true", help="forget what the journal knows of the store: start over on purpose"
    )
    _once(
        command,
        "--confirm-timeout",
        type=float,
        default=CONFIRM_TIMEOUT,
        metavar="SECONDS",
        help="how long a cancellation may run: its status is awaited, and a lost answer's return looked up, "
        "this long (default: %(default)g)",
    )
    command = _command(
        commands,
        "status",
        options,
        help="the statuses of operations (getOperations)",
        description=(
            "One JSON object per operation on stdout (its status, null when the Market does not report it), a "
            "summary on stderr. Exit status: 0 all DONE; 1 the Market answered and some are not DONE (FAILED, "
            "IN_PROGRESS, not reported); 2 usage (nothing sent); 3 getOperations failed: the Market could not be "
            "asked, or refused or failed the request, so nothing is known; 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP."
        ),
    )
    _once(command, "--business-id", required=True, metavar="B", help="the business the operations belong to")
    _ids(command, "OPERATION_ID", "operation ids (or --from)")
    command = _command(
        commands,
        "doctor",
        options,
        help="check the key, the base URL and that the Market accepts the key; changes nothing",
        description=(
            "Check the key, the options, and that the Market answers and accepts the key for the business (by "
            "asking getOperations about an operation that does not exist). It changes nothing and never cancels "
            "anything. Exit status: 0 all good, 1 something to fix or not known."
        ),
    )
    _once(command, "--business-id", metavar="B", help="the business to ask the Market about")
    return parser


def _command(commands: Any, name: str, options: argparse.ArgumentParser, **settings: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, parents=[options], allow_abbrev=False, **settings)
    return parser


def _ids(command: argparse.ArgumentParser, metavar: str, what: str) -> None:
    """The ids a command takes: as arguments, from files or stdin, one a line or a CSV's column."""
    command.add_argument("ids", nargs="*", metavar=metavar, help=what)
    ids_from = (
        "a file of ids, one a line or a CSV's column; - for stdin; may be given more than once (at most "
        f"{_reading.size(FILE_BOUND)}, lines of at most {_reading.size(LINE_BOUND)})"
    )
    command.add_argument("--from", dest="sources", action="append", default=[], metavar="FILE", help=ids_from)
    column = "the CSV header's column that holds the ids, by its exact name (else the one whose name says so)"
    _once(command, "--column", metavar="NAME", help=column)


def _once(parser: argparse.ArgumentParser, *flags: str, **settings: Any) -> None:
    """An option given at most once: a second value is refused, not silently taken over the first."""
    parser.add_argument(*flags, action=_Once, **settings)


def _option_name(word: str) -> str:
    """An unknown option as a message may show it: ``--name`` without ``=value``, ``-x`` without what is
    stuck to it (``-kKEY``)."""
    return word.split("=", 1)[0] if word.startswith("--") else word[:2]


__all__ = ["main"]
