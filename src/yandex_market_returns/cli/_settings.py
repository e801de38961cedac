"""The options every command shares: the key, the base URL, the timeout and the retries, checked before anything
is sent, and the client made from them."""

import argparse
import contextlib
import os
import re
import stat
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import httpx

from .._base import API_KEY_VARIABLE
from .._client import ReturnsClient
from .._constants import LINE_BOUND, MOST_RETRIES
from .._validation import check_api_key, check_base_url, check_count, check_timeout
from ..limits import DEFAULT_PREFIX, FileLimits
from ._inputs import Columns, Given, given
from ._reading import read_bounded
from ._usage import PROG, Problems, UsageError, unreadable

if TYPE_CHECKING:
    from ..limits import RedisLimits

# The most read of a key file, in bytes: a key is tens of characters; /dev/zero given by mistake is refused.
KEY_FILE_BOUND = LINE_BOUND
# Where --redis-url is read from when the flag is not given: the place for a URL with a password.
REDIS_URL_VARIABLE = "YANDEX_MARKET_RETURNS_REDIS_URL"
REDIS_PREFIX = DEFAULT_PREFIX


def check(args: argparse.Namespace) -> list[str]:
    """Every problem of the shared options, named by their flags."""
    problems = []
    for flag, checked in (
        ("--base-url", lambda: check_base_url(args.base_url)),
        ("--timeout", lambda: check_timeout(args.timeout)),
        ("--max-retries", lambda: check_count("max_retries", args.max_retries, maximum=MOST_RETRIES)),
    ):
        try:
            checked()
        except (TypeError, ValueError) as error:
            problems.append(f"{flag}: {error}")
    try:
        redis_url(args)
    except UsageError as error:
        problems += error.problems
    return problems


def limits_said(args: argparse.Namespace) -> str:
    """Where the command keeps the Market's limits, for its first lines."""
    url = redis_url(args)
    if url is None:
        return (
            f"shared with this command's other runs on this host, by lock files in {limits_folder()} (no "
            f"--redis-url or {REDIS_URL_VARIABLE}: services that share the store's limits through Redis do not "
            "count this command's requests)"
        )
    return f"shared through Redis at {redis_where(url)} (prefix {args.redis_prefix})"


def api_key(args: argparse.Namespace) -> tuple[str, str]:
    """The key and where it came from: ``--api-key-file``, else the environment. Never a flag's value: it would
    show in ``ps`` and in shell history. A path that cannot be read is not repeated: it may be a key given by
    mistake."""
    if args.api_key_file is not None:
        where = "--api-key-file"
        key = _key_file(args).text().strip()
        if not key:
            raise UsageError([f"{where}: the file is empty"])
    else:
        where = API_KEY_VARIABLE
        key = os.environ.get(API_KEY_VARIABLE, "").strip()
        if not key:
            raise UsageError([f"no key: set {API_KEY_VARIABLE}, or give --api-key-file FILE"])
    scheme = key.split(" ", 1)[0]
    if scheme.lower() in ("bearer", "oauth", "api-key:", "api-key"):
        raise UsageError([f"the key from {where} starts with {scheme!r}: give the token alone"])
    try:
        check_api_key(key)
    except ValueError as error:  # its message never holds the key
        raise UsageError([f"the key from {where}: {error}"]) from None
    return key, where


class _KeyFile:
    """What ``--api-key-file`` held, read once: a pipe (``<(pass show ...)``, ``/dev/stdin``) gives it only once,
    and the key is asked for several times. Its ``repr`` shows nothing of it."""

    def __init__(self, path: str) -> None:
        self._text = ""
        self._problem: UsageError | None = None
        try:
            with open(path, "rb") as file:
                self._text = read_bounded(file, "--api-key-file", file_bound=KEY_FILE_BOUND)
        except OSError as error:
            reason = f"{unreadable(error)} (the path is not shown, in case it is a key)"
            self._problem = UsageError([f"--api-key-file: {reason}"])
        except UsageError as error:
            self._problem = error

    def text(self) -> str:
        if self._problem is not None:
            raise UsageError(self._problem.problems) from None
        return self._text

    def __repr__(self) -> str:
        return "<the --api-key-file's text>"


def _key_file(args: argparse.Namespace) -> _KeyFile:
    read = vars(args).get("key_file_read")
    if not isinstance(read, _KeyFile):
        read = args.key_file_read = _KeyFile(args.api_key_file)
    return read


def key_file_open(args: argparse.Namespace) -> str | None:
    """What to do when others can read the key file (it has group or other permission bits), else ``None``. A
    pipe or a terminal (``/dev/stdin``) is not a file that stays."""
    if args.api_key_file is None:
        return None
    try:
        mode = os.stat(args.api_key_file).st_mode
    except OSError:
        return None  # said by api_key
    if not stat.S_ISREG(mode) or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    return f"key file {args.api_key_file}: others can read it; run: chmod 600 {args.api_key_file}"


def warn_key_file_open(args: argparse.Namespace, stderr: TextIO) -> None:
    """Said, not refused: the key in it may have been seen already, and the run may be urgent."""
    warning = key_file_open(args)
    if warning is not None:
        print(f"{PROG}: warning: {warning}", file=stderr)


def known_key(args: argparse.Namespace) -> str | None:
    """The key when it can be read, else ``None`` (its problems are said elsewhere)."""
    try:
        return api_key(args)[0]
    except UsageError:
        return None


