"""``yandex-market-returns``: cancel returns in bulk from a list, and know which ones were really cancelled.

Built on ``ReturnsClient`` alone. The key comes from ``YANDEX_MARKET_API_KEY`` or ``--api-key-file``, never from
a flag (it would show in ``ps`` and in shell history), and is never printed.
"""

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ..base import API_KEY_VARIABLE
from ..validation import DEFAULT_BASE_URL
from . import cancel, doctor, status
from .inputs import UsageError

PROG = "yandex-market-returns"
USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; its exit status (2 for a usage error, 130 when stopped by Ctrl-C)."""
    args = _parser().parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger = logging.getLogger("yandex_market_returns")  # the client's log, and no one else's
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
    try:
        if args.command == "cancel":
            return cancel.run(args, sys.stdin, sys.stdout, sys.stderr)
        if args.command == "status":
            return status.run(args, sys.stdin, sys.stdout, sys.stderr)
        return doctor.run(args, sys.stdout)
    except UsageError as error:
        for problem in error.problems:
            print(f"{PROG}: {problem}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted before anything was sent", file=sys.stderr)
        return cancel.INTERRUPTED
    except BrokenPipeError:
        # stdout was closed (``| head``): nothing more can be said there, and Python must not say it at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--api-key-file", help=f"a file holding the key (else the environment variable {API_KEY_VARIABLE})"
    )
    options.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the Market's API (default: %(default)s)")
    options.add_argument("--timeout", type=float, default=30.0, help="seconds for each request (default: 30)")
    options.add_argument("--max-retries", type=int, default=3, help="tries after the first (default: 3)")
    options.add_argument("-v", "--verbose", action="count", default=0, help="the client's log on stderr; -vv for more")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Cancel Yandex Market returns and know which ones were really cancelled. "
            f"The key comes from {API_KEY_VARIABLE} or --api-key-file, never from a flag."
        ),
        epilog="Exit status: 0 all cancelled (started, without --business-id), 1 some not, 2 usage, 130 Ctrl-C.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser(
        "cancel",
        parents=[options],
        help="cancel returns of one store",
        description="One JSON object per return on stdout, a summary on stderr.",
    )
    command.add_argument("--campaign-id", required=True, metavar="C", help="the store (campaignId)")
    command.add_argument(
        "--business-id", metavar="B", help="the store's business: wait for each operation and report its status"
    )
    command.add_argument("ids", nargs="*", metavar="RETURN_ID", help="return ids (or --from)")
    command.add_argument(
        "--from", dest="source", metavar="FILE", help="ids one a line, or a CSV's first column; - for stdin"
    )
    command.add_argument("--dry-run", action="store_true", help="check and print what would be sent; send nothing")
    command.add_argument("--yes", action="store_true", help=f"no confirmation for more than {cancel.CONFIRM_ABOVE}")
    command = commands.add_parser("status", parents=[options], help="the statuses of operations (getOperations)")
    command.add_argument("--business-id", required=True, metavar="B", help="the business the operations belong to")
    command.add_argument("ids", nargs="*", metavar="OPERATION_ID", help="operation ids (or --from)")
    command.add_argument("--from", dest="source", metavar="FILE", help="ids one a line, or a CSV's first column")
    command = commands.add_parser(
        "doctor", parents=[options], help="check the key, the base URL and that the Market accepts the key"
    )
    command.add_argument("--business-id", metavar="B", help="the business to ask the Market about")
    return parser


__all__ = ["main"]
