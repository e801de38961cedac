"""The ids an operator gives: from arguments, files or stdin, each checked, every problem reported at once with
where it is, before anything is sent."""

import csv
import io
import re
import shlex
from collections.abc import Iterable
from typing import NamedTuple, TextIO

from .._validation import OPERATION_ID_LENGTH, ORDER_ID_BOUNDS, RETURN_ID_BOUNDS
from ._reading import read_bounded, split_lines
from ._usage import UsageError, unreadable


class Header(NamedTuple):
    """A file's first line, read as a header, and the column the ids were taken from."""

    where: str
    line: str
    column: str

    def __str__(self) -> str:
        return f"{self.where} was read as a header; the ids are from its column {_name(self.column)}"


class Given(NamedTuple):
    """Values as given, each with where it is; what could not be read; what was read as a header; and the order
    ids of an ``--order-column``, by where their row's value is."""

    values: list[tuple[str, str]]
    problems: list[str]
    headers: list[Header]
    orders: dict[str, str]


class Columns(NamedTuple):
    """Which column of a CSV under a header holds the ids: the one named ``chosen`` (``--column``), else the one
    whose name matches ``likely``, else the first. Never a guess among several that match."""

    what: str
    likely: re.Pattern[str]
    chosen: str | None = None
    orders: str | None = None  # --order-column: the column of the returns' order ids, by its exact name


