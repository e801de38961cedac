"""A file an operator names, read within bounds: a list of ids is small, and ``/dev/zero`` or a disk image given by
mistake is refused at its first over-long line, before it fills the memory. A line ends with ``\\n``, ``\\r\\n``
or ``\\r`` (an old Mac spreadsheet's export), and only there."""

import contextlib
import os
import re
from typing import BinaryIO

from .._constants import FILE_BOUND, LINE_BOUND
from ._usage import UsageError

_CHUNK = 64 * 1024
_NEWLINE = re.compile(rb"\r\n|\r|\n")
_LINE_END = re.compile(r"\r\n|\r|\n")


def read_bounded(stream: BinaryIO, name: str, file_bound: int = FILE_BOUND) -> str:
    """The UTF-8 text of ``stream`` (a spreadsheet's BOM dropped), read to its end unless a bound is passed first:
    then a usage error naming ``name`` and the bound, as soon as it is known."""
    too_long = UsageError([f"{name}: over {size(file_bound)}, more than is read of one file: is it the right file?"])
    with contextlib.suppress(OSError, ValueError):  # not a file (a pipe, a terminal, memory): read to see
        if os.fstat(stream.fileno()).st_size > file_bound:
            raise too_long
    data = bytearray()
    start = 0  # where the line being read starts
    while chunk := stream.read(_CHUNK):
        if len(data) + len(chunk) > file_bound:
            raise too_long
        scanned = len(data)
        data += chunk
        for newline in _NEWLINE.finditer(data, scanned):
            _check_line(data, start, newline.start(), name)
            start = newline.end()
        _check_line(data, start, len(data), name)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise UsageError([f"{name} line {_line_number(data, error.start)}: not UTF-8 text"]) from None


def split_lines(text: str) -> list[str]:
    """The lines of a text as ``read_bounded`` counts them: a form feed or U+2028 does not end one."""
    return _LINE_END.split(text)


def size(bytes_: int) -> str:
    return f"{bytes_ // 2**20} MiB" if bytes_ >= 2**20 and not bytes_ % 2**20 else f"{bytes_:,} bytes"


def _check_line(data: bytearray, start: int, end: int, name: str) -> None:
    if end - start > LINE_BOUND:
        raise UsageError(
            [
                f"{name} line {_line_number(data, start)}: over {size(LINE_BOUND)}, more than is read of one line: "
                "is it the right file?"
            ]
        )


def _line_number(data: bytearray, offset: int) -> int:
    return len(_NEWLINE.findall(data, 0, offset)) + 1