def ids_given(args: argparse.Namespace, stdin: TextIO, stderr: TextIO, columns: Columns) -> Given:
    """The ids of the arguments and ``--from``, less any line that holds the key (never shown, never sent); a
    header read is said at once, whatever else is wrong."""
    key = known_key(args)  # read first: it may be on stdin
    sources = args.sources
    taken = []
    if "-" in sources and _is_stdin(args.api_key_file, stdin):
        sources = [source for source in sources if source != "-"]
        taken = ["--from -: stdin holds the key (--api-key-file): give the ids as arguments or in a file"]
    values = given(args.ids, sources, stdin, columns._replace(chosen=args.column), key)
    for header in values.headers:
        print(f"{PROG}: {header}", file=stderr)
    return values._replace(problems=taken + values.problems)


def _is_stdin(path: str | None, stdin: TextIO) -> bool:
    """Whether the key file is stdin itself (``/dev/stdin``, ``/dev/fd/0``)."""
    try:
        return path is not None and os.path.samestat(os.stat(path), os.fstat(stdin.fileno()))
    except (OSError, ValueError):  # not a file, or a stdin that is not one (closed, in memory)
        return False


def redis_url(args: argparse.Namespace) -> str | None:
    """``--redis-url``, else the environment's; ``None``: this process keeps the limits alone. A password in
    the flag is refused, and no message shows the URL: it would show in ``ps`` and in shell history."""
    if args.redis_url is None:
        url = os.environ.get(REDIS_URL_VARIABLE) or None
        if url is not None:
            _check_redis_url(url, REDIS_URL_VARIABLE)
        return url
    url = str(args.redis_url)
    _check_redis_url(url, "--redis-url")
    parts = urllib.parse.urlsplit(url)
    if parts.password or "password" in urllib.parse.parse_qs(parts.query):
        raise UsageError(
            [
                f"--redis-url: the URL holds a password, which a flag shows to every user of this machine: set "
                f"{REDIS_URL_VARIABLE} instead (the URL is not shown)"
            ]
        )
    return url


# What may follow a Redis URL's host: a database number, or a Sentinel's service (and database).
_REDIS_PATH = {
    "redis": re.compile(r"/?|/\d+"),
    "rediss": re.compile(r"/?|/\d+"),
    "redis+sentinel": re.compile(r"/[^/@:]+(/\d+)?"),
}


def _check_redis_url(url: str, where: str) -> None:
    """A URL whose parts are where they belong; the problem said without the URL (it may hold a password that
    a character left unquoted, a `/` say, moved into its path)."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "redis+sentinel":  # its sentinels, host:port each, are read by RedisLimits.from_url
            parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise UsageError([f"{where}: not a URL that can be read (not shown, in case it holds a password)"]) from None
    if parts.scheme == "unix":
        return
    path = _REDIS_PATH.get(parts.scheme)
    if path is None:
        raise UsageError(
            [f"{where}: the URL's scheme must be redis, rediss, redis+sentinel or unix, not {parts.scheme!r}"]
        )
    if not parts.hostname or not path.fullmatch(parts.path):
        raise UsageError(
            [
                f"{where}: the URL must be {parts.scheme}://[user:password@]host:port/"
                f"{'service[/db]' if parts.scheme == 'redis+sentinel' else 'db'} (not shown, in case it holds a "
                "password; quote a / or @ in the password as %2F or %40)"
            ]
        )


def redis_where(url: str) -> str:
    """Where the URL points, without its password."""
    parts = urllib.parse.urlsplit(url)  # checked by redis_url()
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def limits_folder() -> Path:
    """Where the runs of this command on this host, by this user, share a store's slots without Redis."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "yandex-market-returns"
    return Path(tempfile.gettempdir()) / f"yandex-market-returns-{os.getuid()}"


def limits(args: argparse.Namespace) -> "RedisLimits | FileLimits":
    """The limits shared through Redis that the options name, else through lock files on this host."""
    url = redis_url(args)
    if url is None:
        folder = limits_folder()
        try:
            return FileLimits(folder)
        except ValueError as error:
            raise UsageError([f"the limits shared on this host: {error}"]) from None
    try:
        from ..limits import RedisLimits
    except ImportError as error:
        raise UsageError([f"--redis-url: {error}"]) from None
    try:
        return RedisLimits.from_url(url, prefix=args.redis_prefix)
    except (TypeError, ValueError) as error:  # redis-py's messages about a URL do not repeat it
        named = "--redis-url" if args.redis_url is not None else REDIS_URL_VARIABLE
        raise UsageError([f"{named} ({redis_where(url)}): {error}"]) from None


@contextlib.contextmanager
def client(args: argparse.Namespace, transport: httpx.BaseTransport | None = None) -> Iterator[ReturnsClient]:
    """A client with the options, the key and the shared limits; every problem with them at once."""
    problems = Problems()
    problems.found += check(args)
    key = ""
    with problems.collected():
        key, _ = api_key(args)
    with problems.collected():
        redis_url(args)
    problems.raise_any()
    shared = limits(args)
    try:
        with ReturnsClient(
            api_key=key,
            base_url=args.base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
            transport=transport,
            limits=shared,
        ) as returns:
            yield returns
    finally:
        if not isinstance(shared, FileLimits):
            shared.close()
