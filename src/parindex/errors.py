"""User-facing errors: one line naming where the problem is and how to fix it."""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass


@dataclass
class ParindexError(Exception):
    """An error caused by input or configuration, reported to the user in one line.

    ``file``, ``row`` and ``column`` locate the problem (row numbers are the ones a user
    sees in a spreadsheet: the header is row 1); ``fix`` tells them what to do.
    """

    problem: str
    fix: str = ""
    file: str | None = None
    row: int | None = None
    column: str | None = None
    exit_code: int = 2
    detail: str = ""  # longer evidence (a traceback) printed only when asked for (--verbose)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(clean(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{clean(self.column)}'")
        head = ", ".join(where)
        problem = clean(self.problem, 400)
        text = f"{head}: {problem}" if head else problem
        if self.fix:
            text += f" (fix: {clean(self.fix, 400)})"
        return " ".join(text.split())


# C0 and C1 controls (escape sequences included) and the bidirectional controls (U+200E, U+200F,
# U+202A-U+202E, U+2066-U+2069), which can make a line read backwards ("txt.exe" shown as "exe.txt").
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object, limit: int = 200) -> str:
    """User text for a terminal line: control characters (escape sequences and bidi controls
    included) shown as '?', and cut to ``limit`` characters."""
    s = _CONTROL.sub("?", str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


class DataPackageError(ParindexError):
    """The bundled data package is inconsistent (checksum, schema, references)."""


# What the system says when the machine, not the input, stops a build: named, in one line.
_OS_PROBLEMS = {
    errno.ENOSPC: ("the disk is full", "free some space, then build again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space, then build again"),
    errno.EFBIG: ("a file exceeds the file-size limit (ulimit -f)", "raise the limit, then build again"),
    errno.EROFS: ("the filesystem is read-only", "choose a folder on a writable filesystem"),
    errno.EACCES: ("permission denied", "choose a folder you can write to"),
    errno.EPERM: ("operation not permitted", "choose a folder you can write to"),
    errno.EXDEV: ("the files are on different filesystems", "build into a folder on one filesystem"),
    errno.EISDIR: ("a folder stands where a file goes", "move it away, then build again"),
    errno.ENOTDIR: ("a file stands where a folder goes", "move it away, then build again"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n), then build again"),
}


def os_error(e: OSError, where: object = None, kept: str = "") -> ParindexError | None:
    """A one-line error for an OSError the environment causes (disk full, file-size limit, ...);
    None for one that points at a bug."""
    known = _OS_PROBLEMS.get(e.errno or -1)
    if known is None:
        return None
    problem, fix = known
    place = where if where is not None else (e.filename or None)
    return ParindexError(problem + (f"; {kept}" if kept else ""), fix=fix,
                         file=None if place is None else str(place), exit_code=1)
