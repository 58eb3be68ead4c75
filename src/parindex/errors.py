"""User-facing errors: one line naming where the problem is and how to fix it."""

from __future__ import annotations

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

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        head = ", ".join(where)
        text = f"{head}: {self.problem}" if head else self.problem
        if self.fix:
            text += f" (fix: {self.fix})"
        return " ".join(text.split())


class DataPackageError(ParindexError):
    """The bundled data package is inconsistent (checksum, schema, references)."""
