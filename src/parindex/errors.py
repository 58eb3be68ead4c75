"""User-facing errors: one line naming where the problem is and how to fix it."""

from __future__ import annotations

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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: object, limit: int = 200) -> str:
    """User text for a terminal line: control characters (escape sequences included) shown as
    '?', and cut to ``limit`` characters."""
    s = _CONTROL.sub("?", str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


class DataPackageError(ParindexError):
    """The bundled data package is inconsistent (checksum, schema, references)."""
