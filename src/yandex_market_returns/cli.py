"""``yandex-market-returns``: cancel returns in bulk from a list, and know which ones were really cancelled.

Built on ``ReturnsClient`` alone. One JSON object per return on stdout, a summary on stderr; the key comes
from ``YANDEX_MARKET_API_KEY`` or ``--api-key-file``, never from a flag (it would show in ``ps`` and in
shell history), and is never printed.
"""

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from .base import API_KEY_VARIABLE
from .client import ReturnsClient
from .results import Outcome
from .validation import CAMPAIGN_ID_BOUNDS, DEFAULT_BASE_URL, RETURN_ID_BOUNDS

# Exit statuses: every return cancelled (or started, without --business-id); some not; a usage error;
# stopped by Ctrl-C, after reporting what was sent.
DONE, SOME_NOT, USAGE, INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input: every problem at once, before anything is sent."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "cancel":
            return _cancel(args, sys.stdin, sys.stdout, sys.stderr)
    except UsageError as error:
        for problem in error.problems:
            print(f"yandex-market-returns: {problem}", file=sys.stderr)
        return USAGE
    parser.print_help(sys.stderr)
    return USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yandex-market-returns",
        description=f"Cancel Yandex Market returns. The key comes from {API_KEY_VARIABLE} or --api-key-file.",
    )
    commands = parser.add_subparsers(dest="command")
    cancel = commands.add_parser("cancel", help="cancel returns of one store")
    cancel.add_argument("--campaign-id", required=True, help="the store (campaignId)")
    cancel.add_argument("--business-id", help="the store's business: wait for each operation and report it")
    cancel.add_argument("ids", nargs="*", help="return ids (or --from FILE, or --from - for stdin)")
    cancel.add_argument("--from", dest="source", help="a file of ids, one a line or a CSV's first column; - for stdin")
    cancel.add_argument("--dry-run", action="store_true", help="check and print what would be sent; send nothing")
    for command in (cancel,):
        command.add_argument("--api-key-file", type=Path, help=f"a file holding the key, instead of {API_KEY_VARIABLE}")
        command.add_argument("--base-url", default=DEFAULT_BASE_URL)
        command.add_argument("--timeout", type=float, default=30.0)
        command.add_argument("--max-retries", type=int, default=3)
    return parser


def read_ids(values: Iterable[str], source: str | None, stdin: TextIO) -> list[int]:
    """The return ids from arguments and ``--from``; every bad one is reported, with where it came from."""
    found: list[tuple[str, str]] = [(f"argument {value!r}", value) for value in values]
    if source is not None:
        try:
            text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError([f"--from {source}: {error.strerror or error}"]) from None
        found += [(f"{'stdin' if source == '-' else source} line {n}", value) for n, value in _lines(text)]
    if not found:
        raise UsageError(["no return ids: give them as arguments, or with --from FILE or --from -"])
    ids, problems, seen = [], [], set()
    low, high = RETURN_ID_BOUNDS
    for where, value in found:
        try:
            number = int(value.strip())
        except ValueError:
            problems.append(f"{where}: not a return id: {value[:40]!r}")
            continue
        if not low <= number <= high:
            problems.append(f"{where}: return id {number} is out of range {low}..{high}")
        elif number in seen:
            problems.append(f"{where}: return id {number} is given twice")
        else:
            seen.add(number)
            ids.append(number)
    if problems:
        raise UsageError(problems)
    return ids


def _lines(text: str) -> list[tuple[int, str]]:
    """One id a line, or the first column of a CSV with a header (a first line that is not a number)."""
    rows = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        return []
    if "," in rows[0][1] or ";" in rows[0][1]:
        dialect = csv.Sniffer().sniff(rows[0][1], delimiters=",;")
        parsed = [(n, next(csv.reader(io.StringIO(line), dialect), [""])[0]) for n, line in rows]
        return parsed[1:] if not parsed[0][1].strip().isdigit() else parsed
    return rows


def _key(args: argparse.Namespace) -> str:
    if args.api_key_file is not None:
        try:
            return str(args.api_key_file.read_text(encoding="utf-8").strip())
        except OSError as error:
            raise UsageError([f"--api-key-file {args.api_key_file}: {error.strerror or error}"]) from None
    key = os.environ.get(API_KEY_VARIABLE, "")
    if not key:
        raise UsageError([f"no key: set {API_KEY_VARIABLE}, or give --api-key-file"])
    return key


def _number(name: str, value: str | None, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise UsageError([f"{name}: not a number: {value[:40]!r}"]) from None
    if not bounds[0] <= number <= bounds[1]:
        raise UsageError([f"{name}: {number} is out of range {bounds[0]}..{bounds[1]}"])
    return number


def _cancel(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    problems: list[str] = []
    campaign = business = None
    try:
        campaign = _number("--campaign-id", args.campaign_id, CAMPAIGN_ID_BOUNDS)
        business = _number("--business-id", args.business_id, (1, 2**63 - 1))
    except UsageError as error:
        problems += error.problems
    try:
        ids = read_ids(args.ids, args.source, stdin)
    except UsageError as error:
        problems += error.problems
    if problems:
        raise UsageError(problems)
    assert campaign is not None
    if args.dry_run:
        for return_id in ids:
            print(json.dumps({"campaign_id": campaign, "return_id": return_id, "would_send": True}), file=stdout)
        print(f"dry run: {len(ids)} returns of store {campaign} would be cancelled; nothing was sent", file=stderr)
        return DONE
    key = _key(args)
    try:
        client = ReturnsClient(api_key=key, base_url=args.base_url, timeout=args.timeout, max_retries=args.max_retries)
    except (TypeError, ValueError) as error:
        raise UsageError([str(error)]) from None
    reported: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        reported.append(outcome)
        print(json.dumps(_line(outcome)), file=stdout, flush=True)

    with client:
        try:
            client.cancel_returns(campaign, ids, business_id=business, on_outcome=report)
        except KeyboardInterrupt as stopped:
            for outcome in getattr(stopped, "outcomes", []):
                if outcome not in reported:
                    report(outcome)
            not_sent = list(getattr(stopped, "not_sent", []))
            _summary(reported, business, stderr, not_sent)
            return INTERRUPTED
    _summary(reported, business, stderr, [])
    return DONE if all(_succeeded(outcome, business) for outcome in reported) else SOME_NOT


def _succeeded(outcome: Outcome, business: int | None) -> bool:
    return outcome.cancelled if business is not None else outcome.ok


def _line(outcome: Outcome) -> dict[str, Any]:
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


def _summary(outcomes: list[Outcome], business: int | None, stderr: TextIO, not_sent: list[int]) -> None:
    done = sum(_succeeded(outcome, business) for outcome in outcomes)
    what = "cancelled (DONE)" if business is not None else "started"
    print(f"{done} of {len(outcomes)} returns {what}; {len(outcomes) - done} not", file=stderr)
    if not_sent:
        print(f"stopped: {len(not_sent)} returns were not sent", file=stderr)


__all__ = ["main", "read_ids"]

if __name__ == "__main__":
    sys.exit(main())
