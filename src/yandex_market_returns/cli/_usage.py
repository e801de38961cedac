"""What every command shares of its usage: its name in messages, its exit statuses, and a usage error that
lists every problem at once, before anything is sent."""

import contextlib
from collections.abc import Iterator

PROG = "yandex-market-returns"

# Exit statuses; a stop signal's is 128 and its number (130 for Ctrl-C). NOT_KNOWN is ``status``'s alone: the
# Market could not be asked, or refused or failed getOperations, so nothing is known of the operations (not
# SOME_NOT_DONE, which says the Market answered and some are not DONE).
ALL_DONE, SOME_NOT_DONE, USAGE, NOT_KNOWN = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input: every problem at once, before anything is sent."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    """Collects the problems of several checks, so that one run reports them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    @contextlib.contextmanager
    def collected(self) -> Iterator[None]:
        try:
            yield
        except UsageError as error:
            self.found += error.problems

    def raise_any(self) -> None:
        if self.found:
            raise UsageError(self.found)


def unreadable(error: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, without Python's wording."""
    return error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