# An integer as the spec's int64 ids are written: ASCII digits, a sign at most; one of more than 20 digits is
# out of range before it is read.
_DIGITS = re.compile(r"[+-]?[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
# A bad value is shown this long at most: a key put where an id goes must not be printed whole.
SHOWN = 12
# What str.splitlines() also ends a line at, and NUL. Inside a line it is the sign of a file that is not a list
# of ids, or of lines joined by something other than a newline: the line is refused, never split into ids.
_SEPARATORS = {
    "\x00": "NUL",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x1c": "a file separator",
    "\x1d": "a group separator",
    "\x1e": "a record separator",
    "\x85": "a next line (NEL)",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}
_SEPARATOR = re.compile(r"[\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def shown(value: str) -> str:
    """A bad value, as a message shows it: whole when short; else its start and its length."""
    return repr(value) if len(value) <= SHOWN else f"{value[:6]!r}... ({len(value)} characters)"


def given(
    values: Iterable[str], sources: list[str], stdin: TextIO, columns: Columns, secret: str | None = None
) -> Given:
    """The values of the arguments, then of each ``--from`` (a file, or ``-`` for stdin), in order, each stripped
    of the spaces around it. Whatever holds ``secret`` (the key) is reported by where it is, never shown, and never
    sent: a key file given as ``--from`` by mistake."""
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    for number, value in enumerate(values, start=1):
        where = f"argument {number}"
        refused = _refused(where, value, secret)
        problems += refused
        found += [] if refused else [(where, value.strip())]
    if columns.chosen is not None and not sources:
        problems.append("--column: no --from file to choose a column of")
    if columns.orders is not None and not sources:
        problems.append("--order-column: no --from file to take the order ids from")
    headers: list[Header] = []
    orders: dict[str, str] = {}
    for source in sources:
        name = "stdin" if source == "-" else source
        try:
            text = _read(source, name, stdin)
        except OSError as error:
            problems.append(f"--from {name}: {unreadable(error)}")
            continue
        except UsageError as error:
            problems += error.problems
            continue
        lines: list[tuple[int, str]] = []
        for number, line in enumerate(split_lines(text), start=1):
            refused = _refused(f"{name} line {number}", line, secret)
            problems += refused
            lines += [] if refused or not line.strip() else [(number, line)]
        try:
            rows, header, in_orders = _rows(name, lines, columns)
        except UsageError as error:
            problems += error.problems
            continue
        found += rows
        orders.update(in_orders)
        headers += [] if header is None else [header]
    if not found and not problems:
        only = f" (only a header: {headers[0].where})" if headers else ""
        problems.append(f"no {columns.what}{only}: give them as arguments, or with --from FILE or --from -")
    return Given(found, problems, headers, orders)


def _read(source: str, name: str, stdin: TextIO) -> str:
    if source != "-":
        with open(source, "rb") as file:
            return read_bounded(file, name)
    # The bytes themselves, as a file's are read: the terminal's encoding is not the file's.
    stream = stdin.buffer if isinstance(stdin, io.TextIOWrapper) else io.BytesIO(stdin.read().encode())
    return read_bounded(stream, name)


def _refused(where: str, text: str, secret: str | None) -> list[str]:
    """Why a line or an argument is not read (it holds the key, or a separator that is not a newline), by where it
    is alone: its text is never shown."""
    if secret and secret in text:
        return [f"{where} holds the API key: it is not an id"]
    separator = _SEPARATOR.search(text)
    if separator is None:
        return []
    char = separator.group()
    return [f"{where}: holds {_SEPARATORS[char]} (U+{ord(char):04X}), which does not end a line: one id a line"]


def _rows(
    name: str, lines: list[tuple[int, str]], columns: Columns
) -> tuple[list[tuple[str, str]], Header | None, dict[str, str]]:
    """(where, value) of each line that is not blank: the line itself, or a cell of a CSV (``,``, ``;`` or tab);
    when the first line is a header, what was read under it; and the ``--order-column``'s cells, by where. A
    first line is a header only when it holds no digit at all: one with a mistyped id is reported as that, never
    skipped."""
    rows: list[tuple[int, list[str]]] = []
    delimiter = max(",;\t", key=lines[0][1].count) if lines else ","
    for number, line in lines:
        row = next(csv.reader([line], delimiter=delimiter)) if delimiter in lines[0][1] else [line]
        rows += [(number, row)] if any(cell.strip() for cell in row) else []
    header = bool(rows) and rows[0][0] == 1 and not any(char.isdigit() for char in lines[0][1])
    if not header:
        for flag, chosen in (("--column", columns.chosen), ("--order-column", columns.orders)):
            if chosen is not None:
                raise UsageError(
                    [f"{name}: {flag} was given, but the file has no header (its first line holds a digit)"]
                )
        return [(f"{name} line {number}", row[0].strip()) for number, row in rows], None, {}
    where, first = f"{name} line 1", lines[0][1]
    names = [cell.strip() for cell in rows[0][1]]
    index = _column(where, names, columns)
    values = [(f"{name} line {number}", _cell(row, index)) for number, row in rows[1:]]
    orders = {}
    if columns.orders is not None:
        at = _named(where, names, columns.orders, "--order-column")
        orders = {f"{name} line {number}": _cell(row, at) for number, row in rows[1:]}
    return values, Header(where, first, names[index]), orders


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _named(where: str, names: list[str], chosen: str, flag: str) -> int:
    """The index of the one column named ``chosen`` (spaces around it aside)."""
    at = [index for index, name in enumerate(names) if name == chosen.strip()]
    if len(at) == 1:
        return at[0]
    if at:
        raise UsageError([f"{where}: {len(at)} columns are named {_name(chosen.strip())}"])
    raise UsageError([f"{where}: no column named {_name(chosen.strip())} ({flag}); the header's: {_names(names)}"])


def _column(where: str, names: list[str], columns: Columns) -> int:
    """The index of the column the ids are in: a usage error when the header does not say which."""
    if columns.chosen is not None:
        return _named(where, names, columns.chosen, "--column")
    likely = [index for index, name in enumerate(names) if columns.likely.search(name)]
    if len(likely) > 1:
        raise UsageError(
            [
                f"{where}: {len(likely)} columns could hold the {columns.what}: "
                f"{_names([names[index] for index in likely])}; choose one with --column NAME, "
                f"e.g. --column {shlex.quote(names[likely[0]])}"
            ]
        )
    return likely[0] if likely else 0


def _name(name: str) -> str:
    return repr(name) if len(name) <= 40 else f"{name[:20]!r}... ({len(name)} characters)"


def _names(names: list[str]) -> str:
    return ", ".join(map(_name, names))


def return_ids(values: Given) -> list[int]:
    """Each a return id in the spec's bounds, none twice; every bad one named with where it came from."""
    ids: list[int] = []
    problems = list(values.problems)
    seen: dict[int, str] = {}
    low, high = RETURN_ID_BOUNDS
    for where, value in values.values:
        if not _DIGITS.fullmatch(value):
            problems.append(f"{where}: not a return id: {shown(value)}")
        elif _out_of(RETURN_ID_BOUNDS, value):
            problems.append(f"{where}: return id {_shown(value)} is out of range {low}..{high}")
        elif int(value) in seen:
            problems.append(f"{where}: return id {int(value)} was given before, at {seen[int(value)]}")
        else:
            seen[int(value)] = where
            ids.append(int(value))
    if problems:
        raise UsageError(problems)
    return ids


def order_ids(values: Given, return_ids: list[int]) -> dict[int, int]:
    """The order of each return whose row gave one (``--order-column``), in the spec's bounds; a blank cell is
    no order, any other bad one named with where it is."""
    orders: dict[int, int] = {}
    problems: list[str] = []
    low, high = ORDER_ID_BOUNDS
    for (where, _), return_id in zip(values.values, return_ids, strict=True):
        order = values.orders.get(where, "")
        if not order:
            continue
        if not _DIGITS.fullmatch(order):
            problems.append(f"{where}: not an order id: {shown(order)}")
        elif _out_of(ORDER_ID_BOUNDS, order):
            problems.append(f"{where}: order id {_shown(order)} is out of range {low}..{high}")
        else:
            orders[return_id] = int(order)
    if problems:
        raise UsageError(problems)
    return orders


def operation_ids(values: Given) -> list[str]:
    """Each an operation id within the spec's length bounds; one given twice is asked for once."""
    low, high = OPERATION_ID_LENGTH
    problems = values.problems + [
        f"{where}: not an operation id ({low} to {high} characters, no spaces): {shown(value)}"
        for where, value in values.values
        if not low <= len(value) <= high or not value.isprintable() or any(char.isspace() for char in value)
    ]
    nulls = [*values.values, *((header.where, header.line.strip()) for header in values.headers)]
    problems += [
        f"{where}: null is not an operation id: a return that was not started has none"
        for where, value in nulls
        if value == "null"
    ]
    if problems:
        raise UsageError(problems)
    return list(dict.fromkeys(value for _, value in values.values))


def number(name: str, value: str | None, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise UsageError([f"{name}: not a number: {shown(value)}"])
    if _out_of(bounds, value):
        raise UsageError([f"{name}: {_shown(value)} is out of range {bounds[0]}..{bounds[1]}"])
    return int(value)


def _out_of(bounds: tuple[int, int], digits: str) -> bool:
    return not _INTEGER.fullmatch(digits) or not bounds[0] <= int(digits) <= bounds[1]


def _shown(digits: str) -> str:
    return digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits)} digits)"
