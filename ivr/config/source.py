"""Read a config file's bytes as text: a size limit, and bytes that are not UTF-8 named by line.

An editor on Windows may save a file as Latin-1/Windows-1252 or UTF-16; both are refused with the
line of the first bad byte and what to do, never a UnicodeDecodeError.
"""
from __future__ import annotations

import codecs
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024     # a hotline file is a few KB; the largest example is under 8 KB


class SourceProblem(Exception):
    """A file that cannot be read as a config's text; `line` is 1-based or None for the whole file."""

    def __init__(self, line: int | None, message: str):
        self.line, self.message = line, message
        super().__init__(message)


def read_text(path: Path) -> str:
    """Return the text of the config file at `path`.

    Raises SourceProblem when it cannot be read, is larger than MAX_FILE_BYTES or is not UTF-8.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceProblem(None, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SourceProblem(None, f"larger than {MAX_FILE_BYTES // 1024} KB; a hotline file is a few KB "
                                  "(is this the right file?)")
    return decode(data)


def decode(data: bytes) -> str:
    """Return `data` as text (UTF-8, with or without a byte order mark).

    Raises SourceProblem naming the line and column of the first byte that is not UTF-8.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data[:4]):
        raise SourceProblem(1, "the file is UTF-16 ('Unicode' in Windows editors), not UTF-8: "
                               "save the file as UTF-8")
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceProblem(*_where(body, exc.start)) from None


def _utf16_without_bom(head: bytes) -> bool:
    """True for "h\\0o\\0" or "\\0h\\0o": ASCII text saved as UTF-16 without a byte order mark."""
    return len(head) == 4 and ((head[1] == head[3] == 0) != (head[0] == head[2] == 0))


def _where(data: bytes, at: int) -> tuple[int, str]:
    """Return (line, message) for the byte at offset `at` that is not UTF-8."""
    line = data.count(b"\n", 0, at) + 1
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    text = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="replace").strip()
    near = text if len(text) <= 60 else text[:57] + "..."
    byte = data[at]
    as_latin = bytes([byte]).decode("cp1252", errors="replace")
    return line, (f"not UTF-8: byte 0x{byte:02X} at column {at - start + 1} in {near!r} "
                  f"(Latin-1/Windows-1252 would read it as {as_latin!r}); save the file as UTF-8")
